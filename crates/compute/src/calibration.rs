//! The calibration constants of the compute model, per GPU generation, with their evidence.
//!
//! This is the only place where kernel efficiencies live. Each value is either taken from a
//! public measurement (named beside it), a stated assumption, or **fitted**: six constants
//! (Ampere's and Hopper's BF16 GEMM fraction and per-step overhead, Hopper's FP8 GEMM fraction
//! and TP-overlap share) are the output of `astrolabe calibrate` on the training entries of
//! `shared/data/validation/dev.json`, one set per generation, nothing per entry. The procedure,
//! the entries and a leave-one-publisher-out check are in docs/calibration.md, which a test
//! compares with the values here. The fit starts from the public figures quoted below (the
//! MAMF GEMM fractions, no overhead, ideal overlap).
//!
//! MAMF below is the "maximum achievable matmul FLOPS" table of Stas Bekman's *Machine Learning
//! Engineering* book (github.com/stas00/ml-engineering, compute/accelerator): the best BF16 or
//! FP8 `torch.matmul` rate found by scanning large shapes, divided by the dense datasheet peak.

use astrolabe_hardware::Accelerator;
use serde::Serialize;

/// GPU generation whose constants a [`ComputeModel`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// A100 (names starting `a100`).
    Ampere,
    /// H100, H200, H800, GH200 (names starting `h100`, `h200`, `h800`, `gh200`).
    Hopper,
    /// B100, B200, GB200 (names starting `b100`, `b200`, `gb200`).
    Blackwell,
    /// Any other name: Hopper's constants, labelled so reports show the fallback.
    Other,
}

impl Generation {
    /// The generation of a catalog name, by prefix, case-insensitive.
    pub fn of(gpu_name: &str) -> Generation {
        let name = gpu_name.trim().to_ascii_lowercase();
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| name.starts_with(p));
        if starts(&["a100"]) {
            Generation::Ampere
        } else if starts(&["h100", "h200", "h800", "gh200"]) {
            Generation::Hopper
        } else if starts(&["b100", "b200", "gb200"]) {
            Generation::Blackwell
        } else {
            Generation::Other
        }
    }
}

/// Kernel efficiencies of one GPU generation: what fraction of the datasheet peaks real kernels
/// reach, and what every kernel costs on top.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComputeModel {
    /// Which generation's constants these are.
    pub generation: Generation,
    /// Fraction of the dense BF16/FP16 peak that very large GEMMs reach (the ceiling of the shape
    /// curve).
    pub gemm_fraction: f64,
    /// Fraction of the dense FP8 peak that very large FP8 GEMMs reach; FP4 GEMMs use it too, for
    /// want of a measurement.
    pub fp8_gemm_fraction: f64,
    /// Shape curve: a GEMM dimension `d` contributes a factor `d / (d + gemm_half_dim)`.
    pub gemm_half_dim: f64,
    /// Fraction of the dense BF16 peak that fused (flash) attention reaches, forward and
    /// backward together.
    pub attention_fraction: f64,
    /// Fraction of the datasheet HBM bandwidth that memory-bound kernels reach.
    pub hbm_fraction: f64,
    /// Fixed cost of every kernel, seconds: launch gap, prologue and tail.
    pub kernel_overhead_s: f64,
    /// Share of a layer's tensor-parallel communication that runs hidden beside the layer's
    /// GEMMs when TP communication overlap is on (the rest stays exposed after the layer).
    pub tp_overlap_fraction: f64,
    /// Fixed cost of every training step, seconds, beyond the step graph: host-side work
    /// (gradient-norm and loss reductions, logging, the data loader, synchronisation).
    pub step_overhead_s: f64,
}

/// Shape curve half-point, shared by all generations. A dimension of 128, one edge of the usual
/// 128×128 and 128×256 cuBLAS/CUTLASS output tiles on Ampere and Hopper, reaches half
/// efficiency in its factor: one tile per row or column leaves most SMs idle and pays the whole
/// pipeline fill. Not fitted. At MAMF's best H100 shape (6144×17920×2816) the curve gives 0.930,
/// so large GEMMs are predicted up to ~7% slower than the best measured shape.
const HALF_DIM: f64 = 128.0;

/// Fixed per-kernel cost, shared by all generations: a kernel launch costs a few µs, and when
/// the CPU runs ahead what remains is a gap between dependent kernels plus the kernel's own
/// ramp-up and tail, of the same order. 3 µs is mid-range of the 2-5 µs commonly quoted; an
/// assumption, not a measurement of ours, and not fitted.
const KERNEL_OVERHEAD_S: f64 = 3e-6;

/// Memory-bound kernels: STREAM-style copies reach about 90% of datasheet HBM bandwidth on A100
/// and H100 (≈ 3.0 of 3.35 TB/s is the figure usually reported for H100 SXM); element-wise
/// training kernels (norms, bias-dropout-add, activations) are shorter and do more per byte, so
/// 0.80 is taken for all generations. An assumption, not a fit.
const HBM_FRACTION: f64 = 0.80;

/// Share of TP communication hidden by overlap (Transformer Engine's userbuffers overlap of
/// all-gather and reduce-scatter with the neighbouring GEMMs), fitted on Hopper
/// (docs/calibration.md): the first chunk of a pipelined overlap cannot hide, and the
/// communication kernels take SMs from the GEMMs. Reused for the other generations, whose
/// dev.json runs never overlap TP communication.
pub const TP_OVERLAP_FRACTION: f64 = 0.9;

