//! A step's work on every rank, in a form another simulator can run: what
//! `astrolabe export-chakra` writes as Chakra traces beside an ASTRA-sim network and system.
//!
//! - Ranks: rank `r` is GPU `r` of the cluster, numbered by [`crate::placement`] (Megatron order),
//!   so its network coordinates are `r` in mixed radix, dimension 0 varying fastest.
//! - Network: each physical dimension is split where the parallel axes split it ([`ExportDim`]),
//!   so every communicator is a product of whole dimensions and a collective names its group by
//!   the dimensions it spans. Bandwidth is what a collective reaches (line rate × efficiency ÷
//!   oversubscription; a fully connected dimension's is shared by its `size − 1` links).
//! - Nodes ([`ExportNode`]): a compute or optimizer task is one compute node with its duration;
//!   a communication task becomes the collectives it was priced from (two all-reduces, or two
//!   all-gathers and two reduce-scatters, per TP task) in a chain, with their operation, size and
//!   communicator ([`Comm`]); a pipeline send is a send on one rank and a receive on the other.
//!   With TP overlap, the serial and the overlapped task each carry their share of the bytes.
//!   Context and expert parallelism, and a MoE layer's gradients: [`groups`].
//! - Order: each rank's nodes follow the start times of Astrolabe's own timeline (ties by task),
//!   a dependency order that every member of a communicator shares.

use crate::costs::{ns, CollectiveUse, Purpose};
use crate::placement::{Axis, Placement};
use crate::rank_layout::{check_experts, check_priced, split_moe, Comm, Ranks};
use crate::run::{check_graph_size, step_inputs, StepInputs};
use crate::scenario::Scenario;
use astrolabe_collective::CollectiveOp;
use astrolabe_core::InputError;
use astrolabe_engine::{run, Category, TaskId};
use astrolabe_network::{DimensionKind, Topology};
use astrolabe_workload::{build_step, RankMode, StepCosts, StepGraph, StepShape};
use std::collections::BTreeMap;

/// Most nodes an export may hold over all ranks (about 100 bytes each on disk).
pub const MAX_EXPORT_NODES: u64 = 50_000_000;

/// One dimension of the exported network, innermost first.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportDim {
    /// `<physical dimension>/<axis>`, e.g. `nvlink/tp`.
    pub name: String,
    /// Wiring, that of the physical dimension.
    pub kind: DimensionKind,
    /// Ranks along it (at least 2).
    pub npus: usize,
    /// Bandwidth of one link, in bytes per second.
    pub bandwidth_bytes_per_s: f64,
    /// Latency of one hop, in ns.
    pub latency_ns: f64,
    /// The parallel axis whose communicators span it.
    pub axis: Axis,
}

/// What one node does.
#[derive(Debug, Clone, PartialEq)]
pub enum Work {
    /// Computation of a known duration.
    Compute {
        /// Duration, in ns.
        duration_ns: u64,
    },
    /// A collective over the rank's communicator `comm` (`members` ranks).
    Collective {
        /// The operation.
        op: CollectiveOp,
        /// Buffer per rank, nccl-tests' convention (all-gather: the output).
        size_bytes: u64,
        /// The communicator.
        comm: Comm,
        /// Ranks in the communicator.
        members: usize,
    },
    /// A message to rank `dst`.
    Send {
        /// Receiving rank.
        dst: usize,
        /// Tag shared with the receive.
        tag: u64,
        /// Message size, in bytes.
        size_bytes: u64,
    },
    /// The receipt of a message from rank `src`.
    Recv {
        /// Sending rank.
        src: usize,
        /// Tag shared with the send.
        tag: u64,
        /// Message size, in bytes.
        size_bytes: u64,
    },
}

impl Work {
    /// ASTRA-sim's `comm_size` of a collective: the whole buffer, except for all-gather, where
    /// it is each rank's input (the output divided by the group).
    pub fn astra_comm_size_bytes(&self) -> Option<u64> {
        match *self {
            Work::Collective { op: CollectiveOp::AllGather, size_bytes, members, .. } => {
                Some((size_bytes / members.max(1) as u64).max(1))
            }
            Work::Collective { size_bytes, .. } => Some(size_bytes),
            _ => None,
        }
    }
}

