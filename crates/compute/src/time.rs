//! Roofline time of one operation: the slower of its compute and its memory traffic, plus a
//! fixed per-kernel overhead.
//!
//! - GEMM: `max(flops / (peak × fraction × shape), bytes / (hbm × hbm_fraction)) + overhead`,
//!   where `shape = Π d / (d + d_half)` over `m`, `n`, `k`. The compute term is therefore
//!   `2·batch·(m + d_half)(n + d_half)(k + d_half) / (peak × fraction)`: each dimension is
//!   padded by `d_half`, which makes time strictly increasing in every dimension. `batch` does
//!   not change efficiency (batched kernels fill the GPU across the batch).
//! - Attention (`attn_scores`, `attn_values`): one flash-attention kernel computes both; time is
//!   `flops / (BF16 peak × attention_fraction) + overhead`, whatever the training precision
//!   (FP8 attention is opt-in in Transformer Engine and not modelled). No memory term: the
//!   scores stay on chip. No shape curve: the published fractions are already for head
//!   dimensions of 64-256.
//! - Memory-bound: `bytes / (hbm × hbm_fraction) + overhead`.
//!
//! GEMM bytes are counted at BF16 even for FP8 GEMMs ([`LayerOp::bytes`]), a small overestimate
//! that matters only for GEMMs that are memory-bound anyway.

use astrolabe_core::InputError;
use astrolabe_hardware::{Accelerator, Precision};
use astrolabe_model::{LayerOp, OpKind};

use crate::calibration::ComputeModel;

/// Operation names that run inside the fused attention kernel.
pub const ATTENTION_OPS: [&str; 2] = ["attn_scores", "attn_values"];

impl ComputeModel {
    /// The shape factor `Π d / (d + d_half)` over `m`, `n`, `k`, in `[0, 1)`.
    pub fn shape_factor(&self, m: u64, n: u64, k: u64) -> f64 {
        [m, n, k].iter().map(|&d| d as f64 / (d as f64 + self.gemm_half_dim)).product()
    }

    /// Fraction of the peak at `precision` that a plain GEMM of this shape reaches.
    pub fn gemm_efficiency(&self, m: u64, n: u64, k: u64, precision: Precision) -> f64 {
        let ceiling = match precision {
            Precision::Bf16 | Precision::Fp16 => self.gemm_fraction,
            Precision::Fp8 | Precision::Fp4 => self.fp8_gemm_fraction,
        };
        ceiling * self.shape_factor(m, n, k)
    }

    /// Seconds to run `op` on `gpu` with GEMMs at `precision`. Fails, naming the GPU, if `gpu`
    /// lacks `precision`, whatever the operation, so that a plan is refused as a whole.
    pub fn op_time_s(
        &self,
        op: &LayerOp,
        gpu: &Accelerator,
        precision: Precision,
    ) -> Result<f64, InputError> {
        let peak = gpu.peak(precision)?.flop_per_s;
        let memory_s = self.memory_time_s(op.bytes(), gpu);
        let busy_s = match op.kind {
            OpKind::Memory { .. } => memory_s,
            OpKind::Gemm { .. } if ATTENTION_OPS.contains(&op.name) => {
                let rate = gpu.bf16.flop_per_s * self.attention_fraction;
                op.flops() as f64 / rate
            }
            OpKind::Gemm { m, n, k, .. } => {
                let efficiency = self.gemm_efficiency(m, n, k, precision);
                let compute_s = match op.flops() {
                    0 => 0.0,
                    flops => flops as f64 / (peak * efficiency),
                };
                compute_s.max(memory_s)
            }
        };
        Ok(busy_s + self.kernel_overhead_s)
    }

    /// Seconds to run `ops` one after another (one kernel each).
    pub fn ops_time_s(
        &self,
        ops: &[LayerOp],
        gpu: &Accelerator,
        precision: Precision,
    ) -> Result<f64, InputError> {
        ops.iter().map(|op| self.op_time_s(op, gpu, precision)).sum()
    }

    /// Seconds for one optimizer step over `params_per_gpu` parameters that each move
    /// `bytes_per_param_touched` bytes to or from HBM (Adam in mixed precision:
    /// [`crate::ADAM_BYTES_PER_PARAM`]); memory-bound, one fused kernel's overhead.
    pub fn optimizer_step_time_s(
        &self,
        params_per_gpu: u64,
        bytes_per_param_touched: u64,
        gpu: &Accelerator,
    ) -> f64 {
        let bytes = params_per_gpu.saturating_mul(bytes_per_param_touched);
        self.memory_time_s(bytes, gpu) + self.kernel_overhead_s
    }

    /// Seconds to move `bytes` through HBM at the achievable fraction of its bandwidth.
    pub fn memory_time_s(&self, bytes: u64, gpu: &Accelerator) -> f64 {
        bytes as f64 / (gpu.hbm_bandwidth.bytes_per_s * self.hbm_fraction)
    }
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
