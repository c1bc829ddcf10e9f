//! The remote-memory JSON and the communicator-group JSON.
//!
//! Remote memory: `memory-type` is `NO_MEMORY_EXPANSION`, `PER_NPU_MEMORY_EXPANSION` or
//! `MEMORY_POOL`; an access costs `remote-mem-latency` (ns) + bytes / `remote-mem-bw` (bytes per
//! ns). Communicator groups: an object from a group name (`pg_name` in the traces) to its ranks.

use crate::error::{input, AstraError};
use crate::json;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where MEM_LOAD and MEM_STORE nodes go.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "memory_type", rename_all = "snake_case")]
pub enum RemoteMemory {
    /// No remote memory: a memory node is an error.
    None,
    /// Each NPU has its own expansion memory.
    PerNpu {
        /// Latency of one access in ns.
        latency_ns: f64,
        /// Bandwidth in bytes per ns.
        bandwidth_bytes_per_ns: f64,
    },
}

impl RemoteMemory {
    /// Time of one access of `bytes`, rounded down to whole ns; `None` without remote memory.
    pub fn access_ns(&self, bytes: u64) -> Option<u64> {
        match *self {
            RemoteMemory::None => None,
            RemoteMemory::PerNpu { latency_ns, bandwidth_bytes_per_ns } => {
                Some((latency_ns + bytes as f64 / bandwidth_bytes_per_ns) as u64)
            }
        }
    }
}

/// Parses the remote-memory JSON `text`.
pub fn parse_remote_memory(text: &str, origin: &str) -> Result<RemoteMemory, AstraError> {
    let map = json::object(text, origin)?;
    const KEYS: [&str; 5] =
        ["memory-type", "remote-mem-latency", "remote-mem-bw", "num-nodes", "num-npus-per-node"];
    if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(input(origin, key, format!("a known key, one of: {}", KEYS.join(", "))));
    }
    let kind = match map.get("memory-type") {
        Some(v) => json::string(v, origin, "memory-type")?,
        None => {
            return Err(input(
                origin,
                "memory-type",
                "NO_MEMORY_EXPANSION, PER_NPU_MEMORY_EXPANSION or MEMORY_POOL, found nothing",
            ))
        }
    };
    let number = |key: &str| match map.get(key) {
        Some(v) => json::positive(v, origin, key),
        None => Err(input(origin, key, format!("a positive number (required for {kind})"))),
    };
    match kind {
        "NO_MEMORY_EXPANSION" => Ok(RemoteMemory::None),
        "PER_NPU_MEMORY_EXPANSION" => Ok(RemoteMemory::PerNpu {
            latency_ns: number("remote-mem-latency")?,
            bandwidth_bytes_per_ns: number("remote-mem-bw")?,
        }),
        "MEMORY_POOL" => Err(input(origin, "memory-type", "NO_MEMORY_EXPANSION or PER_NPU_MEMORY_EXPANSION (MEMORY_POOL, one FIFO shared by all NPUs, is not supported yet)")),
        other => Err(input(origin, "memory-type", format!("NO_MEMORY_EXPANSION, PER_NPU_MEMORY_EXPANSION or MEMORY_POOL, found `{other}`"))),
    }
}

/// Communicator groups: name to sorted, distinct ranks.
pub type CommGroups = BTreeMap<String, Vec<u64>>;

/// Parses the communicator-group JSON `text` (`{"name": [ranks...]}`).
pub fn parse_comm_groups(text: &str, origin: &str) -> Result<CommGroups, AstraError> {
    let map = json::object(text, origin)?;
    let mut out = CommGroups::new();
    for (name, value) in &map {
        let Some(items) = value.as_array() else {
            return Err(input(
                origin,
                name,
                format!("an array of ranks, found {}", json::kind(value)),
            ));
        };
        let mut ranks = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let rank = item.as_u64().filter(|r| *r < crate::network::MAX_NPUS);
            let field = format!("{name}[{i}]");
            ranks.push(rank.ok_or_else(|| input(origin, &field, "a rank (non-negative integer)"))?);
        }
        ranks.sort_unstable();
        ranks.dedup();
        if ranks.len() != items.len() || ranks.is_empty() {
            return Err(input(origin, name, "a non-empty list of distinct ranks"));
        }
        out.insert(name.clone(), ranks);
    }
    Ok(out)
}