/// Hopper's fitted BF16 GEMM fraction (docs/calibration.md); its MAMF is 0.80.
const HOPPER_GEMM_FRACTION: f64 = 0.715;
/// Hopper's fitted FP8 GEMM fraction (docs/calibration.md); its MAMF is 0.73 (H200 SXM).
const HOPPER_FP8_GEMM_FRACTION: f64 = 0.525;
/// Hopper's fitted fixed cost per step, seconds (docs/calibration.md).
const HOPPER_STEP_OVERHEAD_S: f64 = 0.075;

impl ComputeModel {
    /// A100. GEMM: MAMF 267.9 of 312 TFLOP/s = 85.9% (A100 SXM, CUDA 12.1) was the start;
    /// training runs reach less (clocks under sustained load, real shapes, the kernels between
    /// GEMMs), and the fit gives 0.805, with 0.03 s of fixed cost per step
    /// (docs/calibration.md). Attention: FlashAttention-2 (Dao 2023, arXiv:2307.08691) reaches
    /// 50-73% of peak on A100, forward best, backward lower; 0.60 is mid-range. No FP8: the
    /// field copies the MAMF BF16 fraction and is never used (`Accelerator::peak` refuses FP8).
    pub const AMPERE: ComputeModel = ComputeModel {
        generation: Generation::Ampere,
        gemm_fraction: 0.805,
        fp8_gemm_fraction: 0.86,
        gemm_half_dim: HALF_DIM,
        attention_fraction: 0.60,
        hbm_fraction: HBM_FRACTION,
        kernel_overhead_s: KERNEL_OVERHEAD_S,
        tp_overlap_fraction: TP_OVERLAP_FRACTION,
        step_overhead_s: 0.03,
    };

    /// H100/H200/H800 (one GH100 compute die). GEMM: the fit (docs/calibration.md) started
    /// from MAMF 792.1 (H100 SXM) and 794.5 (H200 SXM) of 989 TFLOP/s = 80%, and FP8 MAMF
    /// 1453.4 of 1979 = 73.4% (H200 SXM). Attention: FlashAttention-2 reaches ~35% of H100 peak
    /// and FlashAttention-3 (Shah et al. 2024, arXiv:2407.08608) up to 75% forward in BF16,
    /// backward lower; 0.50 sits between them (not fitted).
    pub const HOPPER: ComputeModel = ComputeModel {
        generation: Generation::Hopper,
        gemm_fraction: HOPPER_GEMM_FRACTION,
        fp8_gemm_fraction: HOPPER_FP8_GEMM_FRACTION,
        gemm_half_dim: HALF_DIM,
        attention_fraction: 0.50,
        hbm_fraction: HBM_FRACTION,
        kernel_overhead_s: KERNEL_OVERHEAD_S,
        tp_overlap_fraction: TP_OVERLAP_FRACTION,
        step_overhead_s: HOPPER_STEP_OVERHEAD_S,
    };

    /// B200/GB200: no training run in dev.json, so nothing is fitted. GEMM: MAMF 1745.0 of 2250
    /// TFLOP/s = 77.6% (B200 SXM) and FP8 3432.5 of 4500 = 76.3%, each scaled by Hopper's
    /// fitted-to-MAMF ratio (0.715 / 0.80 and 0.525 / 0.734), on the assumption that training
    /// loses to the benchmark what it loses on Hopper. Attention: Hopper's 0.50 assumed; step
    /// overhead and TP overlap: Hopper's.
    pub const BLACKWELL: ComputeModel = ComputeModel {
        generation: Generation::Blackwell,
        gemm_fraction: 0.776 * HOPPER_GEMM_FRACTION / 0.80,
        fp8_gemm_fraction: 0.763 * HOPPER_FP8_GEMM_FRACTION / 0.734,
        gemm_half_dim: HALF_DIM,
        attention_fraction: 0.50,
        hbm_fraction: HBM_FRACTION,
        kernel_overhead_s: KERNEL_OVERHEAD_S,
        tp_overlap_fraction: TP_OVERLAP_FRACTION,
        step_overhead_s: HOPPER_STEP_OVERHEAD_S,
    };

    /// The constants of `gpu`'s generation, chosen by its name (see [`Generation::of`]). An
    /// unknown name falls back to Hopper's constants, the best-measured generation, with
    /// `generation` set to [`Generation::Other`] so that reports say so.
    pub fn for_gpu(gpu: &Accelerator) -> ComputeModel {
        match Generation::of(&gpu.name) {
            Generation::Ampere => Self::AMPERE,
            Generation::Hopper => Self::HOPPER,
            Generation::Blackwell => Self::BLACKWELL,
            Generation::Other => ComputeModel { generation: Generation::Other, ..Self::HOPPER },
        }
    }
}

/// Bytes of HBM traffic per parameter of one mixed-precision Adam step, as Megatron-LM runs it
/// (FP32 main gradients, FP32 master weights and moments): read the FP32 gradient (4), read and
/// write the FP32 master weight, first and second moments (3 × 8 = 24), write the BF16 weight
/// (2) = 30. With BF16 gradients it is 28. (The 16-18 bytes per parameter often quoted is what
/// is *stored*, not what one step moves.)
pub const ADAM_BYTES_PER_PARAM: u64 = 30;
