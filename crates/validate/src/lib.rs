//! Predictions against published runs.
//!
//! [`validate`] takes a dataset in the schema of `shared/data/validation/dev.json` (already
//! parsed; this crate reads no files) and, for every entry:
//! - a training run: builds the scenario the entry describes ([`training`]: model preset or
//!   shape in [`model_map`], cluster preset in [`cluster_map`], plan with every null filled by a
//!   rule of [`rules`]), simulates one step and compares each figure the entry gives in its own
//!   convention ([`metrics`]);
//! - a collective measurement: predicts each case of [`collective_cases`] ([`collective`]);
//! - anything that cannot be built or compared: a [`Skipped`] entry with the reason.
//!
//! Errors are signed fractions, `predicted / measured − 1`; the [`summary`] gives the median
//! and 90th percentile of their absolute values over one primary figure per entry.

pub mod cluster_map;
pub mod collective;
pub mod collective_cases;
pub mod entry;
pub mod fit;
pub mod metrics;
pub mod model_map;
pub mod rules;
pub mod summary;
pub mod training;

use astrolabe_compute::Generation;
use astrolabe_core::InputError;
use entry::Entry;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub use rules::Assumption;
pub use summary::Summary;

/// Why an entry was not compared, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl From<InputError> for Skip {
    fn from(e: InputError) -> Self {
        Skip(e.to_string())
    }
}

/// One measured figure beside its prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The quantity, unit in the name (`step_time_s`, `mfu`, `busbw_gbps`, …).
    pub metric: String,
    /// Where the figure is in the entry: its key under `metrics`, or a collective case.
    pub key: String,
    /// The measured figure in the metric's unit (the middle of a stated range).
    pub measured: f64,
    /// Astrolabe's figure.
    pub predicted: f64,
    /// `predicted / measured − 1`.
    pub error: f64,
}

impl Comparison {
    /// A comparison of `predicted` with `measured`.
    pub fn new(metric: &str, key: &str, measured: f64, predicted: f64) -> Self {
        Comparison {
            metric: metric.into(),
            key: key.into(),
            measured,
            predicted,
            error: predicted / measured - 1.0,
        }
    }
}

/// An entry that was compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compared {
    /// Entry id.
    pub id: String,
    /// `training` or `collective`.
    pub kind: String,
    /// The entry's `source`.
    pub source: String,
    /// The primary figure: the one the summary counts.
    #[serde(flatten)]
    pub primary: Comparison,
    /// Every other figure the entry gives that could be compared.
    pub others: Vec<Comparison>,
    /// Values the source did not state, as filled in.
    pub assumptions: Vec<Assumption>,
    /// Whether the simulated plan fits in GPU memory (training only).
    pub fits_in_memory: Option<bool>,
    /// The GPU generation whose kernel efficiencies priced it (training only).
    pub generation: Option<Generation>,
}

/// An entry that was not compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Entry id (`entries[i]` when it has none).
    pub id: String,
    /// Why.
    pub reason: String,
}

/// Every entry of a dataset, compared or skipped, and the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    /// Compared entries, in dataset order.
    pub entries: Vec<Compared>,
    /// Entries that could not be compared, in dataset order.
    pub skipped: Vec<Skipped>,
    /// Statistics of the primary errors.
    pub summary: Summary,
}

/// `[compute]` tables to put in every training scenario whose GPU is of a generation: how the
/// calibration ([`fit`]) tries other kernel efficiencies. Empty: the calibrated constants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides(pub BTreeMap<Generation, toml::Table>);

/// Compares every entry of `dataset` (the parsed file `origin`). Fails only when the dataset as
/// a whole is unusable (no `entries` array); a bad entry is skipped with the reason.
pub fn validate(dataset: &Value, origin: &str) -> Result<Validation, InputError> {
    validate_with(dataset, origin, &Overrides::default())
}

