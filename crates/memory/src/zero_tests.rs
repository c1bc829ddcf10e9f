//! ZeRO stages 1–3 and context parallelism against published and hand-worked figures.

use super::*;
use crate::account::tests::plan;
use crate::params::{gathered_bytes, layer_params_per_gpu, state_bytes};
use astrolabe_model::preset;

/// Rajbhandari et al. 2020, Figure 1: Ψ = 7.5B parameters, N_d = 64, K = 12, fp16 weights and
/// gradients: 120 GB without ZeRO, 31.4 GB with P_os, 16.6 GB with P_os+g, 1.9 GB with
/// P_os+g+p. Exactly: 16Ψ; 4Ψ + 12Ψ/64; 2Ψ + 14Ψ/64; 16Ψ/64.
#[test]
fn state_per_gpu_matches_the_zero_paper() {
    let psi = 7_500_000_000;
    let total = |stage: u8| {
        let s = state_bytes(psi, &plan(1, 1, 64, stage, 2));
        s.weights + s.gradients + s.optimizer
    };
    assert_eq!(total(0), 120_000_000_000);
    assert_eq!(total(1), 31_406_250_000);
    assert_eq!(total(2), 16_640_625_000);
    assert_eq!(total(3), 1_875_000_000);
}

/// ZeRO-3's working set on the toy model (one layer on a rank: `layer` parameters): two
/// layers' whole bf16 weights (4·layer bytes) and one layer's fp32 gradient (4·layer) with
/// resharding; every layer of the stage without it.
#[test]
fn zero3_holds_two_gathered_layers_and_one_gradient() {
    let model = crate::account::tests::toy();
    let layer = layer_params_per_gpu(&model, 1);
    let mut inputs = plan(1, 1, 8, 3, 4);
    assert_eq!(gathered_bytes(&model, &inputs, 14), 2 * layer * 2 + layer * 4);
    inputs.reshard_after_forward = false;
    assert_eq!(gathered_bytes(&model, &inputs, 14), 14 * layer * 2 + layer * 4);
    assert_eq!(gathered_bytes(&model, &plan(1, 1, 8, 2, 4), 14), 0);
    let report = account(&model, &plan(1, 1, 8, 3, 4), 0).unwrap();
    assert_eq!(report.stages[0].gathered_bytes, 8 * layer);
    let s = &report.stages[0];
    let parts = s.weights_bytes
        + s.gradients_bytes
        + s.optimizer_bytes
        + s.gathered_bytes
        + s.activations_bytes
        + s.comm_buffers_bytes
        + s.reserve_bytes;
    assert_eq!(s.total_bytes, parts);
}

/// Context parallelism splits the sequence, hence the activations: Llama 3 8B at s = 8192,
/// full recomputation (2sbh per layer, the layer input alone): CP 2 keeps 2·4096·4096 bytes a
/// layer instead of 2·8192·4096.
#[test]
fn context_parallel_ranks_keep_their_share_of_the_activations() {
    let model = preset("llama3-8b").unwrap();
    let layer_bytes = |cp: u64| {
        let inputs = MemoryInputs { cp, ..plan(1, 32, 1, 0, 4) };
        let report = account(&model, &inputs, 0).unwrap();
        report.stages[1].activations_bytes / report.stages[1].in_flight_micro_batches
    };
    assert_eq!(layer_bytes(1), 2 * 8192 * 4096);
    assert_eq!(layer_bytes(2), 2 * 4096 * 4096);
}
