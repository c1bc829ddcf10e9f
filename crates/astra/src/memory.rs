//! The remote-memory JSON and the communicator-group JSON.
//!
//! Remote memory: `memory-type` is `NO_MEMORY_EXPANSION`, `PER_NPU_MEMORY_EXPANSION` (a port per
//! NPU), `PER_NODE_MEMORY_EXPANSION` (a port per node of `num-npus-per-node` NPUs) or
//! `MEMORY_POOL` (one port for all); an access costs `remote-mem-latency` (ns) + bytes /
//! `remote-mem-bw` (GB/s, i.e. bytes per ns), and a shared port serves accesses first come,
//! first served. Communicator groups: an object from a group name (`pg_name` in the traces) to its ranks.

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
    /// Each NPU has its own expansion memory and its own port to it.
    PerNpu(Port),
    /// The NPUs of a node share one port: NPU `r` uses node `r / npus_per_node`'s.
    PerNode {
        /// The port of each node.
        port: Port,
        /// Nodes declared.
        nodes: u64,
        /// NPUs per node.
        npus_per_node: u64,
    },
    /// One pool for all NPUs behind a single port that serves accesses first come, first served.
    Pool(Port),
}

/// One memory port: every access costs `latency_ns + bytes / bandwidth_bytes_per_ns`, and a
/// port serves one access at a time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Port {
    /// Latency of one access in ns.
    pub latency_ns: f64,
    /// Bandwidth in bytes per ns (the file's GB/s).
    pub bandwidth_bytes_per_ns: f64,
}

/// Which port an NPU's accesses queue on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PortOf {
    /// Its own port: accesses hold the NPU's communication slot, nothing else.
    Own,
    /// A port shared with other NPUs (node index, or `u64::MAX` for the pool).
    Shared(u64),
}

impl RemoteMemory {
    /// Time of one access of `bytes`, rounded down to whole ns; `None` without remote memory.
    pub fn access_ns(&self, bytes: u64) -> Option<u64> {
        let port = match self {
            RemoteMemory::None => return None,
            RemoteMemory::PerNpu(p) | RemoteMemory::Pool(p) => p,
            RemoteMemory::PerNode { port, .. } => port,
        };
        Some((port.latency_ns + bytes as f64 / port.bandwidth_bytes_per_ns) as u64)
    }

    /// The port NPU `rank` uses; `None` without remote memory.
    pub fn port_of(&self, rank: u64) -> Option<PortOf> {
        match *self {
            RemoteMemory::None => None,
            RemoteMemory::PerNpu(_) => Some(PortOf::Own),
            RemoteMemory::PerNode { npus_per_node, .. } => {
                Some(PortOf::Shared(rank / npus_per_node))
            }
            RemoteMemory::Pool(_) => Some(PortOf::Shared(u64::MAX)),
        }
    }

    /// Checks the file covers `npus` NPUs (a per-node memory must give every NPU a node).
    pub fn check_npus(&self, npus: u64, origin: &str) -> Result<(), AstraError> {
        if let RemoteMemory::PerNode { nodes, npus_per_node, .. } = *self {
            if nodes.saturating_mul(npus_per_node) < npus {
                let expected = format!("num-nodes x num-npus-per-node covering the {npus} NPUs of the network, found {nodes} x {npus_per_node}");
                return Err(input(origin, "num-nodes", expected));
            }
        }
        Ok(())
    }
}

const MEMORY_TYPES: &str =
    "NO_MEMORY_EXPANSION, PER_NPU_MEMORY_EXPANSION, PER_NODE_MEMORY_EXPANSION or MEMORY_POOL";

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
        None => return Err(input(origin, "memory-type", format!("{MEMORY_TYPES}, found nothing"))),
    };
    let number = |key: &str| match map.get(key) {
        Some(v) => json::positive(v, origin, key),
        None => Err(input(origin, key, format!("a positive number (required for {kind})"))),
    };
    let count = |key: &str| {
        let n = number(key)?;
        if n.fract() != 0.0 || n > 1e15 {
            return Err(input(origin, key, format!("a positive whole number, found {n}")));
        }
        Ok(n as u64)
    };
    let node_keys = ["num-nodes", "num-npus-per-node"];
    if kind != "PER_NODE_MEMORY_EXPANSION" {
        if let Some(key) = node_keys.iter().find(|k| map.contains_key(**k)) {
            let expected =
                format!("no `{key}` with {kind} (it describes PER_NODE_MEMORY_EXPANSION only)");
            return Err(input(origin, key, expected));
        }
    }
    let port = || -> Result<Port, AstraError> {
        Ok(Port {
            latency_ns: number("remote-mem-latency")?,
            bandwidth_bytes_per_ns: number("remote-mem-bw")?,
        })
    };
    match kind {
        "NO_MEMORY_EXPANSION" => Ok(RemoteMemory::None),
        "PER_NPU_MEMORY_EXPANSION" => Ok(RemoteMemory::PerNpu(port()?)),
        "PER_NODE_MEMORY_EXPANSION" => Ok(RemoteMemory::PerNode {
            port: port()?,
            nodes: count("num-nodes")?,
            npus_per_node: count("num-npus-per-node")?,
        }),
        "MEMORY_POOL" => Ok(RemoteMemory::Pool(port()?)),
        other => Err(input(origin, "memory-type", format!("{MEMORY_TYPES}, found `{other}`"))),
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