/// One node of a rank's trace; `deps` index earlier nodes of the same rank.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportNode {
    /// The step graph's label (with `#k` for the k-th collective of a task).
    pub name: String,
    /// What it does.
    pub work: Work,
    /// Nodes of the same rank that must finish first.
    pub deps: Vec<usize>,
}

/// The step of a scenario, built for every rank, ready to be written rank by rank.
#[derive(Debug)]
pub struct Export {
    /// Ranks (GPUs) of the job.
    pub ranks: usize,
    /// The network, split along the parallel axes.
    pub dims: Vec<ExportDim>,
    /// Astrolabe's step graph makespan, in ns (the step time without the fixed overhead).
    pub graph_ns: u64,
    /// Astrolabe's step time, in ns.
    pub step_ns: u64,
    /// Memory bandwidth of one GPU, in bytes per second.
    pub hbm_bytes_per_s: f64,
    /// Dense peak of one GPU at the plan's precision, in FLOP/s.
    pub peak_flop_per_s: f64,
    /// The priced collectives the communication tasks expand into.
    pub collectives: Vec<CollectiveUse>,
    costs: StepCosts,
    step: StepGraph,
    layout: Ranks,
    /// The dimensions each communicator spans.
    involved: BTreeMap<Comm, Vec<bool>>,
    /// Each rank's tasks in file order.
    order: Vec<Vec<TaskId>>,
    rank_of_stream: Vec<usize>,
    /// Receiving rank of each send task.
    receiver: BTreeMap<TaskId, usize>,
}

/// Builds the per-rank step of `scenario`; refuses one above [`MAX_EXPORT_NODES`] nodes.
pub fn export(scenario: &Scenario) -> Result<Export, InputError> {
    let (plan, cluster, origin) = (&scenario.plan, &scenario.cluster, scenario.name.as_str());
    let StepInputs { mut priced, shape, .. } = step_inputs(scenario)?;
    groups::check_plan(plan, origin)?;
    if scenario.offload.is_some() {
        let expected = "a scenario without [offload] (memory-tier transfers are not exported yet)";
        return Err(InputError::new(origin, "offload", expected));
    }
    if plan.schedule == astrolabe_memory::Schedule::DualPipe {
        let expected = "a schedule other than dualpipe: its gradient sum between mirror stages \
                        s and pp − 1 − s is no communicator of the exported network (not \
                        exported yet)";
        return Err(InputError::new(origin, "plan.schedule", expected));
    }
    check_experts(plan, &scenario.model, origin)?;
    let ranks = Ranks::of(plan);
    check_priced(&ranks, &priced.collectives, origin)?;
    split_moe(&ranks, &priced.collectives, &mut priced.costs);
    let mode = RankMode::PerRank(&ranks.layout);
    check_graph_size(&shape, mode, origin)?;
    let per_stage = ranks.layout.ranks().len() as u64;
    check_nodes(&shape, &priced.collectives, per_stage, origin)?;
    let dims = split_network(&cluster.topology, &plan.placement, &ranks.placement, origin)?;
    let involved = groups::involved(&dims, &ranks, origin)?;
    let step = build_step(&shape, &priced.costs, mode);
    let timeline = run(&step.graph).map_err(|e| {
        InputError::new(origin, "plan", format!("a step graph that runs to completion ({e})"))
    })?;
    let rank_of_stream: Vec<usize> =
        step.stream_ranks.iter().map(|&(s, i)| ranks.rank(s, i)).collect();
    let mut order: Vec<Vec<TaskId>> = vec![Vec::new(); plan.gpus() as usize];
    let mut receiver = BTreeMap::new();
    for (id, task) in step.graph.tasks.iter().enumerate() {
        let rank = rank_of_stream[task.stream];
        order[rank].push(id);
        for &d in &task.deps {
            if rank_of_stream[step.graph.tasks[d].stream] != rank {
                receiver.insert(d, rank);
            }
        }
    }
    let start = |t: TaskId| (timeline.spans[t].start.0, t);
    order.iter_mut().for_each(|tasks| tasks.sort_unstable_by_key(|&t| start(t)));
    let graph_ns = timeline.makespan.0;
    Ok(Export {
        ranks: plan.gpus() as usize,
        dims,
        graph_ns,
        step_ns: graph_ns + ns(scenario.compute.step_overhead_s),
        hbm_bytes_per_s: cluster.gpu.hbm_bandwidth.bytes_per_s,
        peak_flop_per_s: cluster.gpu.peak(plan.precision)?.flop_per_s,
        collectives: priced.collectives,
        costs: priced.costs,
        step,
        layout: ranks,
        involved,
        order,
        rank_of_stream,
        receiver,
    })
}

