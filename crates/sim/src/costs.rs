//! Prices every piece of one step on one GPU: layer compute from the compute model, every
//! communicator's collectives from the collective model on the groups [`crate::placement`]
//! gives, and the optimizer.
//!
//! Per layer and micro-batch (Megatron-LM, Shoeybi et al. 2019; Korthikanti et al. 2022):
//! - forward: the layer's operations on one TP rank ([`astrolabe_model::layer_forward_ops`]);
//!   with a fused (flash) attention kernel the `seq²` softmax and dropout passes are dropped;
//! - backward: twice the forward (data and weight gradients), plus half the attention core again
//!   with flash attention (its backward recomputes the scores: 5 matrix products against 2), plus
//!   the recomputation: the whole forward (full) or the attention core (selective, without flash);
//! - TP: two all-reduces of the layer's `b·s·h` bf16 output per direction, or with sequence
//!   parallelism two all-gathers and two reduce-scatters of the same buffer; full recomputation
//!   repeats the forward's in the backward;
//! - PP: one send of `b·s·h` bf16 (divided by `tp` with sequence parallelism) per micro-batch;
//! - CP: the keys and values of each rank's share of the sequence, exchanged around the ring
//!   or all-gathered ([`crate::context`]);
//! - DP: each layer's gradients (`grad_bytes_per_param` per parameter on the TP rank) all-reduced
//!   over the `dp·cp` ranks holding the same parameters, or reduce-scattered with the
//!   distributed optimizer (after every micro-batch from ZeRO-2 on), whose updated bf16
//!   parameters are then all-gathered; with ZeRO-3 the bf16 parameters are gathered before every
//!   layer's forward and (resharding) backward instead (Rajbhandari et al. 2020 §7: 3Ψ moved per
//!   step against 2Ψ for an all-reduce). Hybrid sharding reduces and gathers inside the shard
//!   group and all-reduces each shard's gradients across the groups once per step;
//! - DualPipe: each layer's gradients (after the DP reduction, the rank's shard of them)
//!   all-reduced with the layer's copy on the mirror stage, once per step; for a MoE layer its
//!   dense part (shard over the shard group) and its experts (shard over the expert-data-
//!   parallel ranks) in one all-reduce;
//! - EP (MoE layers, [`crate::moe`]): two all-to-alls of the rank's routed token copies per
//!   pass, exposed; the layer's dense part reduced like a dense layer, its routed experts over
//!   the `dp/ep · cp` ranks holding the same experts.

use crate::context::{self, CpExposed};
use crate::flow_pricing::FlowPricer;
use crate::placement::{group_of, Axis, Placement};
use crate::plan::Plan;
use astrolabe_collective::{simulate, CollectiveOp, CollectiveOptions, CollectiveResult};
use astrolabe_compute::{ComputeModel, ADAM_BYTES_PER_PARAM, ATTENTION_OPS};
use astrolabe_core::InputError;
use astrolabe_hardware::Cluster;
use astrolabe_memory::params::{layer_params_per_gpu, moe_layer_params_per_gpu, StageParams};
use astrolabe_memory::Schedule;
use astrolabe_model::ops::{OpKind, ACTIVATION_BYTES};
use astrolabe_model::{
    context_shard, layer_forward_ops_cp, logits_forward_op, moe_layer_forward_ops, ExpertLoad,
    LayerOp, Recompute, TransformerModel,
};
use astrolabe_workload::{MoeCosts, StepCosts};
use serde::Serialize;
use std::sync::Arc;

/// Bytes per element the vocabulary-parallel cross-entropy moves forward (read the bf16 logits,
/// write fp32 probabilities) and backward (read fp32, write the bf16 gradient): 6 each way.
pub const CROSS_ENTROPY_BYTES: u64 = 6;
/// Operations a fused attention kernel keeps on chip.
pub const FUSED_BY_FLASH: [&str; 2] = ["softmax", "attn_dropout"];

