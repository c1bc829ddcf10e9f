//! Typed reading of JSON values field by field, with errors that name the file and the field.

use crate::error::{input, AstraError};
use serde_json::Value;

/// Parses `text` as one JSON object.
pub(crate) fn object(
    text: &str,
    origin: &str,
) -> Result<serde_json::Map<String, Value>, AstraError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| input(origin, "(file)", format!("valid JSON, parse error: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(input(origin, "(file)", format!("a JSON object, found {}", kind(&other)))),
    }
}

/// The JSON kind of a value, in words.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A positive finite number.
pub(crate) fn positive(value: &Value, origin: &str, field: &str) -> Result<f64, AstraError> {
    match value.as_f64() {
        Some(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(input(origin, field, format!("a positive number, found {value}"))),
    }
}

/// An integer from 1 to `max`.
pub(crate) fn count(value: &Value, origin: &str, field: &str, max: u64) -> Result<u64, AstraError> {
    match value.as_u64() {
        Some(x) if (1..=max).contains(&x) => Ok(x),
        _ => Err(input(origin, field, format!("an integer from 1 to {max}, found {value}"))),
    }
}

/// A flag written as `0`, `1`, `true` or `false`.
pub(crate) fn flag(value: &Value, origin: &str, field: &str) -> Result<bool, AstraError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        _ => Err(input(origin, field, format!("0, 1, true or false, found {value}"))),
    }
}

/// A string.
pub(crate) fn string<'a>(
    value: &'a Value,
    origin: &str,
    field: &str,
) -> Result<&'a str, AstraError> {
    value.as_str().ok_or_else(|| input(origin, field, format!("a string, found {}", kind(value))))
}

/// An array of strings.
pub(crate) fn strings(value: &Value, origin: &str, field: &str) -> Result<Vec<String>, AstraError> {
    let Some(items) = value.as_array() else {
        return Err(input(origin, field, format!("an array of strings, found {}", kind(value))));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(string(item, origin, &format!("{field}[{i}]"))?.to_string());
    }
    Ok(out)
}
