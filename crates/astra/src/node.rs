//! What one trace node asks for: its kind of work, its duration or its collective, its group.

use crate::collective::CollKind;
use crate::error::{input, AstraError};
use crate::memory::CommGroups;
use crate::network::Network;
use crate::system::SystemConfig;
use astrolabe_chakra::{AttrError, CollectiveCommType, Node, NodeType};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// Positions of `nodes` in a dependency order; among ready nodes, the earliest in the file first.
/// The caller has run `validate_dependencies` (unique ids, no dangling dependency, no cycle).
pub(crate) fn program_order(nodes: &[Node]) -> Vec<usize> {
    let position: BTreeMap<u64, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut missing = vec![0usize; nodes.len()];
    let mut dependents = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for dep in n.ctrl_deps.iter().chain(&n.data_deps) {
            if let Some(&d) = position.get(dep) {
                missing[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..nodes.len()).filter(|&i| missing[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &j in &dependents[i] {
            missing[j] -= 1;
            if missing[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    order
}

/// The collective kind of a COMM_COLL node, or an error naming the node.
pub(crate) fn coll_kind(node: &Node, origin: &str) -> Result<Option<CollKind>, AstraError> {
    let kind = node.comm_type().map_err(|e| attr(e, origin))?;
    Ok(Some(match kind {
        CollectiveCommType::AllReduce => CollKind::AllReduce,
        CollectiveCommType::AllGather => CollKind::AllGather,
        CollectiveCommType::ReduceScatter | CollectiveCommType::ReduceScatterBlock => {
            CollKind::ReduceScatter
        }
        CollectiveCommType::AllToAll => CollKind::AllToAll,
        CollectiveCommType::Barrier => return Ok(None),
        other => {
            let field = format!("node {}: comm_type", node.id);
            let expected = format!("ALL_REDUCE, ALL_GATHER, REDUCE_SCATTER, ALL_TO_ALL or BARRIER, found {other:?} (not supported yet)");
            return Err(input(origin, &field, expected));
        }
    }))
}

/// A required non-negative integer attribute.
pub(crate) fn require(node: &Node, name: &str, origin: &str) -> Result<u64, AstraError> {
    node.require_u64(name).map_err(|e| attr(e, origin))
}

/// An optional non-negative integer attribute.
pub(crate) fn optional(node: &Node, name: &str, origin: &str) -> Result<Option<u64>, AstraError> {
    node.attr_u64(name).map_err(|e| attr(e, origin))
}

fn attr(e: AttrError, origin: &str) -> AstraError {
    AstraError::Chakra(e.in_file(origin))
}

/// Duration of a COMP node in ns: `duration_micros` × 1000, or with `roofline-enabled`
/// num_ops / min(local-mem-bw × num_ops / tensor_size, peak-perf).
pub(crate) fn compute_ns(
    node: &Node,
    sys: &SystemConfig,
    origin: &str,
    system_origin: &str,
) -> Result<u64, AstraError> {
    if !sys.roofline_enabled {
        return Ok(node.duration_micros.saturating_mul(1000));
    }
    let ops = require(node, "num_ops", origin)? as f64;
    let bytes = require(node, "tensor_size", origin)? as f64;
    let need = |v: Option<f64>, key: &str| {
        v.ok_or_else(|| input(system_origin, key, "a positive number: roofline-enabled needs it"))
    };
    let peak_ops_per_ns = need(sys.peak_perf_tflops, "peak-perf")? * 1e3;
    let mem_bytes_per_ns = need(sys.local_mem_bw_gb_per_s, "local-mem-bw")?;
    if ops == 0.0 {
        return Ok(0);
    }
    let rate = if bytes == 0.0 {
        peak_ops_per_ns
    } else {
        (mem_bytes_per_ns * ops / bytes).min(peak_ops_per_ns)
    };
    Ok((ops / rate) as u64)
}

/// The network dimensions a collective spans and, for the dimensions it does not span, this
/// rank's coordinates (which identify its group).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GroupKey {
    pub dims: Vec<usize>,
    pub fixed: Vec<(usize, u64)>,
}

/// The group of a COMM_COLL node on `rank`: `involved_dim` and `pg_name` (a communicator group
/// must be a product of whole dimensions through the rank).
pub(crate) fn group_key(
    node: &Node,
    rank: u64,
    net: &Network,
    groups: Option<&CommGroups>,
    origin: &str,
) -> Result<GroupKey, AstraError> {
    let n = net.dims.len();
    let mut span: Vec<bool> =
        match node.attr_bool_list("involved_dim").map_err(|e| attr(e, origin))? {
            None => vec![true; n],
            Some(list) if list.len() == n => list.to_vec(),
            Some(list) => {
                let field = format!("node {}: involved_dim", node.id);
                return Err(input(
                    origin,
                    &field,
                    format!("one bool per network dimension ({n}), found {}", list.len()),
                ));
            }
        };
    let pg = node.attr_str("pg_name").map_err(|e| attr(e, origin))?.unwrap_or("");
    if !pg.is_empty() && pg != "0" {
        let free = group_dims(pg, rank, net, groups, node.id, origin)?;
        span.iter_mut().zip(free).for_each(|(s, f)| *s &= f);
    }
    let coords = net.coords(rank);
    let dims = (0..n).filter(|&d| span[d]).collect();
    let fixed = (0..n).filter(|&d| !span[d]).map(|d| (d, coords[d])).collect();
    Ok(GroupKey { dims, fixed })
}

fn group_dims(
    pg: &str,
    rank: u64,
    net: &Network,
    groups: Option<&CommGroups>,
    id: u64,
    origin: &str,
) -> Result<Vec<bool>, AstraError> {
    let field = format!("node {id}: pg_name");
    let Some(members) = groups.and_then(|g| g.get(pg)) else {
        return Err(input(
            origin,
            &field,
            format!("\"\", \"0\" or a group of the --comm-group file, found `{pg}`"),
        ));
    };
    let me = net.coords(rank);
    let coords: Vec<Vec<u64>> = members.iter().map(|&m| net.coords(m)).collect();
    let free: Vec<bool> =
        (0..net.dims.len()).map(|d| coords.iter().any(|c| c[d] != me[d])).collect();
    let size: u64 = (0..net.dims.len()).filter(|&d| free[d]).map(|d| net.dims[d].npus).product();
    let inside = coords.iter().all(|c| (0..me.len()).all(|d| free[d] || c[d] == me[d]));
    let out_of_range = members.iter().any(|&m| m >= net.npus());
    if !members.contains(&rank) || out_of_range || !inside || size != members.len() as u64 {
        let expected = format!("a group containing rank {rank} that is a product of whole network dimensions (only such groups are supported), found `{pg}` = {members:?}");
        return Err(input(origin, &field, expected));
    }
    Ok(free)
}

/// Is this node of a kind the runner knows?
pub(crate) fn node_type(node: &Node, origin: &str) -> Result<NodeType, AstraError> {
    match node.known_type() {
        Some(NodeType::Invalid) | None => Err(input(
            origin,
            &format!("node {}: type", node.id),
            format!(
                "METADATA, MEM_LOAD, MEM_STORE, COMP, COMM_SEND, COMM_RECV or COMM_COLL, found {}",
                node.node_type
            ),
        )),
        Some(t) => Ok(t),
    }
}
