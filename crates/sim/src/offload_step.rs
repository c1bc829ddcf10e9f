//! Offload to a memory tier in the simulated step: the scenario's `[offload]` table, the bytes
//! it moves off HBM (`astrolabe_memory::offload`), the durations of its transfers on each
//! rank's memory stream, and what the report says of the tier.
//!
//! ```toml
//! [cluster]
//! preset = "dgx-h100-superpod"
//! nodes = 4
//! memory_tiers = ["dgx-h100-host"]
//!
//! [offload]
//! tier = "dgx-h100-host"     # one of the cluster's memory tiers
//! optimizer_state = true     # Adam's moments
//! master_weights = true      # fp32 master weights
//! gradients = true
//! optimizer_on_cpu = true    # ZeRO-Offload: the CPU steps on the tier's copy
//! ```
//!
//! A transfer of `b` bytes takes the tier's latency plus `b` over the bandwidth one GPU gets
//! when every GPU sharing the tier moves data at once (`MemoryTier::all_busy_per_gpu_bytes_per_s`:
//! its own link, or its share of the tier's aggregate): a step is synchronous, so they do. An
//! optimizer step on the CPU reads and writes the 12 bytes per parameter of Adam's state and
//! reads the gradient and writes the new weights, over the tier's aggregate bandwidth shared by
//! the GPUs on it (CPU Adam is bound by memory bandwidth: ZeRO-Offload, arXiv 2101.06840, §5).

use crate::plan::Plan;
use astrolabe_core::InputError;
use astrolabe_hardware::{memory_tier::MemoryTier, Cluster};
use astrolabe_memory::offload::{split, OffloadPlan, OffloadSplit};
use astrolabe_memory::params::OPTIMIZER_BYTES_PER_PARAM;
use astrolabe_memory::MemoryReport;
use astrolabe_workload::MemoryCosts;
use serde::Serialize;

/// A checked `[offload]`: the tier and what goes to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Offload {
    /// The tier, one of the cluster's.
    pub tier: MemoryTier,
    /// What is offloaded, and where the optimizer steps.
    pub plan: OffloadPlan,
}

/// Reads `[offload]` against the cluster's tiers and the plan.
pub(crate) fn resolve(
    mut table: toml::Table,
    cluster: &Cluster,
    plan: &Plan,
    origin: &str,
) -> Result<Offload, InputError> {
    let names: Vec<&str> = cluster.memory_tiers.iter().map(|t| t.name.as_str()).collect();
    let listed = if names.is_empty() { "none".to_string() } else { names.join(", ") };
    let expected = format!(
        "one of the cluster's memory tiers ({listed}); list a tier in [cluster] memory_tiers"
    );
    let tier = match table.remove("tier") {
        Some(toml::Value::String(name)) => cluster.memory_tiers.iter().find(|t| t.name == name),
        _ => None,
    }
    .ok_or_else(|| InputError::new(origin, "offload.tier", expected))?
    .clone();
    let offload_plan: OffloadPlan = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| InputError::new(origin, "offload", e.message()))?;
    offload_plan.validate(plan.zero_stage, origin)?;
    let p = offload_plan;
    if !(p.optimizer_state || p.master_weights || p.gradients || p.parameters || p.activations) {
        let expected = "at least one of optimizer_state, master_weights, gradients, parameters, \
                        activations set to true";
        return Err(InputError::new(origin, "offload", expected));
    }
    Ok(Offload { tier, plan: offload_plan })
}

/// What the report says of offload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OffloadReport {
    /// The tier's name.
    pub tier: String,
    /// Its capacity per GPU (an instance shared by `gpus_sharing` GPUs), bytes.
    pub tier_capacity_per_gpu_bytes: u64,
    /// Bytes the fullest GPU keeps on it.
    pub tier_used_per_gpu_bytes: u64,
    /// Bandwidth one GPU gets to it with every GPU sharing it busy, bytes per second.
    pub bandwidth_per_gpu_bytes_per_s: f64,
    /// What is offloaded.
    pub plan: OffloadPlan,
}

