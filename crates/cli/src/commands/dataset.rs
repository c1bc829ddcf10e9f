//! Reading published runs from a dataset in the format of `../shared/data/validation/dev.json`.

use anyhow::{anyhow, Context, Result};
use astrolabe_sim::report::Reference;
use serde_json::Value;

/// The dataset the commands read by default, relative to the repository root.
pub const DEFAULT_DATASET: &str = "../shared/data/validation/dev.json";

/// The dataset at `path`, parsed; an error names the file.
pub fn read(path: &str) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{path}: cannot read the dataset"))?;
    serde_json::from_str(&text).with_context(|| format!("{path}: not valid JSON"))
}

/// All entries of the dataset at `path`.
pub fn entries(path: &str) -> Result<Vec<Value>> {
    read(path)?
        .get("entries")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| anyhow!("{path}: `entries`: expected an array"))
}

/// The published figures of entry `id`; an error if the dataset lacks it.
pub fn reference(path: &str, id: &str) -> Result<Reference> {
    let entries = entries(path)?;
    let entry =
        entries.iter().find(|e| e.get("id").and_then(Value::as_str) == Some(id)).ok_or_else(
            || anyhow!("{path}: no entry with id `{id}` (named by [reference] dataset_id)"),
        )?;
    let metric = |key: &str| entry.get("metrics").and_then(|m| m.get(key)).and_then(Value::as_f64);
    Ok(Reference {
        dataset_id: id.to_string(),
        source: entry.get("source").and_then(Value::as_str).unwrap_or("unknown source").to_string(),
        mfu: metric("mfu_pct").map(|pct| pct / 100.0),
        step_time_s: metric("step_time_s"),
        tokens_per_s_per_gpu: metric("tokens_per_s_per_gpu"),
    })
}
