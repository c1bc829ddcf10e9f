//! Pipeline bubbles emerge from the engine, and per-rank and representative runs agree.

use astrolabe_engine::{run, Category};
use astrolabe_workload::{build_step, RankLayout, RankMode, Schedule, StepCosts, StepShape};

fn shape(schedule: Schedule, stages: usize, chunks: usize, micro_batches: usize) -> StepShape {
    StepShape {
        stages,
        chunks,
        layers_per_vstage: vec![2; stages * chunks],
        micro_batches,
        schedule,
        overlap_grad_reduce: true,
        param_gather: None,
        gather_every_pass: false,
        regather_for_backward: false,
        reduce_every_micro_batch: false,
        context_exchanges: false,
    }
}

/// Compute only: forward 100 ns and backward 200 ns per layer, everything else free.
fn compute_only() -> StepCosts {
    StepCosts { layer_fwd_ns: 100, layer_bwd_ns: 200, ..Default::default() }
}

/// Half of each layer's TP communication moved beside the layer (a partial TP overlap).
fn half_beside(c: StepCosts) -> StepCosts {
    StepCosts {
        tp_fwd_ns: c.tp_fwd_ns / 2,
        tp_fwd_beside_ns: c.tp_fwd_ns - c.tp_fwd_ns / 2,
        tp_bwd_ns: c.tp_bwd_ns / 2,
        tp_bwd_beside_ns: c.tp_bwd_ns - c.tp_bwd_ns / 2,
        ..c
    }
}

fn step_ns(shape: &StepShape, costs: &StepCosts, mode: RankMode) -> u64 {
    let sg = build_step(shape, costs, mode);
    run(&sg.graph).unwrap().makespan.0
}

#[test]
fn one_f_one_b_bubble_is_p_minus_1_over_m_plus_p_minus_1() {
    for (p, m) in [(4, 8), (2, 1), (8, 16), (3, 7)] {
        let s = shape(Schedule::OneFOneB, p, 1, m);
        // Per stage and micro-batch: 2 layers × (100 + 200) ns.
        let per_mb = 600;
        let step = step_ns(&s, &compute_only(), RankMode::Representative);
        assert_eq!(step, (m + p - 1) as u64 * per_mb, "p={p} m={m}");
        let ideal = m as f64 * per_mb as f64;
        let bubble = (step as f64 - ideal) / step as f64;
        assert!((bubble - (p - 1) as f64 / (m + p - 1) as f64).abs() < 1e-12);
    }
}

#[test]
fn zero_bubble_shrinks_the_bubble_to_p_minus_1_times_f_plus_b_minus_w() {
    // Each layer: forward 100, backward 200 of which 100 is the weight gradient (W), so the
    // input-gradient pass B is 100 too. 1F1B: (m + p − 1)·(F + B + W) per stage with 2 layers.
    // ZB-H1 (Qi et al. 2024, §3): m·(F + B + W) + (p − 1)·(F + B − W).
    let costs = StepCosts { layer_wgrad_ns: 100, ..compute_only() };
    for (p, m) in [(4, 8), (3, 3), (8, 16)] {
        let one_f_one_b =
            step_ns(&shape(Schedule::OneFOneB, p, 1, m), &costs, RankMode::Representative);
        let zb = step_ns(&shape(Schedule::ZeroBubble, p, 1, m), &costs, RankMode::Representative);
        let (layers, f, b, w) = (2, 100, 100, 100);
        assert_eq!(one_f_one_b, (m + p - 1) as u64 * layers * (f + b + w), "p={p} m={m}");
        assert_eq!(
            zb,
            layers * (m as u64 * (f + b + w) + (p - 1) as u64 * (f + b - w)),
            "p={p} m={m}"
        );
    }
}

#[test]
fn zero_bubble_per_rank_agrees_with_representative() {
    let costs = StepCosts { layer_wgrad_ns: 100, tp_bwd_ns: 30, dp_layer_ns: 50, ..compute_only() };
    let s = shape(Schedule::ZeroBubble, 4, 1, 8);
    let rep = step_ns(&s, &costs, RankMode::Representative);
    assert_eq!(rep, step_ns(&s, &costs, RankMode::PerRank(&RankLayout::tp_dp(2, 2))));
}

#[test]
fn gpipe_has_the_same_bubble() {
    let s = shape(Schedule::Gpipe, 4, 1, 8);
    assert_eq!(step_ns(&s, &compute_only(), RankMode::Representative), 11 * 600);
}

#[test]
fn interleaving_divides_the_bubble_by_the_chunks() {
    // v = 2 chunks of 2 layers: per micro-batch a stage does 4 layers (1200 ns); bubble (p−1)·T/v.
    let (p, v, m) = (4, 2, 8);
    let s = shape(Schedule::Interleaved1F1B, p, v, m);
    let step = step_ns(&s, &compute_only(), RankMode::Representative);
    assert_eq!(step, (m as u64) * 1200 + (p as u64 - 1) * 1200 / v as u64);
}

