//! The `[cluster]` table of an entry's scenario: a cluster preset chosen by the GPU named in
//! `gpu_type`, resized to the entry's GPUs.
//!
//! Rules: the first of `GB200`, `B200`, `H200`, `H800`, `H100`, `A100` found in `gpu_type`
//! (case-insensitive) picks the preset below (the SXM part; an A100 of 40 GB is refused, there is
//! no such preset). `gpus_per_node` null means the preset's; a different number skips the
//! entry. `gpu_count` a multiple of the GPUs per node gives the node count; fewer GPUs than one
//! node gives a one-node cluster of that many GPUs on the preset's scale-up fabric; anything else
//! skips the entry. The inter-node network is the preset's fabric; when the entry states
//! `nics_per_node` and `inter_node_network` names a line rate (`200 Gb/s`; Omni-Path without a
//! rate is 100 Gb/s, Intel's OPA 100 series), the per-GPU bandwidth becomes
//! `nics_per_node × rate / gpus_per_node` if that differs from the preset's (BLOOM: 4 × 100 Gb/s
//! for 8 GPUs = 50 Gb/s per GPU). A network text without a stated NIC count is noted as not
//! read.

use crate::entry::Entry;
use crate::rules::Assumptions;
use crate::Skip;
use astrolabe_hardware::cluster::find_preset;
use astrolabe_hardware::fabric;
use toml::{Table, Value};

/// `(text in gpu_type, cluster preset)`, most specific first.
const BY_GPU: [(&str, &str); 6] = [
    ("gb200", "gb200-nvl72"),
    ("b200", "dgx-b200-superpod"),
    ("h200", "hgx-h200-ndr"),
    ("h800", "h800-ib"),
    ("h100", "dgx-h100-basepod"),
    ("a100", "dgx-a100-superpod"),
];

/// The cluster chosen for an entry.
#[derive(Debug, Clone)]
pub struct Chosen {
    /// The `[cluster]` table.
    pub table: Table,
    /// GPUs in it.
    pub gpus: u64,
    /// The GPU's catalog name (`h100-sxm`).
    pub gpu: &'static str,
}

/// The `[cluster]` table for entry `e`.
pub fn cluster_table(e: &Entry<'_>, a: &mut Assumptions) -> Result<Chosen, Skip> {
    let gpu_type = e.text("gpu_type")?.ok_or_else(|| Skip("`gpu_type` not stated".into()))?;
    let lower = gpu_type.to_ascii_lowercase();
    let name = BY_GPU
        .iter()
        .find(|(tag, _)| lower.contains(tag))
        .map(|(_, preset)| *preset)
        .ok_or_else(|| Skip(format!("no cluster preset for gpu_type {gpu_type:?}")))?;
    if name == "dgx-a100-superpod" && lower.contains("40gb") {
        return Err(Skip(format!("no cluster preset for gpu_type {gpu_type:?} (40 GB A100)")));
    }
    let preset = find_preset(name, "validate")?;
    let per_node = preset.gpus_per_unit() as u64;
    match e.count("gpus_per_node")? {
        Some(n) if n != per_node => {
            return Err(Skip(format!("{n} GPUs per node: preset {name} has {per_node}")));
        }
        Some(_) => {}
        None => a.note("cluster.gpus_per_node", per_node, &format!("null; preset {name}")),
    }
    let gpus = e.count("gpu_count")?.ok_or_else(|| Skip("`gpu_count` not stated".into()))?;
    a.note("cluster.preset", name, &format!("from gpu_type {gpu_type:?}; its network"));
    let mut table = Table::new();
    let stated = stated_gbit_per_gpu(e, per_node, a)?;
    let inter = fabric::find(preset.dims[1].0, name)?;
    let differs = stated.filter(|&g| (g - inter.bandwidth.bytes_per_s * 8e-9).abs() > 1e-9);
    if let (Some(gbit), 0, true) = (differs, gpus % per_node, gpus > per_node) {
        a.note("cluster.network", format!("{} at {gbit} Gb/s per GPU", inter.name), "stated NICs");
        table.insert("gpu".into(), Value::String(preset.gpu.into()));
        let node = dimension(preset.dims[0].0, per_node, None);
        let nodes = dimension(inter.name, gpus / per_node, Some(gbit));
        table.insert("network".into(), Value::Array(vec![node, nodes]));
    } else if gpus % per_node == 0 {
        table.insert("preset".into(), Value::String(name.into()));
        table.insert("nodes".into(), Value::Integer((gpus / per_node) as i64));
    } else if gpus < per_node {
        a.note("cluster.network", gpus, "fewer GPUs than a node: one partial node");
        table.insert("gpu".into(), Value::String(preset.gpu.into()));
        let node = dimension(preset.dims[0].0, gpus, None);
        table.insert("network".into(), Value::Array(vec![node]));
    } else {
        return Err(Skip(format!("{gpus} GPUs is not a whole number of {per_node}-GPU nodes")));
    }
    Ok(Chosen { table, gpus, gpu: preset.gpu })
}

/// A `[[cluster.network]]` entry.
fn dimension(fabric: &str, size: u64, gbit_per_s: Option<f64>) -> Value {
    let mut dim = Table::new();
    dim.insert("fabric".into(), Value::String(fabric.into()));
    dim.insert("size".into(), Value::Integer(size as i64));
    if let Some(gbit) = gbit_per_s {
        dim.insert("bandwidth_gbit_per_s".into(), Value::Float(gbit));
    }
    Value::Table(dim)
}

/// The inter-node bandwidth per GPU in Gb/s that the entry states, if it states the NIC count
/// and a line rate.
fn stated_gbit_per_gpu(
    e: &Entry<'_>,
    per_node: u64,
    a: &mut Assumptions,
) -> Result<Option<f64>, Skip> {
    let Some(text) = e.text("inter_node_network")? else {
        return Ok(None);
    };
    let (nics, rate) = (e.count("nics_per_node")?, line_rate_gbit(text));
    match (nics, rate) {
        (Some(n), Some(rate)) => Ok(Some(n as f64 * rate / per_node as f64)),
        _ => {
            let why = "NIC count or line rate not stated; the preset's network";
            a.note("cluster.inter_node_network", "not read", why);
            Ok(None)
        }
    }
}

/// The line rate, in Gb/s, named in a network description: the number before `Gb/s`, `Gbps`
/// or `Gb/Sec` (in the part after `Compute:` when there is one), or 100 for Omni-Path.
pub fn line_rate_gbit(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let part = lower.split_once("compute:").map_or(lower.as_str(), |(_, rest)| rest);
    let at = ["gb/s", "gbps", "gb/sec"].iter().filter_map(|unit| part.find(unit)).min();
    let stated = at.and_then(|at| {
        let before = part[..at].trim_end();
        let start = before.rfind(|c: char| !c.is_ascii_digit() && c != '.').map_or(0, |i| i + 1);
        before[start..].parse::<f64>().ok()
    });
    stated.or_else(|| (lower.contains("omni-path") || lower.contains("omnipath")).then_some(100.0))
}
