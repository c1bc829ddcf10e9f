//! One training step of a pipeline of transformer layers, as an execution graph.
//!
//! Per stage and model chunk, each pass expands into one task per layer on the compute stream,
//! each followed by the exposed part of that layer's tensor-parallel collectives (on the compute
//! stream) while the overlapped part runs beside the layer on a TP stream. A forward pass ends with a send of its activations on
//! the pipeline stream; the next virtual stage's pass waits for it (backward: the reverse).
//! The exposed part of a layer's context-parallel exchange runs on the CP stream after the layer,
//! a MoE layer's all-to-alls on the EP stream after that. In per-rank mode every collective is a
//! rendezvous of the ranks its [`RankLayout`] group id names (TP, CP, EP, data, expert data).
//! Data-parallel gradient reduction runs per layer on the DP stream once the layer's last backward
//! is done (or after the whole backward without overlap); the optimizer follows; with ZeRO-1 the
//! updated parameters are all-gathered (at the start of the step, beside the forward, when that
//! is overlapped, as Megatron does with the next step's forward). With ZeRO-3 each pass gathers
//! every layer's parameters one layer ahead of its computation (a gather may start once the
//! layer two back is done, so two layers are whole at once) and, with sharded gradients, each
//! backward reduce-scatters every layer's gradients as soon as it is done.

use crate::dualpipe::{dualpipe_model_stage, dualpipe_orders_timed, dualpipe_pass_times};
use crate::ranks::{RankGroups, RankLayout};
use crate::schedule::{stage_orders, Pass, Schedule};
use astrolabe_engine::{Category, Graph, StreamId, Task, TaskId};
use std::collections::BTreeMap;
use std::ops::Range;

/// Structure of the step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepShape {
    /// Pipeline stages.
    pub stages: usize,
    /// Model chunks per stage (1 = no interleaving).
    pub chunks: usize,
    /// Transformer layers on each virtual stage, indexed by virtual stage `chunk·stages + stage`.
    /// Layers are numbered over the whole model in virtual-stage order: virtual stage `k` holds
    /// layers `sum(layers_per_vstage[..k]) ..` (the prefix sums), so uneven layouts (fewer layers
    /// on the first and last stages, as Megatron-Core's `--decoder-first-pipeline-num-layers`)
    /// need nothing more. Callers guarantee `stages·chunks` entries, each at least 1 (the memory
    /// crate's `MemoryInputs::layers_per_virtual_stage` returns such a layout);
    /// [`build_step`] only debug-asserts it. With [`Schedule::DualPipe`] (`chunks` = 2) there
    /// are `stages` entries, one per model stage: chunk 0 of stage `s` runs model stage `s`,
    /// chunk 1 model stage `stages − 1 − s`, the same layers as chunk 0 of that stage (a copy).
    pub layers_per_vstage: Vec<usize>,
    /// Micro-batches per step per data-parallel replica.
    pub micro_batches: usize,
    /// The schedule.
    pub schedule: Schedule,
    /// Reduce each layer's gradients as soon as its last backward is done.
    pub overlap_grad_reduce: bool,
    /// ZeRO-1: gather updated parameters; overlapped with the forward when true.
    pub param_gather: Option<bool>,
    /// ZeRO-3 / FSDP: gather each layer's parameters before its forward in every micro-batch
    /// (one layer ahead of the computation; [`StepCosts::gather_layer_ns`] each).
    pub gather_every_pass: bool,
    /// ZeRO-3 with resharding after the forward: gather again before each layer's backward.
    pub regather_for_backward: bool,
    /// ZeRO-2 and 3: reduce-scatter each layer's gradients after its backward in every
    /// micro-batch ([`StepCosts::dp_micro_ns`]), the gradients being sharded.
    pub reduce_every_micro_batch: bool,
    /// Context parallelism: every layer pass has its CP task, even when the attention hides the
    /// whole exchange (0 ns), so that the CP group meets and an export carries every exchange.
    pub context_exchanges: bool,
}

impl StepShape {
    /// Virtual stages: `stages · chunks`, or `stages` with DualPipe (both directions run the
    /// same model stages).
    pub fn vstages(&self) -> usize {
        if self.schedule == Schedule::DualPipe {
            self.stages
        } else {
            self.stages * self.chunks
        }
    }

    /// The virtual stage (index into `layers_per_vstage`) that `chunk` of `stage` runs.
    pub fn vstage(&self, stage: usize, chunk: usize) -> usize {
        if self.schedule == Schedule::DualPipe {
            dualpipe_model_stage(stage, chunk, self.stages)
        } else {
            chunk * self.stages + stage
        }
    }

