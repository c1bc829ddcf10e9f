//! Mixture of experts in the step: the expert-parallel plan's checks, each rank's expert load,
//! the bytes of the dispatch and combine all-to-alls, and the expert communicator groups.
//!
//! **Layout.** A pipeline stage's `tp·cp·dp` ranks run the routed experts as an
//! `expert_tp × ep × expert_dp` grid: `ep` ranks each hold `experts / ep` routed experts of every
//! MoE layer, each expert's matrices split `expert_tp` ways, and `expert_dp` replicas of that
//! grid reduce the experts' gradients. Two layouts (Megatron-Core):
//! - **within DP** (`expert_tp = tp` and `ep` dividing `dp`, the default): the expert axis `ep`
//!   of `plan.placement` is carved out of the data-parallel replicas (rank order
//!   `tp-cp-ep-dp-pp`), experts are split like the MLP, `expert_dp = cp·dp / ep`;
//! - **folded** (Megatron-Core's parallel folding, Liu et al. 2025, arXiv 2504.14960: any other
//!   `expert_tp`, or an `ep` that `dp` does not divide): the stage's ranks, numbered in the
//!   placement's order, are regrouped with `expert_tp` innermost, then `ep`, then `expert_dp`,
//!   so expert parallelism may span the TP and CP ranks of the attention.
//!
//! **Traffic** (Megatron-Core's all-to-all token dispatcher). With sequence parallelism (required
//! with `tp > 1`, as Megatron-Core requires) a rank enters the MoE block with `b·s/(cp·tp)`
//! tokens and routes each to `top_k` experts; the dispatch all-to-all over the `ep` group sends
//! each copy (`hidden` bf16 values) to the rank holding its expert, and with `expert_tp > 1` an
//! all-gather over the `expert_tp` group gives every rank of an expert's split the copies of the
//! others; the combine is a reduce-scatter and an all-to-all back. Per rank and pass: two
//! all-to-alls of `sent_copies · hidden · 2` bytes (and two `expert_tp` collectives of the
//! gathered `routed_tokens · hidden · 2`); forward: dispatch and combine; backward: their
//! gradients, and with full recomputation the forward's again.
//!
//! **Load.** Routing is balanced on average; `routing_imbalance` (≥ 1) is the busiest rank's load
//! over the mean, and a `capacity_factor` caps each expert at that multiple of its mean load
//! (tokens over it are dropped). The step is as slow as its busiest rank: a rank processes
//! `routed_tokens = ⌈b·s/(cp·tp) · top_k · expert_tp · min(imbalance, capacity)⌉` copies.

use crate::placement::{Axis, Placement};
use crate::plan::Plan;
use astrolabe_core::InputError;
use astrolabe_model::ops::ACTIVATION_BYTES;
use astrolabe_model::{ExpertLoad, TransformerModel};

/// The `[plan]` keys of expert parallelism as written.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MoeKeys {
    /// `plan.ep`.
    pub ep: Option<u64>,
    /// `plan.expert_tp`.
    pub expert_tp: Option<u64>,
    /// `plan.capacity_factor`.
    pub capacity_factor: Option<f64>,
    /// `plan.routing_imbalance`.
    pub routing_imbalance: Option<f64>,
}

/// Checked expert-parallel settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoeSettings {
    /// Expert-parallel ranks.
    pub ep: u64,
    /// Ranks each expert's matrices are split over.
    pub expert_tp: u64,
    /// Capacity factor, if any.
    pub capacity_factor: Option<f64>,
    /// Busiest rank's load over the mean.
    pub routing_imbalance: f64,
}

/// The attention's parallel sizes the expert grid must fit: `(tp, cp, dp)`, whether sequence
/// parallelism is on, and whether ZeRO uses hybrid sharding groups.
pub type AttentionGrid = ((u64, u64, u64), bool, bool);

