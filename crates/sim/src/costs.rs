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
//! - DP: each layer's gradients (`grad_bytes_per_param` per parameter on the TP rank) all-reduced,
//!   or reduce-scattered with the distributed optimizer, whose updated bf16 parameters are then
//!   all-gathered.

use crate::placement::{Axis, Placement};
use crate::plan::{Plan, WEIGHT_BYTES_PER_PARAM};
use astrolabe_collective::{simulate, CollectiveOp, CollectiveOptions, CollectiveResult};
use astrolabe_compute::{ComputeModel, ADAM_BYTES_PER_PARAM, ATTENTION_OPS};
use astrolabe_core::InputError;
use astrolabe_hardware::Cluster;
use astrolabe_memory::params::layer_params_per_gpu;
use astrolabe_model::ops::ACTIVATION_BYTES;
use astrolabe_model::{layer_forward_ops, logits_forward_op, LayerOp, Recompute, TransformerModel};
use astrolabe_workload::StepCosts;
use serde::Serialize;

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
}

/// A collective of the step, as priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveUse {
    /// What it is for.
    pub purpose: Purpose,
    /// How many of `result` one use takes (e.g. 2 all-reduces per layer forward).
    pub repeats: u32,
    /// The priced collective.
    pub result: CollectiveResult,
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
/// the distributed optimizer); `origin` names the scenario in errors.
pub fn price(
    model: &TransformerModel,
    cluster: &Cluster,
    plan: &Plan,
    compute: &ComputeModel,
    stage_params: u64,
    origin: &str,
) -> Result<Priced, InputError> {
    let layer = LayerTimes::of(model, cluster, plan, compute)?;
    let head = head_times(model, cluster, plan, compute)?;
    let collectives = collectives(model, cluster, plan, origin)?;
    let sum = |purpose: Purpose| -> f64 {
        collectives.iter().filter(|c| c.purpose == purpose).map(CollectiveUse::time_s).sum()
    };
    let tokens = plan.micro_batch * model.seq_len;
    let embedding_bytes = tokens * model.hidden * ACTIVATION_BYTES * 2;
    let optimizer_params =
        if plan.zero_stage >= 1 { stage_params.div_ceil(plan.dp) } else { stage_params };
    let hidden = if plan.overlap_tp_comm { compute.tp_overlap_fraction } else { 0.0 };
    let costs = StepCosts {
        layer_fwd_ns: ns(layer.forward_s),
        layer_bwd_ns: ns(layer.backward_s),
        tp_fwd_ns: ns(sum(Purpose::TpForward) * (1.0 - hidden)),
        tp_bwd_ns: ns(sum(Purpose::TpBackward) * (1.0 - hidden)),
        tp_fwd_beside_ns: ns(sum(Purpose::TpForward) * hidden),
        tp_bwd_beside_ns: ns(sum(Purpose::TpBackward) * hidden),
        first_fwd_ns: ns(compute.memory_time_s(embedding_bytes, &cluster.gpu)),
        last_fwd_ns: ns(head.0),
        last_bwd_ns: ns(head.1),
        p2p_ns: ns(sum(Purpose::PpSend)),
        dp_layer_ns: ns(sum(Purpose::DpGradients)),
        dp_extra_ns: ns(sum(Purpose::DpEmbeddingGradients)),
        gather_layer_ns: ns(sum(Purpose::DpParamGather)),
        optimizer_ns: ns(compute.optimizer_step_time_s(
            optimizer_params,
            ADAM_BYTES_PER_PARAM,
            &cluster.gpu,
        )),
    };
    Ok(Priced { costs, collectives })
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
}

