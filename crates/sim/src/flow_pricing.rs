//! Collectives of the step timed on an explicit fabric by the congestion-aware model
//! (`astrolabe_flow`), for `--network-model congestion-aware`.
//!
//! A collective of the step is priced on rank 0's group; in a real step every group of the
//! same kind runs it at the same moment (all data-parallel rings reduce together, every
//! tensor-parallel group all-reduces each layer). So the group of rank 0 is translated over the
//! whole job (every rank belongs to exactly one translate) and all translates run together on
//! the fabric, sharing its links max-min fairly: rail leaves, oversubscribed uplinks and spines
//! shared by groups are where they slow each other down. Schedules: rings along each network
//! dimension the group spans (hierarchical when it spans several), direct exchange for
//! all-to-all, one flow per pair for pipeline sends.
//!
//! The flow model moves bytes; it has no chunk-pipelining fill or protocol costs, which the
//! analytical model carries (fitted to nccl-tests). So the flow model gives a *slowdown*: the
//! slowest group's time with every group running on the fabric, over the time of rank 0's group
//! alone on the same fabric with every tier non-blocking (the analytical model's view of the
//! network). The collective's time is the analytical time × that slowdown: exactly the
//! analytical time for a lone group on a non-blocking fabric, and longer wherever groups share
//! links or tiers are oversubscribed.
//!
//! Not modelled here: contention between collectives of different kinds that overlap in time
//! (a gradient reduce-scatter beside a pipeline send: each kind is timed on its own), chunk
//! pipelining and in-network reduction (NVLink SHARP, InfiniBand SHARP), which the analytical
//! model counts where the catalog fabric has it.

use astrolabe_collective::CollectiveOp;
use astrolabe_core::InputError;
use astrolabe_flow::{
    simulate_collectives, simulate_flows, ClassLoad, CollectiveOp as FlowOp, CollectiveRequest,
    Fabric, FabricSpec, FlowRequest, HotLink, LinkClass, LinkLoad, Schedule,
};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One collective as the flow model timed it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowTiming {
    /// Seconds from the common start to the slowest group's end, all groups running.
    pub time_s: f64,
    /// Seconds of rank 0's group alone on the non-blocking reference fabric.
    pub alone_s: f64,
    /// Bytes each link of the fabric carried for all the groups together.
    pub link_bytes: Arc<Vec<u64>>,
    /// Groups that ran at once.
    pub groups: usize,
}

/// Memo key: operation, rank 0's group, its extents and the bytes.
type Key = (u8, Vec<usize>, Vec<usize>, u64);

/// A fabric and the collectives timed on it so far.
#[derive(Debug)]
pub struct FlowPricer {
    /// The description the fabric was built from.
    pub spec: FabricSpec,
    /// The fabric.
    pub fabric: Fabric,
    /// The same fabric with every tier non-blocking; `None` when the fabric is.
    reference: Option<Fabric>,
    /// GPUs of the job (the first ranks of the fabric).
    gpus: usize,
    cache: RefCell<BTreeMap<Key, FlowTiming>>,
}

impl FlowPricer {
    /// Builds `spec` for a job of `gpus` GPUs.
    pub fn new(spec: FabricSpec, gpus: usize, origin: &str) -> Result<FlowPricer, InputError> {
        let build = |spec: &FabricSpec| {
            spec.build().map_err(|e| {
                InputError::new(origin, format!("network.fabric ({})", e.field), e.expected)
            })
        };
        let fabric = build(&spec)?;
        let open = non_blocking(&spec);
        let reference = if open == spec { None } else { Some(build(&open)?) };
        Ok(FlowPricer { spec, fabric, reference, gpus, cache: RefCell::new(BTreeMap::new()) })
    }

    /// Times `op` of `bytes` per rank (nccl-tests convention) on every translate of `ranks`,
    /// whose extent along each network dimension it spans is `extents` (innermost first).
    pub fn time(
        &self,
        op: CollectiveOp,
        ranks: &[usize],
        extents: &[usize],
        bytes: u64,
        origin: &str,
    ) -> Result<FlowTiming, InputError> {
        let key = (op as u8, ranks.to_vec(), extents.to_vec(), bytes);
        if let Some(hit) = self.cache.borrow().get(&key) {
            return Ok(hit.clone());
        }
        let groups = translates(ranks, self.gpus);
        let err = |e: InputError| {
            InputError::new(origin, format!("network ({}: {})", e.origin, e.field), e.expected)
        };
        let run = |fabric: &Fabric, groups: &[Vec<usize>]| match flow_op(op) {
            None => run_pairs(fabric, groups, bytes).map_err(err),
            Some(flow) => run_groups(fabric, flow, groups, extents, bytes).map_err(err),
        };
        let (finish_ns, link_bytes) = run(&self.fabric, &groups)?;
        let reference = self.reference.as_ref().unwrap_or(&self.fabric);
        let (alone_ns, _) = run(reference, &groups[..1.min(groups.len())])?;
        let timing = FlowTiming {
            time_s: finish_ns as f64 * 1e-9,
            alone_s: alone_ns as f64 * 1e-9,
            link_bytes: Arc::new(link_bytes),
            groups: groups.len(),
        };
        self.cache.borrow_mut().insert(key, timing.clone());
        Ok(timing)
    }
}

