//! Layers with routed experts: their own compute and dispatch/combine costs, from the first MoE
//! layer on.

use astrolabe_engine::run;
use astrolabe_workload::{build_step, MoeCosts, RankMode, Schedule, StepCosts, StepShape};

fn one_stage(layers: usize, m: usize) -> StepShape {
    StepShape {
        stages: 1,
        chunks: 1,
        layers_per_vstage: vec![layers],
        micro_batches: m,
        schedule: Schedule::OneFOneB,
        overlap_grad_reduce: false,
        param_gather: None,
        gather_every_pass: false,
        regather_for_backward: false,
        reduce_every_micro_batch: false,
    }
}

/// Layer 0 dense (100 + 200 ns), layers 1 to 3 MoE (150 + 300 ns of compute, 20 + 40 ns of
/// all-to-alls after each pass, exposed). Two micro-batches:
/// 2 × (100 + 200 + 3 × (150 + 20 + 300 + 40)) = 3,660 ns; then the gradient reductions of the
/// dense layer (5 ns) and of the three MoE layers (7 ns each) after the last backward: 26 ns.
#[test]
fn moe_layers_take_their_own_costs_and_all_to_alls() {
    let costs = StepCosts {
        layer_fwd_ns: 100,
        layer_bwd_ns: 200,
        dp_layer_ns: 5,
        moe: Some(MoeCosts {
            first_layer: 1,
            layer_fwd_ns: 150,
            layer_bwd_ns: 300,
            ep_fwd_ns: 20,
            ep_bwd_ns: 40,
            dp_layer_ns: 7,
            dp_micro_ns: 0,
            gather_layer_ns: 0,
        }),
        ..Default::default()
    };
    let step = build_step(&one_stage(4, 2), &costs, RankMode::Representative);
    let ep_tasks = step.graph.tasks.iter().filter(|t| t.label.ends_with(" ep")).count();
    assert_eq!(ep_tasks, 2 * 2 * 3);
    let tl = run(&step.graph).unwrap();
    assert_eq!(tl.makespan.0, 3660 + 5 + 3 * 7);
    // Without experts the same step is 2 × 4 × 300 + 4 × 5 ns.
    let dense = StepCosts { moe: None, ..costs };
    let tl = run(&build_step(&one_stage(4, 2), &dense, RankMode::Representative).graph).unwrap();
    assert_eq!(tl.makespan.0, 2400 + 20);
}
