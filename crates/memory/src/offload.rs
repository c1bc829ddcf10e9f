//! The memory accounting of offload: which bytes of a GPU's state stay in HBM, which live on a
//! slower tier (host DRAM, CXL, a pool), and how many cross the link to it, independent of time.
//!
//! **Sources.** ZeRO-Offload (Ren et al. 2021, arXiv 2101.06840 §4): the fp16 gradients go
//! down to the CPU, which holds the fp32 master weights and Adam's moments and runs the step,
//! and the updated fp16 parameters come back up: `2Ψ` each way per step, `2Ψ/N` per rank when
//! ZeRO-2 partitions the gradients over `N` ranks. ZeRO-Infinity (Rajbhandari et al. 2021,
//! arXiv 2104.07857 §5–6): with ZeRO-3 the parameters too live off the GPU, each rank fetching
//! its own partition for every forward and every backward pass (then gathering it over the GPU
//! fabric). Activation offload: a checkpointed activation is written in the forward and read
//! back in the backward.
//!
//! **States** (mixed-precision Adam, as [`crate::params`] counts them, with the same ZeRO
//! sharding and rounding, taken from [`state_bytes`]): parameters at `weight_bytes` per
//! parameter, gradients at `grad_bytes`, and the 12 B/param optimizer state split into fp32
//! master weights (4 B, a third of it, rounded up) and Adam's two moments (8 B, the rest).
//!
//! **Traffic** is per GPU, in each direction, and comes in two parts: [`Traffic`] per
//! micro-batch (parameter fetches, gradients moved down as each backward produces them and
//! accumulated on the tier, activations) and per optimizer step (the step's reads and writes).
//! [`OffloadSplit::step_traffic`] adds them for a step of `m` micro-batches.
//!
//! **What stays out.** Working buffers (ZeRO-3's gathered layers,
//! [`crate::params::gathered_bytes`]; gradient buckets on their way down; the layer whose
//! activations are being written or read) remain in HBM and are accounted where they are
//! today, not here.

use astrolabe_core::InputError;
use astrolabe_model::Recompute;
use serde::{Deserialize, Serialize};

use crate::inputs::{MemoryInputs, Schedule};
use crate::params::{state_bytes, OPTIMIZER_BYTES_PER_PARAM};

/// Bytes of fp32 master weights per parameter, part of [`OPTIMIZER_BYTES_PER_PARAM`].
pub const MASTER_WEIGHT_BYTES_PER_PARAM: u64 = 4;

/// A part of a GPU's training state that can be offloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Offloaded {
    /// Adam's first and second moments, 8 B/param in fp32.
    OptimizerState,
    /// The fp32 master copy of the weights, 4 B/param.
    MasterWeights,
    /// Gradients, at the job's gradient width.
    Gradients,
    /// The model weights used by the forward and backward passes (fp16/bf16).
    Parameters,
    /// Activations kept from the forward for the backward.
    Activations,
}

impl Offloaded {
    /// Every part, in the order [`OffloadSplit`] lists them.
    pub const ALL: [Offloaded; 5] = [
        Offloaded::Parameters,
        Offloaded::Gradients,
        Offloaded::MasterWeights,
        Offloaded::OptimizerState,
        Offloaded::Activations,
    ];
}

/// What a job offloads, and where its optimizer step runs. All false by default (nothing
/// offloaded, the GPU steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OffloadPlan {
    /// Adam's moments live on the tier.
    pub optimizer_state: bool,
    /// The fp32 master weights live on the tier.
    pub master_weights: bool,
    /// Gradients live on the tier.
    pub gradients: bool,
    /// The fp16/bf16 parameters live on the tier (ZeRO-Infinity; needs ZeRO-3).
    pub parameters: bool,
    /// Activations live on the tier between their forward and their backward.
    pub activations: bool,
    /// The optimizer step runs on the CPU, on the tier's copy (ZeRO-Offload).
    pub optimizer_on_cpu: bool,
}

