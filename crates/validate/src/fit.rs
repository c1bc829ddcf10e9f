//! Calibration: the kernel efficiencies of each GPU generation fitted to the training entries of
//! a dataset, one parameter set per generation, nothing per entry.
//!
//! The objective of a generation is the mean of `|ln(predicted / measured)|` over the primary
//! figures of its training entries (symmetric: 10% too fast costs what 10% too slow does). The
//! generations are fitted separately (a generation's constants move only its own entries). For
//! each generation the knobs of [`KNOBS`] are searched by coordinate descent: per knob, a grid
//! of [`GRID_POINTS`] values over its range, then the grid narrowed around the best value,
//! [`ROUNDS`] times; all knobs once per sweep, [`SWEEPS`] sweeps. Fitted values are rounded to
//! the knob's step. Entries whose figure the fit did not see can be held out by publisher
//! ([`publisher`]) to measure how well the constants carry to a source they were not fitted on.

use crate::{validate_with, Compared, Overrides};
use astrolabe_compute::Generation;
use astrolabe_core::InputError;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// A fitted constant: a `[compute]` key of one generation, where the search starts, its range
/// and rounding step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Knob {
    /// The generation.
    pub generation: Generation,
    /// The `[compute]` key (`gemm_fraction`).
    pub key: &'static str,
    /// The value before any fit: from public hardware facts (the MAMF GEMM fractions of
    /// `astrolabe_compute::calibration`), or the neutral value (no overhead, ideal overlap).
    pub start: f64,
    /// Lowest value searched.
    pub lo: f64,
    /// Highest value searched.
    pub hi: f64,
    /// The fitted value is rounded to a multiple of this.
    pub step: f64,
}

const fn knob(g: Generation, key: &'static str, start: f64, range: (f64, f64), step: f64) -> Knob {
    Knob { generation: g, key, start, lo: range.0, hi: range.1, step }
}

/// The fitted constants: 2 for Ampere, 4 for Hopper (the only generations with training
/// entries in dev.json; FP8 and TP-overlap runs exist only on Hopper).
pub const KNOBS: [Knob; 6] = [
    knob(Generation::Ampere, "gemm_fraction", 0.86, (0.50, 0.95), 0.005),
    knob(Generation::Ampere, "step_overhead_s", 0.0, (0.0, 0.5), 0.005),
    knob(Generation::Hopper, "gemm_fraction", 0.80, (0.45, 0.95), 0.005),
    knob(Generation::Hopper, "fp8_gemm_fraction", 0.73, (0.30, 0.95), 0.005),
    knob(Generation::Hopper, "tp_overlap_fraction", 1.0, (0.0, 1.0), 0.01),
    knob(Generation::Hopper, "step_overhead_s", 0.0, (0.0, 0.5), 0.005),
];

/// Values per grid.
pub const GRID_POINTS: usize = 9;
/// Grids per knob per sweep, each narrowed around the best value.
pub const ROUNDS: usize = 3;
/// Passes over all knobs.
pub const SWEEPS: usize = 2;

/// The fitted value of a knob.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fitted {
    /// The knob.
    pub knob: Knob,
    /// The value before the fit (the knob's start).
    pub before: f64,
    /// The fitted value, rounded to the knob's step.
    pub value: f64,
}

/// One generation's fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenerationFit {
    /// The generation.
    pub generation: Generation,
    /// Training entries the objective averages over.
    pub entries: Vec<String>,
    /// Objective at the knobs' start values.
    pub objective_before: f64,
    /// Objective with the fitted ones.
    pub objective_after: f64,
    /// Its knobs.
    pub fitted: Vec<Fitted>,
    /// Validation runs spent.
    pub evaluations: usize,
}

