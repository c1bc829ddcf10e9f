//! Composition of per-dimension phases into one collective over a multi-dimensional group.
//!
//! Hierarchical: all-reduce runs reduce-scatter up the spanned dimensions (innermost first, the
//! buffer shrinking by each extent), all-reduce on the outermost, all-gather back down;
//! reduce-scatter and all-gather run one way; broadcast and reduce run each dimension on the whole
//! buffer; all-to-all crosses every dimension at once (dimension-ordered routing); send/recv follows
//! one path through the spanned dimensions. With `chunks` = k > 1 the buffer is cut into k pieces
//! pipelined through the phases: `Σ phases(piece) + (k−1) × busiest dimension(piece)`, where the
//! busiest dimension sums the phases that share its links.
//!
//! Flat (the `auto` choice where it applies): one ring over the whole group (all-reduce, reduce-scatter, all-gather). As NCCL does with
//! one channel per NIC, the ring's hops are spread so that each rank carries on dimension d the
//! share of hops that cross d; the ring runs at min over d of bandwidth_d / share_d.

use crate::algorithm::Algorithm;
use crate::op::CollectiveOp;
use crate::phase::{phase_bandwidth, phase_cost, PhaseCost};
use astrolabe_core::{Bandwidth, InputError};
use astrolabe_network::{Group, Topology};
use serde::Serialize;

/// How phases over several dimensions are put together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Composition {
    /// What NCCL does: a flat ring where one applies (all-reduce, reduce-scatter and all-gather
    /// over several dimensions), hierarchical otherwise. The development set's multi-node
    /// measurements sit at the flat ring's bound, not at the ideal pipelined hierarchy's.
    Auto,
    /// One phase per dimension (see the module docs).
    Hierarchical,
    /// One ring over every rank of the group.
    Flat,
}

impl Composition {
    /// Parses `auto`, `hierarchical` or `flat`.
    pub fn parse(text: &str, origin: &str) -> Result<Composition, InputError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Composition::Auto),
            "hierarchical" => Ok(Composition::Hierarchical),
            "flat" => Ok(Composition::Flat),
            _ => Err(InputError::new(origin, text, "one of auto, hierarchical, flat")),
        }
    }
}

/// Choices for one collective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveOptions {
    /// One algorithm for every dimension, or one per dimension of the topology.
    pub algorithms: Vec<Algorithm>,
    /// Hierarchical, flat or the faster.
    pub composition: Composition,
    /// Pieces the buffer is cut into to pipeline hierarchical phases (1 = no pipelining).
    pub chunks: usize,
}

impl Default for CollectiveOptions {
    fn default() -> Self {
        CollectiveOptions {
            algorithms: vec![Algorithm::Auto],
            composition: Composition::Auto,
            chunks: 4,
        }
    }
}

/// One phase as it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseReport {
    /// Dimension names the phase ran on (one, or all for a flat ring).
    pub dims: Vec<String>,
    /// The phase's operation.
    pub op: CollectiveOp,
    /// The algorithm used.
    pub algorithm: Algorithm,
    /// Ranks taking part along the phase's dimension(s).
    pub ranks: usize,
    /// Buffer per rank entering the phase, in bytes.
    pub data_bytes: f64,
    /// Bytes each rank put on its links.
    pub wire_bytes: f64,
    /// Time of the phase alone on the whole buffer (before pipelining), in seconds.
    pub time_s: f64,
}

/// The outcome of one collective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveResult {
    /// The operation.
    pub op: CollectiveOp,
    /// Ranks in the group.
    pub ranks: usize,
    /// Buffer size per rank (nccl-tests convention), in bytes.
    pub size_bytes: u64,
    /// Completion time, in seconds.
    pub time_s: f64,
    /// Algorithm bandwidth: size / time, in GB/s (1e9 bytes per second).
    pub algbw_gbps: f64,
    /// Bus bandwidth with nccl-tests' factors, in GB/s.
    pub busbw_gbps: f64,
    /// The composition that ran (never `auto`).
    pub composition: Composition,
    /// Pipelining pieces used.
    pub chunks: usize,
    /// The phases, in order.
    pub phases: Vec<PhaseReport>,
}

/// A planned phase: its dimension index, operation, buffer and cost on the whole buffer.
struct Planned {
    dim: usize,
    op: CollectiveOp,
    alg: Algorithm,
    data_bytes: f64,
    cost: PhaseCost,
}

