use super::*;
use crate::scenario::{no_cluster_files, parse_scenario, DEFAULT_SCENARIO};

fn scenario(text: &str) -> Scenario {
    parse_scenario(text, "t.toml", &no_cluster_files).unwrap()
}

const SMALL: &str = r#"
[model]
preset = "llama3-8b"
[cluster]
preset = "dgx-h100-basepod"
nodes = 2
[plan]
tp = 4
pp = 2
global_batch = 16
zero_stage = 1
"#;

fn sum_s(b: &crate::breakdown::Breakdown) -> f64 {
    b.compute_s
        + b.exposed_tp_comm_s
        + b.exposed_pp_comm_s
        + b.exposed_dp_comm_s
        + b.pipeline_bubble_s
        + b.optimizer_s
        + b.other_s
        + b.step_overhead_s
}

#[test]
fn every_stage_breakdown_adds_up_to_the_step_time() {
    let r = simulate(&scenario(DEFAULT_SCENARIO), Mode::Representative).unwrap();
    assert_eq!(r.stage_breakdowns.len(), 6);
    for b in &r.stage_breakdowns {
        assert!((sum_s(b) - r.step_time_s).abs() < 1e-9, "{b:?} vs {}", r.step_time_s);
    }
    assert_eq!(r.breakdown, r.stage_breakdowns[r.breakdown_stage]);
}

#[test]
fn mfu_follows_its_definition() {
    let r = simulate(&scenario(DEFAULT_SCENARIO), Mode::Representative).unwrap();
    let flops = r.model_flops_per_token as f64 * r.tokens_per_step as f64;
    let expected = flops / (r.step_time_s * 96.0 * r.peak_flop_per_s);
    assert!((r.mfu - expected).abs() < 1e-12);
    assert_eq!(r.tokens_per_step, 1152 * 4096);
    assert!((r.tokens_per_s * r.step_time_s - 1152.0 * 4096.0).abs() < 1e-3);
    assert_eq!(r.hfu, r.mfu, "no recomputation: HFU = MFU");
}

#[test]
fn per_rank_and_representative_modes_agree() {
    let sc = scenario(SMALL);
    let rep = simulate(&sc, Mode::Representative).unwrap();
    let all = simulate(&sc, Mode::PerRank).unwrap();
    assert_eq!(all.simulated_gpus, 16);
    assert_eq!(rep.simulated_gpus, 2);
    assert_eq!(rep.step_time_s, all.step_time_s);
    assert_eq!(rep.breakdown, all.breakdown);
    assert_eq!(rep.traffic, all.traffic);
}

#[test]
fn a_plan_that_does_not_fit_is_simulated_and_reported_as_not_fitting() {
    let text = SMALL
        .replace("llama3-8b", "llama3-70b")
        .replace("pp = 2", "pp = 1")
        .replace("zero_stage = 1", "zero_stage = 0");
    let r = simulate(&scenario(&text), Mode::Representative).unwrap();
    assert!(!r.fits_in_memory);
    assert!(r.memory_peak_bytes > r.memory.capacity_bytes);
    assert!(r.step_time_s > 0.0);
}

#[test]
fn tp_traffic_stays_in_the_node_and_dp_crosses_it() {
    let r = simulate(&scenario(SMALL), Mode::Representative).unwrap();
    let (inner, outer) = (&r.traffic[0], &r.traffic[1]);
    assert!(inner.tp_bytes > 0 && outer.tp_bytes == 0);
    // tp-dp-pp on 2 nodes of 8: DP pairs (stride 4) share a node, PP pairs (stride 8) do not.
    assert!(inner.dp_bytes > 0 && outer.dp_bytes == 0);
    assert!(outer.pp_bytes > 0 && inner.pp_bytes == 0);
}

#[test]
fn more_micro_batches_shrink_the_bubble_share() {
    let few = simulate(&scenario(SMALL), Mode::Representative).unwrap();
    let many = simulate(
        &scenario(&SMALL.replace("global_batch = 16", "global_batch = 128")),
        Mode::Representative,
    )
    .unwrap();
    let share = |r: &SimReport| r.breakdown.pipeline_bubble_s / r.step_time_s;
    assert!(share(&many) < share(&few), "{} vs {}", share(&many), share(&few));
    assert!(many.mfu > few.mfu);
}

#[test]
fn the_output_is_deterministic() {
    let a = simulate(&scenario(SMALL), Mode::Representative).unwrap();
    let b = simulate(&scenario(SMALL), Mode::Representative).unwrap();
    assert_eq!(a, b);
}

/// The fixed per-step overhead is added once, after the step graph, and shows in the
/// breakdown: raising it by 0.25 s raises the step time by exactly 0.25 s.
#[test]
fn the_step_overhead_adds_to_the_step_once() {
    let mut sc = scenario(SMALL);
    sc.compute.step_overhead_s = 0.0;
    let base = simulate(&sc, Mode::Representative).unwrap();
    assert_eq!(base.breakdown.step_overhead_s, 0.0);
    sc.compute.step_overhead_s = 0.25;
    let r = simulate(&sc, Mode::Representative).unwrap();
    assert!((r.step_time_s - base.step_time_s - 0.25).abs() < 1e-9);
    assert!((r.breakdown.step_overhead_s - 0.25).abs() < 1e-12);
    assert!((sum_s(&r.breakdown) - r.step_time_s).abs() < 1e-9);
}