    /// The (stage, chunk) that runs virtual stage `vstage` for passes of chunk (direction)
    /// `chunk`; the inverse of [`StepShape::vstage`].
    pub fn place_of(&self, vstage: usize, chunk: usize) -> (usize, usize) {
        if self.schedule == Schedule::DualPipe {
            (dualpipe_model_stage(vstage, chunk, self.stages), chunk)
        } else {
            (vstage % self.stages, vstage / self.stages)
        }
    }
}

/// Durations, in nanoseconds, of the step's pieces on one rank.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepCosts {
    /// Forward of one layer for one micro-batch.
    pub layer_fwd_ns: u64,
    /// Backward of one layer (with any recomputation).
    pub layer_bwd_ns: u64,
    /// The weight-gradient part of one layer's backward (its weight GEMMs): a pass of its own
    /// under the zero-bubble schedule, taken out of the backward; unused otherwise.
    pub layer_wgrad_ns: u64,
    /// Tensor-parallel communication of one layer's forward that the layer waits for (run on
    /// the compute stream after it).
    pub tp_fwd_ns: u64,
    /// Same for the layer's backward.
    pub tp_bwd_ns: u64,
    /// Tensor-parallel communication of one layer's forward that runs beside it, on the TP
    /// stream (the overlapped share); the next layer waits for both.
    pub tp_fwd_beside_ns: u64,
    /// Same for the layer's backward.
    pub tp_bwd_beside_ns: u64,
    /// Extra forward work on the first stage (embedding) per micro-batch.
    pub first_fwd_ns: u64,
    /// Extra forward work on the last stage (logits, loss) per micro-batch.
    pub last_fwd_ns: u64,
    /// Extra backward work on the last stage per micro-batch.
    pub last_bwd_ns: u64,
    /// Sending one micro-batch's activations (or gradients) to the neighbour stage.
    pub p2p_ns: u64,
    /// Context-parallel communication of one layer's forward not hidden behind its attention
    /// (run on the CP stream after the layer; the next layer waits for it).
    pub cp_fwd_ns: u64,
    /// Same for the layer's backward.
    pub cp_bwd_ns: u64,
    /// Data-parallel reduction of one layer's gradients, once per step.
    pub dp_layer_ns: u64,
    /// Reduce-scatter of one layer's gradients after each of its backward passes (ZeRO-2/3).
    pub dp_micro_ns: u64,
    /// DualPipe: summing one layer's gradients (the shard left by the data-parallel reduction)
    /// with those of its copy on the mirror stage `p − 1 − s`, once per step; unused otherwise.
    pub dual_grad_layer_ns: u64,
    /// Data-parallel reduction of the embedding or output layer's gradients (first/last stage).
    pub dp_extra_ns: u64,
    /// All-gather of one layer's parameters (once per step with ZeRO-1/2, before each pass with
    /// ZeRO-3).
    pub gather_layer_ns: u64,
    /// Optimizer step of one stage.
    pub optimizer_ns: u64,
    /// Mixture of experts: what differs on the layers with routed experts.
    pub moe: Option<MoeCosts>,
    /// Offload to a memory tier: the transfers on the rank's memory stream.
    pub memory: Option<MemoryCosts>,
}

/// Transfers between a rank's HBM and a memory tier (offload), on the rank's memory stream
/// (`…/mem`); zero where nothing of that kind is offloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryCosts {
    /// Writing one layer's activations of one micro-batch to the tier, after its forward
    /// (beside the next layers).
    pub act_store_ns: u64,
    /// Reading them back for the layer's backward, which waits for it; issued once the
    /// backward two layers earlier is done (one layer of prefetch).
    pub act_load_ns: u64,
    /// Moving one layer's gradients of one micro-batch down after its backward.
    pub grad_store_ns: u64,
    /// Reading the offloaded optimizer state before a GPU optimizer step.
    pub state_load_ns: u64,
    /// After the optimizer step: writing the state back (GPU step) or bringing the updated
    /// weights up (CPU step).
    pub state_store_ns: u64,
    /// The optimizer step run on the CPU instead of the GPU, if it is.
    pub cpu_optimizer_ns: Option<u64>,
}

