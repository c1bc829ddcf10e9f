//! Hand-computed timings and monotonicity properties of the compute model.

use super::*;
use crate::calibration::Generation;
use astrolabe_hardware::accelerator::{catalog, find};
use proptest::prelude::*;

fn gemm(name: &'static str, m: u64, n: u64, k: u64, batch: u64) -> LayerOp {
    LayerOp { name, kind: OpKind::Gemm { m, n, k, batch } }
}

fn memory(bytes: u64) -> LayerOp {
    LayerOp { name: "layernorm1", kind: OpKind::Memory { bytes } }
}

fn gpu(name: &str) -> Accelerator {
    find(name, "test").unwrap()
}

/// Time of `op` on `gpu_name` with its own generation's constants.
fn time(op: LayerOp, gpu_name: &str, precision: Precision) -> f64 {
    let g = gpu(gpu_name);
    ComputeModel::for_gpu(&g).op_time_s(&op, &g, precision).unwrap()
}

fn assert_close(got: f64, want: f64) {
    assert!(((got - want) / want).abs() < 1e-12, "got {got:e}, want {want:e}");
}

#[test]
fn hand_computed_times_on_h100() {
    let cases = [
        // 8192³ BF16: flops 2·8192³ = 1.0995e12; shape (8192/8320)³ = (64/65)³ = 0.95455, so
        // the compute term is 2·8320³ / (989.4e12 × 0.715) = 1.628254e-3 s (0.715: Hopper's
        // fitted fraction); bytes 3·8192²·2 = 402.7 MB take 150 µs at 0.80 × 3.35 TB/s, less.
        // Plus 3 µs.
        (gemm("mlp_up", 8192, 8192, 8192, 1), Precision::Bf16, 1.631_253_523_715_015_4e-3),
        // Same at FP8: 2·8320³ / (1978.9e12 × 0.525) + 3 µs.
        (gemm("mlp_up", 8192, 8192, 8192, 1), Precision::Fp8, 1.111_707_084_503_415_7e-3),
        // 1 GB memory-bound: 1e9 / (3.35e12 × 0.80) = 373.134 µs, plus 3 µs.
        (memory(1_000_000_000), Precision::Bf16, 3.761_343_283_582_09e-4),
        // Skinny GEMM 8192×8192×16: compute 2·8320²·144 / 707.42e12 = 28.2 µs, but bytes
        // 2·(2·8192·16 + 8192²) = 134,742,016 take 50.28 µs at 2.68 TB/s: memory-bound.
        (gemm("qkv_proj", 8192, 8192, 16, 1), Precision::Bf16, 5.327_687_164_179_104e-5),
        // Attention scores, 32 heads·sequences of 4096×4096×128: 2·4096²·128·32 = 1.374e11
        // FLOPs at 989.4e12 × 0.50, no shape curve, no memory term, plus 3 µs.
        (gemm("attn_scores", 4096, 4096, 128, 32), Precision::Bf16, 2.808_228_289_306_650_6e-4),
        // Attention stays at the BF16 peak when GEMMs run in FP8.
        (gemm("attn_values", 4096, 128, 4096, 32), Precision::Fp8, 2.808_228_289_306_650_6e-4),
    ];
    for (op, precision, want) in cases {
        assert_close(time(op, "h100-sxm", precision), want);
    }
}

#[test]
fn empty_gemm_costs_only_the_overhead() {
    assert_eq!(time(gemm("mlp_up", 0, 0, 0, 1), "h100-sxm", Precision::Bf16), 3e-6);
}

#[test]
fn fp8_is_faster_than_bf16_on_large_gemms() {
    let op = gemm("mlp_up", 16384, 16384, 16384, 1);
    let (bf16, fp8) = (time(op, "h100-sxm", Precision::Bf16), time(op, "h100-sxm", Precision::Fp8));
    // Ratio of rates: (1978.9 × 0.525) / (989.4 × 0.715) = 1.469, diluted only by the overhead.
    assert!((bf16 / fp8 - 1.469).abs() < 0.01, "{}", bf16 / fp8);
}

#[test]
fn a100_refuses_fp8_for_every_op_naming_the_gpu() {
    let a100 = gpu("a100-sxm-80gb");
    let model = ComputeModel::for_gpu(&a100);
    for op in [gemm("mlp_up", 64, 64, 64, 1), memory(1000)] {
        let e = model.op_time_s(&op, &a100, Precision::Fp8).unwrap_err();
        assert!(e.expected.contains("a100-sxm-80gb"), "{e}");
    }
}

