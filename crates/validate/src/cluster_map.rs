//! The `[cluster]` table of an entry's scenario: a cluster preset chosen by the GPU named in
//! `gpu_type`, resized to the entry's GPUs.
//!
//! Rules: the first of `GB200`, `B200`, `H200`, `H800`, `H100`, `A100` found in `gpu_type`
//! (case-insensitive) picks the preset below (the SXM part; an A100 of 40 GB is refused, there is
//! no such preset). `gpus_per_node` null means the preset's; a different number skips the
//! entry. `gpu_count` a multiple of the GPUs per node gives the node count; fewer GPUs than one
//! node gives a one-node cluster of that many GPUs on the preset's scale-up fabric; anything else
//! skips the entry. The inter-node network is always the preset's (most sources do not state it).

use crate::entry::Entry;
use crate::rules::Assumptions;
use crate::Skip;
use astrolabe_hardware::cluster::find_preset;
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

/// The `[cluster]` table for entry `e` and its GPU count.
pub fn cluster_table(e: &Entry<'_>, a: &mut Assumptions) -> Result<(Table, u64), Skip> {
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
    if gpus % per_node == 0 {
        table.insert("preset".into(), Value::String(name.into()));
        table.insert("nodes".into(), Value::Integer((gpus / per_node) as i64));
    } else if gpus < per_node {
        a.note("cluster.network", gpus, "fewer GPUs than a node: one partial node");
        table.insert("gpu".into(), Value::String(preset.gpu.into()));
        let mut dim = Table::new();
        dim.insert("fabric".into(), Value::String(preset.dims[0].0.into()));
        dim.insert("size".into(), Value::Integer(gpus as i64));
        table.insert("network".into(), Value::Array(vec![Value::Table(dim)]));
    } else {
        return Err(Skip(format!("{gpus} GPUs is not a whole number of {per_node}-GPU nodes")));
    }
    Ok((table, gpus))
}