/// [`validate`] with the kernel efficiencies of `overrides`.
pub fn validate_with(
    dataset: &Value,
    origin: &str,
    overrides: &Overrides,
) -> Result<Validation, InputError> {
    let entries = dataset
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| InputError::new(origin, "entries", "an array of entries"))?;
    let (rows, row_skips) = collective::check(entries, origin);
    let (mut compared, mut skipped) = (Vec::new(), Vec::new());
    for (i, value) in entries.iter().enumerate() {
        let result = Entry::new(value, i, origin).map_err(|e| (format!("entries[{i}]"), e.into()));
        let run =
            |e: Entry<'_>| compare(&e, &rows, &row_skips, overrides).map_err(|s| (e.id.clone(), s));
        match result.and_then(run) {
            Ok(c) => compared.push(c),
            Err((id, Skip(reason))) => skipped.push(Skipped { id, reason }),
        }
    }
    let summary = summary::summarize(&compared);
    Ok(Validation { entries: compared, skipped, summary })
}

/// The scenario TOML built for training entry `id` of `dataset`, with its assumptions.
pub fn scenario_of(dataset: &Value, origin: &str, id: &str) -> Result<training::Built, Skip> {
    let entries = dataset.get("entries").and_then(Value::as_array);
    let found = entries
        .into_iter()
        .flatten()
        .enumerate()
        .find(|(_, v)| v.get("id").and_then(Value::as_str) == Some(id));
    let Some((i, value)) = found else {
        return Err(Skip(format!("{origin}: no entry with id `{id}`")));
    };
    training::scenario(&Entry::new(value, i, origin)?, &Overrides::default())
}

fn compare(
    e: &Entry<'_>,
    rows: &[collective::CollectiveRow],
    row_skips: &[(String, String)],
    overrides: &Overrides,
) -> Result<Compared, Skip> {
    match e.text("kind")? {
        Some("training") => training::compare(e, overrides),
        Some("collective") => collective_entry(e, rows, row_skips),
        Some(other) => Err(Skip(format!(
            "kind `{other}`: not a whole training step or a collective measurement"
        ))),
        None => Err(e.error("kind", "training, collective or another kind").into()),
    }
}

/// A collective entry's cases: the primary is the bus bandwidth at the largest size (the first
/// such case in table order), the others follow.
fn collective_entry(
    e: &Entry<'_>,
    rows: &[collective::CollectiveRow],
    row_skips: &[(String, String)],
) -> Result<Compared, Skip> {
    let mine: Vec<&collective::CollectiveRow> = rows.iter().filter(|r| r.id == e.id).collect();
    if mine.is_empty() {
        let reasons: Vec<&str> =
            row_skips.iter().filter(|(id, _)| *id == e.id).map(|(_, r)| r.as_str()).collect();
        return Err(Skip(if reasons.is_empty() {
            "no collective case defined for this entry (collective_cases.rs)".into()
        } else {
            reasons.join("; ")
        }));
    }
    let busbw = |r: &collective::CollectiveRow| r.metric() == "busbw_gbps";
    let largest = mine.iter().filter(|r| busbw(r)).map(|r| r.size_bytes).max();
    let primary_at =
        mine.iter().position(|r| busbw(r) && Some(r.size_bytes) == largest).unwrap_or(0);
    let as_comparison = |r: &collective::CollectiveRow| {
        let middle = (r.range.0 + r.range.1) / 2.0;
        Comparison::new(r.metric(), &r.case, middle, r.predicted)
    };
    let others = mine.iter().enumerate().filter(|(i, _)| *i != primary_at);
    Ok(Compared {
        id: e.id.clone(),
        kind: "collective".into(),
        source: e.text("source")?.unwrap_or("unknown source").to_string(),
        primary: as_comparison(mine[primary_at]),
        others: others.map(|(_, r)| as_comparison(r)).collect(),
        assumptions: Vec::new(),
        fits_in_memory: None,
        generation: None,
    })
}