/// Times `op` of `size_bytes` per rank over `group` of `topology`.
pub fn simulate(
    topology: &Topology,
    group: &Group,
    op: CollectiveOp,
    size_bytes: u64,
    options: &CollectiveOptions,
) -> Result<CollectiveResult, InputError> {
    let algs = per_dim_algorithms(topology, &options.algorithms)?;
    if options.chunks == 0 || options.chunks > 1024 {
        return Err(InputError::new("--chunks", options.chunks.to_string(), "between 1 and 1024"));
    }
    let spanned = group.spanned_dims();
    let flat_ok = spanned.len() > 1
        && matches!(
            op,
            CollectiveOp::AllReduce | CollectiveOp::ReduceScatter | CollectiveOp::AllGather
        );
    let try_flat = flat_ok && matches!(options.composition, Composition::Auto | Composition::Flat);
    if options.composition == Composition::Flat && !flat_ok {
        return Err(InputError::new(
            "--composition",
            "flat",
            "a group spanning two or more dimensions and all-reduce, reduce-scatter or all-gather",
        ));
    }
    let mut best: Option<(f64, Composition, usize, Vec<PhaseReport>)> = None;
    if options.composition == Composition::Hierarchical || !try_flat {
        let chunks = if spanned.len() > 1 { options.chunks } else { 1 };
        let plan = hierarchical(topology, group, op, size_bytes as f64, &algs)?;
        let time = pipelined_time(topology, group, op, size_bytes as f64, &algs, chunks)?;
        best = Some((time, Composition::Hierarchical, chunks, reports(topology, group, &plan)));
    }
    if try_flat {
        let (time, report) = flat_ring(topology, group, op, size_bytes as f64);
        best = Some((time, Composition::Flat, 1, vec![report]));
    }
    let (time_s, composition, chunks, phases) = best.expect("a composition always applies");
    let n = group.size();
    let algbw = if time_s > 0.0 { size_bytes as f64 / time_s / 1e9 } else { 0.0 };
    Ok(CollectiveResult {
        op,
        ranks: n,
        size_bytes,
        time_s,
        algbw_gbps: algbw,
        busbw_gbps: algbw * op.busbw_factor(n),
        composition,
        chunks,
        phases,
    })
}

fn per_dim_algorithms(
    topology: &Topology,
    algs: &[Algorithm],
) -> Result<Vec<Algorithm>, InputError> {
    let n = topology.dims().len();
    match algs.len() {
        1 => Ok(vec![algs[0]; n]),
        len if len == n => Ok(algs.to_vec()),
        len => Err(InputError::new(
            "--algorithm",
            format!("{len} algorithms"),
            format!("one algorithm for all dimensions, or exactly one per dimension ({n})"),
        )),
    }
}

/// The phases of the hierarchical composition, each costed on its own buffer.
fn hierarchical(
    topology: &Topology,
    group: &Group,
    op: CollectiveOp,
    size: f64,
    algs: &[Algorithm],
) -> Result<Vec<Planned>, InputError> {
    let spanned = group.spanned_dims();
    let ext = group.extents();
    // Buffer entering dimension spanned[i] on the way up: shrunk by the inner extents.
    let mut shrinking = Vec::with_capacity(spanned.len());
    let mut data = size;
    for &d in &spanned {
        shrinking.push(data);
        data /= ext[d] as f64;
    }
    let mut steps: Vec<(usize, CollectiveOp, f64)> = Vec::new();
    let last = spanned.len().saturating_sub(1);
    match op {
        CollectiveOp::AllReduce => {
            for (i, &d) in spanned.iter().enumerate().take(last) {
                steps.push((d, CollectiveOp::ReduceScatter, shrinking[i]));
            }
            if let Some(&d) = spanned.last() {
                steps.push((d, CollectiveOp::AllReduce, shrinking[last]));
            }
            for (i, &d) in spanned.iter().enumerate().take(last).rev() {
                steps.push((d, CollectiveOp::AllGather, shrinking[i]));
            }
        }
        CollectiveOp::ReduceScatter => {
            steps.extend(spanned.iter().enumerate().map(|(i, &d)| (d, op, shrinking[i])));
        }
        CollectiveOp::AllGather => {
            steps.extend(spanned.iter().enumerate().rev().map(|(i, &d)| (d, op, shrinking[i])));
        }
        _ => steps.extend(spanned.iter().map(|&d| (d, op, size))),
    }
    steps
        .into_iter()
        .map(|(d, phase_op, data_bytes)| {
            let (alg, cost) = choose(topology, d, ext[d], phase_op, data_bytes, algs[d])?;
            Ok(Planned { dim: d, op: phase_op, alg, data_bytes, cost })
        })
        .collect()
}

/// Costs one phase with the requested algorithm, or the fastest applicable one for `auto`.
fn choose(
    topology: &Topology,
    d: usize,
    extent: usize,
    op: CollectiveOp,
    data_bytes: f64,
    alg: Algorithm,
) -> Result<(Algorithm, PhaseCost), InputError> {
    let dim = &topology.dims()[d];
    if alg != Algorithm::Auto {
        return phase_cost(dim, extent, op, data_bytes, alg).map(|c| (alg, c)).map_err(|u| {
            InputError::new(
                "--algorithm",
                alg.name(),
                format!("an algorithm that applies ({})", u.0),
            )
        });
    }
    Algorithm::CONCRETE
        .iter()
        .filter_map(|&a| phase_cost(dim, extent, op, data_bytes, a).ok().map(|c| (a, c)))
        .min_by(|x, y| x.1.time_s().total_cmp(&y.1.time_s()))
        .ok_or_else(|| {
            InputError::new(
                "--algorithm",
                "auto",
                format!("some algorithm for {op} on `{}`", dim.name),
            )
        })
}