impl FlowTiming {
    /// All groups on the fabric over rank 0's group alone on the non-blocking fabric (1 when
    /// nothing moved).
    pub fn slowdown(&self) -> f64 {
        if self.alone_s > 0.0 {
            self.time_s / self.alone_s
        } else {
            1.0
        }
    }
}

/// `spec` with every tier's oversubscription 1.
fn non_blocking(spec: &FabricSpec) -> FabricSpec {
    let mut open = spec.clone();
    if let Some(so) = open.scale_out.as_mut() {
        so.tiers.iter_mut().for_each(|t| t.oversubscription = 1.0);
    }
    open
}

/// The flow model's operation; `None` for a point-to-point send.
fn flow_op(op: CollectiveOp) -> Option<FlowOp> {
    match op {
        CollectiveOp::AllReduce => Some(FlowOp::AllReduce),
        CollectiveOp::ReduceScatter => Some(FlowOp::ReduceScatter),
        CollectiveOp::AllGather => Some(FlowOp::AllGather),
        CollectiveOp::AllToAll => Some(FlowOp::AllToAll),
        // The step prices no broadcast or reduce; a send stands in for them.
        CollectiveOp::SendRecv | CollectiveOp::Broadcast | CollectiveOp::Reduce => None,
    }
}

/// Every translate `{b + r : r ∈ ranks}` of the group that fits in `gpus` ranks, found in rank
/// order so that each rank lands in one translate (the groups of a box-shaped communicator).
pub fn translates(ranks: &[usize], gpus: usize) -> Vec<Vec<usize>> {
    let base = ranks.iter().copied().min().unwrap_or(0);
    let offsets: Vec<usize> = ranks.iter().map(|r| r - base).collect();
    let mut covered = vec![false; gpus];
    let mut out = Vec::new();
    for b in 0..gpus {
        let group: Vec<usize> = offsets.iter().map(|o| b + o).collect();
        if group.iter().all(|&r| r < gpus && !covered[r]) {
            group.iter().for_each(|&r| covered[r] = true);
            out.push(group);
        }
    }
    out
}

/// All groups' collectives at once; returns the slowest finish and the bytes per link.
fn run_groups(
    fabric: &Fabric,
    op: FlowOp,
    groups: &[Vec<usize>],
    extents: &[usize],
    bytes: u64,
) -> Result<(u64, Vec<u64>), InputError> {
    let spanned: Vec<usize> = extents.iter().copied().filter(|&e| e > 1).collect();
    let schedule = match (op, spanned.len()) {
        (FlowOp::AllToAll, _) => Schedule::Direct,
        (_, 0 | 1) => Schedule::Ring,
        _ => Schedule::Hierarchical { extents: spanned },
    };
    let requests: Vec<CollectiveRequest> = groups
        .iter()
        .map(|g| CollectiveRequest {
            op,
            schedule: schedule.clone(),
            ranks: g.clone(),
            bytes,
            start_ns: 0,
        })
        .collect();
    let run = simulate_collectives(fabric, &requests)?;
    let finish = run.outcomes.iter().map(|o| o.finish_ns).max().unwrap_or(0);
    Ok((finish, run.links.bytes_per_link))
}

/// One flow from the first to the second rank of every pair.
fn run_pairs(
    fabric: &Fabric,
    pairs: &[Vec<usize>],
    bytes: u64,
) -> Result<(u64, Vec<u64>), InputError> {
    let flows: Vec<FlowRequest> = pairs
        .iter()
        .filter(|p| p.len() == 2)
        .map(|p| FlowRequest { src: p[0], dst: p[1], bytes, start_ns: 0 })
        .collect();
    let run = simulate_flows(fabric, &flows)?;
    let finish = run.flows.iter().map(|f| f.finish_ns).max().unwrap_or(0);
    Ok((finish, run.links.bytes_per_link))
}