/// The costs of a layer with routed experts, which replace the dense layer's from
/// `first_layer` (a global layer index) on.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MoeCosts {
    /// First layer with experts (the leading layers stay dense).
    pub first_layer: usize,
    /// Forward of one MoE layer for one micro-batch.
    pub layer_fwd_ns: u64,
    /// Backward of one MoE layer.
    pub layer_bwd_ns: u64,
    /// The weight-gradient part of one MoE layer's backward (its dense and expert weight
    /// GEMMs): its W pass under the zero-bubble and DualPipe schedules, taken out of its B.
    pub layer_wgrad_ns: u64,
    /// Expert-parallel token dispatch and combine of one forward (all-to-alls on the EP
    /// stream, after the layer's computation; the next layer waits for them).
    pub ep_fwd_ns: u64,
    /// Same for the backward.
    pub ep_bwd_ns: u64,
    /// Gradient reduction of one MoE layer: its dense part over the data-parallel ranks and its
    /// experts over the expert-data-parallel ranks. Once per step, or 0 under ZeRO-2/3.
    pub dp_layer_ns: u64,
    /// The same reduction per micro-batch under ZeRO-2/3 (a reduce-scatter after each of the
    /// layer's backwards); 0 otherwise.
    pub dp_micro_ns: u64,
    /// The dense part's share of `dp_layer_ns` (the rest is the experts'), for per-rank mode
    /// with expert parallelism, where the two parts are collectives of different groups; only
    /// read there.
    pub dp_dense_ns: u64,
    /// Parameter gather of one MoE layer (distributed optimizer).
    pub gather_layer_ns: u64,
    /// The dense part's share of `gather_layer_ns`, as `dp_dense_ns`.
    pub gather_dense_ns: u64,
    /// DualPipe: summing one MoE layer's gradients (dense part and the rank's experts) with
    /// those of its copy on the mirror stage, once per step; unused otherwise.
    pub dual_grad_layer_ns: u64,
}

impl StepCosts {
    fn moe_at(&self, layer: usize) -> Option<&MoeCosts> {
        self.moe.as_ref().filter(|m| layer >= m.first_layer)
    }

    /// Compute of global layer `layer` in one forward (`fwd`) or backward pass.
    pub fn layer_ns(&self, layer: usize, fwd: bool) -> u64 {
        match (self.moe_at(layer), fwd) {
            (Some(m), true) => m.layer_fwd_ns,
            (Some(m), false) => m.layer_bwd_ns,
            (None, true) => self.layer_fwd_ns,
            (None, false) => self.layer_bwd_ns,
        }
    }

    /// The weight-gradient part of layer `layer`'s backward (zero bubble and DualPipe's W pass).
    pub fn wgrad_ns(&self, layer: usize) -> u64 {
        self.moe_at(layer).map_or(self.layer_wgrad_ns, |m| m.layer_wgrad_ns)
    }

    /// DualPipe: the once-per-step gradient sum of layer `layer` with its mirror copy.
    pub fn mirror_ns(&self, layer: usize) -> u64 {
        self.moe_at(layer).map_or(self.dual_grad_layer_ns, |m| m.dual_grad_layer_ns)
    }

    /// Expert-parallel all-to-alls of layer `layer` in one pass (0 for a dense layer).
    pub fn ep_ns(&self, layer: usize, fwd: bool) -> u64 {
        self.moe_at(layer).map_or(0, |m| if fwd { m.ep_fwd_ns } else { m.ep_bwd_ns })
    }

    /// Once-per-step gradient reduction of layer `layer`.
    pub fn dp_ns(&self, layer: usize) -> u64 {
        self.moe_at(layer).map_or(self.dp_layer_ns, |m| m.dp_layer_ns)
    }

    /// Per-micro-batch gradient reduce-scatter of layer `layer` (ZeRO-2/3).
    pub fn dp_micro_ns_of(&self, layer: usize) -> u64 {
        self.moe_at(layer).map_or(self.dp_micro_ns, |m| m.dp_micro_ns)
    }

    /// Parameter gather of layer `layer`.
    pub fn gather_ns(&self, layer: usize) -> u64 {
        self.moe_at(layer).map_or(self.gather_layer_ns, |m| m.gather_layer_ns)
    }

    /// Whether layer `layer` has routed experts.
    pub fn is_moe(&self, layer: usize) -> bool {
        self.moe_at(layer).is_some()
    }

    /// [`StepCosts::dp_ns`] split into the dense part and the experts' (0 for a dense layer).
    pub fn dp_parts_ns(&self, layer: usize) -> (u64, u64) {
        self.moe_at(layer).map_or((self.dp_layer_ns, 0), |m| split(m.dp_layer_ns, m.dp_dense_ns))
    }