#[test]
fn per_rank_and_representative_modes_agree() {
    let costs = StepCosts {
        layer_fwd_ns: 1000,
        layer_bwd_ns: 2100,
        tp_fwd_ns: 130,
        tp_bwd_ns: 150,
        first_fwd_ns: 40,
        last_fwd_ns: 300,
        last_bwd_ns: 500,
        p2p_ns: 77,
        dp_layer_ns: 900,
        dp_extra_ns: 1200,
        gather_layer_ns: 450,
        optimizer_ns: 3000,
        ..Default::default()
    };
    for schedule in [Schedule::Gpipe, Schedule::OneFOneB, Schedule::Interleaved1F1B] {
        for overlap in [false, true] {
            let chunks = if schedule == Schedule::Interleaved1F1B { 2 } else { 1 };
            let mut s = shape(schedule, 4, chunks, 8);
            s.overlap_grad_reduce = overlap;
            s.param_gather = Some(overlap);
            let costs = if overlap { half_beside(costs) } else { costs };
            let rep = step_ns(&s, &costs, RankMode::Representative);
            let all = step_ns(&s, &costs, RankMode::PerRank(&RankLayout::tp_dp(2, 4)));
            assert_eq!(rep, all, "{schedule:?} overlap={overlap}");
        }
    }
}

#[test]
fn communication_lengthens_the_step() {
    let s = shape(Schedule::OneFOneB, 4, 1, 8);
    let free = step_ns(&s, &compute_only(), RankMode::Representative);
    let costs = StepCosts { p2p_ns: 50, tp_fwd_ns: 10, dp_layer_ns: 10_000, ..compute_only() };
    assert!(step_ns(&s, &costs, RankMode::Representative) > free);
}

/// 1F1B over 4 stages holding [1, 2, 2, 1] layers, forward 1000 ns and backward 2000 ns per
/// layer, communication free. Per micro-batch stages 1 and 2 compute 6 µs, stages 0 and 3 3 µs.
/// In µs:
/// - fill: micro-batch 0 reaches stage 2 at 1 + 2 = 3; stage 2 runs F0 [3, 5] and F1 [5, 7] (one
///   warm-up forward, then the first steady-state one), then waits for stage 3's F0 [5, 6] and
///   B0 [6, 8]: its B0 runs [8, 12];
/// - steady state: from 8 on stage 2 never waits. It runs B(i) over [8 + 6i, 12 + 6i] and
///   F(i + 2) over [12 + 6i, 14 + 6i]; stage 1, in lock-step, runs B(i) over [12 + 6i, 16 + 6i]
///   and F(i + 3) over [16 + 6i, 18 + 6i], so F(i + 2)'s input is ready exactly at 12 + 6i, and
///   stage 3 returns B(i + 1) at 11 + 6i, before stage 2 needs it at 14 + 6i;
/// - drain: stage 2's last backward ends at 12 + 6(m − 1) = 6m + 6, then stage 1's (4 µs) and
///   stage 0's (2 µs): the step takes 6m + 10 µs for m >= 2: the slowest stages' 6 µs per
///   micro-batch, not the mean 4.5.
///
/// With one micro-batch the passes are serial: 6 forward + 12 backward = 18 µs.
#[test]
fn uneven_layers_the_slowest_stage_sets_the_pace() {
    let costs = StepCosts { layer_fwd_ns: 1000, layer_bwd_ns: 2000, ..Default::default() };
    for (m, expected_ns) in [(1, 18_000), (2, 22_000), (4, 34_000), (8, 58_000), (16, 106_000)] {
        let mut s = shape(Schedule::OneFOneB, 4, 1, m);
        s.layers_per_vstage = vec![1, 2, 2, 1];
        assert_eq!(step_ns(&s, &costs, RankMode::Representative), expected_ns, "m={m}");
        if m >= 2 {
            assert_eq!(expected_ns, 6000 * m as u64 + 10_000);
        }
    }
}