/// Completion time of the hierarchical composition with the buffer cut into `chunks` pieces.
fn pipelined_time(
    topology: &Topology,
    group: &Group,
    op: CollectiveOp,
    size: f64,
    algs: &[Algorithm],
    chunks: usize,
) -> Result<f64, InputError> {
    if op == CollectiveOp::SendRecv {
        return Ok(send_recv_time(topology, group, size));
    }
    let piece = hierarchical(topology, group, op, size / chunks as f64, algs)?;
    if op == CollectiveOp::AllToAll {
        // Every dimension carries its share at the same time: the slowest dimension decides.
        return Ok(piece.iter().map(|p| p.cost.time_s()).fold(0.0, f64::max) * chunks as f64);
    }
    let total: f64 = piece.iter().map(|p| p.cost.time_s()).sum();
    let busiest = (0..topology.dims().len())
        .map(|d| piece.iter().filter(|p| p.dim == d).map(|p| p.cost.time_s()).sum::<f64>())
        .fold(0.0, f64::max);
    Ok(total + (chunks as f64 - 1.0) * busiest)
}

/// One message from the group's first rank to its last: every spanned dimension is one leg of
/// the path; legs are pipelined (latencies add, the slowest leg sets the rate).
fn send_recv_time(topology: &Topology, group: &Group, size: f64) -> f64 {
    let legs: Vec<PhaseCost> = group
        .spanned_dims()
        .into_iter()
        .filter_map(|d| {
            phase_cost(&topology.dims()[d], 2, CollectiveOp::SendRecv, size, Algorithm::Ring).ok()
        })
        .collect();
    let Some(slowest) =
        legs.iter().min_by(|a, b| a.bandwidth.bytes_per_s.total_cmp(&b.bandwidth.bytes_per_s))
    else {
        return 0.0;
    };
    let path = PhaseCost {
        steps: legs.len(),
        latency_s: legs.iter().map(|l| l.latency_s).sum(),
        fill_s: legs.iter().map(|l| l.fill_s).fold(0.0, f64::max),
        ..*slowest
    };
    path.time_s()
}

/// A single ring over all ranks of a multi-dimensional group (see the module docs).
fn flat_ring(
    topology: &Topology,
    group: &Group,
    op: CollectiveOp,
    size: f64,
) -> (f64, PhaseReport) {
    let ext = group.extents();
    let spanned = group.spanned_dims();
    let n = group.size();
    let mut bandwidth = f64::INFINITY;
    let (mut step_latency_s, mut fill_s) = (0.0f64, 0.0f64);
    for (i, &d) in spanned.iter().enumerate() {
        let outer: usize = spanned[i + 1..].iter().map(|&o| ext[o]).product();
        let hops = if i + 1 == spanned.len() { ext[d] } else { (ext[d] - 1) * outer };
        let share = hops as f64 / n as f64;
        let dim = &topology.dims()[d];
        let bw = phase_bandwidth(dim, ext[d], Algorithm::Ring).bytes_per_s;
        bandwidth = bandwidth.min(bw / share);
        let hop_count =
            if dim.kind == astrolabe_network::DimensionKind::Switch { 2.0 } else { 1.0 };
        step_latency_s = step_latency_s.max(dim.latency_ns * 1e-9 * hop_count);
        fill_s = fill_s.max(dim.pipeline_fill_ns * 1e-9);
    }
    let g = n as f64;
    let (steps, wire) = match op {
        CollectiveOp::AllReduce => (2 * (n - 1), 2.0 * (g - 1.0) / g * size),
        _ => (n - 1, (g - 1.0) / g * size),
    };
    let cost = PhaseCost {
        steps,
        latency_s: steps as f64 * step_latency_s,
        wire_bytes: wire,
        bandwidth: Bandwidth { bytes_per_s: bandwidth },
        fill_s,
    };
    let names = spanned.iter().map(|&d| topology.dims()[d].name.clone()).collect();
    let report = PhaseReport {
        dims: names,
        op,
        algorithm: Algorithm::Ring,
        ranks: n,
        data_bytes: size,
        wire_bytes: wire,
        time_s: cost.time_s(),
    };
    (cost.time_s(), report)
}

fn reports(topology: &Topology, group: &Group, plan: &[Planned]) -> Vec<PhaseReport> {
    plan.iter()
        .map(|p| PhaseReport {
            dims: vec![topology.dims()[p.dim].name.clone()],
            op: p.op,
            algorithm: p.alg,
            ranks: group.extents()[p.dim],
            data_bytes: p.data_bytes,
            wire_bytes: p.cost.wire_bytes,
            time_s: p.cost.time_s(),
        })
        .collect()
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