/// Refuses an export whose node count, estimated from the shape before anything is built,
/// exceeds [`MAX_EXPORT_NODES`].
fn check_nodes(
    shape: &StepShape,
    uses: &[CollectiveUse],
    ranks_per_stage: u64,
    origin: &str,
) -> Result<(), InputError> {
    let tp_nodes: u64 = uses
        .iter()
        .filter(|u| matches!(u.purpose, Purpose::TpForward | Purpose::TpBackward))
        .map(|u| u64::from(u.repeats))
        .sum();
    let layers: u64 = shape.layers_per_vstage.iter().map(|&l| l as u64).sum();
    let nodes = (shape.micro_batches as u64)
        .saturating_mul(layers)
        .saturating_mul(2 + tp_nodes + groups::layer_nodes(uses))
        .saturating_mul(ranks_per_stage);
    if nodes > MAX_EXPORT_NODES {
        let expected = format!(
            "an export of at most {MAX_EXPORT_NODES} trace nodes over all ranks; this step needs \
             about {nodes} (fewer GPUs, layers or micro-batches per step)"
        );
        return Err(InputError::new(origin, "plan.global_batch", expected));
    }
    Ok(())
}

/// The physical dimensions split where the parallel axes (`order`, innermost first, sizes from
/// `placement`) split them.
pub fn split_network(
    topology: &Topology,
    order: &[Axis],
    placement: &Placement,
    origin: &str,
) -> Result<Vec<ExportDim>, InputError> {
    let mut axes = order.iter().map(|&a| (a, placement.size(a))).filter(|&(_, n)| n > 1);
    let mut phys = topology.dims().iter().filter(|d| d.size > 1);
    let (mut axis, mut dim) = (axes.next(), phys.next());
    let (mut axis_left, mut dim_left) = (axis.map_or(1, |a| a.1), dim.map_or(1, |d| d.size));
    let mut out = Vec::new();
    while let (Some((a, _)), Some(d)) = (axis, dim) {
        let npus = if axis_left % dim_left == 0 {
            dim_left
        } else if dim_left % axis_left == 0 {
            axis_left
        } else {
            let expected = format!(
                "parallel sizes that split each network dimension evenly: {a:?} has {axis_left} \
                 ranks left where dimension `{}` has {dim_left}",
                d.name
            );
            return Err(InputError::new(origin, "plan.placement", expected));
        };
        let links = if d.kind == DimensionKind::FullyConnected { d.size - 1 } else { 1 };
        out.push(ExportDim {
            name: format!("{}/{}", d.name, axis_name(a)),
            kind: d.kind,
            npus,
            bandwidth_bytes_per_s: d.achievable_bandwidth().bytes_per_s / links as f64,
            latency_ns: d.latency_ns,
            axis: a,
        });
        (axis_left, dim_left) = (axis_left / npus, dim_left / npus);
        if axis_left == 1 {
            axis = axes.next();
            axis_left = axis.map_or(1, |a| a.1);
        }
        if dim_left == 1 {
            dim = phys.next();
            dim_left = dim.map_or(1, |d| d.size);
        }
    }
    if out.is_empty() {
        return Err(InputError::new(origin, "plan", "at least 2 GPUs to export"));
    }
    Ok(out)
}

/// `tp`, `dp` or `pp`.
fn axis_name(axis: Axis) -> String {
    format!("{axis:?}").to_lowercase()
}

