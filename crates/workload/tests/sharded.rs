//! ZeRO-3 gathers and reduce-scatters per pass, and the context-parallel exchange, as tasks.

use astrolabe_engine::run;
use astrolabe_workload::{build_step, RankLayout, RankMode, Schedule, StepCosts, StepShape};

/// One stage of `layers` layers, `m` micro-batches, ZeRO-3 with resharding.
fn zero3(layers: usize, m: usize) -> StepShape {
    StepShape {
        stages: 1,
        chunks: 1,
        layers_per_vstage: vec![layers],
        micro_batches: m,
        schedule: Schedule::OneFOneB,
        overlap_grad_reduce: true,
        param_gather: None,
        gather_every_pass: true,
        regather_for_backward: true,
        reduce_every_micro_batch: true,
        context_exchanges: false,
    }
}

fn count(graph: &astrolabe_engine::Graph, word: &str) -> usize {
    graph.tasks.iter().filter(|t| t.label.contains(word)).count()
}

#[test]
fn zero3_gathers_before_every_pass_and_scatters_after_every_backward() {
    let costs = StepCosts {
        layer_fwd_ns: 100,
        layer_bwd_ns: 200,
        gather_layer_ns: 10,
        dp_micro_ns: 20,
        ..Default::default()
    };
    let step = build_step(&zero3(4, 3), &costs, RankMode::Representative);
    // 4 layers × 3 micro-batches × (forward + backward) gathers, 4 × 3 reduce-scatters.
    assert_eq!(count(&step.graph, "gather"), 24);
    assert_eq!(count(&step.graph, "grad reduce"), 12);
    // Passes run F0 B0 F1 B1 F2 B2. Gathers hide behind the layer before, except: F0's first
    // (10 ns); each later forward's first, queued on the DP stream behind the previous
    // backward's last reduce-scatter (20 + 10 ns, twice); a backward's first gather runs
    // during the forward's last layer. The last reduce-scatter ends the step (20 ns):
    // compute 3 × 4 × 300 = 3600, + 10 + 30 + 30 + 20 = 3690.
    let tl = run(&step.graph).unwrap();
    assert_eq!(tl.makespan.0, 3690);
    // Without resharding the backward uses the forward's gathered weights: 12 gathers.
    let kept = StepShape { regather_for_backward: false, ..zero3(4, 3) };
    let step = build_step(&kept, &costs, RankMode::Representative);
    assert_eq!(count(&step.graph, "gather"), 12);
}

#[test]
fn gathers_run_at_most_one_layer_ahead() {
    // Gathers of 150 ns against 100 ns layers: gather L1 overlaps L0's forward, but gather L2
    // may only start when L0 is done (two layers whole at once), so the gathers set the pace:
    // forward of 3 layers ends at 150 + 150 + 150 + 100 = 550.
    let costs = StepCosts { layer_fwd_ns: 100, gather_layer_ns: 150, ..Default::default() };
    let shape = StepShape { regather_for_backward: false, ..zero3(3, 1) };
    let step = build_step(&shape, &costs, RankMode::Representative);
    let tl = run(&step.graph).unwrap();
    let l2 = step.graph.tasks.iter().position(|t| t.label == "s0 F mb0 L2").unwrap();
    assert_eq!(tl.spans[l2].end.0, 550);
}

#[test]
fn exposed_context_parallel_exchange_runs_after_each_layer_on_its_own_stream() {
    let costs = StepCosts {
        layer_fwd_ns: 100,
        layer_bwd_ns: 200,
        cp_fwd_ns: 5,
        cp_bwd_ns: 7,
        ..Default::default()
    };
    let shape =
        StepShape { gather_every_pass: false, reduce_every_micro_batch: false, ..zero3(2, 1) };
    let step = build_step(&shape, &costs, RankMode::Representative);
    let cp: Vec<_> = step.graph.tasks.iter().filter(|t| t.label.ends_with(" cp")).collect();
    assert_eq!(cp.len(), 4);
    assert!(cp.iter().all(|t| step.graph.streams[t.stream].ends_with("/cp")));
    // One micro-batch, 2 layers × (100 + 5 + 200 + 7) = 624: each exchange delays the next
    // layer (and the backward waits for the forward's last one).
    assert_eq!(run(&step.graph).unwrap().makespan.0, 624);
}