    /// [`StepCosts::gather_ns`] split into the dense part and the experts'.
    pub fn gather_parts_ns(&self, layer: usize) -> (u64, u64) {
        let whole = |m: &MoeCosts| split(m.gather_layer_ns, m.gather_dense_ns);
        self.moe_at(layer).map_or((self.gather_layer_ns, 0), whole)
    }
}

/// `(dense, whole − dense)`, the dense part at most the whole.
fn split(whole: u64, dense: u64) -> (u64, u64) {
    let dense = dense.min(whole);
    (dense, whole - dense)
}

/// Whether to simulate one rank per stage or every rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankMode<'a> {
    /// One representative rank per stage; collectives costed for their whole group.
    Representative,
    /// Every rank of `layout` on every stage, collectives as rendezvous of their members.
    PerRank(&'a RankLayout),
}

/// The graph with the compute stream of each simulated rank, by stage.
#[derive(Debug, Clone)]
pub struct StepGraph {
    /// The graph.
    pub graph: Graph,
    /// Compute stream of every simulated rank, grouped by stage.
    pub compute_streams: Vec<Vec<StreamId>>,
    /// The rank owning each stream: its stage and its index in the stage's layout.
    pub stream_ranks: Vec<(usize, usize)>,
}

struct Rank {
    compute: StreamId,
    tp: StreamId,
    cp: StreamId,
    ep: StreamId,
    dp: StreamId,
    pp: StreamId,
    mem: StreamId,
    groups: RankGroups,
}

struct Builder<'a> {
    shape: &'a StepShape,
    layout: &'a RankLayout,
    costs: &'a StepCosts,
    g: Graph,
    rendezvous: BTreeMap<String, usize>,
    /// First global layer of each virtual stage, then the total: prefix sums of the layout.
    layer_start: Vec<usize>,
}

