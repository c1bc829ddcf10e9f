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

/// The costs of the four-layer step below: a dense layer 0, MoE layers from 1 on, the MoE
/// reduction of 7 ns of which 3 are the dense part's.
fn four_layer_costs() -> StepCosts {
    StepCosts {
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
    }
}

/// Layer 0 dense (100 + 200 ns), layers 1 to 3 MoE (150 + 300 ns of compute, 20 + 40 ns of
/// all-to-alls after each pass, exposed). Two micro-batches:
/// 2 × (100 + 200 + 3 × (150 + 20 + 300 + 40)) = 3,660 ns; then the gradient reductions of the
/// dense layer (5 ns) and of the three MoE layers (7 ns each) after the last backward: 26 ns.
#[test]
fn moe_layers_take_their_own_costs_and_all_to_alls() {
    let costs = four_layer_costs();
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
    let costs = four_layer_costs();
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

/// One stage under zero bubble (order F0 B0 W0 F1 B1 W1), layer 0 dense (F 100, B 200 of which
/// W 60), layer 1 MoE (F 150, B 300 of which W 110, all-to-alls 20 forward and 40 backward).
/// B keeps backward − W: 140 for L0, 190 for L1; each W is its own layer's. One micro-batch:
/// F 100 + 150 + 20, B 190 + 40 + 140, W 110 + 60 = 810 ns. The once-per-step reductions
/// (dense 5, MoE 7, overlapped) wait for each layer's last W: the second micro-batch's W of L1
/// ends at 810 + 750 = 1,560 (reduce to 1,567), its W of L0 at 1,620 (reduce to 1,625).
#[test]
fn weight_gradient_passes_of_moe_layers_take_the_moe_time() {
    let costs = StepCosts {
        layer_fwd_ns: 100,
        layer_bwd_ns: 200,
        layer_wgrad_ns: 60,
        dp_layer_ns: 5,
        moe: Some(MoeCosts {
            first_layer: 1,
            layer_fwd_ns: 150,
            layer_bwd_ns: 300,
            layer_wgrad_ns: 110,
            ep_fwd_ns: 20,
            ep_bwd_ns: 40,
            dp_layer_ns: 7,
            ..Default::default()
        }),
        ..Default::default()
    };
    let shape =
        StepShape { schedule: Schedule::ZeroBubble, overlap_grad_reduce: true, ..one_stage(2, 2) };
    let step = build_step(&shape, &costs, RankMode::Representative);
    let duration =
        |label: &str| step.graph.tasks.iter().find(|t| t.label == label).map(|t| t.duration_ns);
    assert_eq!(duration("s0 B mb0 L1"), Some(190));
    assert_eq!(duration("s0 W mb0 L1"), Some(110));
    assert_eq!(duration("s0 B mb0 L0"), Some(140));
    assert_eq!(duration("s0 W mb0 L0"), Some(60));
    let tl = run(&step.graph).unwrap();
    let end = |label: &str| {
        let i = step.graph.tasks.iter().position(|t| t.label == label).unwrap();
        tl.spans[i].end.0
    };
    assert_eq!(end("s0 W mb1 L1"), 1560);
    assert_eq!(end("s0 grad reduce L1"), 1567);
    assert_eq!(tl.makespan.0, 1625);
}

/// `stages` stages of one MoE layer each (the dense layer costs are zero and unused), `m`
/// micro-batches, under `schedule`.
fn moe_pipeline_ns(schedule: Schedule, stages: usize, m: usize, ep_ns: (u64, u64)) -> u64 {
    let chunks = if schedule == Schedule::DualPipe { 2 } else { 1 };
    let shape = StepShape {
        stages,
        chunks,
        layers_per_vstage: vec![1; stages],
        schedule,
        ..one_stage(1, m)
    };
    let moe = MoeCosts {
        first_layer: 0,
        layer_fwd_ns: 100,
        layer_bwd_ns: 200,
        layer_wgrad_ns: 100,
        ep_fwd_ns: ep_ns.0,
        ep_bwd_ns: ep_ns.1,
        ..Default::default()
    };
    let costs = StepCosts { moe: Some(moe), ..Default::default() };
    run(&build_step(&shape, &costs, RankMode::Representative).graph).unwrap().makespan.0
}

/// Unit time with MoE layers (F = B = W = 100 ns, as `unit_case_dualpipe_against_1f1b_and_zb_h1`
/// in tests/dualpipe.rs with dense layers): p = 4, m = 8 gives the same 33, 27 and 25 units for
/// 1F1B, ZB-H1 and DualPipe, so the split takes the MoE layer's own W (the dense W is 0 here).
/// With all-to-alls (20 ns forward, 40 backward) the split schedules stay no slower than 1F1B,
/// and strictly faster where the bubble matters (p = 4).
#[test]
fn split_schedules_with_moe_layers_are_no_slower_than_1f1b() {
    let of = |schedule, p, m, ep| moe_pipeline_ns(schedule, p, m, ep);
    let free = (0, 0);
    assert_eq!(of(Schedule::OneFOneB, 4, 8, free), 3300);
    assert_eq!(of(Schedule::ZeroBubble, 4, 8, free), 2700);
    assert_eq!(of(Schedule::DualPipe, 4, 8, free), 2500);
    let ep = (20, 40);
    for (p, m) in [(2, 2), (2, 4), (4, 8)] {
        let one = of(Schedule::OneFOneB, p, m, ep);
        let zb = of(Schedule::ZeroBubble, p, m, ep);
        let dual = of(Schedule::DualPipe, p, m, ep);
        assert!(zb <= one && dual <= one, "p={p} m={m}: 1F1B {one}, ZB {zb}, DualPipe {dual}");
        if p == 4 {
            assert!(zb < one && dual < zb, "p={p} m={m}: 1F1B {one}, ZB {zb}, DualPipe {dual}");
        }
    }
}