#[test]
fn ops_time_is_the_sum_of_op_times() {
    let h100 = gpu("h100-sxm");
    let model = ComputeModel::for_gpu(&h100);
    let ops = [gemm("mlp_up", 8192, 8192, 8192, 1), memory(1_000_000_000)];
    let sum = model.ops_time_s(&ops, &h100, Precision::Bf16).unwrap();
    assert_close(sum, 1.631_253_523_715_015_4e-3 + 3.761_343_283_582_09e-4);
}

#[test]
fn adam_step_of_a_billion_parameters_on_h100() {
    // 1e9 × 30 B = 30 GB at 0.80 × 3.35 TB/s = 11.194 ms, plus 3 µs.
    let h100 = gpu("h100-sxm");
    let t = ComputeModel::for_gpu(&h100).optimizer_step_time_s(
        1_000_000_000,
        crate::ADAM_BYTES_PER_PARAM,
        &h100,
    );
    assert_close(t, 1.119_702_985_074_626_8e-2);
}

#[test]
fn generations_by_name() {
    let cases = [
        ("a100-sxm-40gb", Generation::Ampere),
        ("a100-sxm-80gb", Generation::Ampere),
        ("h100-sxm", Generation::Hopper),
        ("H200-SXM", Generation::Hopper),
        ("h800-sxm", Generation::Hopper),
        ("gh200", Generation::Hopper),
        ("b200", Generation::Blackwell),
        ("gb200", Generation::Blackwell),
        ("mi300x", Generation::Other),
    ];
    for (name, generation) in cases {
        assert_eq!(Generation::of(name), generation, "{name}");
    }
    for g in catalog() {
        assert_ne!(ComputeModel::for_gpu(&g).generation, Generation::Other, "{}", g.name);
    }
}

#[test]
fn unknown_gpu_falls_back_to_hopper_constants_labelled_other() {
    let mut odd = gpu("h100-sxm");
    odd.name = "mi300x".into();
    let model = ComputeModel::for_gpu(&odd);
    assert_eq!(model.generation, Generation::Other);
    assert_eq!(ComputeModel { generation: Generation::Hopper, ..model }, ComputeModel::HOPPER);
}

#[test]
fn constants_are_fractions() {
    for m in [ComputeModel::AMPERE, ComputeModel::HOPPER, ComputeModel::BLACKWELL] {
        for f in [m.gemm_fraction, m.fp8_gemm_fraction, m.attention_fraction, m.hbm_fraction] {
            assert!(f > 0.0 && f <= 1.0, "{m:?}");
        }
        assert!(m.gemm_half_dim > 0.0 && m.kernel_overhead_s > 0.0);
    }
}

fn any_gemm() -> impl Strategy<Value = (u64, u64, u64, u64)> {
    (1u64..20_000, 1u64..20_000, 1u64..20_000, 1u64..64)
}

proptest! {
    #[test]
    fn bigger_gemm_is_never_faster(
        (m, n, k, batch) in any_gemm(),
        grow in 0u64..5_000,
        dim in 0usize..4,
        attention in any::<bool>(),
    ) {
        let name = if attention { "attn_scores" } else { "mlp_up" };
        let mut bigger = [m, n, k, batch];
        bigger[dim] += grow;
        let small = time(gemm(name, m, n, k, batch), "h100-sxm", Precision::Bf16);
        let big = time(gemm(name, bigger[0], bigger[1], bigger[2], bigger[3]), "h100-sxm",
            Precision::Bf16);
        prop_assert!(big >= small, "{big} < {small}");
    }

    #[test]
    fn higher_peak_or_bandwidth_is_never_slower(
        (m, n, k, batch) in any_gemm(),
        faster in 1.0f64..4.0,
        bytes in 0u64..10_000_000_000,
    ) {
        let base = gpu("h100-sxm");
        let mut quick = base.clone();
        quick.bf16.flop_per_s *= faster;
        quick.hbm_bandwidth = quick.hbm_bandwidth.scaled(faster);
        let model = ComputeModel::HOPPER;
        for op in [gemm("mlp_up", m, n, k, batch), gemm("attn_scores", m, n, k, batch),
            memory(bytes)] {
            let slow = model.op_time_s(&op, &base, Precision::Bf16).unwrap();
            let fast = model.op_time_s(&op, &quick, Precision::Bf16).unwrap();
            prop_assert!(fast <= slow, "{op:?}: {fast} > {slow}");
        }
    }
}

#[test]
fn a_gpt3_layer_runs_on_every_catalog_gpu() {
    let model = astrolabe_model::preset("gpt3-175b").unwrap();
    let ops = astrolabe_model::layer_forward_ops(&model, 1, 8, true).unwrap();
    for g in catalog() {
        let t = ComputeModel::for_gpu(&g).ops_time_s(&ops, &g, Precision::Bf16).unwrap();
        // At least the sum of the overheads, and well under a second.
        assert!(t > ops.len() as f64 * 3e-6 && t < 1.0, "{}: {t}", g.name);
    }
}