/// Builds the step graph for `shape` with durations `costs`.
pub fn build_step(shape: &StepShape, costs: &StepCosts, mode: RankMode) -> StepGraph {
    let one = RankLayout::representative();
    let layout = match mode {
        RankMode::Representative => &one,
        RankMode::PerRank(layout) => layout,
    };
    let layer_start = layer_starts(shape);
    let mut b = Builder {
        shape,
        layout,
        costs,
        g: Graph::default(),
        rendezvous: BTreeMap::new(),
        layer_start,
    };
    let mut ranks = Vec::new();
    for s in 0..shape.stages {
        let mut stage = Vec::new();
        for r in layout.ranks() {
            let name = format!("stage{s}/{}", r.name);
            let mut stream = |kind: &str| b.g.add_stream(format!("{name}/{kind}"));
            stage.push(Rank {
                compute: stream("compute"),
                tp: stream("tp"),
                cp: stream("cp"),
                ep: stream("ep"),
                dp: stream("dp"),
                pp: stream("pp"),
                mem: stream("mem"),
                groups: r.groups,
            });
        }
        ranks.push(stage);
    }
    let mut stream_ranks = vec![(0, 0); b.g.streams.len()];
    for (s, stage) in ranks.iter().enumerate() {
        for (i, r) in stage.iter().enumerate() {
            for id in [r.compute, r.tp, r.cp, r.ep, r.dp, r.pp, r.mem] {
                stream_ranks[id] = (s, i);
            }
        }
    }
    // (stage, rank index, chunk, micro-batch, forward) → the send task, for the receiver.
    let mut sends: BTreeMap<(usize, usize, usize, usize, bool), TaskId> = BTreeMap::new();
    let orders = orders(shape, costs, &b.layer_start);
    // Build in rounds so that every send exists before its receiver needs it: keep a cursor per
    // stage and advance whichever stage can place its next pass.
    let mut cursor = vec![0usize; shape.stages];
    let mut per_rank_state: Vec<Vec<RankState>> =
        ranks.iter().map(|st| st.iter().map(|_| RankState::default()).collect()).collect();
    b.start_gathers(&ranks, &mut per_rank_state);
    loop {
        let mut progressed = false;
        for s in 0..shape.stages {
            while let Some(pass) = orders[s].get(cursor[s]).copied() {
                let vstage = shape.vstage(s, pass.chunk);
                let from =
                    if pass.weight { None } else { b.neighbour(vstage, pass.chunk, pass.forward) };
                let key = from.map(|(fs, fc)| (fs, 0, fc, pass.micro_batch, pass.forward));
                if key.is_some_and(|k| !sends.contains_key(&k)) {
                    break;
                }
                for (ri, rank) in ranks[s].iter().enumerate() {
                    let recv = from.and_then(|(fs, fc)| {
                        sends.get(&(fs, ri, fc, pass.micro_batch, pass.forward)).copied()
                    });
                    let st = &mut per_rank_state[s][ri];
                    let send = b.pass(s, rank, pass, recv, st);
                    if let Some(send) = send {
                        sends.insert((s, ri, pass.chunk, pass.micro_batch, pass.forward), send);
                    }
                }
                cursor[s] += 1;
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    b.finish(&ranks, &mut per_rank_state);
    let compute_streams = ranks.iter().map(|st| st.iter().map(|r| r.compute).collect()).collect();
    StepGraph { graph: b.g, compute_streams, stream_ranks }
}

/// The order of passes of every stage; DualPipe's from a greedy run with the passes' own
/// durations (the unit-time orders should that run stall).
fn orders(shape: &StepShape, costs: &StepCosts, layer_start: &[usize]) -> Vec<Vec<Pass>> {
    let (p, m) = (shape.stages, shape.micro_batches);
    let timed = (shape.schedule == Schedule::DualPipe)
        .then(|| dualpipe_orders_timed(p, m, &dualpipe_pass_times(shape, costs, layer_start)))
        .flatten();
    timed.unwrap_or_else(|| stage_orders(shape.schedule, p, shape.chunks, m))
}

/// First global layer of each virtual stage, then the model's total: prefix sums of the layout.
fn layer_starts(shape: &StepShape) -> Vec<usize> {
    let layout = &shape.layers_per_vstage;
    debug_assert_eq!(layout.len(), shape.vstages(), "one entry per virtual stage");
    debug_assert!(layout.iter().all(|&l| l >= 1), "every virtual stage holds a layer");
    let mut starts = Vec::with_capacity(layout.len() + 1);
    starts.push(0);
    for &layers in layout {
        starts.push(starts[starts.len() - 1] + layers);
    }
    starts
}

#[derive(Default)]
struct RankState {
    /// Last backward task of each layer (the last micro-batch's, once all passes are placed).
    last_backward_of_layer: BTreeMap<usize, TaskId>,
    gathers: BTreeMap<usize, TaskId>,
    dp_tasks: Vec<TaskId>,
    /// ZeRO-2/3: the last per-micro-batch reduce-scatter placed, which the optimizer waits for.
    last_micro_reduce: Option<TaskId>,
    /// Activation stores by (micro-batch, layer), for the backward's loads.
    act_stores: BTreeMap<(usize, usize), TaskId>,
    /// Zero bubble: each layer's input-gradient task by (micro-batch, layer), for its W.
    input_grads: BTreeMap<(usize, usize), TaskId>,
    last_compute: Option<TaskId>,
    forward_done: BTreeMap<(usize, usize), TaskId>,
}

impl Builder<'_> {
    /// Global indices of the layers on virtual stage `vstage`, in forward order.
    fn vstage_layers(&self, vstage: usize) -> Range<usize> {
        self.layer_start[vstage]..self.layer_start[vstage + 1]
    }

    /// The (stage, chunk) a pass of `chunk` on virtual stage `vstage` receives from, if any.
    fn neighbour(&self, vstage: usize, chunk: usize, forward: bool) -> Option<(usize, usize)> {
        let last = self.shape.vstages() - 1;
        let from = if forward {
            vstage.checked_sub(1)?
        } else if vstage == last {
            return None;
        } else {
            vstage + 1
        };
        Some(self.shape.place_of(from, chunk))
    }

    /// The rendezvous key of a collective of a group with `members` ranks (`None` for one rank
    /// alone, representative mode included: nothing to meet).
    fn key(members: usize, key: impl FnOnce() -> String) -> Option<String> {
        (members > 1).then(key)
    }

    /// A collective task; `key` (per-rank mode) names the rendezvous its group members share.
    fn collective(
        &mut self,
        key: Option<String>,
        label: String,
        stream: StreamId,
        ns: u64,
        deps: Vec<TaskId>,
        category: Category,
    ) -> TaskId {
        let rendezvous = key.map(|k| {
            let next = self.rendezvous.len();
            *self.rendezvous.entry(k).or_insert(next)
        });
        self.g.add(Task { label, stream, duration_ns: ns, deps, rendezvous, category })
    }
}

#[path = "pipeline_ends.rs"]
mod ends;
#[path = "pipeline_pass.rs"]
mod pass;
