//! The split-backward schedules (zero bubble, DualPipe) with experts and with ZeRO-2/3.

use super::*;
use crate::scenario::{no_cluster_files, parse_scenario};

fn scenario(text: &str) -> Scenario {
    parse_scenario(text, "t.toml", &no_cluster_files).unwrap()
}

fn step_s(sc: &Scenario) -> f64 {
    simulate(sc, Mode::Representative).unwrap().step_time_s
}

/// Mixtral 8x7B on 2 DGX H100 nodes: TP 2, PP 2 (dp = 4), EP 4 (two experts per rank), 4
/// micro-batches per replica, full recomputation, under `schedule`.
fn mixtral_pipeline(schedule: &str, extra: &str) -> Scenario {
    scenario(&format!(
        "[model]\npreset = \"mixtral-8x7b\"\n[cluster]\npreset = \"dgx-h100-basepod\"\nnodes = 2\n\
         [plan]\ntp = 2\npp = 2\nep = 4\nglobal_batch = 16\nrecompute = \"full\"\n\
         schedule = \"{schedule}\"\n{extra}"
    ))
}

/// The same MoE plan under the three schedules (two stages, four micro-batches). Zero bubble is
/// shorter than 1F1B. DualPipe leaves no idle time on its busiest stage, but pays for its
/// second model copy: every MoE layer's gradients (788,692,992 bytes, see below) are summed
/// with the mirror stage, on the other node, once per step after the layer's last W, which
/// costs more than the bubble saves here (1F1B 1.355 s, ZB 1.275 s, DualPipe 1.642 s at this
/// commit). Every breakdown adds up, with the all-to-alls on their own line.
#[test]
fn split_schedules_with_a_moe_model() {
    let reports = ["1f1b", "zero_bubble", "dualpipe"]
        .map(|s| simulate(&mixtral_pipeline(s, ""), Mode::Representative).unwrap());
    let [one, zb, dual] = &reports;
    assert!(zb.step_time_s < one.step_time_s, "{} vs {}", zb.step_time_s, one.step_time_s);
    let idle = |r: &SimReport| r.breakdown.pipeline_bubble_s + r.breakdown.other_s;
    assert!(idle(dual) < idle(zb) && idle(zb) < idle(one));
    assert!(dual.breakdown.exposed_dp_comm_s > 0.1 + one.breakdown.exposed_dp_comm_s);
    for r in &reports {
        assert!(r.breakdown.exposed_ep_comm_s > 0.0);
        let sum = crate::run::tests::sum_s(&r.breakdown);
        assert!((sum - r.step_time_s).abs() < 1e-9);
    }
    // Each DualPipe stage holds both model stages: 1F1B's two stages' parameters, experts too.
    let (a, d) = (&one.memory.stages, &dual.memory.stages);
    for (s, stage) in d.iter().enumerate() {
        assert_eq!(stage.params, a[0].params + a[1].params, "stage {s}");
        assert_eq!(stage.expert_params, a[0].expert_params + a[1].expert_params, "stage {s}");
    }
}

/// DualPipe's mirror sum of one Mixtral layer (TP 2, EP 4): the dense part per GPU is the
/// attention 2·4096² + 2·4096·1024 = 41,943,040 split 2 ways plus the replicated norms (8,192)
/// and router (8·4096 = 32,768): 21,012,480 parameters; the experts 2 of 3·4096·14,336 split 2
/// ways: 176,160,768. In fp32: 84,049,920 + 704,643,072 = 788,692,992 bytes without ZeRO. With
/// ZeRO-1 the rank keeps a quarter of the dense part (shard group dp = 4), 21,012,480, and all
/// of its experts' (dp / ep = 1 rank holds them): 725,655,552. One sum per MoE layer per step
/// (16 on each stage), none of the dense kind (every Mixtral layer has experts).
#[test]
fn mirror_sums_of_moe_layers_carry_dense_part_and_experts() {
    for (extra, bytes) in [("", 788_692_992), ("zero_stage = 1\n", 725_655_552)] {
        let sc = mixtral_pipeline("dualpipe", extra);
        let inputs = step_inputs(&sc).unwrap();
        let mirror =
            inputs.priced.collectives.iter().find(|c| c.purpose == Purpose::MirrorMoeGradients);
        let sizes = mirror.map(|c| (c.result.size_bytes, c.result.op));
        assert_eq!(sizes, Some((bytes, astrolabe_collective::CollectiveOp::AllReduce)), "{extra}");
        let counts = use_counts(&inputs.shape, 0, &inputs.layers, &sc.model);
        let count = |p: Purpose| counts.iter().find(|(q, _)| *q == p).map(|c| c.1);
        assert_eq!(count(Purpose::MirrorMoeGradients), Some(32));
        assert_eq!(count(Purpose::MirrorGradients), Some(0));
    }
}

/// Llama 3 8B on 2 DGX H100 nodes, TP 4, PP 2 (dp = 2), 8 micro-batches per replica, ZeRO
/// `zero`, under `schedule`.
fn sharded_pipeline(schedule: &str, zero: u8) -> Scenario {
    scenario(&format!(
        "[model]\npreset = \"llama3-8b\"\n[cluster]\npreset = \"dgx-h100-basepod\"\nnodes = 2\n\
         [plan]\ntp = 4\npp = 2\nglobal_batch = 16\nzero_stage = {zero}\nschedule = \"{schedule}\"\n"
    ))
}

/// ZeRO-2 and 3 with split backwards: the per-micro-batch reduce-scatters follow the W passes,
/// 16 layers × 8 micro-batches = 128 per stage; the step is shorter than 1F1B's and per-rank
/// mode agrees. MoE with ZeRO-2/3 stays refused under the split schedules.
#[test]
fn zero2_and_zero3_run_under_split_schedules() {
    for zero in [2, 3] {
        let one = step_s(&sharded_pipeline("1f1b", zero));
        for schedule in ["zero_bubble", "dualpipe"] {
            let sc = sharded_pipeline(schedule, zero);
            let inputs = step_inputs(&sc).unwrap();
            let counts = use_counts(&inputs.shape, 0, &inputs.layers, &sc.model);
            let reduces = counts.iter().find(|(p, _)| *p == Purpose::DpGradients).unwrap().1;
            // DualPipe: 32 layers on each stage, 4 micro-batches of each direction.
            assert_eq!(reduces, 128, "zero {zero} {schedule}");
            let rep = step_s(&sc);
            assert!(rep < one, "zero {zero} {schedule}: {rep} vs {one}");
            let per_rank = simulate(&sc, Mode::PerRank).unwrap().step_time_s;
            assert!((per_rank - rep).abs() < 1e-9, "zero {zero} {schedule}");
        }
    }
    let text = "[model]\npreset = \"mixtral-8x7b\"\n[cluster]\npreset = \"dgx-h100-basepod\"\n\
                nodes = 2\n[plan]\ntp = 2\npp = 2\nep = 4\nglobal_batch = 16\n\
                schedule = \"zero_bubble\"\nzero_stage = 2\n";
    let e = parse_scenario(text, "t.toml", &no_cluster_files).unwrap_err();
    assert_eq!(e.field, "plan.schedule", "{e}");
}