impl Export {
    /// Every node of `rank`, in file order.
    pub fn rank_nodes(&self, rank: usize) -> Result<Vec<ExportNode>, InputError> {
        let g = &self.step.graph;
        let mut nodes: Vec<ExportNode> = Vec::new();
        let mut last: BTreeMap<TaskId, usize> = BTreeMap::new();
        for &t in self.order.get(rank).map_or(&[][..], Vec::as_slice) {
            let task = &g.tasks[t];
            let mut deps = Vec::with_capacity(task.deps.len());
            for &d in &task.deps {
                if let Some(&n) = last.get(&d) {
                    deps.push(n);
                    continue;
                }
                let src = self.rank_of_stream[g.tasks[d].stream];
                let work = Work::Recv { src, tag: d as u64, size_bytes: self.send_bytes() };
                let name = format!("{} recv", g.tasks[d].label);
                nodes.push(ExportNode { name, work, deps: Vec::new() });
                last.insert(d, nodes.len() - 1);
                deps.push(nodes.len() - 1);
            }
            deps.sort_unstable();
            deps.dedup();
            let works = self.works(t)?;
            let many = works.len() > 1;
            for (k, work) in works.into_iter().enumerate() {
                let name = if many { format!("{} #{k}", task.label) } else { task.label.clone() };
                nodes.push(ExportNode { name, work, deps: std::mem::take(&mut deps) });
                deps.push(nodes.len() - 1);
            }
            last.insert(t, nodes.len() - 1);
        }
        Ok(nodes)
    }

    /// Tasks of `rank` in the step graph.
    pub fn rank_tasks(&self, rank: usize) -> usize {
        self.order.get(rank).map_or(0, Vec::len)
    }

    /// The dimensions a collective of `comm` spans, one flag per exported dimension.
    pub fn involved_dims(&self, comm: Comm) -> Vec<bool> {
        self.involved.get(&comm).cloned().unwrap_or_else(|| vec![false; self.dims.len()])
    }

    fn send_bytes(&self) -> u64 {
        self.uses(Purpose::PpSend).next().map_or(0, |u| u.result.size_bytes)
    }

    fn uses(&self, purpose: Purpose) -> impl Iterator<Item = &CollectiveUse> {
        self.collectives.iter().filter(move |u| u.purpose == purpose)
    }

    /// The nodes one task becomes.
    fn works(&self, t: TaskId) -> Result<Vec<Work>, InputError> {
        let task = &self.step.graph.tasks[t];
        let fail = || {
            let expected = format!("a task export knows, found `{}`", task.label);
            InputError::new("step graph", "task", expected)
        };
        let works = match task.category {
            Category::Compute | Category::Optimizer => {
                return Ok(vec![Work::Compute { duration_ns: task.duration_ns }])
            }
            Category::PpComm => {
                let dst = *self.receiver.get(&t).ok_or_else(fail)?;
                let size_bytes = self.send_bytes();
                return Ok(vec![Work::Send { dst, tag: t as u64, size_bytes }]);
            }
            Category::TpComm => {
                let (purpose, share) = self.tp_purpose(&task.label).ok_or_else(fail)?;
                self.collectives(self.uses(purpose), share, Comm::Tp)
            }
            Category::DpComm | Category::CpComm | Category::EpComm => {
                self.comm_works(t).ok_or_else(fail)?
            }
        };
        if works.is_empty() {
            return Err(fail());
        }
        Ok(works)
    }

    /// `uses` as collective nodes over `comm`, each repeated as priced and carrying `share` of
    /// its bytes.
    fn collectives<'a>(
        &self,
        uses: impl Iterator<Item = &'a CollectiveUse>,
        share: f64,
        comm: Comm,
    ) -> Vec<Work> {
        let members = self.layout.members(0, comm).len();
        uses.flat_map(|u| (0..u.repeats).map(move |_| u))
            .map(|u| Work::Collective {
                op: u.result.op,
                size_bytes: ((u.result.size_bytes as f64 * share).round() as u64).max(1),
                comm,
                members,
            })
            .collect()
    }

    /// Purpose and share of the bytes of a TP task (`… tp` runs after the layer, `… tp beside`
    /// beside it).
    fn tp_purpose(&self, label: &str) -> Option<(Purpose, f64)> {
        let c = &self.costs;
        let (purpose, serial, beside) = if label.contains(" F ") {
            (Purpose::TpForward, c.tp_fwd_ns, c.tp_fwd_beside_ns)
        } else if label.contains(" B ") {
            (Purpose::TpBackward, c.tp_bwd_ns, c.tp_bwd_beside_ns)
        } else {
            return None;
        };
        let total = (serial + beside).max(1) as f64;
        let share = if label.ends_with(" beside") { beside } else { serial } as f64 / total;
        Some((purpose, share))
    }
}

