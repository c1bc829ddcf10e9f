//! Pipeline bubbles emerge from the engine, and per-rank and representative runs agree.

use astrolabe_engine::run;
use astrolabe_workload::{build_step, RankMode, Schedule, StepCosts, StepShape};

fn shape(schedule: Schedule, stages: usize, chunks: usize, micro_batches: usize) -> StepShape {
    StepShape {
        stages,
        chunks,
        layers: stages * chunks * 2,
        micro_batches,
        schedule,
        overlap_tp: false,
        overlap_grad_reduce: true,
        param_gather: None,
    }
}

/// Compute only: forward 100 ns and backward 200 ns per layer, everything else free.
fn compute_only() -> StepCosts {
    StepCosts { layer_fwd_ns: 100, layer_bwd_ns: 200, ..Default::default() }
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
    };
    for schedule in [Schedule::Gpipe, Schedule::OneFOneB, Schedule::Interleaved1F1B] {
        for overlap in [false, true] {
            let chunks = if schedule == Schedule::Interleaved1F1B { 2 } else { 1 };
            let mut s = shape(schedule, 4, chunks, 8);
            s.overlap_tp = overlap;
            s.overlap_grad_reduce = overlap;
            s.param_gather = Some(overlap);
            let rep = step_ns(&s, &costs, RankMode::Representative);
            let all = step_ns(&s, &costs, RankMode::PerRank { tp: 2, dp: 4 });
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