impl OffloadPlan {
    /// Whether `what` lives on the tier under this plan.
    pub fn offloads(&self, what: Offloaded) -> bool {
        match what {
            Offloaded::OptimizerState => self.optimizer_state,
            Offloaded::MasterWeights => self.master_weights,
            Offloaded::Gradients => self.gradients,
            Offloaded::Parameters => self.parameters,
            Offloaded::Activations => self.activations,
        }
    }

    /// Refuses plans that contradict themselves or the ZeRO stage:
    /// - `zero_stage` above 3;
    /// - `optimizer_on_cpu` without `optimizer_state` and `master_weights`: the CPU cannot step
    ///   state it does not hold;
    /// - `optimizer_on_cpu` without `gradients`: the CPU steps on gradients in its memory, so
    ///   they must go there (ZeRO-Offload moves them down as the backward produces them);
    /// - `parameters` below ZeRO-3: fetching the weights pass by pass is ZeRO-3's per-layer
    ///   gather (ZeRO-Infinity builds on it); below stage 3 every rank keeps whole weights for
    ///   the whole step, so there is nothing to fetch them into.
    pub fn validate(&self, zero_stage: u8, origin: &str) -> Result<(), InputError> {
        let error = |field: &str, expected: &str| {
            Err(InputError::new(origin, format!("offload.{field}"), expected))
        };
        if zero_stage > 3 {
            let expected = format!("0, 1, 2 or 3, got {zero_stage}");
            return Err(InputError::new(origin, "zero_stage", expected));
        }
        if self.optimizer_on_cpu && !(self.optimizer_state && self.master_weights) {
            return error(
                "optimizer_on_cpu",
                "optimizer_state and master_weights offloaded too: the CPU cannot step what it \
                 does not hold",
            );
        }
        if self.optimizer_on_cpu && !self.gradients {
            return error(
                "optimizer_on_cpu",
                "gradients offloaded too: the CPU steps on gradients in its own memory",
            );
        }
        if self.parameters && zero_stage < 3 {
            return error(
                "parameters",
                "zero_stage 3: parameters are fetched pass by pass only by ZeRO-3's per-layer \
                 gather",
            );
        }
        Ok(())
    }
}

/// Bytes crossing the link between HBM and the tier, per GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Traffic {
    /// From HBM to the tier.
    pub to_tier_bytes: u64,
    /// From the tier to HBM.
    pub from_tier_bytes: u64,
}

impl Traffic {
    fn both_ways(bytes: u64) -> Traffic {
        Traffic { to_tier_bytes: bytes, from_tier_bytes: bytes }
    }

    fn plus(self, other: Traffic) -> Traffic {
        Traffic {
            to_tier_bytes: self.to_tier_bytes.saturating_add(other.to_tier_bytes),
            from_tier_bytes: self.from_tier_bytes.saturating_add(other.from_tier_bytes),
        }
    }

    fn times(self, factor: u64) -> Traffic {
        Traffic {
            to_tier_bytes: self.to_tier_bytes.saturating_mul(factor),
            from_tier_bytes: self.from_tier_bytes.saturating_mul(factor),
        }
    }
}

/// Where one part of the state lives and what it moves, per GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StateSplit {
    /// Bytes that stay in HBM.
    pub hbm_bytes: u64,
    /// Bytes that live on the tier.
    pub tier_bytes: u64,
    /// Bytes moved for each micro-batch (its forward and backward).
    pub per_micro_batch: Traffic,
    /// Bytes moved once per optimizer step.
    pub per_step: Traffic,
}

impl StateSplit {
    fn resident(bytes: u64, offloaded: bool) -> StateSplit {
        let (hbm_bytes, tier_bytes) = if offloaded { (0, bytes) } else { (bytes, 0) };
        StateSplit { hbm_bytes, tier_bytes, ..StateSplit::default() }
    }
}

