use super::*;
use astrolabe_model::{preset, Recompute};
use serde_json::json;

/// 512 sequences of 2048 tokens (1,048,576 tokens) on 32 GPUs in 8 s: 4,096 tokens per second
/// per GPU. Model FLOPs 1.2e10 per token, 1.6e10 executed (recomputation), A100 peak 312 TFLOP/s.
fn outcome() -> Outcome {
    Outcome {
        step_time_s: 8.0,
        sequences_per_step: 512.0,
        tokens_per_step: 1_048_576.0,
        gpus: 32.0,
        model_flops_per_token: 1.2e10,
        hardware_flops_per_token: 1.6e10,
        peak_flop_per_s: 312e12,
        memory_peak_bytes: 61.5e9,
    }
}

fn close(got: f64, want: f64) {
    assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn model_tflops_per_gpu_counts_model_flops() {
    // 4,096 tokens/s/GPU × 1.2e10 FLOPs = 4.9152e13 FLOP/s = 49.152 TFLOP/s.
    close(Metric::ModelTflopsPerGpu.predict(&outcome()), 49.152);
}

#[test]
fn mfu_is_model_tflops_over_the_peak() {
    // 49.152 / 312 = 0.157538461538…
    close(Metric::Mfu.predict(&outcome()), 49.152 / 312.0);
    close(Metric::Mfu.predict(&outcome()), 0.157_538_461_538_461_5);
}

#[test]
fn hfu_and_hardware_tflops_count_recomputation() {
    // 4,096 × 1.6e10 = 6.5536e13 FLOP/s = 65.536 TFLOP/s; / 312 = 0.210051282051…
    close(Metric::HardwareTflopsPerGpu.predict(&outcome()), 65.536);
    close(Metric::Hfu.predict(&outcome()), 0.210_051_282_051_282_05);
}

#[test]
fn throughput_and_memory_conventions() {
    // 1,048,576 / 8 = 131,072 tokens/s; / 32 = 4,096 per GPU; 512 / 8 = 64 sequences/s.
    let o = outcome();
    close(Metric::TokensPerS.predict(&o), 131_072.0);
    close(Metric::TokensPerSPerGpu.predict(&o), 4096.0);
    close(Metric::SamplesPerS.predict(&o), 64.0);
    close(Metric::StepTimeS.predict(&o), 8.0);
    close(Metric::MemoryPeakGb.predict(&o), 61.5);
}

#[test]
fn narayanan_hardware_flops_are_what_sc21_tflops_count() {
    // SC21 Table 1, 1.7B row: l = 24, h = 2304, s = 2048, V = 51200, full recomputation.
    // Per token 96lh²(1 + s/6h + V/16lh) = 96lh² + 16slh + 6hV
    //   = 12,230,590,464 + 1,811,939,328 + 707,788,800 = 14,750,318,592.
    // Model FLOPs (Korthikanti): 72lh² + 12slh + 6hV
    //   = 9,172,942,848 + 1,358,954,496 + 707,788,800 = 11,239,686,144.
    let m = preset("megatron-gpt-1.7b").unwrap();
    assert_eq!(m.hardware_flops_per_token(Recompute::Full), 14_750_318_592);
    assert_eq!(m.model_flops_per_token(), 11_239_686_144);
    // In 13.7 s per step of 1,048,576 tokens on 32 GPUs: 14,750,318,592 × 32,768 / 13.7 / 1e12
    // = 35.28 TFLOP/s hardware; the model figure is 11,239,686,144 / 14,750,318,592 = 0.762 of it.
    let o = Outcome {
        step_time_s: 13.7,
        model_flops_per_token: 11_239_686_144.0,
        hardware_flops_per_token: 14_750_318_592.0,
        ..outcome()
    };
    close(Metric::HardwareTflopsPerGpu.predict(&o), 14_750_318_592.0 * 32_768.0 / 13.7 / 1e12);
    close(Metric::ModelTflopsPerGpu.predict(&o), 11_239_686_144.0 * 32_768.0 / 13.7 / 1e12);
}

fn entry_with(metrics: serde_json::Value) -> serde_json::Value {
    json!({ "id": "x", "kind": "training", "metrics": metrics })
}

fn measured_of(v: &serde_json::Value) -> Vec<Measured> {
    measured(&Entry::new(v, 0, "d.json").unwrap()).unwrap()
}

#[test]
fn tflops_definition_decides_model_or_hardware() {
    let sc21 = entry_with(json!({
        "tflops_per_gpu": 137, "pct_of_peak": 44,
        "tflops_definition": "F=96Bslh^2(…) incl. recompute forward (hardware-FLOP style)"
    }));
    let m = measured_of(&sc21);
    assert_eq!((m[0].metric, m[0].value), (Metric::HardwareTflopsPerGpu, 137.0));
    assert_eq!((m[1].metric, m[1].value), (Metric::Hfu, 0.44));
    let megatron = entry_with(json!({ "tflops_per_gpu": 408.8, "mfu_pct": 41 }));
    let m = measured_of(&megatron);
    assert_eq!((m[0].metric, m[0].value), (Metric::Mfu, 0.41));
    assert_eq!((m[1].metric, m[1].value), (Metric::ModelTflopsPerGpu, 408.8));
}

#[test]
fn primary_prefers_step_time_then_throughput_then_utilization() {
    let e = entry_with(json!({ "mfu_pct": 51.4, "hfu_pct": 52.8, "step_time_s": 13.75 }));
    let keys: Vec<&str> = measured_of(&e).iter().map(|m| m.key).collect();
    assert_eq!(keys, ["step_time_s", "mfu_pct", "hfu_pct"]);
    let e = entry_with(json!({ "model_tflops_per_gpu": 736, "tokens_per_s_per_gpu": 22521 }));
    assert_eq!(measured_of(&e)[0].metric, Metric::TokensPerSPerGpu);
}

#[test]
fn nulls_are_not_figures_and_no_figure_is_a_skip() {
    let e = entry_with(json!({ "step_time_s": 1.42, "mfu_pct": null }));
    assert_eq!(measured_of(&e).len(), 1);
    let none = entry_with(json!({ "hpl_rmax_pflops": 33.95 }));
    let skip = measured(&Entry::new(&none, 0, "d.json").unwrap()).unwrap_err();
    assert!(skip.0.starts_with("no comparable metric"), "{}", skip.0);
}