/// What a collective is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// TP collectives of one layer's forward.
    TpForward,
    /// TP collectives of one layer's backward.
    TpBackward,
    /// One pipeline send.
    PpSend,
    /// One layer's gradient reduction.
    DpGradients,
    /// One layer's parameter gather (distributed optimizer).
    DpParamGather,
    /// The word embedding's or output layer's gradient reduction (first and last stage).
    DpEmbeddingGradients,
    /// Hybrid sharding: one layer's gradient shard all-reduced across the shard groups.
    DpReplicaGradients,
    /// Context-parallel key/value exchange of one layer's forward.
    CpForward,
    /// Context-parallel key/value (and gradient) exchange of one layer's backward.
    CpBackward,
    /// Expert-parallel dispatch and combine all-to-alls of one MoE layer's forward.
    EpForward,
    /// Same for the backward (gradients; with full recomputation the forward's again).
    EpBackward,
    /// Expert tensor parallelism: the all-gather of the dispatched copies and the
    /// reduce-scatter of the expert outputs over the `expert_tp` group in one MoE layer's
    /// forward (on the EP line, serial with the all-to-alls).
    ExpertTpForward,
    /// Same for the backward.
    ExpertTpBackward,
    /// The gradient reduction of a MoE layer's dense part (attention, router, shared experts).
    DpMoeGradients,
    /// The gradient reduction of a MoE layer's routed experts over the expert-data-parallel
    /// ranks.
    DpExpertGradients,
    /// The parameter gather of one MoE layer (distributed optimizer): dense part and experts.
    DpMoeParamGather,
    /// DualPipe: one layer's gradients (what the data-parallel reduction leaves on the rank)
    /// all-reduced with the copy of the layer on the mirror stage `pp − 1 − s`.
    MirrorGradients,
    /// DualPipe: the same for one MoE layer, its dense part and the rank's routed experts in
    /// one all-reduce (the mirror rank holds the same experts of the layer: same coordinates
    /// along every axis but the pipeline).
    MirrorMoeGradients,
}

/// A collective of the step, as priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveUse {
    /// What it is for.
    pub purpose: Purpose,
    /// How many of `result` one use takes (e.g. 2 all-reduces per layer forward).
    pub repeats: u32,
    /// The priced collective. Under the congestion-aware model its time (and bandwidths) are
    /// the flow model's; its phases stay the analytical plan's (the bytes per dimension).
    pub result: CollectiveResult,
    /// Congestion-aware model only: bytes every fabric link carries for one `result` run by
    /// all groups of its kind at once.
    #[serde(skip)]
    pub link_bytes: Option<Arc<Vec<u64>>>,
}

impl CollectiveUse {
    /// Seconds of one use.
    pub fn time_s(&self) -> f64 {
        self.result.time_s * f64::from(self.repeats)
    }
}

/// Everything priced: the engine's durations plus the collectives behind them.
#[derive(Debug, Clone)]
pub struct Priced {
    /// Durations for the step graph.
    pub costs: StepCosts,
    /// The collectives, in a fixed order.
    pub collectives: Vec<CollectiveUse>,
}

