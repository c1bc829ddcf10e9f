//! Errors about what the user gave: they name the source, the field and what was expected.

use thiserror::Error;

/// Bad input from a file, a preset name or a command-line flag.
///
/// `origin` is where it came from (a file path, `--size`, `preset`), `field` is the key or value
/// at fault, `expected` says what would have been accepted. The CLI maps this to exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{origin}: `{field}`: {expected}")]
pub struct InputError {
    /// File path, flag or other origin of the bad value.
    pub origin: String,
    /// The field (key, flag or value) at fault.
    pub field: String,
    /// What was expected instead, in words.
    pub expected: String,
}

/// `value` if it is an integer from 1 to `max`; otherwise an error naming `origin` and `field`.
pub fn check_count(origin: &str, field: &str, value: u64, max: u64) -> Result<u64, InputError> {
    if value == 0 || value > max {
        let expected = format!("an integer from 1 to {max}, got {value}");
        return Err(InputError::new(origin, field, expected));
    }
    Ok(value)
}

impl InputError {
    /// Builds an input error.
    pub fn new(
        origin: impl Into<String>,
        field: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        InputError { origin: origin.into(), field: field.into(), expected: expected.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_origin_field_and_expectation() {
        let e = InputError::new(
            "cluster.toml",
            "dimensions[1].bandwidth_gb_per_s",
            "a positive number, got -3",
        );
        assert_eq!(
            e.to_string(),
            "cluster.toml: `dimensions[1].bandwidth_gb_per_s`: a positive number, got -3"
        );
    }

    #[test]
    fn counts_outside_one_to_max_name_the_field() {
        assert_eq!(check_count("f.toml", "tp", 8, 16), Ok(8));
        let e = check_count("f.toml", "tp", 0, 16).unwrap_err();
        assert_eq!(e.to_string(), "f.toml: `tp`: an integer from 1 to 16, got 0");
        assert!(check_count("f.toml", "tp", 17, 16).is_err());
    }
}