/// The per-GPU split of every part of the state under an [`OffloadPlan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OffloadSplit {
    /// fp16/bf16 weights.
    pub parameters: StateSplit,
    /// Gradients.
    pub gradients: StateSplit,
    /// fp32 master weights.
    pub master_weights: StateSplit,
    /// Adam's moments.
    pub optimizer_state: StateSplit,
    /// Activations of one micro-batch.
    pub activations: StateSplit,
}

impl OffloadSplit {
    /// The split of one part.
    pub fn part(&self, what: Offloaded) -> &StateSplit {
        match what {
            Offloaded::Parameters => &self.parameters,
            Offloaded::Gradients => &self.gradients,
            Offloaded::MasterWeights => &self.master_weights,
            Offloaded::OptimizerState => &self.optimizer_state,
            Offloaded::Activations => &self.activations,
        }
    }

    /// Bytes of all parts that stay in HBM.
    pub fn hbm_bytes(&self) -> u64 {
        self.sum(|part| part.hbm_bytes)
    }

    /// Bytes of all parts on the tier.
    pub fn tier_bytes(&self) -> u64 {
        self.sum(|part| part.tier_bytes)
    }

    /// Bytes crossing the link in a step of `micro_batches` micro-batches, each way.
    pub fn step_traffic(&self, micro_batches: u64) -> Traffic {
        Offloaded::ALL.iter().map(|&what| self.part(what)).fold(Traffic::default(), |sum, part| {
            sum.plus(part.per_micro_batch.times(micro_batches)).plus(part.per_step)
        })
    }

    fn sum(&self, bytes: impl Fn(&StateSplit) -> u64) -> u64 {
        Offloaded::ALL.iter().fold(0, |sum, &what| sum.saturating_add(bytes(self.part(what))))
    }
}

/// Splits one GPU's state between HBM and the tier under `plan`, with the bytes it moves.
///
/// `params_per_gpu` parameters held by the GPU (its tensor/pipeline share), their ZeRO state
/// sharded over `shard` ranks at `zero_stage` (as [`crate::params`] does: optimizer state from
/// stage 1, gradients from 2, weights from 3); `activation_bytes` the activations one
/// micro-batch keeps for its backward (a schedule with `k` micro-batches in flight holds `k`
/// times that on the tier). Call [`OffloadPlan::validate`] first; an invalid plan still gets
/// an answer, not a panic (a `shard` of 0 counts as 1, byte counts saturate).
///
/// Moves, per GPU:
/// - parameters offloaded: their shard fetched up for every forward and every backward
///   (2 × per micro-batch); after a GPU step the updated shard written back down;
/// - parameters in HBM with the CPU stepping: the updated weights of the rank's optimizer
///   shard come up once per step;
/// - gradients offloaded: moved down every micro-batch (accumulated on the tier); a GPU step
///   reads its optimizer shard's gradients back up. Under ZeRO-1 a rank holds whole gradients
///   ([`crate::params`]), so all of them go down although the step needs only its shard:
///   offload with ZeRO-2, as ZeRO-Offload does;
/// - master weights or moments offloaded with the GPU stepping: read up and written back down
///   once per step; with the CPU stepping they never cross;
/// - activations offloaded: written down in the forward, read up in the backward.
pub fn split(
    params_per_gpu: u64,
    shard: u64,
    zero_stage: u8,
    weight_bytes: u64,
    grad_bytes: u64,
    plan: &OffloadPlan,
    activation_bytes: u64,
) -> OffloadSplit {
    let shard = shard.max(1);
    // Widths above 8 B are refused upstream (`MemoryInputs::validate`); this keeps absurd
    // inputs from overflowing instead of answering them exactly.
    let widest = weight_bytes.max(grad_bytes).max(OPTIMIZER_BYTES_PER_PARAM);
    let params_per_gpu = params_per_gpu.min(u64::MAX / widest);
    let state =
        state_bytes(params_per_gpu, &zero_inputs(shard, zero_stage, weight_bytes, grad_bytes));
    let master =
        state.optimizer.div_ceil(OPTIMIZER_BYTES_PER_PARAM / MASTER_WEIGHT_BYTES_PER_PARAM);
    let owned =
        |bytes_per_param: u64| owned_bytes(params_per_gpu, bytes_per_param, shard, zero_stage);
    let gpu_step = !plan.optimizer_on_cpu;
    OffloadSplit {
        parameters: parameters(state.weights, owned(weight_bytes), plan),
        gradients: gradients(state.gradients, owned(grad_bytes), plan),
        master_weights: optimizer_part(master, plan.master_weights, gpu_step),
        optimizer_state: optimizer_part(state.optimizer - master, plan.optimizer_state, gpu_step),
        activations: activations(activation_bytes, plan.activations),
    }
}

