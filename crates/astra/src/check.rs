//! The reference cases of `shared/data/astra-sim/expected.json`: ASTRA-sim's own finish times on
//! its bundled inputs, and the comparison of a run with them.

use crate::collective::Backend;
use crate::error::{input, AstraError};
use crate::json;
use serde::Serialize;

/// One reference case; paths are relative to the file's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Case id.
    pub id: String,
    /// Which backend produced the reference.
    pub backend: Backend,
    /// Trace prefix.
    pub workload: String,
    /// System JSON.
    pub system: String,
    /// Network YAML.
    pub network: String,
    /// Remote-memory JSON.
    pub remote_memory: Option<String>,
    /// Communicator-group JSON.
    pub comm_group: Option<String>,
    /// Smallest finish time over NPUs ASTRA-sim printed, in cycles (ns).
    pub expected_min_ns: u64,
    /// Largest finish time over NPUs ASTRA-sim printed, in cycles (ns).
    pub expected_max_ns: u64,
}

const CASE_KEYS: [&str; 11] = [
    "id",
    "backend",
    "workload",
    "system",
    "network",
    "remote_memory",
    "comm_group",
    "expected_cycles_min",
    "expected_cycles_max",
    "npus",
    "note",
];

/// Parses the reference file `text` (keys `about`, `units_note`, `cases`).
pub fn parse_cases(text: &str, origin: &str) -> Result<Vec<Case>, AstraError> {
    let map = json::object(text, origin)?;
    if let Some(k) = map.keys().find(|k| !["about", "units_note", "cases"].contains(&k.as_str())) {
        return Err(input(origin, k, "about, units_note or cases"));
    }
    let Some(cases) = map.get("cases").and_then(|c| c.as_array()) else {
        return Err(input(origin, "cases", "an array of cases"));
    };
    cases.iter().enumerate().map(|(i, c)| case(c, origin, i)).collect()
}

fn case(value: &serde_json::Value, origin: &str, i: usize) -> Result<Case, AstraError> {
    let field = |k: &str| format!("cases[{i}].{k}");
    let Some(map) = value.as_object() else {
        return Err(input(origin, &format!("cases[{i}]"), "an object"));
    };
    if let Some(k) = map.keys().find(|k| !CASE_KEYS.contains(&k.as_str())) {
        return Err(input(
            origin,
            &field(k),
            format!("a known key, one of: {}", CASE_KEYS.join(", ")),
        ));
    }
    let text = |k: &str| -> Result<String, AstraError> {
        let v = map.get(k).ok_or_else(|| input(origin, &field(k), "a string, found nothing"))?;
        Ok(json::string(v, origin, &field(k))?.to_string())
    };
    let opt = |k: &str| if map.contains_key(k) { text(k).map(Some) } else { Ok(None) };
    let cycles = |k: &str| {
        map.get(k)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| input(origin, &field(k), "a non-negative integer"))
    };
    let backend = match text("backend")?.as_str() {
        "congestion_unaware" => Backend::CongestionUnaware,
        "congestion_aware" => Backend::CongestionAware,
        other => {
            return Err(input(
                origin,
                &field("backend"),
                format!("congestion_unaware or congestion_aware, found `{other}`"),
            ))
        }
    };
    Ok(Case {
        id: text("id")?,
        backend,
        workload: text("workload")?,
        system: text("system")?,
        network: text("network")?,
        remote_memory: opt("remote_memory")?,
        comm_group: opt("comm_group")?,
        expected_min_ns: cycles("expected_cycles_min")?,
        expected_max_ns: cycles("expected_cycles_max")?,
    })
}

/// Signed relative error of `predicted` against `expected` (0 when both are 0).
pub fn relative_error(predicted: u64, expected: u64) -> f64 {
    if expected == 0 {
        return if predicted == 0 { 0.0 } else { f64::INFINITY };
    }
    (predicted as f64 - expected as f64) / expected as f64
}
