//! Bytes, bandwidth and FLOP-rate units. SI throughout: 1 GB = 1e9 bytes, 1 GiB = 2^30 bytes.

use crate::error::InputError;
use serde::Serialize;

/// A data rate in bytes per second (SI).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Bandwidth {
    /// Bytes per second.
    pub bytes_per_s: f64,
}

impl Bandwidth {
    /// From gigabytes per second (1 GB = 1e9 bytes).
    pub fn from_gb_per_s(gb_per_s: f64) -> Self {
        Bandwidth { bytes_per_s: gb_per_s * 1e9 }
    }

    /// From gigabits per second (a NIC's line rate: 400 Gb/s = 50 GB/s).
    pub fn from_gbit_per_s(gbit_per_s: f64) -> Self {
        Bandwidth { bytes_per_s: gbit_per_s * 1e9 / 8.0 }
    }

    /// In gigabytes per second.
    pub fn gb_per_s(self) -> f64 {
        self.bytes_per_s / 1e9
    }

    /// This bandwidth scaled by a dimensionless factor (an efficiency, a share).
    pub fn scaled(self, factor: f64) -> Self {
        Bandwidth { bytes_per_s: self.bytes_per_s * factor }
    }
}

/// A compute rate in floating-point operations per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct FlopRate {
    /// FLOP per second.
    pub flop_per_s: f64,
}

impl FlopRate {
    /// From TFLOP/s (1e12 FLOP/s).
    pub fn from_tflop_per_s(tflop_per_s: f64) -> Self {
        FlopRate { flop_per_s: tflop_per_s * 1e12 }
    }

    /// In TFLOP/s.
    pub fn tflop_per_s(self) -> f64 {
        self.flop_per_s / 1e12
    }
}

const SIZE_SUFFIXES: [(&str, u64); 9] = [
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("B", 1),
];

/// Parses a size such as `16GiB`, `1.5GB`, `4096` or `8 B` into bytes.
///
/// Binary suffixes (KiB, MiB, GiB, TiB) are powers of two, SI suffixes (KB, MB, GB, TB) powers of
/// ten; a bare number is bytes. The result must be a whole number of bytes.
pub fn parse_size_bytes(text: &str, origin: &str) -> Result<u64, InputError> {
    let bad = |why: &str| {
        InputError::new(origin, text, format!("a size such as 8, 1MiB, 16GiB or 1.5GB ({why})"))
    };
    let trimmed = text.trim();
    let (number, multiplier) = SIZE_SUFFIXES
        .iter()
        .find_map(|(suffix, mult)| trimmed.strip_suffix(suffix).map(|n| (n.trim(), *mult)))
        .unwrap_or((trimmed, 1));
    let value: f64 = number.parse().map_err(|_| bad("not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(bad("must be a non-negative number"));
    }
    let bytes = value * multiplier as f64;
    if bytes > u64::MAX as f64 / 2.0 {
        return Err(bad("too large"));
    }
    if bytes.fract() != 0.0 {
        return Err(bad("not a whole number of bytes"));
    }
    Ok(bytes as u64)
}

/// Formats a byte count the way nccl-tests users read it: `8 B`, `1 MiB`, `16 GiB`; sizes that
/// are not a whole number of binary units fall back to plain bytes.
pub fn format_size_bytes(bytes: u64) -> String {
    for (suffix, mult) in
        [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
    {
        if bytes >= mult && bytes % mult == 0 {
            return format!("{} {suffix}", bytes / mult);
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_and_si_sizes() {
        let cases = [
            ("8", 8),
            ("8B", 8),
            ("1KiB", 1024),
            ("1MiB", 1_048_576),
            ("16GiB", 17_179_869_184),
            ("1.5GB", 1_500_000_000),
            (" 2 MB ", 2_000_000),
            ("0.5KiB", 512),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_size_bytes(text, "--size").unwrap(), bytes, "{text}");
        }
    }

    #[test]
    fn rejects_bad_sizes_naming_the_origin() {
        for text in ["", "abc", "-1GB", "1.3B", "16 GiBs", "nan", "1e30TB"] {
            let err = parse_size_bytes(text, "--size").unwrap_err();
            assert_eq!(err.origin, "--size", "{text}");
        }
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(format_size_bytes(8), "8 B");
        assert_eq!(format_size_bytes(1 << 20), "1 MiB");
        assert_eq!(format_size_bytes(17_179_869_184), "16 GiB");
        assert_eq!(format_size_bytes(1500), "1500 B");
    }

    #[test]
    fn bandwidth_conversions() {
        assert_eq!(Bandwidth::from_gbit_per_s(400.0).gb_per_s(), 50.0);
        assert_eq!(Bandwidth::from_gb_per_s(450.0).scaled(0.5).bytes_per_s, 225e9);
        assert_eq!(FlopRate::from_tflop_per_s(989.0).flop_per_s, 989e12);
    }
}