/// Moves the offloaded bytes of every stage off HBM and redoes the verdict; errors when the
/// tier cannot hold them.
pub(crate) fn apply_memory(
    memory: &mut MemoryReport,
    offload: &Offload,
    plan: &Plan,
    origin: &str,
) -> Result<OffloadReport, InputError> {
    let mut most = 0;
    for stage in &mut memory.stages {
        let states = stage_split(stage.params, offload, plan, 0);
        let per_mb = stage.activations_bytes / stage.in_flight_micro_batches.max(1);
        let act_off = if offload.plan.activations { stage.activations_bytes - per_mb } else { 0 };
        stage.weights_bytes = states.parameters.hbm_bytes;
        stage.gradients_bytes = states.gradients.hbm_bytes;
        stage.optimizer_bytes = states.master_weights.hbm_bytes + states.optimizer_state.hbm_bytes;
        stage.activations_bytes -= act_off;
        stage.offloaded_bytes = states.tier_bytes() + act_off;
        stage.total_bytes -= stage.offloaded_bytes;
        most = most.max(stage.offloaded_bytes);
    }
    memory.settle();
    let capacity = offload.tier.capacity_per_gpu_bytes();
    if most > capacity {
        let expected = format!(
            "a tier with room for {:.1} GB per GPU; `{}` gives {:.1} GB per GPU",
            most as f64 / 1e9,
            offload.tier.name,
            capacity as f64 / 1e9
        );
        return Err(InputError::new(origin, "offload.tier", expected));
    }
    Ok(OffloadReport {
        tier: offload.tier.name.clone(),
        tier_capacity_per_gpu_bytes: capacity,
        tier_used_per_gpu_bytes: most,
        bandwidth_per_gpu_bytes_per_s: offload.tier.all_busy_per_gpu_bytes_per_s(),
        plan: offload.plan,
    })
}

/// The offload split of `params` parameters per GPU under `plan`'s sharding.
fn stage_split(params: u64, offload: &Offload, plan: &Plan, activation_bytes: u64) -> OffloadSplit {
    let (zero, shard) = (plan.zero_stage, plan.shard_group);
    let (wb, gb) = (plan.weight_bytes_per_param(), plan.grad_bytes_per_param);
    split(params, shard, zero, wb, gb, &offload.plan, activation_bytes)
}

/// Per-layer and per-step transfer durations, and the bytes moved per GPU per step, for a
/// stage of `stage_params` parameters and `layers` layers of `layer_params` each, whose layer
/// keeps `layer_activation_bytes` per micro-batch, over `micro_batches` micro-batches.
pub(crate) struct OffloadTimes {
    /// Durations for the step graph.
    pub costs: MemoryCosts,
    /// Added to every ZeRO-3 gather: fetching the layer's shard from the tier first.
    pub fetch_per_gather_ns: u64,
    /// Bytes to and from the tier per GPU per step.
    pub step_bytes: u64,
}

/// The stage's shape as offload sees it.
pub(crate) struct StageShape {
    pub stage_params: u64,
    pub layer_params: u64,
    pub layers: u64,
    pub layer_activation_bytes: u64,
    pub micro_batches: u64,
}

/// Prices the transfers of `offload` for a stage of shape `st`.
pub(crate) fn times(offload: &Offload, plan: &Plan, st: &StageShape) -> OffloadTimes {
    let tier = &offload.tier;
    let bw = tier.all_busy_per_gpu_bytes_per_s();
    let move_ns = |bytes: u64| {
        if bytes == 0 {
            0
        } else {
            (tier.latency_ns + bytes as f64 / bw * 1e9).ceil() as u64
        }
    };
    let layer = stage_split(st.layer_params, offload, plan, st.layer_activation_bytes);
    let whole = stage_split(st.stage_params, offload, plan, st.layer_activation_bytes * st.layers);
    let p = &offload.plan;
    let before = whole.gradients.per_step.from_tier_bytes
        + whole.master_weights.per_step.from_tier_bytes
        + whole.optimizer_state.per_step.from_tier_bytes;
    let after = whole.master_weights.per_step.to_tier_bytes
        + whole.optimizer_state.per_step.to_tier_bytes
        + whole.parameters.per_step.to_tier_bytes
        + whole.parameters.per_step.from_tier_bytes;
    let cpu_optimizer_ns = p.optimizer_on_cpu.then(|| {
        let owned = if plan.zero_stage >= 1 {
            st.stage_params.div_ceil(plan.shard_group)
        } else {
            st.stage_params
        };
        let per_param = 2 * OPTIMIZER_BYTES_PER_PARAM
            + plan.grad_bytes_per_param
            + plan.weight_bytes_per_param();
        let share = tier.aggregate_bytes_per_s / f64::from(tier.gpus_sharing);
        (owned as f64 * per_param as f64 / share * 1e9).ceil() as u64
    });
    let costs = MemoryCosts {
        act_store_ns: move_ns(layer.activations.per_micro_batch.to_tier_bytes),
        act_load_ns: move_ns(layer.activations.per_micro_batch.from_tier_bytes),
        grad_store_ns: move_ns(layer.gradients.per_micro_batch.to_tier_bytes),
        state_load_ns: move_ns(before),
        state_store_ns: move_ns(after),
        cpu_optimizer_ns,
    };
    let traffic = whole.step_traffic(st.micro_batches);
    OffloadTimes {
        costs,
        fetch_per_gather_ns: move_ns(layer.parameters.per_micro_batch.from_tier_bytes / 2),
        step_bytes: traffic.to_tier_bytes + traffic.from_tier_bytes,
    }
}

#[cfg(test)]
#[path = "offload_tests.rs"]
mod tests;