impl LayerTimes {
    /// Prices one layer under `plan`.
    pub fn of(
        model: &TransformerModel,
        cluster: &Cluster,
        plan: &Plan,
        compute: &ComputeModel,
    ) -> Result<LayerTimes, InputError> {
        let ops: Vec<LayerOp> =
            layer_forward_ops(model, plan.micro_batch, plan.tp, plan.sequence_parallel)?
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
        let recompute_s = match plan.recompute {
            Recompute::None => 0.0,
            Recompute::Selective if plan.flash_attention => 0.0,
            Recompute::Selective => core_s,
            Recompute::Full => forward_s,
        };
        let flash_s = if plan.flash_attention { 0.5 * core_s } else { 0.0 };
        Ok(LayerTimes { forward_s, backward_s: 2.0 * forward_s + flash_s + recompute_s })
    }
}

/// Forward and backward seconds of the last stage's head: final norm, logits, cross-entropy.
fn head_times(
    model: &TransformerModel,
    cluster: &Cluster,
    plan: &Plan,
    compute: &ComputeModel,
) -> Result<(f64, f64), InputError> {
    let tokens = plan.micro_batch * model.seq_len;
    let norm_elements = if plan.sequence_parallel {
        tokens * model.hidden / plan.tp
    } else {
        tokens * model.hidden
    };
    let logits_elements = tokens * model.vocab.div_ceil(plan.tp);
    let logits = logits_forward_op(model, plan.micro_batch, plan.tp);
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

/// Every collective of the step, priced on the groups of rank 0.
fn collectives(
    model: &TransformerModel,
    cluster: &Cluster,
    plan: &Plan,
    origin: &str,
) -> Result<Vec<CollectiveUse>, InputError> {
    let topo = &cluster.topology;
    let place =
        Placement::new(&plan.placement, plan.tp as usize, plan.dp as usize, plan.pp as usize);
    let options = CollectiveOptions::default();
    let mut out = Vec::new();
    let mut add = |purpose, axis, members: u64, op, bytes: u64, repeats: u32| {
        if members < 2 || bytes == 0 || repeats == 0 {
            return Ok::<(), InputError>(());
        }
        let group = place.group(topo, axis, members as usize, origin)?;
        let result = simulate(topo, &group, op, bytes, &options)?;
        out.push(CollectiveUse { purpose, repeats, result });
        Ok(())
    };
    let activation = plan.micro_batch * model.seq_len * model.hidden * ACTIVATION_BYTES;
    let tp_fwd: &[(CollectiveOp, u32)] = if plan.sequence_parallel {
        &[(CollectiveOp::AllGather, 2), (CollectiveOp::ReduceScatter, 2)]
    } else {
        &[(CollectiveOp::AllReduce, 2)]
    };
    let bwd_factor = if plan.recompute == Recompute::Full { 2 } else { 1 };
    for &(op, n) in tp_fwd {
        add(Purpose::TpForward, Axis::Tp, plan.tp, op, activation, n)?;
    }
    for &(op, n) in tp_fwd {
        add(Purpose::TpBackward, Axis::Tp, plan.tp, op, activation, n * bwd_factor)?;
    }
    let p2p = if plan.sequence_parallel { activation / plan.tp } else { activation };
    add(Purpose::PpSend, Axis::Pp, 2.min(plan.pp), CollectiveOp::SendRecv, p2p, 1)?;
    let layer_params = layer_params_per_gpu(model, plan.tp);
    let embedding_params = model.vocab.div_ceil(plan.tp) * model.hidden;
    let (grad_op, gather) = if plan.zero_stage >= 1 {
        (CollectiveOp::ReduceScatter, true)
    } else {
        (CollectiveOp::AllReduce, false)
    };
    let grads = |params: u64| params * plan.grad_bytes_per_param;
    add(Purpose::DpGradients, Axis::Dp, plan.dp, grad_op, grads(layer_params), 1)?;
    add(Purpose::DpEmbeddingGradients, Axis::Dp, plan.dp, grad_op, grads(embedding_params), 1)?;
    if gather {
        let bytes = layer_params * WEIGHT_BYTES_PER_PARAM;
        add(Purpose::DpParamGather, Axis::Dp, plan.dp, CollectiveOp::AllGather, bytes, 1)?;
    }
    Ok(out)
}

#[cfg(test)]
#[path = "costs_tests.rs"]
mod tests;