/// Checks the expert-parallel keys against `model` and the attention's `grid`. Hybrid sharding
/// is refused with experts (the expert shard groups of hybrid sharding are not modelled).
pub fn check(
    keys: MoeKeys,
    model: &TransformerModel,
    ((tp, cp, dp), sequence_parallel, hybrid): AttentionGrid,
    origin: &str,
) -> Result<MoeSettings, InputError> {
    let err = |field: &str, expected: String| {
        Err(InputError::new(origin, format!("plan.{field}"), expected))
    };
    let ep = keys.ep.unwrap_or(1);
    let imbalance = keys.routing_imbalance.unwrap_or(1.0);
    let Some(moe) = model.moe else {
        let given = [
            ("ep", ep != 1),
            ("expert_tp", keys.expert_tp.is_some()),
            ("capacity_factor", keys.capacity_factor.is_some()),
            ("routing_imbalance", keys.routing_imbalance.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(_, set)| *set) {
            return err(field, format!("nothing (the model `{}` has no experts)", model.name));
        }
        return Ok(MoeSettings {
            ep: 1,
            expert_tp: tp,
            capacity_factor: None,
            routing_imbalance: 1.0,
        });
    };
    let expert_tp = keys.expert_tp.unwrap_or(tp);
    if expert_tp == 0 || moe.expert_ffn_hidden % expert_tp != 0 {
        let width = moe.expert_ffn_hidden;
        return err(
            "expert_tp",
            format!("a divisor of the model's moe.expert_ffn_hidden ({width}), got {expert_tp}"),
        );
    }
    let stage_ranks = tp * cp * dp;
    if ep == 0 || moe.experts % ep != 0 || stage_ranks % (ep * expert_tp) != 0 {
        let expected = format!(
            "a divisor of the model's experts ({}) with ep·expert_tp ({ep}·{expert_tp}) dividing              a stage's tp·cp·dp ranks ({stage_ranks}), got {ep}",
            moe.experts
        );
        return err("ep", expected);
    }
    if tp > 1 && !sequence_parallel {
        let expected = "true with tp > 1 for a mixture-of-experts model (Megatron-Core's token                         dispatcher works on the sequence-parallel shards)";
        return err("sequence_parallel", expected.into());
    }
    if let Some(c) = keys.capacity_factor {
        if !(c.is_finite() && c > 0.0 && c <= 64.0) {
            return err("capacity_factor", format!("a number in (0, 64], got {c}"));
        }
    }
    if !(imbalance.is_finite() && (1.0..=ep as f64).contains(&imbalance)) {
        let expected = format!("a number from 1 (balanced) to ep ({ep}), got {imbalance}");
        return err("routing_imbalance", expected);
    }
    if hybrid {
        let expected = "the whole dp·cp (no hybrid sharding) for a mixture-of-experts model                         (hybrid shard groups of experts are not modelled yet)";
        return err("shard_group", expected.into());
    }
    Ok(MoeSettings {
        ep,
        expert_tp,
        capacity_factor: keys.capacity_factor,
        routing_imbalance: imbalance,
    })
}

/// Whether `plan` folds its experts over the stage's ranks (see the module documentation)
/// rather than carving `ep` out of the data-parallel replicas.
pub fn folded(plan: &Plan) -> bool {
    plan.expert_tp != plan.tp || plan.dp % plan.ep.max(1) != 0
}

/// Ranks holding the same routed experts: `tp·cp·dp / (expert_tp·ep)`.
pub fn expert_dp(plan: &Plan) -> u64 {
    (plan.tp * plan.cp * plan.dp / (plan.expert_tp * plan.ep).max(1)).max(1)
}

/// Rank 0's expert communicators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpertGroups {
    /// The dispatch and combine all-to-all group (`ep` ranks).
    pub ep: Vec<usize>,
    /// The ranks splitting the same experts (`expert_tp` ranks).
    pub expert_tp: Vec<usize>,
    /// The ranks holding the same experts, which reduce their gradients (`expert_dp` ranks).
    pub expert_dp: Vec<usize>,
}

/// Rank 0's expert groups under `plan` placed by `place`.
pub fn expert_groups(place: &Placement, plan: &Plan) -> ExpertGroups {
    if !folded(plan) {
        return ExpertGroups {
            ep: place.ranks_over(&[Axis::Ep]),
            expert_tp: place.ranks_over(&[Axis::Tp]),
            expert_dp: place.ranks_over(&[Axis::Cp, Axis::Dp]),
        };
    }
    let mut stage = place.ranks_over(&[Axis::Tp, Axis::Cp, Axis::Ep, Axis::Dp]);
    stage.sort_unstable();
    let (etp, ep) = (plan.expert_tp as usize, plan.ep as usize);
    ExpertGroups {
        ep: stage.iter().step_by(etp).take(ep).copied().collect(),
        expert_tp: stage[..etp.min(stage.len())].to_vec(),
        expert_dp: stage.iter().step_by(etp * ep).copied().collect(),
    }
}

/// The expert load of one rank under `plan` (`None` for a dense model).
pub fn expert_load(model: &TransformerModel, plan: &Plan) -> Option<ExpertLoad> {
    let copies = sent_copies(model, plan)? as f64 * plan.expert_tp as f64;
    let routed_tokens = (copies * load_factor(plan)).ceil() as u64;
    Some(ExpertLoad { ep: plan.ep, expert_tp: plan.expert_tp, routed_tokens })
}

/// Token copies a rank routes per micro-batch: its `b·s/(cp·tp)` tokens times `top_k`.
fn sent_copies(model: &TransformerModel, plan: &Plan) -> Option<u64> {
    let moe = model.moe?;
    let tokens = plan.micro_batch * (model.seq_len / plan.cp.max(1)) / plan.tp.max(1);
    Some(tokens * moe.top_k)
}

/// The busiest rank's load over the mean: the imbalance, capped by the capacity factor.
fn load_factor(plan: &Plan) -> f64 {
    match plan.capacity_factor {
        Some(c) => plan.routing_imbalance.min(c),
        None => plan.routing_imbalance,
    }
}

/// Bytes one rank sends in one dispatch (or combine) all-to-all: its routed token copies, as
/// many as the busiest rank's share.
pub fn all_to_all_bytes(model: &TransformerModel, plan: &Plan) -> u64 {
    let copies = sent_copies(model, plan).unwrap_or(0) as f64 * load_factor(plan);
    copies.ceil() as u64 * model.hidden * ACTIVATION_BYTES
}

/// Bytes of the `expert_tp` all-gather (nccl-tests convention: the whole gathered buffer) that
/// gives each rank of an expert's split every copy its experts process; 0 without the split.
pub fn expert_tp_bytes(model: &TransformerModel, load: &ExpertLoad) -> u64 {
    if load.expert_tp < 2 {
        return 0;
    }
    load.routed_tokens * model.hidden * ACTIVATION_BYTES
}

#[cfg(test)]
#[path = "moe_tests.rs"]
mod tests;