/// Prices the step of `plan` for `model` on `cluster` with the kernel efficiencies of
/// `compute`; with TP overlap on, its `tp_overlap_fraction` of each layer's TP communication runs
/// beside the layer and the rest after it. `stage_params` is the most parameters any
/// GPU holds (the memory report's), which the optimizer step sweeps over (its `1/dp` share with
/// the distributed optimizer, `ep/dp` for routed experts); `origin` names the scenario in errors.
/// With a `network` (the congestion-aware model's fabric), collectives take the flow model's
/// times instead of the analytical ones.
pub fn price(
    model: &TransformerModel,
    cluster: &Cluster,
    plan: &Plan,
    compute: &ComputeModel,
    stage_params: StageParams,
    network: Option<&FlowPricer>,
    origin: &str,
) -> Result<Priced, InputError> {
    let layer = LayerTimes::of(model, cluster, plan, compute)?;
    let head = head_times(model, cluster, plan, compute)?;
    let collectives = collectives(model, cluster, plan, network, origin)?;
    let sum = |purpose: Purpose| -> f64 {
        collectives.iter().filter(|c| c.purpose == purpose).map(CollectiveUse::time_s).sum()
    };
    let tokens = plan.micro_batch * context_shard(model, plan.cp).seq_len;
    let embedding_bytes = tokens * model.hidden * ACTIVATION_BYTES * 2;
    let optimizer_params = if plan.zero_stage >= 1 {
        let expert_ranks = crate::moe::expert_dp(plan);
        stage_params.dense.div_ceil(plan.shard_group) + stage_params.expert.div_ceil(expert_ranks)
    } else {
        stage_params.total()
    };
    let hidden = if plan.overlap_tp_comm { compute.tp_overlap_fraction } else { 0.0 };
    let cp = CpExposed::of(plan, layer.core_s, sum(Purpose::CpForward), sum(Purpose::CpBackward));
    let per_micro_batch = plan.zero_stage >= 2;
    let (grads, replica) = (sum(Purpose::DpGradients), sum(Purpose::DpReplicaGradients));
    let costs = StepCosts {
        layer_fwd_ns: ns(layer.forward_s),
        layer_bwd_ns: ns(layer.backward_s),
        layer_wgrad_ns: ns(layer.wgrad_s),
        tp_fwd_ns: ns(sum(Purpose::TpForward) * (1.0 - hidden)),
        tp_bwd_ns: ns(sum(Purpose::TpBackward) * (1.0 - hidden)),
        tp_fwd_beside_ns: ns(sum(Purpose::TpForward) * hidden),
        tp_bwd_beside_ns: ns(sum(Purpose::TpBackward) * hidden),
        first_fwd_ns: ns(compute.memory_time_s(embedding_bytes, &cluster.gpu)),
        last_fwd_ns: ns(head.0),
        last_bwd_ns: ns(head.1),
        p2p_ns: ns(sum(Purpose::PpSend)),
        cp_fwd_ns: ns(cp.forward_s),
        cp_bwd_ns: ns(cp.backward_s),
        dp_layer_ns: ns(if per_micro_batch { replica } else { grads + replica }),
        dp_micro_ns: ns(if per_micro_batch { grads } else { 0.0 }),
        dual_grad_layer_ns: ns(sum(Purpose::MirrorGradients)),
        dp_extra_ns: ns(sum(Purpose::DpEmbeddingGradients)),
        gather_layer_ns: ns(sum(Purpose::DpParamGather)),
        optimizer_ns: ns(compute.optimizer_step_time_s(
            optimizer_params,
            ADAM_BYTES_PER_PARAM,
            &cluster.gpu,
        )),
        moe: moe_costs(model, cluster, plan, compute, &sum)?,
        memory: None,
    };
    Ok(Priced { costs, collectives })
}

/// The costs of a MoE layer (`None` for a dense model): its compute with the rank's expert load,
/// its all-to-alls (exposed: Megatron-Core does not overlap them by default), its gradient
/// reduction and parameter gather.
fn moe_costs(
    model: &TransformerModel,
    cluster: &Cluster,
    plan: &Plan,
    compute: &ComputeModel,
    sum: &dyn Fn(Purpose) -> f64,
) -> Result<Option<MoeCosts>, InputError> {
    let (Some(moe), Some(load)) = (model.moe, crate::moe::expert_load(model, plan)) else {
        return Ok(None);
    };
    let layer = LayerTimes::of_moe(model, cluster, plan, compute, load)?;
    let dp = sum(Purpose::DpMoeGradients) + sum(Purpose::DpExpertGradients);
    let per_micro_batch = plan.zero_stage >= 2;
    Ok(Some(MoeCosts {
        first_layer: moe.dense_layers as usize,
        layer_fwd_ns: ns(layer.forward_s),
        layer_bwd_ns: ns(layer.backward_s),
        layer_wgrad_ns: ns(layer.wgrad_s),
        ep_fwd_ns: ns(sum(Purpose::EpForward) + sum(Purpose::ExpertTpForward)),
        ep_bwd_ns: ns(sum(Purpose::EpBackward) + sum(Purpose::ExpertTpBackward)),
        dp_layer_ns: ns(if per_micro_batch { 0.0 } else { dp }),
        dp_micro_ns: ns(if per_micro_batch { dp } else { 0.0 }),
        gather_layer_ns: ns(sum(Purpose::DpMoeParamGather)),
        dual_grad_layer_ns: ns(sum(Purpose::MirrorMoeGradients)),
        // The dense shares, for per-rank mode: `crate::rank_layout::split_moe`.
        ..MoeCosts::default()
    }))
}

/// Seconds to whole nanoseconds, rounded to nearest.
pub fn ns(seconds: f64) -> u64 {
    (seconds * 1e9).round() as u64
}