#[test]
fn per_rank_and_representative_agree_under_zero3() {
    let costs = StepCosts {
        layer_fwd_ns: 100,
        layer_bwd_ns: 200,
        gather_layer_ns: 30,
        dp_micro_ns: 40,
        tp_fwd_ns: 5,
        ..Default::default()
    };
    let one = run(&build_step(&zero3(3, 2), &costs, RankMode::Representative).graph).unwrap();
    let all = build_step(&zero3(3, 2), &costs, RankMode::PerRank(&RankLayout::tp_dp(2, 2)));
    assert_eq!(run(&all.graph).unwrap().makespan, one.makespan);
}

/// ZeRO-2 under zero bubble, one stage of 2 layers, 2 micro-batches (order F0 B0 W0 F1 B1 W1):
/// F 100, B 200 of which W 80, a reduce-scatter of 50 per layer and micro-batch, optimizer 30.
/// A layer's gradient is whole after its W, so each reduce-scatter follows a W: 2 × 2 of them.
/// F0 [0, 200], B0 (120 each) [200, 440], W0 L1 [440, 520] then its reduce [520, 570], W0 L0
/// [520, 600] then its reduce [600, 650]; the second micro-batch the same 600 later: W1 L0
/// ends 1,200, its reduce 1,250; the optimizer waits for it: [1,250, 1,280].
#[test]
fn zero2_reduce_scatters_after_each_weight_gradient_pass() {
    let costs = StepCosts {
        layer_fwd_ns: 100,
        layer_bwd_ns: 200,
        layer_wgrad_ns: 80,
        dp_micro_ns: 50,
        optimizer_ns: 30,
        ..Default::default()
    };
    let shape = StepShape {
        schedule: Schedule::ZeroBubble,
        gather_every_pass: false,
        regather_for_backward: false,
        ..zero3(2, 2)
    };
    let step = build_step(&shape, &costs, RankMode::Representative);
    let reduces: Vec<_> =
        step.graph.tasks.iter().filter(|t| t.label.contains("grad reduce")).collect();
    assert_eq!(reduces.len(), 2 * 2);
    for t in &reduces {
        let after: Vec<&str> = t.deps.iter().map(|&d| step.graph.tasks[d].label.as_str()).collect();
        assert_eq!(after.len(), 1);
        assert!(after[0].starts_with("s0 W "), "{} after {after:?}", t.label);
        assert!(t.label.starts_with("s0 W "), "{}", t.label);
    }
    assert_eq!(run(&step.graph).unwrap().makespan.0, 1280);
}

/// ZeRO-3 under zero bubble and DualPipe: gathers before every forward and (resharding) every
/// B, none for a W (it needs activations and output gradients, not weights); one
/// reduce-scatter per layer and micro-batch, after the W. 2 stages of 2 layers (DualPipe: 2
/// model stages, each stage holding both), 4 micro-batches: 4 layers × 4 × 2 gathers and
/// 4 × 4 reduce-scatters; and the graphs run to the end, per-rank agreeing.
#[test]
fn zero3_under_split_schedules_gathers_for_forward_and_b_only() {
    let costs = StepCosts {
        layer_fwd_ns: 100,
        layer_bwd_ns: 200,
        layer_wgrad_ns: 80,
        gather_layer_ns: 30,
        dp_micro_ns: 40,
        dual_grad_layer_ns: 20,
        optimizer_ns: 50,
        ..Default::default()
    };
    for schedule in [Schedule::ZeroBubble, Schedule::DualPipe] {
        let chunks = if schedule == Schedule::DualPipe { 2 } else { 1 };
        let shape = StepShape { stages: 2, chunks, schedule, ..zero3(2, 4) };
        let shape = StepShape { layers_per_vstage: vec![2, 2], ..shape };
        let step = build_step(&shape, &costs, RankMode::Representative);
        assert_eq!(count(&step.graph, "gather"), 4 * 4 * 2, "{schedule:?}");
        // Reduce-scatters (labelled with their W) and the W passes themselves: 16 each.
        assert_eq!(count(&step.graph, "grad reduce"), 4 * 4, "{schedule:?}");
        assert_eq!(count(&step.graph, " W mb"), 4 * 4 + 4 * 4, "{schedule:?}");
        let w_gathers = step.graph.tasks.iter().filter(|t| t.label.contains(" W mb"));
        assert_eq!(w_gathers.filter(|t| t.label.contains("gather")).count(), 0);
        let one = run(&step.graph).unwrap();
        let layout = RankLayout::tp_dp(2, 2);
        let all = build_step(&shape, &costs, RankMode::PerRank(&layout));
        assert_eq!(run(&all.graph).unwrap().makespan, one.makespan, "{schedule:?}");
    }
}