/// How the step's collectives loaded the fabric (congestion-aware model only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkReport {
    /// The fabric's name.
    pub fabric: String,
    /// GPUs, switches and directed links of the fabric.
    pub gpus: usize,
    /// Switches of the fabric.
    pub switches: usize,
    /// Directed links of the fabric.
    pub links: usize,
    /// Per link class: bytes carried in one step and utilization (bytes over line rate × step
    /// time).
    pub classes: Vec<ClassLoad>,
    /// The busiest links of the step outside the NVLink domains (every GPU's NVLink carries
    /// the same tensor-parallel bytes); NVLink links when nothing leaves a node.
    pub hottest: Vec<HotLink>,
    /// Bytes per step on NVLink, NICs, leaf uplinks and spine uplinks.
    pub bytes_per_tier: TierBytes,
}

/// Bytes per step per tier of the fabric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TierBytes {
    /// GPU ↔ NVSwitch.
    pub nvlink_bytes: u64,
    /// GPU NIC ↔ leaf.
    pub nic_bytes: u64,
    /// Leaf ↔ spine (or pod switch).
    pub leaf_uplink_bytes: u64,
    /// Spine ↔ core.
    pub spine_bytes: u64,
}

/// Links listed as the hottest.
pub const HOT_LINKS: usize = 5;

impl FlowPricer {
    /// The step's load on the fabric: every collective's link bytes × its uses per step
    /// (`uses_per_step` of each, as one GPU of the critical stage runs them; every group is
    /// assumed to run as many), over a step of `step_ns`.
    pub fn step_links(&self, uses: &[(&[u64], u64)], step_ns: u64) -> LinkReport {
        let mut total = vec![0u64; self.fabric.links.len()];
        for (bytes, count) in uses {
            for (t, b) in total.iter_mut().zip(bytes.iter()) {
                *t = t.saturating_add(b.saturating_mul(*count));
            }
        }
        let scale_out: Vec<u64> = total
            .iter()
            .zip(&self.fabric.links)
            .map(|(&b, l)| if l.class == LinkClass::Nvlink { 0 } else { b })
            .collect();
        let busy_out = scale_out.iter().any(|&b| b > 0);
        let load = LinkLoad { bytes_per_link: total, start_ns: 0, end_ns: step_ns };
        let out = LinkLoad { bytes_per_link: scale_out, ..load.clone() };
        let hottest = if busy_out { &out } else { &load }.hottest(&self.fabric, HOT_LINKS);
        let tiers = load.bytes_per_tier(&self.fabric);
        let gpus = self.fabric.gpu_count();
        LinkReport {
            fabric: self.spec.name.clone(),
            gpus,
            switches: self.fabric.nodes.len() - gpus,
            links: self.fabric.links.len(),
            classes: load.classes(&self.fabric),
            hottest,
            bytes_per_tier: TierBytes {
                nvlink_bytes: tiers[0],
                nic_bytes: tiers[1],
                leaf_uplink_bytes: tiers[2],
                spine_bytes: tiers[3],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_tile_the_job_once() {
        // Ranks 0, 8, 16 (stride 8) over 48 GPUs: 16 groups, every rank in one.
        let groups = translates(&[0, 8, 16], 48);
        assert_eq!(groups.len(), 16);
        assert_eq!(groups[1], vec![1, 9, 17]);
        assert_eq!(groups[8], vec![24, 32, 40]);
        let mut all: Vec<usize> = groups.concat();
        all.sort_unstable();
        assert_eq!(all, (0..48).collect::<Vec<_>>());
    }

    #[test]
    fn a_lone_ring_on_an_idle_fabric_costs_its_steps() {
        // Four GPUs on one ideal-enough NVSwitch domain: an all-gather of 4 MB is 3 steps of
        // 1 MB over the catalog's NVLink 4 link. Its duration must equal 3 × (1 MB / rate +
        // 2 hops of latency), whatever the rate is.
        let spec = FabricSpec::nvswitch(4, "nvlink4-nvswitch");
        let pricer = FlowPricer::new(spec, 4, "t").unwrap();
        let link = &pricer.fabric.links[0];
        let rate = pricer.fabric.usable_bytes_per_ns(0);
        let step_ns = (1e6 / rate).ceil() as u64 + 2 * link.latency_ns;
        let t = pricer.time(CollectiveOp::AllGather, &[0, 1, 2, 3], &[4], 4_000_000, "t").unwrap();
        assert_eq!(t.groups, 1);
        assert_eq!(t.slowdown(), 1.0);
        let got_ns = (t.time_s * 1e9).round() as u64;
        assert!(got_ns.abs_diff(3 * step_ns) <= 3, "{got_ns} vs {}", 3 * step_ns);
        // Bytes on links: 3 steps × 4 ranks × 1 MB, each over 2 hops (GPU → switch → GPU).
        assert_eq!(t.link_bytes.iter().sum::<u64>(), 3 * 4 * 1_000_000 * 2);
    }
}
