//! Cost of one collective phase on one network dimension.
//!
//! A phase moves `wire_bytes` out of each rank at the dimension's achievable bandwidth `B` and
//! pays a latency for its steps. Its time is
//!
//! `latency + (√(wire_bytes / B) + √fill)²`
//!
//! which is the time of a transfer split into optimally sized chunks when each chunk costs a
//! fixed overhead `fill` (the dimension's `pipeline_fill_ns`): the classic result for pipelined
//! transfers. It is what makes bus bandwidth ramp up with message size, as nccl-tests shows.

use crate::algorithm::Algorithm;
use crate::op::CollectiveOp;
use astrolabe_core::Bandwidth;
use astrolabe_network::{Dimension, DimensionKind};

/// Traffic and latency of one phase, before it is turned into time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseCost {
    /// Number of communication steps (for reports).
    pub steps: usize,
    /// Total latency of the steps, in seconds.
    pub latency_s: f64,
    /// Bytes each rank puts on its links in this phase (counted once per hop they travel).
    pub wire_bytes: f64,
    /// Bandwidth the phase reaches per rank.
    pub bandwidth: Bandwidth,
    /// Per-chunk pipelining overhead, in seconds.
    pub fill_s: f64,
}

impl PhaseCost {
    /// The phase's duration in seconds (zero when there is nothing to move).
    pub fn time_s(&self) -> f64 {
        if self.wire_bytes <= 0.0 {
            return 0.0;
        }
        let stream = (self.wire_bytes / self.bandwidth.bytes_per_s).sqrt() + self.fill_s.sqrt();
        self.latency_s + stream * stream
    }
}

/// Why an algorithm cannot run a phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// Cost of `op` over `extent` ranks of `dim` with `data_bytes` of buffer per rank (nccl-tests
/// size convention), using the concrete algorithm `alg`.
pub fn phase_cost(
    dim: &Dimension,
    extent: usize,
    op: CollectiveOp,
    data_bytes: f64,
    alg: Algorithm,
) -> Result<PhaseCost, Unsupported> {
    let g = extent as f64;
    let hop_s = dim.latency_ns * 1e-9;
    let step_hops = match dim.kind {
        DimensionKind::Switch => 2.0,
        DimensionKind::Ring | DimensionKind::FullyConnected => 1.0,
    };
    let unsupported =
        |why: &str| Err(Unsupported(format!("{alg} {op} on a {:?} dimension: {why}", dim.kind)));
    let ring_topology = dim.kind == DimensionKind::Ring;
    let (steps, latency_hops, wire_bytes) = match alg {
        Algorithm::Ring => ring_traffic(op, extent, data_bytes, ring_topology),
        Algorithm::Direct => direct_traffic(op, extent, data_bytes, ring_topology),
        Algorithm::HalvingDoubling => {
            halving_doubling_traffic(op, extent, data_bytes, ring_topology)
        }
        Algorithm::DoubleBinaryTree => {
            if ring_topology {
                return unsupported("trees need a switch or fully connected dimension");
            }
            let depth = log2_ceil(extent) as f64;
            match op {
                CollectiveOp::AllReduce => ((2.0 * depth) as usize, 2.0 * depth, 2.0 * data_bytes),
                CollectiveOp::Broadcast | CollectiveOp::Reduce => {
                    (depth as usize, depth, data_bytes)
                }
                _ => return unsupported("trees serve all-reduce, broadcast and reduce only"),
            }
        }
        Algorithm::InNetwork => {
            if dim.in_network_reduction.is_none() {
                return unsupported("this dimension has no in-network reduction");
            }
            match op {
                CollectiveOp::AllGather => (2, 2.0, (g - 1.0) / g * data_bytes),
                CollectiveOp::AllReduce
                | CollectiveOp::ReduceScatter
                | CollectiveOp::Reduce
                | CollectiveOp::Broadcast => (2, 2.0, data_bytes),
                _ => return unsupported("switches reduce and multicast; they do not route all-to-all or point-to-point differently"),
            }
        }
        Algorithm::Auto => return unsupported("resolve `auto` before costing a phase"),
    };
    Ok(PhaseCost {
        steps,
        latency_s: latency_hops * step_hops * hop_s,
        wire_bytes,
        bandwidth: phase_bandwidth(dim, extent, alg),
        fill_s: dim.pipeline_fill_ns * 1e-9,
    })
}

/// Bandwidth per rank that `alg` reaches over `extent` ranks of `dim`.
///
/// Ring, direct, halving-doubling and trees reach `line × efficiency / oversubscription`; in-network
/// reduction uses its own efficiency. On a fully connected dimension only the links to the group's
/// members carry traffic, a share (extent−1)/(size−1) of the GPU's bandwidth. On a ring dimension a
/// group smaller than the ring is a line, whose closing traffic doubles the load: half the bandwidth.
pub fn phase_bandwidth(dim: &Dimension, extent: usize, alg: Algorithm) -> Bandwidth {
    let base = match (alg, dim.in_network_reduction) {
        (Algorithm::InNetwork, Some(inr)) => {
            dim.bandwidth.scaled(inr.efficiency / dim.oversubscription)
        }
        _ => dim.achievable_bandwidth(),
    };
    match dim.kind {
        DimensionKind::FullyConnected if dim.size > 1 => {
            base.scaled((extent as f64 - 1.0).max(1.0) / (dim.size as f64 - 1.0))
        }
        DimensionKind::Ring if extent < dim.size => base.scaled(0.5),
        _ => base,
    }
}