/// Bytes of the parameters whose optimizer state this rank owns and steps: its `1/shard` from
/// ZeRO-1 on, rounded up as [`crate::params`] rounds every shard; all of them at stage 0.
fn owned_bytes(params: u64, bytes_per_param: u64, shard: u64, zero_stage: u8) -> u64 {
    let bytes = params.saturating_mul(bytes_per_param);
    if zero_stage >= 1 {
        bytes.div_ceil(shard)
    } else {
        bytes
    }
}

fn parameters(weights: u64, owned: u64, plan: &OffloadPlan) -> StateSplit {
    let mut split = StateSplit::resident(weights, plan.parameters);
    match (plan.parameters, plan.optimizer_on_cpu) {
        (true, cpu) => {
            split.per_micro_batch.from_tier_bytes = weights.saturating_mul(2);
            // The CPU updates the tier's copy in place; a GPU step writes its shard back.
            split.per_step.to_tier_bytes = if cpu { 0 } else { weights };
        }
        (false, true) => split.per_step.from_tier_bytes = owned,
        (false, false) => {}
    }
    split
}

fn gradients(gradients: u64, owned: u64, plan: &OffloadPlan) -> StateSplit {
    let mut split = StateSplit::resident(gradients, plan.gradients);
    if plan.gradients {
        split.per_micro_batch.to_tier_bytes = gradients;
        split.per_step.from_tier_bytes = if plan.optimizer_on_cpu { 0 } else { owned };
    }
    split
}

fn optimizer_part(bytes: u64, offloaded: bool, gpu_step: bool) -> StateSplit {
    let mut split = StateSplit::resident(bytes, offloaded);
    if offloaded && gpu_step {
        split.per_step = Traffic::both_ways(bytes);
    }
    split
}

fn activations(bytes: u64, offloaded: bool) -> StateSplit {
    let mut split = StateSplit::resident(bytes, offloaded);
    if offloaded {
        split.per_micro_batch = Traffic::both_ways(bytes);
    }
    split
}

/// The plan [`state_bytes`] reads: its sharding, stage and widths; every other field is
/// neutral (it reads none of them).
fn zero_inputs(shard: u64, zero_stage: u8, weight_bytes: u64, grad_bytes: u64) -> MemoryInputs {
    MemoryInputs {
        tp: 1,
        pp: 1,
        dp: shard,
        cp: 1,
        ep: 1,
        expert_tp: 1,
        expert_dp: 1,
        virtual_stages: 1,
        micro_batch: 1,
        num_micro_batches: 1,
        schedule: Schedule::OneFOneB,
        first_stage_layers: None,
        last_stage_layers: None,
        sequence_parallel: false,
        recompute: Recompute::None,
        zero_stage,
        reshard_after_forward: true,
        weight_bytes_per_param: weight_bytes,
        grad_bytes_per_param: grad_bytes,
        framework_reserve_bytes: 0,
        comm_buffer_bytes: 0,
    }
}

#[cfg(test)]
#[path = "offload_tests.rs"]
mod tests;