/// One layer's forward and backward time on one GPU for one micro-batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerTimes {
    /// Forward, in seconds.
    pub forward_s: f64,
    /// Backward including recomputation, in seconds.
    pub backward_s: f64,
    /// The forward's attention core (score and value products, softmax and dropout unless
    /// fused), in seconds: what a context-parallel exchange can hide behind.
    pub core_s: f64,
    /// The backward's weight-gradient GEMMs: one per weight GEMM of the forward, of the same
    /// FLOPs and shape class, so the forward time of the weight GEMMs, in seconds.
    pub wgrad_s: f64,
}

impl LayerTimes {
    /// Prices one (dense) layer under `plan`.
    pub fn of(
        model: &TransformerModel,
        cluster: &Cluster,
        plan: &Plan,
        compute: &ComputeModel,
    ) -> Result<LayerTimes, InputError> {
        let (b, tp, sp, cp) = (plan.micro_batch, plan.tp, plan.sequence_parallel, plan.cp);
        let ops = layer_forward_ops_cp(model, b, tp, sp, cp)?;
        LayerTimes::of_ops(ops, cluster, plan, compute)
    }

    /// Prices one MoE layer under `plan` with the rank's expert `load`.
    pub fn of_moe(
        model: &TransformerModel,
        cluster: &Cluster,
        plan: &Plan,
        compute: &ComputeModel,
        load: ExpertLoad,
    ) -> Result<LayerTimes, InputError> {
        let (b, tp, sp, cp) = (plan.micro_batch, plan.tp, plan.sequence_parallel, plan.cp);
        let ops = moe_layer_forward_ops(model, b, tp, sp, cp, load)?;
        LayerTimes::of_ops(ops, cluster, plan, compute)
    }

    fn of_ops(
        ops: Vec<LayerOp>,
        cluster: &Cluster,
        plan: &Plan,
        compute: &ComputeModel,
    ) -> Result<LayerTimes, InputError> {
        let ops: Vec<LayerOp> = ops
            .into_iter()
            .filter(|op| !(plan.flash_attention && FUSED_BY_FLASH.contains(&op.name)))
            .collect();
        let (gpu, precision) = (&cluster.gpu, plan.precision);
        let forward_s = compute.ops_time_s(&ops, gpu, precision)?;
        let core: Vec<LayerOp> = ops
            .iter()
            .filter(|op| ATTENTION_OPS.contains(&op.name) || FUSED_BY_FLASH.contains(&op.name))
            .copied()
            .collect();
        let core_s = compute.ops_time_s(&core, gpu, precision)?;
        let weights: Vec<LayerOp> = ops
            .iter()
            .filter(|op| {
                matches!(op.kind, OpKind::Gemm { .. }) && !ATTENTION_OPS.contains(&op.name)
            })
            .copied()
            .collect();
        let wgrad_s = compute.ops_time_s(&weights, gpu, precision)?;
        let recompute_s = match plan.recompute {
            Recompute::None => 0.0,
            Recompute::Selective if plan.flash_attention => 0.0,
            Recompute::Selective => core_s,
            Recompute::Full => forward_s,
        };
        let flash_s = if plan.flash_attention { 0.5 * core_s } else { 0.0 };
        let backward_s = 2.0 * forward_s + flash_s + recompute_s;
        Ok(LayerTimes { forward_s, backward_s, core_s, wgrad_s })
    }
}

/// Forward and backward seconds of the last stage's head: final norm, logits, cross-entropy.
fn head_times(
    model: &TransformerModel,
    cluster: &Cluster,
    plan: &Plan,
    compute: &ComputeModel,
) -> Result<(f64, f64), InputError> {
    let local = context_shard(model, plan.cp);
    let tokens = plan.micro_batch * local.seq_len;
    let norm_elements = if plan.sequence_parallel {
        tokens * model.hidden / plan.tp
    } else {
        tokens * model.hidden
    };
    let logits_elements = tokens * model.vocab.div_ceil(plan.tp);
    let logits = logits_forward_op(&local, plan.micro_batch, plan.tp);
    let forward = [
        LayerOp::memory("final_norm", norm_elements, 2 * ACTIVATION_BYTES),
        logits,
        LayerOp::memory("cross_entropy", logits_elements, CROSS_ENTROPY_BYTES),
    ];
    let (gpu, precision) = (&cluster.gpu, plan.precision);
    let forward_s = compute.ops_time_s(&forward, gpu, precision)?;
    let backward = [
        LayerOp::memory("cross_entropy_grad", logits_elements, CROSS_ENTROPY_BYTES),
        logits,
        logits,
        LayerOp::memory("final_norm_grad", norm_elements, 3 * ACTIVATION_BYTES),
    ];
    Ok((forward_s, compute.ops_time_s(&backward, gpu, precision)?))
}