#[path = "export_groups.rs"]
pub mod groups;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{no_cluster_files, parse_scenario, simulate, Mode};

    /// A small job: 8 GPUs, TP2 PP2 DP2 with the distributed optimizer.
    const TINY: &str = r#"
        name = "tiny"
        [model]
        preset = "llama3-8b"
        layers = 4
        seq_len = 1024
        [cluster]
        preset = "dgx-h100-basepod"
        nodes = 1
        [plan]
        tp = 2
        pp = 2
        global_batch = 8
        zero_stage = 1
    "#;

    fn tiny() -> Export {
        let sc = parse_scenario(TINY, "tiny.toml", &no_cluster_files).unwrap();
        export(&sc).unwrap()
    }

    #[test]
    fn the_node_splits_into_one_dimension_per_axis() {
        let e = tiny();
        let sizes: Vec<(usize, Axis)> = e.dims.iter().map(|d| (d.npus, d.axis)).collect();
        assert_eq!(sizes, vec![(2, Axis::Tp), (2, Axis::Dp), (2, Axis::Pp)]);
        assert_eq!(e.involved_dims(Comm::Data), vec![false, true, false]);
    }

    #[test]
    fn every_task_is_a_node_and_sends_pair_with_receives() {
        let e = tiny();
        let (mut sends, mut recvs) = (Vec::new(), Vec::new());
        for r in 0..e.ranks {
            let nodes = e.rank_nodes(r).unwrap();
            let extra = nodes.iter().filter(|n| matches!(n.work, Work::Recv { .. })).count();
            let colls = nodes.iter().filter(|n| n.name.contains(" #")).count();
            // Each TP task expands to 4 collectives (2 all-gathers, 2 reduce-scatters).
            assert_eq!(nodes.len(), e.rank_tasks(r) + extra + colls * 3 / 4, "rank {r}");
            for (i, n) in nodes.iter().enumerate() {
                assert!(n.deps.iter().all(|&d| d < i), "deps point backwards");
                match n.work {
                    Work::Send { dst, tag, .. } => sends.push((r, dst, tag)),
                    Work::Recv { src, tag, .. } => recvs.push((src, r, tag)),
                    _ => {}
                }
            }
        }
        sends.sort_unstable();
        recvs.sort_unstable();
        assert!(!sends.is_empty());
        assert_eq!(sends, recvs);
    }

    #[test]
    fn step_time_is_that_of_simulate() {
        let sc = parse_scenario(TINY, "tiny.toml", &no_cluster_files).unwrap();
        let e = export(&sc).unwrap();
        let report = simulate(&sc, Mode::PerRank).unwrap();
        assert_eq!(e.step_ns as f64 * 1e-9, report.step_time_s);
    }

    #[test]
    fn all_gather_size_is_per_rank_input_for_astra() {
        let w = Work::Collective {
            op: CollectiveOp::AllGather,
            size_bytes: 800,
            comm: Comm::Data,
            members: 4,
        };
        assert_eq!(w.astra_comm_size_bytes(), Some(200));
    }

    #[test]
    fn uneven_splits_are_refused() {
        let topo = astrolabe_hardware::cluster::find_preset("dgx-h100-basepod", "t")
            .and_then(|p| p.build(Some(2)))
            .unwrap()
            .topology;
        let order = [Axis::Pp, Axis::Tp, Axis::Dp];
        let err = split_network(&topo, &order, &Placement::new(&order, 2, 1, 3), "t").unwrap_err();
        assert_eq!(err.field, "plan.placement");
        let order = [Axis::Tp, Axis::Dp, Axis::Pp];
        let dims = split_network(&topo, &order, &Placement::new(&order, 4, 4, 1), "t").unwrap();
        let sizes: Vec<usize> = dims.iter().map(|d| d.npus).collect();
        assert_eq!(sizes, vec![4, 2, 2]);
    }
}
