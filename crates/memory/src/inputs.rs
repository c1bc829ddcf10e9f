//! The parallel plan as the memory accounting sees it, and its checks.

use astrolabe_core::InputError;
use astrolabe_model::{Recompute, TransformerModel};
use serde::Serialize;

/// Origin named by every error about [`MemoryInputs`].
pub const ORIGIN: &str = "parallel plan";
/// Largest accepted `pp`, `dp`, `virtual_stages` and `num_micro_batches` (1,048,576).
pub const MAX_DEGREE: u64 = 1 << 20;
/// Largest accepted bytes per parameter for weights or gradients (fp64).
pub const MAX_BYTES_PER_PARAM: u64 = 8;

/// The pipeline schedule, which decides how many micro-batches a stage keeps activations for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Schedule {
    /// All forward passes, then all backward passes (Huang et al. 2019): every stage keeps all
    /// `m` micro-batches.
    #[serde(rename = "gpipe")]
    GPipe,
    /// One forward, one backward (PipeDream-Flush, Narayanan et al. 2021 §2.2.1).
    #[serde(rename = "1f1b")]
    OneFOneB,
    /// 1F1B with `virtual_stages` model chunks per GPU (Narayanan et al. 2021 §2.2.2).
    #[serde(rename = "interleaved_1f1b")]
    Interleaved1F1B,
}

/// What [`crate::account`] needs to know about a training job's plan and precision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryInputs {
    /// Tensor-parallel degree; must divide the model's heads, kv_heads and ffn_hidden.
    pub tp: u64,
    /// Pipeline-parallel degree (stages); must divide the layers (times `virtual_stages`).
    pub pp: u64,
    /// Data-parallel degree; divides the state ZeRO shards.
    pub dp: u64,
    /// Model chunks per GPU: 1 = no interleaving; 2 or more only with
    /// [`Schedule::Interleaved1F1B`].
    pub virtual_stages: u64,
    /// Sequences per micro-batch.
    pub micro_batch: u64,
    /// Micro-batches per step and per data-parallel replica, `m`.
    pub num_micro_batches: u64,
    /// Pipeline schedule.
    pub schedule: Schedule,
    /// Megatron-LM sequence parallelism (norm and dropout activations split over `tp`).
    pub sequence_parallel: bool,
    /// Activation recomputation.
    pub recompute: Recompute,
    /// 0 = none; 1 = optimizer state sharded over `dp` (Megatron's distributed optimizer);
    /// 2 = gradients too; 3 = weights too (ZeRO-3 / FSDP), Rajbhandari et al. 2020 §5.
    pub zero_stage: u8,
    /// Bytes of each model weight: 2 for bf16/fp16.
    pub weight_bytes_per_param: u64,
    /// Bytes of each gradient: 2 for bf16/fp16 gradients (the ZeRO paper's K = 12 accounting,
    /// DeepSpeed); 4 for Megatron-LM's fp32 `main_grad` accumulation buffer, its default with
    /// bf16 (Megatron-LM documentation, "Distributed Optimizer": 18 B/param, or `6 + 12/d`
    /// with the distributed optimizer). Not in the original brief: a constant
    /// would silently pick one framework's answer.
    pub grad_bytes_per_param: u64,
    /// Bytes per GPU the framework keeps for itself (CUDA context, allocator fragmentation).
    pub framework_reserve_bytes: u64,
    /// Bytes per GPU of communication buffers (NCCL channels, pipeline send/recv buffers).
    pub comm_buffer_bytes: u64,
}

impl MemoryInputs {
    /// Checks every field against `model`; the error names the field and what was expected.
    pub fn validate(&self, model: &TransformerModel) -> Result<(), InputError> {
        let degrees = [
            ("pp", self.pp, MAX_DEGREE),
            ("dp", self.dp, MAX_DEGREE),
            ("virtual_stages", self.virtual_stages, MAX_DEGREE),
            ("num_micro_batches", self.num_micro_batches, MAX_DEGREE),
            ("weight_bytes_per_param", self.weight_bytes_per_param, MAX_BYTES_PER_PARAM),
            ("grad_bytes_per_param", self.grad_bytes_per_param, MAX_BYTES_PER_PARAM),
        ];
        for (field, value, max) in degrees {
            if value == 0 || value > max {
                return Err(error(field, format!("an integer from 1 to {max}, got {value}")));
            }
        }
        if self.zero_stage > 3 {
            return Err(error("zero_stage", format!("0, 1, 2 or 3, got {}", self.zero_stage)));
        }
        self.check_pipeline(model.layers)
    }

    /// Megatron-LM's rules: `layers % pp == 0`; interleaving needs `pp >= 2`, `v >= 2` and
    /// `layers % (pp·v) == 0`; the other schedules need `v == 1`.
    fn check_pipeline(&self, layers: u64) -> Result<(), InputError> {
        let (pp, v) = (self.pp, self.virtual_stages);
        if layers % pp != 0 {
            let expected = format!("a divisor of the model's layers ({layers}), got {pp}");
            return Err(error("pp", expected));
        }
        if self.schedule != Schedule::Interleaved1F1B {
            if v != 1 {
                let expected = format!("1 unless the schedule is interleaved_1f1b, got {v}");
                return Err(error("virtual_stages", expected));
            }
            return Ok(());
        }
        if pp < 2 {
            return Err(error("pp", "at least 2 with the interleaved_1f1b schedule, got 1"));
        }
        if v < 2 || layers % (pp * v) != 0 {
            let per_stage = layers / pp;
            let expected = format!(
                "at least 2 and a divisor of the layers per stage ({per_stage}) with the \
                 interleaved_1f1b schedule, got {v}"
            );
            return Err(error("virtual_stages", expected));
        }
        Ok(())
    }
}

fn error(field: &str, expected: impl Into<String>) -> InputError {
    InputError::new(ORIGIN, field, expected)
}