/// Every collective of the step, priced on the groups of rank 0 (with `network`, on the
/// fabric, all groups of a kind at once).
fn collectives(
    model: &TransformerModel,
    cluster: &Cluster,
    plan: &Plan,
    network: Option<&FlowPricer>,
    origin: &str,
) -> Result<Vec<CollectiveUse>, InputError> {
    let topo = &cluster.topology;
    let place = placement(plan);
    let options = CollectiveOptions::default();
    let mut out = Vec::new();
    let mut add = |purpose, ranks: &[usize], op, bytes: u64, repeats: u32| {
        if ranks.len() < 2 || bytes == 0 || repeats == 0 {
            return Ok::<(), InputError>(());
        }
        let group = group_of(topo, ranks, origin)?;
        let mut result = simulate(topo, &group, op, bytes, &options)?;
        let mut link_bytes = None;
        if let Some(pricer) = network {
            let timing = pricer.time(op, ranks, group.extents(), bytes, origin)?;
            let time_s = result.time_s * timing.slowdown();
            retime(&mut result, time_s);
            link_bytes = Some(timing.link_bytes);
        }
        out.push(CollectiveUse { purpose, repeats, result, link_bytes });
        Ok(())
    };
    let along = |axis: Axis, members: u64| -> Vec<usize> {
        (0..members as usize).map(|i| i * place.stride(axis)).collect()
    };
    let local = context_shard(model, plan.cp);
    let activation = plan.micro_batch * local.seq_len * model.hidden * ACTIVATION_BYTES;
    let tp_fwd: &[(CollectiveOp, u32)] = if plan.sequence_parallel {
        &[(CollectiveOp::AllGather, 2), (CollectiveOp::ReduceScatter, 2)]
    } else {
        &[(CollectiveOp::AllReduce, 2)]
    };
    let bwd_factor = if plan.recompute == Recompute::Full { 2 } else { 1 };
    let tp = along(Axis::Tp, plan.tp);
    for &(op, n) in tp_fwd {
        add(Purpose::TpForward, &tp, op, activation, n)?;
    }
    for &(op, n) in tp_fwd {
        add(Purpose::TpBackward, &tp, op, activation, n * bwd_factor)?;
    }
    let p2p = if plan.sequence_parallel { activation / plan.tp } else { activation };
    add(Purpose::PpSend, &along(Axis::Pp, 2.min(plan.pp)), CollectiveOp::SendRecv, p2p, 1)?;
    for exchange in context::exchanges(model, plan) {
        let ranks = along(Axis::Cp, exchange.members);
        add(exchange.purpose, &ranks, exchange.op, exchange.bytes, exchange.repeats)?;
    }
    let (shard, replicas) = shard_groups(&place, plan);
    let layer_params = layer_params_per_gpu(model, plan.tp);
    let embedding_params = model.vocab.div_ceil(plan.tp) * model.hidden;
    let grad_op =
        if plan.zero_stage >= 1 { CollectiveOp::ReduceScatter } else { CollectiveOp::AllReduce };
    let grads = |params: u64| params * plan.grad_bytes_per_param;
    add(Purpose::DpGradients, &shard, grad_op, grads(layer_params), 1)?;
    add(Purpose::DpEmbeddingGradients, &shard, grad_op, grads(embedding_params), 1)?;
    let shard_bytes = grads(layer_params).div_ceil(shard.len() as u64);
    add(Purpose::DpReplicaGradients, &replicas, CollectiveOp::AllReduce, shard_bytes, 1)?;
    if plan.zero_stage >= 1 {
        let bytes = layer_params * plan.weight_bytes_per_param();
        add(Purpose::DpParamGather, &shard, CollectiveOp::AllGather, bytes, 1)?;
    }
    if plan.schedule == Schedule::DualPipe {
        // Priced on the neighbour pair's links: stage s and its mirror p − 1 − s are as far
        // apart as pipeline neighbours once the pipeline spans nodes (one stage per node or
        // more), the usual layout; inside one node both pairs share NVLink.
        let bytes = mirror_bytes(plan, grads(layer_params), shard.len());
        let pair = along(Axis::Pp, 2);
        add(Purpose::MirrorGradients, &pair, CollectiveOp::AllReduce, bytes, 1)?;
    }
    if let Some(load) = crate::moe::expert_load(model, plan) {
        let groups = crate::moe::expert_groups(&place, plan);
        let a2a = crate::moe::all_to_all_bytes(model, plan);
        add(Purpose::EpForward, &groups.ep, CollectiveOp::AllToAll, a2a, 2)?;
        add(Purpose::EpBackward, &groups.ep, CollectiveOp::AllToAll, a2a, 2 * bwd_factor)?;
        let gathered = crate::moe::expert_tp_bytes(model, &load);
        for (op, n) in [(CollectiveOp::AllGather, 1), (CollectiveOp::ReduceScatter, 1)] {
            add(Purpose::ExpertTpForward, &groups.expert_tp, op, gathered, n)?;
            add(Purpose::ExpertTpBackward, &groups.expert_tp, op, gathered, n * bwd_factor)?;
        }
        let experts = groups.expert_dp;
        let split = (plan.expert_tp, plan.ep);
        let (dense, expert) = moe_layer_params_per_gpu(model, plan.tp, split);
        add(Purpose::DpMoeGradients, &shard, grad_op, grads(dense), 1)?;
        add(Purpose::DpExpertGradients, &experts, grad_op, grads(expert), 1)?;
        if plan.schedule == Schedule::DualPipe {
            let bytes = mirror_bytes(plan, grads(dense), shard.len())
                + mirror_bytes(plan, grads(expert), experts.len());
            let pair = along(Axis::Pp, 2);
            add(Purpose::MirrorMoeGradients, &pair, CollectiveOp::AllReduce, bytes, 1)?;
        }
        if plan.zero_stage >= 1 {
            let gather = CollectiveOp::AllGather;
            let weight = plan.weight_bytes_per_param();
            add(Purpose::DpMoeParamGather, &shard, gather, dense * weight, 1)?;
            add(Purpose::DpMoeParamGather, &experts, gather, expert * weight, 1)?;
        }
    }
    Ok(out)
}

