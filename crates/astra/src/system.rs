//! The system JSON: chunking, endpoint delay, collective algorithms, memory bandwidth, roofline.
//!
//! Every key is either used, accepted with an explicit warning (it has no effect here), or
//! refused: nothing is ignored silently. Units as ASTRA-sim writes them: `endpoint-delay` in ns,
//! `local-mem-bw` in GB/s (1e9 bytes), `peak-perf` in TFLOP/s (1e12).

use crate::error::{input, AstraError};
use crate::json;
use serde::Serialize;
use serde_json::Value;

/// A collective algorithm on one network dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Algorithm {
    /// Neighbour exchanges round a ring (`ring`).
    Ring,
    /// Every peer at once (`direct`).
    Direct,
    /// Recursive halving then doubling (`halvingDoubling`); needs a power-of-two group.
    HalvingDoubling,
}

/// How a collective spanning several dimensions is composed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CollectiveOptimization {
    /// The whole collective on each dimension in turn.
    Baseline,
    /// All-reduce as reduce-scatter up the dimensions, all-reduce on the last, all-gather down.
    #[serde(rename = "localBWAware")]
    LocalBwAware,
}

/// Algorithm lists, one entry per network dimension (innermost first).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Implementations {
    /// `all-reduce-implementation`.
    pub all_reduce: Option<Vec<Algorithm>>,
    /// `all-gather-implementation`.
    pub all_gather: Option<Vec<Algorithm>>,
    /// `reduce-scatter-implementation`.
    pub reduce_scatter: Option<Vec<Algorithm>>,
    /// `all-to-all-implementation`.
    pub all_to_all: Option<Vec<Algorithm>>,
}

/// The system configuration as used, defaults filled in (and named in `defaults`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemConfig {
    /// `endpoint-delay`: paid by every message of a native collective, in ns.
    pub endpoint_delay_ns: u64,
    /// `active-chunks-per-dimension`: chunks of one collective in flight per dimension.
    pub active_chunks_per_dimension: u64,
    /// `preferred-dataset-splits`: chunks a collective is split into.
    pub preferred_dataset_splits: u64,
    /// Native algorithms per collective and dimension.
    pub implementations: Implementations,
    /// `all-reduce-implementation-custom`: trace prefix of a custom all-reduce, if any.
    pub custom_all_reduce: Option<String>,
    /// `collective-optimization`.
    pub collective_optimization: CollectiveOptimization,
    /// `local-mem-bw` in GB/s (1e9 bytes/s, so also bytes per ns).
    pub local_mem_bw_gb_per_s: Option<f64>,
    /// `roofline-enabled`.
    pub roofline_enabled: bool,
    /// `peak-perf` in TFLOP/s.
    pub peak_perf_tflops: Option<f64>,
    /// Keys that were absent and the value used instead.
    pub defaults: Vec<String>,
}

/// Keys accepted for compatibility that change nothing here, with the reason.
const NO_EFFECT: &[(&str, &str)] = &[
    ("scheduling-policy", "a rank runs one communication node at a time, in program order"),
    ("boost-mode", "simulating every rank is cheap enough"),
    ("intra-dimension-scheduling", "chunks of a dimension are served first come, first served"),
    ("inter-dimension-scheduling", "dimensions are visited in order"),
    ("replay-only", "nodes are always simulated"),
    ("track-local-mem", "no memory-bus trace is written"),
];

/// Parses the system JSON `text`; `origin` (the file name) goes into errors. Returns the
/// configuration and warnings for keys that have no effect here.
pub fn parse_system(text: &str, origin: &str) -> Result<(SystemConfig, Vec<String>), AstraError> {
    let map = json::object(text, origin)?;
    let mut sys = SystemConfig {
        endpoint_delay_ns: 10,
        active_chunks_per_dimension: 1,
        preferred_dataset_splits: 1,
        implementations: Implementations::default(),
        custom_all_reduce: None,
        collective_optimization: CollectiveOptimization::Baseline,
        local_mem_bw_gb_per_s: None,
        roofline_enabled: false,
        peak_perf_tflops: None,
        defaults: Vec::new(),
    };
    let mut warnings = Vec::new();
    for (key, value) in &map {
        if let Some((_, why)) = NO_EFFECT.iter().find(|(k, _)| k == key) {
            warnings.push(format!("{origin}: `{key}` = {value} has no effect here: {why}"));
            continue;
        }
        set_key(&mut sys, key, value, origin)?;
    }
    for (key, default) in [
        ("endpoint-delay", "10 ns"),
        ("active-chunks-per-dimension", "1"),
        ("preferred-dataset-splits", "1"),
        ("collective-optimization", "baseline"),
    ] {
        if !map.contains_key(key) {
            sys.defaults.push(format!("{key} = {default}"));
        }
    }
    Ok((sys, warnings))
}

