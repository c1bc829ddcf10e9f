//! Layers with routed experts: their own compute and dispatch/combine costs, from the first MoE
//! layer on.

use astrolabe_engine::run;
use astrolabe_workload::{
    build_step, MoeCosts, RankGroups, RankLayout, RankMode, Schedule, StageRank, StepCosts,
    StepShape,
};

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
        context_exchanges: false,
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
            dp_dense_ns: 3,
            gather_layer_ns: 0,
            gather_dense_ns: 0,
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

/// The same step on 4 ranks with expert parallelism: EP pairs {0, 1} and {2, 3}, expert-data
/// pairs {0, 2} and {1, 3}, one data group. Each MoE layer's reduction (7 ns) becomes the dense
/// part (3 ns) over the data group and the experts' (4 ns) over the expert-data pair, after it
/// on the DP stream: the step stays 3,660 + 5 + 3 × (3 + 4) ns, as in representative mode.
#[test]
fn expert_parallel_ranks_split_the_moe_reduction_and_keep_the_step() {
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
            dp_dense_ns: 3,
            ..Default::default()
        }),
        ..Default::default()
    };
    let ranks = (0..4)
        .map(|i| StageRank {
            name: format!("dp{i}/tp0"),
            groups: RankGroups { tp: i, cp: i, ep: i / 2, data: 0, expert_data: i % 2 },
        })
        .collect();
    let layout = RankLayout::new(ranks);
    assert!(layout.splits_expert_reduction());
    let step = build_step(&one_stage(4, 2), &costs, RankMode::PerRank(&layout));
    assert_eq!(run(&step.graph).unwrap().makespan.0, 3660 + 5 + 3 * 7);
    let experts: Vec<_> =
        step.graph.tasks.iter().filter(|t| t.label.contains("expert grad reduce")).collect();
    assert_eq!(experts.len(), 4 * 3);
    assert!(experts.iter().all(|t| t.duration_ns == 4 && t.rendezvous.is_some()));
    let dense = step.graph.tasks.iter().filter(|t| t.label.starts_with("s0 grad reduce L"));
    let durations: Vec<u64> = dense.map(|t| t.duration_ns).collect();
    // Per rank: layers 3, 2, 1 (MoE, 3 ns) and 0 (dense, 5 ns), in backward order.
    assert_eq!(durations, [3, 3, 3, 5].repeat(4));
    // Each EP task meets its pair: 12 EP tasks per rank, 24 rendezvous of 2.
    let ep = step.graph.tasks.iter().filter(|t| t.label.ends_with(" ep"));
    let mut met = std::collections::BTreeMap::new();
    for t in ep {
        *met.entry(t.rendezvous.unwrap()).or_insert(0) += 1;
    }
    assert_eq!((met.len(), met.values().all(|&n| n == 2)), (24, true));
}