/// DualPipe: what is left on a rank of `grad_bytes` of gradients reduced over `ranks` ranks,
/// which the mirror sum all-reduces: the rank's shard with the distributed optimizer, all of
/// them otherwise.
fn mirror_bytes(plan: &Plan, grad_bytes: u64, ranks: usize) -> u64 {
    if plan.zero_stage >= 1 {
        grad_bytes.div_ceil(ranks.max(1) as u64)
    } else {
        grad_bytes
    }
}

/// Gives `result` the congestion-aware time, its bandwidths scaled to match.
fn retime(result: &mut CollectiveResult, time_s: f64) {
    if time_s > 0.0 && result.time_s > 0.0 {
        let speed = result.time_s / time_s;
        result.algbw_gbps *= speed;
        result.busbw_gbps *= speed;
    }
    result.time_s = time_s;
}

/// The placement of `plan`'s ranks.
pub fn placement(plan: &Plan) -> Placement {
    let sizes = [
        (Axis::Tp, plan.tp as usize),
        (Axis::Cp, plan.cp as usize),
        (Axis::Ep, if crate::moe::folded(plan) { 1 } else { plan.ep as usize }),
        (Axis::Dp, plan.dp as usize),
        (Axis::Pp, plan.pp as usize),
    ];
    Placement::with_sizes(&plan.placement, &sizes)
}

/// Rank 0's shard group (the first `shard_group` of the `dp·cp` ranks holding the same
/// parameters, context-parallel ranks innermost) and its replica group (rank 0's counterparts
/// in the other shard groups; a single rank without hybrid sharding).
pub fn shard_groups(place: &Placement, plan: &Plan) -> (Vec<usize>, Vec<usize>) {
    let all = place.ranks_over(&[Axis::Cp, Axis::Ep, Axis::Dp]);
    let shard = plan.shard_group as usize;
    let replicas = all.iter().step_by(shard.max(1)).copied().collect();
    (all[..shard.min(all.len())].to_vec(), replicas)
}

#[cfg(test)]
#[path = "costs_tests.rs"]
mod tests;