/// Sum over peers at ring distance 1..g−1 of the shortest hop count: the link load of sending
/// one unit to every peer on a bidirectional ring, in units.
fn ring_peer_hops(g: usize) -> f64 {
    (1..g).map(|k| k.min(g - k) as f64).sum()
}

/// (steps, latency in step-hops, wire bytes per rank) of the ring algorithm.
fn ring_traffic(op: CollectiveOp, extent: usize, d: f64, ring_topology: bool) -> (usize, f64, f64) {
    let g = extent as f64;
    let n = extent - 1;
    match op {
        CollectiveOp::ReduceScatter | CollectiveOp::AllGather => (n, n as f64, (g - 1.0) / g * d),
        CollectiveOp::AllReduce => (2 * n, 2.0 * n as f64, 2.0 * (g - 1.0) / g * d),
        CollectiveOp::AllToAll => {
            let load = if ring_topology { ring_peer_hops(extent) } else { g - 1.0 };
            (n, n as f64, load / g * d)
        }
        CollectiveOp::Broadcast | CollectiveOp::Reduce => (n, n as f64, d),
        CollectiveOp::SendRecv => (1, 1.0, d),
    }
}

/// (steps, latency in step-hops, wire bytes per rank) of the direct algorithm.
fn direct_traffic(
    op: CollectiveOp,
    extent: usize,
    d: f64,
    ring_topology: bool,
) -> (usize, f64, f64) {
    let g = extent as f64;
    let (load, far) =
        if ring_topology { (ring_peer_hops(extent), (extent / 2) as f64) } else { (g - 1.0, 1.0) };
    match op {
        CollectiveOp::ReduceScatter | CollectiveOp::AllGather | CollectiveOp::AllToAll => {
            (1, far, load / g * d)
        }
        CollectiveOp::AllReduce => (2, 2.0 * far, 2.0 * load / g * d),
        CollectiveOp::Broadcast | CollectiveOp::Reduce => (1, far, load * d),
        CollectiveOp::SendRecv => (1, 1.0, d),
    }
}

/// (steps, latency in step-hops, wire bytes per rank) of recursive halving / doubling.
///
/// With p the largest power of two ≤ g, step i exchanges with the rank at distance 2^i: on a ring
/// dimension that is 2^i hops, so both the latency and the link load grow with the distance.
/// A non-power-of-two group first folds its g−p extra ranks into partners (one more step moving
/// the whole buffer) and unfolds them at the end.
fn halving_doubling_traffic(
    op: CollectiveOp,
    extent: usize,
    d: f64,
    ring_topology: bool,
) -> (usize, f64, f64) {
    let levels = log2_floor(extent);
    let p = 1usize << levels;
    let fold = if p < extent { 1 } else { 0 };
    // One pass of recursive halving (reduce-scatter) or doubling (all-gather) over p ranks.
    let (mut pass_hops, mut pass_bytes) = (0.0, 0.0);
    for i in 1..=levels {
        let distance = (p >> i) as f64;
        let hops = if ring_topology { distance } else { 1.0 };
        pass_hops += hops;
        pass_bytes += d / (1u64 << i) as f64 * hops;
    }
    let (fold_hops, fold_bytes) = (fold as f64, fold as f64 * d);
    match op {
        CollectiveOp::ReduceScatter | CollectiveOp::AllGather => {
            (levels + fold, pass_hops + fold_hops, pass_bytes + fold_bytes)
        }
        CollectiveOp::AllReduce | CollectiveOp::Broadcast | CollectiveOp::Reduce => {
            (2 * (levels + fold), 2.0 * (pass_hops + fold_hops), 2.0 * pass_bytes + fold_bytes)
        }
        CollectiveOp::AllToAll => {
            // Bruck: each of ⌈log2 g⌉ steps forwards half the buffer to distance 2^i.
            let steps = log2_ceil(extent);
            let hops: f64 =
                (0..steps)
                    .map(|i| {
                        if ring_topology {
                            (1usize << i).min(extent - (1 << i)) as f64
                        } else {
                            1.0
                        }
                    })
                    .sum();
            let bytes: f64 = (0..steps)
                .map(|i| {
                    d / 2.0
                        * if ring_topology {
                            (1usize << i).min(extent - (1 << i)) as f64
                        } else {
                            1.0
                        }
                })
                .sum();
            (steps, hops, bytes)
        }
        CollectiveOp::SendRecv => (1, 1.0, d),
    }
}

fn log2_floor(n: usize) -> usize {
    (usize::BITS - 1 - n.max(1).leading_zeros()) as usize
}

fn log2_ceil(n: usize) -> usize {
    let f = log2_floor(n);
    if n.is_power_of_two() {
        f
    } else {
        f + 1
    }
}

#[cfg(test)]
#[path = "phase_tests.rs"]
mod tests;