/// Every layer runs once forward and once backward per micro-batch, wherever it is placed.
#[test]
fn uneven_layers_compute_every_layer_once_per_micro_batch() {
    let costs = StepCosts { layer_fwd_ns: 1000, layer_bwd_ns: 2000, ..Default::default() };
    let cases = [
        (Schedule::OneFOneB, 1, vec![1, 2, 2, 1]),
        (Schedule::Gpipe, 1, vec![3, 1, 1, 2]),
        (Schedule::Interleaved1F1B, 2, vec![1, 2, 2, 2, 2, 2, 2, 1]),
    ];
    for (schedule, chunks, layout) in cases {
        let m = 8;
        let mut s = shape(schedule, 4, chunks, m);
        s.layers_per_vstage = layout;
        let sg = build_step(&s, &costs, RankMode::Representative);
        let timeline = run(&sg.graph).unwrap();
        let busy: u64 = sg
            .compute_streams
            .iter()
            .flatten()
            .map(|&stream| timeline.busy_by_category(&sg.graph, stream)[&Category::Compute])
            .sum();
        let layers: usize = s.layers_per_vstage.iter().sum();
        assert_eq!(busy, (layers * m) as u64 * 3000, "{schedule:?}");
    }
}

#[test]
fn uneven_layers_per_rank_and_representative_modes_agree() {
    let costs = StepCosts {
        layer_fwd_ns: 1000,
        layer_bwd_ns: 2100,
        tp_fwd_ns: 130,
        tp_bwd_ns: 150,
        first_fwd_ns: 40,
        last_fwd_ns: 300,
        last_bwd_ns: 500,
        p2p_ns: 77,
        dp_layer_ns: 900,
        dp_extra_ns: 1200,
        gather_layer_ns: 450,
        optimizer_ns: 3000,
        ..Default::default()
    };
    let cases = [
        (Schedule::OneFOneB, 1, vec![1, 2, 2, 1]),
        (Schedule::Interleaved1F1B, 2, vec![1, 2, 2, 2, 2, 2, 2, 1]),
    ];
    for (schedule, chunks, layout) in cases {
        for overlap in [false, true] {
            let mut s = shape(schedule, 4, chunks, 8);
            s.layers_per_vstage = layout.clone();
            s.overlap_grad_reduce = overlap;
            s.param_gather = Some(overlap);
            let costs = if overlap { half_beside(costs) } else { costs };
            let rep = step_ns(&s, &costs, RankMode::Representative);
            let all = step_ns(&s, &costs, RankMode::PerRank(&RankLayout::tp_dp(2, 4)));
            assert_eq!(rep, all, "{schedule:?} overlap={overlap}");
        }
    }
}

/// Layers are numbered by prefix sums over virtual stages: with 4 stages × 2 chunks holding
/// [1, 2, 2, 2 | 2, 2, 2, 1], stage 0 holds L0 (virtual stage 0) and L7–L8 (virtual stage 4),
/// stage 3 holds L5–L6 (virtual stage 3) and L13 (virtual stage 7).
#[test]
fn uneven_layers_are_numbered_by_prefix_sums() {
    let mut s = shape(Schedule::Interleaved1F1B, 4, 2, 4);
    s.layers_per_vstage = vec![1, 2, 2, 2, 2, 2, 2, 1];
    let costs = StepCosts { layer_fwd_ns: 1, layer_bwd_ns: 1, ..Default::default() };
    let sg = build_step(&s, &costs, RankMode::Representative);
    let layers_of = |stage: usize| {
        let stream = sg.compute_streams[stage][0];
        let mut layers: Vec<usize> = sg
            .graph
            .tasks
            .iter()
            .filter(|t| t.stream == stream && t.category == Category::Compute)
            .filter_map(|t| t.label.rsplit_once(" L")?.1.parse().ok())
            .collect();
        layers.sort_unstable();
        layers.dedup();
        layers
    };
    let expected: [&[usize]; 4] = [&[0, 7, 8], &[1, 2, 9, 10], &[3, 4, 11, 12], &[5, 6, 13]];
    for (stage, layers) in expected.into_iter().enumerate() {
        assert_eq!(layers_of(stage), layers, "stage {stage}");
    }
}

/// One stage, one micro-batch, one layer: forward 100 ns, backward 200 ns. TP forward 60 ns of
/// which 40 beside the layer, backward 90 of which 50 beside: the forward takes
/// max(100, 40) + 20 = 120 ns and the backward max(200, 50) + 40 = 240 ns; with the beside part
/// longer than the layer (forward 150 beside, 0 serial) the layer waits for it: 150 ns.
#[test]
fn tp_communication_beside_the_layer_hides_up_to_the_layer_time() {
    let mut s = shape(Schedule::OneFOneB, 1, 1, 1);
    s.layers_per_vstage = vec![1];
    let costs = StepCosts {
        tp_fwd_ns: 20,
        tp_fwd_beside_ns: 40,
        tp_bwd_ns: 40,
        tp_bwd_beside_ns: 50,
        ..compute_only()
    };
    assert_eq!(step_ns(&s, &costs, RankMode::Representative), 120 + 240);
    let long = StepCosts { tp_fwd_ns: 0, tp_fwd_beside_ns: 150, ..costs };
    assert_eq!(step_ns(&s, &long, RankMode::Representative), 150 + 240);
}
