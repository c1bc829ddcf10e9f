//! Collective entries: every case of [`crate::collective_cases`] predicted with the analytical
//! collective model and compared with the figure the dataset gives (used by `astrolabe
//! nccl-check` and by the collective rows of `astrolabe validate`).

use crate::collective_cases::{cases, Case, Figure};
use astrolabe_collective::{simulate, Algorithm, CollectiveOp, CollectiveOptions, Composition};
use astrolabe_core::units::format_size_bytes;
use astrolabe_core::{parse_size_bytes, InputError};
use astrolabe_hardware::cluster::find_preset;
use astrolabe_hardware::{parse_cluster_toml, Cluster};
use astrolabe_network::{Group, Topology};
use serde::Serialize;
use serde_json::Value;

/// The entry whose size sweep becomes one case per size.
const SWEEP_ENTRY: &str = "nccl-dgxh100-1node-allreduce-sample";

/// One compared collective figure.
#[derive(Debug, Clone, Serialize)]
pub struct CollectiveRow {
    /// Dataset entry id.
    pub id: String,
    /// What was compared (metric pointer, GPUs, size, algorithm).
    pub case: String,
    /// Unit of `measured` and `predicted`.
    pub unit: &'static str,
    /// Measured figure as the source states it (a range stays a range).
    pub measured: String,
    /// Astrolabe's figure.
    pub predicted: f64,
    /// Signed relative error against the measured value (0 inside a stated range).
    pub error: f64,
    /// The measured range `(low, high)`; equal for a single figure.
    #[serde(skip)]
    pub range: (f64, f64),
    /// The figure compared.
    #[serde(skip)]
    pub figure: Figure,
    /// Buffer per rank, bytes.
    #[serde(skip)]
    pub size_bytes: u64,
}

impl CollectiveRow {
    /// The metric's name in `astrolabe validate` (unit at the end).
    pub fn metric(&self) -> &'static str {
        match self.figure {
            Figure::Busbw => "busbw_gbps",
            Figure::BusbwPerNic(_) => "busbw_per_nic_gbps",
            Figure::Algbw => "algbw_gbps",
            Figure::TimeUs => "time_us",
        }
    }
}

/// Every case whose entry and figure are in `entries` (read from `origin`), and `(entry id,
/// reason)` for every case that could not be compared.
pub fn check(entries: &[Value], origin: &str) -> (Vec<CollectiveRow>, Vec<(String, String)>) {
    let (mut rows, mut skipped) = (Vec::new(), Vec::new());
    let sweep = sweep_sizes(entries, origin).unwrap_or_else(|e| {
        skipped.push((SWEEP_ENTRY.to_string(), e.to_string()));
        Vec::new()
    });
    for case in cases(&sweep) {
        match row(entries, &case, origin) {
            Ok(r) => rows.push(r),
            Err(reason) => skipped.push((case.entry.to_string(), reason)),
        }
    }
    (rows, skipped)
}

fn row(entries: &[Value], case: &Case, origin: &str) -> Result<CollectiveRow, String> {
    let entry = entries
        .iter()
        .find(|e| e.get("id").and_then(Value::as_str) == Some(case.entry))
        .ok_or("not in the dataset")?;
    let measured = entry
        .get("metrics")
        .and_then(|m| m.pointer(&case.pointer))
        .ok_or_else(|| format!("no metrics{}", case.pointer))?;
    let (lo, hi) = parse_measured(measured).ok_or_else(|| {
        let field = format!("metrics{}", case.pointer);
        let origin = format!("{origin}: entry `{}`", case.entry);
        InputError::new(origin, field, "a number or a range like 46-48").to_string()
    })?;
    let predicted = predict(case).map_err(|e| e.to_string())?;
    let error = if predicted < lo {
        predicted / lo - 1.0
    } else if predicted > hi {
        predicted / hi - 1.0
    } else {
        0.0
    };
    Ok(CollectiveRow {
        id: case.entry.to_string(),
        case: describe(case),
        unit: if case.figure == Figure::TimeUs { "us" } else { "GB/s" },
        measured: if lo == hi { format!("{lo}") } else { format!("{lo}-{hi}") },
        predicted,
        error,
        range: (lo, hi),
        figure: case.figure,
        size_bytes: case.size_bytes,
    })
}

fn sweep_sizes(entries: &[Value], origin: &str) -> Result<Vec<(String, u64)>, InputError> {
    let sweep = entries
        .iter()
        .find(|e| e.get("id").and_then(Value::as_str) == Some(SWEEP_ENTRY))
        .and_then(|e| e.pointer("/metrics/busbw_GBps_out_of_place"))
        .and_then(Value::as_object);
    let Some(sweep) = sweep else {
        return Ok(vec![]);
    };
    let origin = format!("{origin}: entry `{SWEEP_ENTRY}` metrics.busbw_GBps_out_of_place");
    let mut sizes = sweep
        .keys()
        .map(|k| Ok((k.clone(), parse_size_bytes(k, &origin)?)))
        .collect::<Result<Vec<_>, InputError>>()?;
    sizes.sort_by_key(|(_, bytes)| *bytes);
    Ok(sizes)
}

/// A number, or a leading range `a-b` in a string such as "46-48 (NDR …)".
pub fn parse_measured(v: &Value) -> Option<(f64, f64)> {
    if let Some(x) = v.as_f64() {
        return Some((x, x)).filter(|_| x > 0.0);
    }
    let text = v.as_str()?;
    let head: String =
        text.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
    let mut parts = head.split('-').map(str::parse::<f64>);
    let lo = parts.next()?.ok()?;
    let hi = match parts.next() {
        Some(p) => p.ok()?,
        None => lo,
    };
    Some((lo, hi)).filter(|_| lo > 0.0 && hi >= lo)
}

fn cluster_for(case: &Case) -> Result<Cluster, InputError> {
    if !case.cluster.contains('\n') {
        return find_preset(case.cluster, "collective case")?.build(case.nodes);
    }
    let mut cluster = parse_cluster_toml(case.cluster, "collective case")?;
    if let Some(nodes) = case.nodes {
        let mut dims = cluster.topology.dims().to_vec();
        dims.last_mut().expect("a topology has a dimension").size = nodes;
        cluster.topology = Topology::new(dims, "collective case")?;
    }
    Ok(cluster)
}

fn predict(case: &Case) -> Result<f64, InputError> {
    let cluster = cluster_for(case)?;
    let group = Group::leading(&cluster.topology, case.gpus, "collective case")?;
    let options = CollectiveOptions {
        algorithms: vec![Algorithm::parse(case.algorithm, "collective case")?],
        composition: Composition::Auto,
        chunks: 4,
    };
    let r =
        simulate(&cluster.topology, &group, CollectiveOp::AllReduce, case.size_bytes, &options)?;
    Ok(match case.figure {
        Figure::Busbw => r.busbw_gbps,
        Figure::BusbwPerNic(nics) => r.busbw_gbps / nics as f64,
        Figure::Algbw => r.algbw_gbps,
        Figure::TimeUs => r.time_s * 1e6,
    })
}

fn describe(case: &Case) -> String {
    let cluster = case
        .cluster
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .map(|n| n.trim_matches('"'))
        .unwrap_or(case.cluster);
    format!(
        "{} all-reduce {} on {} GPUs of {}, {}",
        case.pointer.trim_start_matches('/'),
        format_size_bytes(case.size_bytes),
        case.gpus,
        cluster,
        case.algorithm
    )
}
