//! Mixture of experts in the step: the expert-parallel plan's checks, each rank's expert load,
//! and the bytes of the dispatch and combine all-to-alls.
//!
//! Megatron-Core's layout: the `ep` expert-parallel ranks are carved out of the data-parallel
//! replicas (`ep` divides `dp`; rank order `tp-cp-ep-dp-pp`), each holding `experts / ep` routed
//! experts of every MoE layer, split `tp` ways like the MLP (expert tensor parallelism = `tp`).
//! Every rank routes its own `b · s/cp` tokens to `top_k` experts each; the dispatch all-to-all
//! sends each token copy (`hidden` bf16 values) to the rank holding its expert, the combine
//! all-to-all brings the expert outputs back. Per rank and pass: two all-to-alls of
//! `routed_tokens · hidden · 2` bytes (forward: dispatch and combine; backward: their
//! gradients, and with full recomputation the forward's again).
//!
//! Routing is balanced on average; `routing_imbalance` (≥ 1) is the busiest rank's load over the
//! mean, and a `capacity_factor` caps each expert at that multiple of its mean load (tokens over
//! it are dropped). The step is as slow as its busiest rank: `routed_tokens = ⌈b · s/cp · top_k ·
//! min(imbalance, capacity)⌉`.

use crate::plan::Plan;
use astrolabe_core::InputError;
use astrolabe_model::ops::ACTIVATION_BYTES;
use astrolabe_model::{ExpertLoad, TransformerModel};

/// The `[plan]` keys of expert parallelism as written.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MoeKeys {
    /// `plan.ep`.
    pub ep: Option<u64>,
    /// `plan.capacity_factor`.
    pub capacity_factor: Option<f64>,
    /// `plan.routing_imbalance`.
    pub routing_imbalance: Option<f64>,
}

/// Checked expert-parallel settings: `(ep, capacity_factor, routing_imbalance)`.
pub type MoeSettings = (u64, Option<f64>, f64);

/// Checks the expert-parallel keys against `model` and the data-parallel size `dp`; ZeRO
/// stages 2 and 3 and hybrid sharding are refused with experts (their per-layer reductions are
/// not split into dense and expert parts yet).
pub fn check(
    keys: MoeKeys,
    model: &TransformerModel,
    (dp, zero_stage, hybrid): (u64, u8, bool),
    origin: &str,
) -> Result<MoeSettings, InputError> {
    let err = |field: &str, expected: String| {
        Err(InputError::new(origin, format!("plan.{field}"), expected))
    };
    let ep = keys.ep.unwrap_or(1);
    let imbalance = keys.routing_imbalance.unwrap_or(1.0);
    let Some(moe) = model.moe else {
        if ep != 1 || keys.capacity_factor.is_some() || keys.routing_imbalance.is_some() {
            let field = if ep != 1 { "ep" } else { "capacity_factor/routing_imbalance" };
            return err(field, format!("nothing (the model `{}` has no experts)", model.name));
        }
        return Ok((1, None, 1.0));
    };
    if ep == 0 || dp % ep != 0 || moe.experts % ep != 0 {
        let expected =
            format!("a divisor of both dp ({dp}) and the model's experts ({})", moe.experts);
        return err("ep", format!("{expected}, got {ep}"));
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
    if zero_stage >= 2 || hybrid {
        let expected = "zero_stage 0 or 1 without hybrid sharding for a mixture-of-experts \
                        model (sharded expert gradients are not modelled yet)";
        return err("zero_stage", expected.into());
    }
    Ok((ep, keys.capacity_factor, imbalance))
}

/// The expert load of one rank under `plan` (`None` for a dense model).
pub fn expert_load(model: &TransformerModel, plan: &Plan) -> Option<ExpertLoad> {
    let moe = model.moe?;
    let tokens = plan.micro_batch * (model.seq_len / plan.cp.max(1));
    let factor = match plan.capacity_factor {
        Some(c) => plan.routing_imbalance.min(c),
        None => plan.routing_imbalance,
    };
    let routed = (tokens * moe.top_k) as f64 * factor;
    Some(ExpertLoad { ep: plan.ep, routed_tokens: routed.ceil() as u64 })
}

/// Bytes one rank sends in one dispatch (or combine) all-to-all: its routed token copies.
pub fn all_to_all_bytes(model: &TransformerModel, load: &ExpertLoad) -> u64 {
    load.routed_tokens * model.hidden * ACTIVATION_BYTES
}

#[cfg(test)]
#[path = "moe_tests.rs"]
mod tests;