fn set_key(
    sys: &mut SystemConfig,
    key: &str,
    value: &Value,
    origin: &str,
) -> Result<(), AstraError> {
    const MAX: u64 = 1 << 20;
    let imp = &mut sys.implementations;
    match key {
        "endpoint-delay" => sys.endpoint_delay_ns = json::count(value, origin, key, MAX)?,
        "active-chunks-per-dimension" => {
            sys.active_chunks_per_dimension = json::count(value, origin, key, MAX)?
        }
        "preferred-dataset-splits" => {
            sys.preferred_dataset_splits = json::count(value, origin, key, MAX)?
        }
        "all-reduce-implementation" => imp.all_reduce = Some(algorithms(value, origin, key)?),
        "all-gather-implementation" => imp.all_gather = Some(algorithms(value, origin, key)?),
        "reduce-scatter-implementation" => {
            imp.reduce_scatter = Some(algorithms(value, origin, key)?)
        }
        "all-to-all-implementation" => imp.all_to_all = Some(algorithms(value, origin, key)?),
        "all-reduce-implementation-custom" => {
            sys.custom_all_reduce = Some(custom(value, origin, key)?)
        }
        "collective-optimization" => {
            sys.collective_optimization = optimization(value, origin, key)?
        }
        "local-mem-bw" => sys.local_mem_bw_gb_per_s = Some(json::positive(value, origin, key)?),
        "roofline-enabled" => sys.roofline_enabled = json::flag(value, origin, key)?,
        "peak-perf" => sys.peak_perf_tflops = Some(json::positive(value, origin, key)?),
        _ => return Err(unknown_key(origin, key)),
    }
    Ok(())
}

fn unknown_key(origin: &str, key: &str) -> AstraError {
    let mut known: Vec<&str> = vec![
        "endpoint-delay",
        "active-chunks-per-dimension",
        "preferred-dataset-splits",
        "all-reduce-implementation",
        "all-gather-implementation",
        "reduce-scatter-implementation",
        "all-to-all-implementation",
        "all-reduce-implementation-custom",
        "collective-optimization",
        "local-mem-bw",
        "roofline-enabled",
        "peak-perf",
    ];
    known.extend(NO_EFFECT.iter().map(|(k, _)| *k));
    input(origin, key, format!("a known key, one of: {}", known.join(", ")))
}

fn algorithms(value: &Value, origin: &str, key: &str) -> Result<Vec<Algorithm>, AstraError> {
    let names = json::strings(value, origin, key)?;
    if names.is_empty() {
        return Err(input(origin, key, "one algorithm per network dimension, found none"));
    }
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        out.push(match name.as_str() {
            "ring" => Algorithm::Ring,
            "direct" => Algorithm::Direct,
            "halvingDoubling" => Algorithm::HalvingDoubling,
            other => {
                let field = format!("{key}[{i}]");
                let expected = format!("ring, direct or halvingDoubling, found `{other}`");
                return Err(input(origin, &field, expected));
            }
        });
    }
    Ok(out)
}

fn custom(value: &Value, origin: &str, key: &str) -> Result<String, AstraError> {
    let mut prefixes = json::strings(value, origin, key)?;
    match prefixes.len() {
        1 => Ok(prefixes.remove(0)),
        n => Err(input(origin, key, format!("one trace prefix, found {n}"))),
    }
}

fn optimization(
    value: &Value,
    origin: &str,
    key: &str,
) -> Result<CollectiveOptimization, AstraError> {
    match json::string(value, origin, key)? {
        "localBWAware" => Ok(CollectiveOptimization::LocalBwAware),
        "baseline" => Ok(CollectiveOptimization::Baseline),
        other => Err(input(origin, key, format!("localBWAware or baseline, found `{other}`"))),
    }
}

#[cfg(test)]
#[path = "system_tests.rs"]
mod tests;