/// The publisher of a source: its first two words (`NVIDIA Megatron-LM`, `MLPerf Training`,
/// `Korthikanti et`), which groups the tables, papers and READMEs of one origin.
pub fn publisher(source: &str) -> String {
    source.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

/// Fits every generation of [`KNOBS`] on the training entries of `dataset` (file `origin`),
/// leaving out those whose [`publisher`] is `held_out`.
pub fn fit(
    dataset: &Value,
    origin: &str,
    held_out: Option<&str>,
) -> Result<Vec<GenerationFit>, InputError> {
    fit_reusing(dataset, origin, held_out, &[])
}

/// [`fit`], reusing any fit of `done` made on exactly the same entries (the fit is
/// deterministic, so refitting them would give the same values).
pub fn fit_reusing(
    dataset: &Value,
    origin: &str,
    held_out: Option<&str>,
    done: &[GenerationFit],
) -> Result<Vec<GenerationFit>, InputError> {
    let first = validate_with(dataset, origin, &Overrides::default())?;
    let mut by_generation: BTreeMap<Generation, Vec<String>> = BTreeMap::new();
    for c in &first.entries {
        let kept = held_out.is_none_or(|h| publisher(&c.source) != h);
        if let (Some(generation), true) = (c.generation, kept) {
            by_generation.entry(generation).or_default().push(c.id.clone());
        }
    }
    let mut fits = Vec::new();
    for (generation, ids) in by_generation {
        let knobs: Vec<Knob> =
            KNOBS.iter().copied().filter(|k| k.generation == generation).collect();
        if knobs.is_empty() {
            continue;
        }
        if let Some(same) = done.iter().find(|f| f.generation == generation && f.entries == ids) {
            fits.push(same.clone());
            continue;
        }
        let subset = only(dataset, &ids);
        fits.push(fit_generation(&subset, origin, generation, ids, &knobs)?);
    }
    Ok(fits)
}

/// The fitted values as `[compute]` overrides.
pub fn overrides(fits: &[GenerationFit]) -> Overrides {
    as_overrides(fits, |x| x.value)
}

/// The knobs of `fits` at their start values, as overrides (the dataset before the fit).
pub fn start_overrides(fits: &[GenerationFit]) -> Overrides {
    as_overrides(fits, |x| x.before)
}

fn as_overrides(fits: &[GenerationFit], value: fn(&Fitted) -> f64) -> Overrides {
    let mut out = Overrides::default();
    for f in fits {
        let table = out.0.entry(f.generation).or_default();
        for x in &f.fitted {
            table.insert(x.knob.key.into(), toml::Value::Float(value(x)));
        }
    }
    out
}

/// The mean `|ln(predicted / measured)|` of the training entries of `dataset` under `values`.
pub fn objective(
    dataset: &Value,
    origin: &str,
    generation: Generation,
    values: &[(&'static str, f64)],
) -> Result<f64, InputError> {
    let table = values.iter().map(|&(k, v)| (k.to_string(), toml::Value::Float(v))).collect();
    let overrides = Overrides(BTreeMap::from([(generation, table)]));
    let v = validate_with(dataset, origin, &overrides)?;
    let logs: Vec<f64> = v
        .entries
        .iter()
        .filter(|c| c.generation.is_some())
        .map(|c: &Compared| (1.0 + c.primary.error).ln().abs())
        .collect();
    Ok(if logs.is_empty() { 0.0 } else { logs.iter().sum::<f64>() / logs.len() as f64 })
}

fn fit_generation(
    subset: &Value,
    origin: &str,
    generation: Generation,
    entries: Vec<String>,
    knobs: &[Knob],
) -> Result<GenerationFit, InputError> {
    let mut values: Vec<(&'static str, f64)> = knobs.iter().map(|k| (k.key, k.start)).collect();
    let before = objective(subset, origin, generation, &values)?;
    let mut best = before;
    let mut evaluations = 1;
    for _ in 0..SWEEPS {
        for (i, k) in knobs.iter().enumerate() {
            let (mut lo, mut hi) = (k.lo, k.hi);
            for _ in 0..ROUNDS {
                let grid: Vec<f64> = (0..GRID_POINTS)
                    .map(|j| round_to(lo + (hi - lo) * j as f64 / (GRID_POINTS - 1) as f64, k.step))
                    .collect();
                let scores = evaluate_all(subset, origin, generation, &values, i, &grid)?;
                evaluations += grid.len();
                for (&x, &score) in grid.iter().zip(&scores) {
                    if score < best {
                        (best, values[i].1) = (score, x);
                    }
                }
                let width = (hi - lo) * 2.0 / (GRID_POINTS - 1) as f64;
                (lo, hi) = ((values[i].1 - width).max(k.lo), (values[i].1 + width).min(k.hi));
            }
        }
    }
    let fitted = knobs
        .iter()
        .zip(&values)
        .map(|(k, &(_, value))| Fitted { knob: *k, before: k.start, value })
        .collect();
    Ok(GenerationFit {
        generation,
        entries,
        objective_before: before,
        objective_after: best,
        fitted,
        evaluations,
    })
}

/// The objective at every `grid` value of knob `i`, the others at `values`; two threads.
fn evaluate_all(
    subset: &Value,
    origin: &str,
    generation: Generation,
    values: &[(&'static str, f64)],
    i: usize,
    grid: &[f64],
) -> Result<Vec<f64>, InputError> {
    let score = |x: f64| {
        let mut trial = values.to_vec();
        trial[i].1 = x;
        objective(subset, origin, generation, &trial)
    };
    let half = grid.len().div_ceil(2);
    let (a, b) = std::thread::scope(|s| {
        let other = s.spawn(|| grid[half..].iter().map(|&x| score(x)).collect::<Vec<_>>());
        let mine: Vec<_> = grid[..half].iter().map(|&x| score(x)).collect();
        (mine, other.join().expect("a calibration thread does not panic"))
    });
    a.into_iter().chain(b).collect()
}

/// `x` rounded to a multiple of `step` (to 9 decimals, so that 0.005 steps print cleanly).
pub fn round_to(x: f64, step: f64) -> f64 {
    ((x / step).round() * step * 1e9).round() / 1e9
}

/// `dataset` with only the entries whose id is in `ids`.
fn only(dataset: &Value, ids: &[String]) -> Value {
    let mut out = dataset.clone();
    if let Some(Value::Array(entries)) = out.get_mut("entries") {
        entries.retain(|e| {
            e.get("id").and_then(Value::as_str).is_some_and(|id| ids.iter().any(|i| i == id))
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishers_group_a_sources_documents() {
        assert_eq!(
            publisher("NVIDIA Megatron-LM README, strong scaling paragraph"),
            "NVIDIA Megatron-LM"
        );
        assert_eq!(publisher("Korthikanti et al. (arXiv 2205.05198) §6.3 text"), "Korthikanti et");
        assert_eq!(publisher("MLPerf Training v3.1 closed division"), "MLPerf Training");
    }

    #[test]
    fn rounding_lands_on_the_step() {
        assert_eq!(round_to(0.7349, 0.005), 0.735);
        assert_eq!(round_to(0.0123, 0.01), 0.01);
        assert_eq!(round_to(0.1, 0.005), 0.1);
    }

    #[test]
    fn only_keeps_the_named_entries() {
        let d = serde_json::json!({"entries": [{"id": "a"}, {"id": "b"}, {"x": 1}]});
        let kept = only(&d, &["b".to_string()]);
        assert_eq!(kept["entries"], serde_json::json!([{"id": "b"}]));
    }
}
