//! A checked view of one dataset entry: every accessor either returns the stated value, `None`
//! for a value the source did not state (null or absent), or an error naming the file, the entry
//! id and the field.
//!
//! The dataset keeps a source's own words where it qualifies a number ("3 (FSDP: …)", "full
//! (--checkpoint-activations)"), so a count may be a number or a text that starts with one.

use astrolabe_core::InputError;
use serde_json::{Map, Value};

/// Largest count accepted from a dataset (GPUs, batch, parallel sizes).
pub const MAX_COUNT: u64 = 1 << 24;

/// One raw field value, as far as the rules need to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Raw<'a> {
    /// `null` or absent: the source did not state it.
    Null,
    /// A non-negative integer.
    Count(u64),
    /// A text (a qualified statement in the source's words).
    Text(&'a str),
    /// `true` or `false`.
    Flag(bool),
}

/// One entry of the dataset's `entries` array.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The entry's `id` (or `entries[i]` when it has none).
    pub id: String,
    fields: &'a Map<String, Value>,
    origin: &'a str,
}

impl<'a> Entry<'a> {
    /// The `index`-th entry of the dataset read from `origin`.
    pub fn new(value: &'a Value, index: usize, origin: &'a str) -> Result<Self, InputError> {
        let fallback = format!("entries[{index}]");
        let Some(fields) = value.as_object() else {
            return Err(InputError::new(format!("{origin}: {fallback}"), "entry", "an object"));
        };
        let id = match fields.get("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
            _ => {
                let origin = format!("{origin}: {fallback}");
                return Err(InputError::new(origin, "id", "a non-empty string"));
            }
        };
        Ok(Entry { id, fields, origin })
    }

    /// An error about `field` of this entry.
    pub fn error(&self, field: &str, expected: impl Into<String>) -> InputError {
        InputError::new(format!("{}: entry `{}`", self.origin, self.id), field, expected)
    }

    /// The file the entry was read from.
    pub fn origin(&self) -> &str {
        self.origin
    }

    /// A top-level field.
    pub fn raw(&self, field: &str) -> Result<Raw<'a>, InputError> {
        classify(self.fields.get(field), &|e| self.error(field, e))
    }

    /// A field of the `model` object (`None` if the entry has no model).
    pub fn model_raw(&self, field: &str) -> Result<Raw<'a>, InputError> {
        let path = format!("model.{field}");
        match self.fields.get("model") {
            None | Some(Value::Null) => Ok(Raw::Null),
            Some(Value::Object(m)) => classify(m.get(field), &|e| self.error(&path, e)),
            Some(_) => Err(self.error("model", "an object or null")),
        }
    }

    /// A text field (`None` if null or absent); a number or flag is an error.
    pub fn text(&self, field: &str) -> Result<Option<&'a str>, InputError> {
        match self.raw(field)? {
            Raw::Null => Ok(None),
            Raw::Text(t) => Ok(Some(t)),
            _ => Err(self.error(field, "a string or null")),
        }
    }

    /// A count: a positive integer, or a text starting with one ("3 (FSDP …)").
    pub fn count(&self, field: &str) -> Result<Option<u64>, InputError> {
        as_count(self.raw(field)?, &|e| self.error(field, e))
    }

    /// A count inside `model`.
    pub fn model_count(&self, field: &str) -> Result<Option<u64>, InputError> {
        let path = format!("model.{field}");
        as_count(self.model_raw(field)?, &|e| self.error(&path, e))
    }

    /// A text inside `model` (`None` if null or absent).
    pub fn model_text(&self, field: &str) -> Result<Option<&'a str>, InputError> {
        match self.model_raw(field)? {
            Raw::Null => Ok(None),
            Raw::Text(t) => Ok(Some(t)),
            _ => Err(self.error(&format!("model.{field}"), "a string or null")),
        }
    }

    /// Whether the entry's `model` has a non-null `field` (e.g. `moe`).
    pub fn model_has(&self, field: &str) -> bool {
        self.fields
            .get("model")
            .and_then(|m| m.get(field))
            .is_some_and(|v| !v.is_null() && v != &Value::Bool(false))
    }

    /// A measured figure under `metrics`: a number, or `None` if null or absent.
    pub fn metric(&self, key: &str) -> Result<Option<f64>, InputError> {
        let field = format!("metrics.{key}");
        match self.metrics()?.and_then(|m| m.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
                _ => Err(self.error(&field, format!("a positive number, got {n}"))),
            },
            Some(other) => Err(self.error(&field, format!("a number or null, got {other}"))),
        }
    }

    /// A text under `metrics` (e.g. `tflops_definition`).
    pub fn metric_text(&self, key: &str) -> Result<Option<&'a str>, InputError> {
        match self.metrics()?.and_then(|m| m.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(t)) => Ok(Some(t)),
            Some(_) => Err(self.error(&format!("metrics.{key}"), "a string or null")),
        }
    }

    fn metrics(&self) -> Result<Option<&'a Map<String, Value>>, InputError> {
        match self.fields.get("metrics") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.error("metrics", "an object")),
        }
    }

    /// The entry as JSON (for lookups by pointer).
    pub fn json(&self) -> &'a Map<String, Value> {
        self.fields
    }
}

fn classify<'a>(
    value: Option<&'a Value>,
    err: &dyn Fn(String) -> InputError,
) -> Result<Raw<'a>, InputError> {
    match value {
        None | Some(Value::Null) => Ok(Raw::Null),
        Some(Value::String(t)) => Ok(Raw::Text(t)),
        Some(Value::Bool(b)) => Ok(Raw::Flag(*b)),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(c) if c <= MAX_COUNT => Ok(Raw::Count(c)),
            _ => Err(err(format!("an integer from 0 to {MAX_COUNT}, got {n}"))),
        },
        Some(other) => Err(err(format!("a number, a string or null, got {other}"))),
    }
}

fn as_count(raw: Raw<'_>, err: &dyn Fn(String) -> InputError) -> Result<Option<u64>, InputError> {
    match raw {
        Raw::Null => Ok(None),
        Raw::Count(0) => Err(err("a positive integer, got 0".into())),
        Raw::Count(c) => Ok(Some(c)),
        Raw::Text(t) => match leading_count(t).filter(|&c| c > 0) {
            Some(c) => Ok(Some(c)),
            None => {
                Err(err(format!("an integer (or a text starting with one) or null, got {t:?}")))
            }
        },
        Raw::Flag(b) => Err(err(format!("an integer or null, got {b}"))),
    }
}

/// The integer a text starts with: `"3 (FSDP …)"` → 3.
pub fn leading_count(text: &str) -> Option<u64> {
    let digits: String = text.trim_start().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|&c| c <= MAX_COUNT)
}

#[cfg(test)]
#[path = "entry_tests.rs"]
mod tests;
