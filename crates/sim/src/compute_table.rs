//! The optional `[compute]` table of a scenario: overrides of the calibrated kernel
//! efficiencies of the cluster's GPU generation (`astrolabe_compute::ComputeModel`).
//!
//! ```toml
//! [compute]
//! gemm_fraction = 0.70      # what if large BF16 GEMMs reach 70% of the dense peak?
//! step_overhead_s = 0.0     # no fixed host overhead per step
//! ```
//!
//! Every key is optional; a key left out keeps the calibrated value, which the JSON report
//! repeats under `compute`. Fractions must lie in (0, 1] (`tp_overlap_fraction` in [0, 1]),
//! times and the shape half-point must be finite and not negative.

use astrolabe_compute::ComputeModel;
use astrolabe_core::InputError;
use serde::Deserialize;

/// Overrides, each `None` when the file leaves it out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeFile {
    gemm_fraction: Option<f64>,
    fp8_gemm_fraction: Option<f64>,
    gemm_half_dim: Option<f64>,
    attention_fraction: Option<f64>,
    hbm_fraction: Option<f64>,
    kernel_overhead_s: Option<f64>,
    tp_overlap_fraction: Option<f64>,
    step_overhead_s: Option<f64>,
}

/// What a value must be.
#[derive(Clone, Copy)]
enum Range {
    /// In (0, 1].
    Fraction,
    /// In [0, 1].
    Share,
    /// Finite and at least 0.
    NonNegative,
}

fn check(origin: &str, key: &str, value: f64, range: Range) -> Result<f64, InputError> {
    let (ok, expected) = match range {
        Range::Fraction => (value > 0.0 && value <= 1.0, "a fraction in (0, 1]"),
        Range::Share => ((0.0..=1.0).contains(&value), "a fraction in [0, 1]"),
        Range::NonNegative => (value.is_finite() && value >= 0.0, "a finite number ≥ 0"),
    };
    if ok {
        Ok(value)
    } else {
        Err(InputError::new(origin, format!("compute.{key}"), format!("{expected}, not {value}")))
    }
}

impl ComputeFile {
    /// `base` with every given override applied, each checked; `origin` names the file.
    pub fn apply(&self, base: ComputeModel, origin: &str) -> Result<ComputeModel, InputError> {
        let mut m = base;
        let fields: [(&str, Option<f64>, &mut f64, Range); 8] = [
            ("gemm_fraction", self.gemm_fraction, &mut m.gemm_fraction, Range::Fraction),
            (
                "fp8_gemm_fraction",
                self.fp8_gemm_fraction,
                &mut m.fp8_gemm_fraction,
                Range::Fraction,
            ),
            ("gemm_half_dim", self.gemm_half_dim, &mut m.gemm_half_dim, Range::NonNegative),
            (
                "attention_fraction",
                self.attention_fraction,
                &mut m.attention_fraction,
                Range::Fraction,
            ),
            ("hbm_fraction", self.hbm_fraction, &mut m.hbm_fraction, Range::Fraction),
            (
                "kernel_overhead_s",
                self.kernel_overhead_s,
                &mut m.kernel_overhead_s,
                Range::NonNegative,
            ),
            (
                "tp_overlap_fraction",
                self.tp_overlap_fraction,
                &mut m.tp_overlap_fraction,
                Range::Share,
            ),
            ("step_overhead_s", self.step_overhead_s, &mut m.step_overhead_s, Range::NonNegative),
        ];
        for (key, given, slot, range) in fields {
            if let Some(value) = given {
                *slot = check(origin, key, value, range)?;
            }
        }
        Ok(m)
    }
}
