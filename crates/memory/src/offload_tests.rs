//! Offload splits and traffic against the ZeRO-Offload and ZeRO-Infinity papers and hand-worked
//! figures.

use super::*;
use serde::de::value::{Error as ValueError, MapDeserializer};

const GB: u64 = 1_000_000_000;

/// ZeRO-Offload as Ren et al. 2021 run it: optimizer state, master weights and gradients on
/// the CPU, which steps.
fn zero_offload() -> OffloadPlan {
    OffloadPlan {
        optimizer_state: true,
        master_weights: true,
        gradients: true,
        optimizer_on_cpu: true,
        ..OffloadPlan::default()
    }
}

/// ZeRO-Infinity with everything off the GPU.
fn everything() -> OffloadPlan {
    OffloadPlan { parameters: true, activations: true, ..zero_offload() }
}

/// Ren et al. 2021 §4 on one GPU, Ψ = 10B, fp16 weights and gradients: the GPU keeps the fp16
/// parameters, 2Ψ = 20 GB (gradients leave in buckets as the backward produces them); the CPU
/// holds the fp32 master weights and moments, 12Ψ = 120 GB, and the fp16 gradients, 2Ψ =
/// 20 GB: 14Ψ = 140 GB. Per step 2Ψ of gradients go down and 2Ψ of parameters come up: 4Ψ =
/// 40 GB. Without offload the GPU would hold 16Ψ = 160 GB, 8 times more.
#[test]
fn zero_offload_on_one_gpu_matches_the_paper() {
    let psi = 10 * GB;
    let s = split(psi, 1, 0, 2, 2, &zero_offload(), 0);
    assert_eq!(s.hbm_bytes(), 20 * GB);
    assert_eq!(s.parameters.hbm_bytes, 20 * GB);
    assert_eq!(s.tier_bytes(), 140 * GB);
    assert_eq!((s.gradients.tier_bytes, s.master_weights.tier_bytes), (20 * GB, 40 * GB));
    assert_eq!(s.optimizer_state.tier_bytes, 80 * GB);
    let step = s.step_traffic(1);
    assert_eq!(step, Traffic { to_tier_bytes: 20 * GB, from_tier_bytes: 20 * GB });
    assert_eq!(step.to_tier_bytes + step.from_tier_bytes, 4 * psi);
    let none = split(psi, 1, 0, 2, 2, &OffloadPlan::default(), 0);
    assert_eq!(none.hbm_bytes(), 8 * s.hbm_bytes());
}

/// Same model with ZeRO-2 over N = 16 ranks (§4.2): each rank keeps the whole fp16 parameters
/// (20 GB) and offloads its partition, 14Ψ/16 = 8.75 GB; it sends 2Ψ/16 = 1.25 GB of gradients
/// down and receives 1.25 GB of updated parameters. With 4 micro-batches the gradients go down
/// after each backward (accumulated on the CPU): 5 GB down, still 1.25 GB up.
#[test]
fn zero_offload_with_zero2_moves_each_ranks_partition() {
    let s = split(10 * GB, 16, 2, 2, 2, &zero_offload(), 0);
    assert_eq!(s.hbm_bytes(), 20 * GB);
    assert_eq!(s.tier_bytes(), 8_750_000_000);
    let step = s.step_traffic(1);
    assert_eq!(step, Traffic { to_tier_bytes: 1_250_000_000, from_tier_bytes: 1_250_000_000 });
    let accumulated = s.step_traffic(4);
    assert_eq!(accumulated, Traffic { to_tier_bytes: 5 * GB, from_tier_bytes: 1_250_000_000 });
}

/// ZeRO-Infinity (Rajbhandari et al. 2021 §5–6), ZeRO-3 over 8 ranks, Ψ = 8B, all offloaded
/// with 1 GB of activations per micro-batch: no state stays in HBM (only ZeRO-3's working set
/// of gathered layers, `params::gathered_bytes`, which the account adds). Each rank's tier holds
/// 16Ψ/8 = 16 GB plus the activations. Per micro-batch its 2 GB parameter shard comes up for the
/// forward and again for the backward (4 GB), its 2 GB gradient shard goes down, and the
/// activations go down and up: 3 GB down, 5 GB up. The CPU steps on the tier: nothing more.
#[test]
fn zero_infinity_with_everything_offloaded_leaves_only_the_working_set() {
    let s = split(8 * GB, 8, 3, 2, 2, &everything(), GB);
    assert_eq!(s.hbm_bytes(), 0);
    assert_eq!(s.tier_bytes(), 17 * GB);
    assert_eq!(s.parameters.per_micro_batch.from_tier_bytes, 4 * GB);
    assert_eq!(s.step_traffic(1), Traffic { to_tier_bytes: 3 * GB, from_tier_bytes: 5 * GB });
    assert_eq!(s.step_traffic(2), Traffic { to_tier_bytes: 6 * GB, from_tier_bytes: 10 * GB });
    for what in Offloaded::ALL {
        assert_eq!(s.part(what).per_step, Traffic::default(), "{what:?}");
    }
}

/// Offloaded optimizer state with the GPU stepping, ZeRO-1 over 4 ranks, Ψ = 4B, bf16 weights
/// and fp32 gradients: the rank owns 1B parameters' state, 12 GB (4 GB master weights, 8 GB
/// moments), read up and written back once per step whatever the micro-batches: 12 B/param
/// each way. Weights (8 GB) and whole gradients (16 GB) stay in HBM.
#[test]
fn gpu_step_on_offloaded_state_reads_and_writes_twelve_bytes_a_param() {
    let plan =
        OffloadPlan { optimizer_state: true, master_weights: true, ..OffloadPlan::default() };
    let s = split(4 * GB, 4, 1, 2, 4, &plan, 0);
    assert_eq!(s.hbm_bytes(), 24 * GB);
    assert_eq!((s.master_weights.tier_bytes, s.optimizer_state.tier_bytes), (4 * GB, 8 * GB));
    assert_eq!(s.step_traffic(8), Traffic { to_tier_bytes: 12 * GB, from_tier_bytes: 12 * GB });
}

/// Offloaded parameters with the GPU stepping (ZeRO-3, 8 ranks, Ψ = 8B): the 2 GB shard comes
/// up twice per micro-batch and the updated shard goes down once per step. Gradients (2 GB)
/// and optimizer state (12 GB) stay in HBM.
#[test]
fn offloaded_parameters_with_a_gpu_step_are_written_back() {
    let plan = OffloadPlan { parameters: true, ..OffloadPlan::default() };
    let s = split(8 * GB, 8, 3, 2, 2, &plan, 0);
    assert_eq!((s.hbm_bytes(), s.tier_bytes()), (14 * GB, 2 * GB));
    assert_eq!(s.step_traffic(3), Traffic { to_tier_bytes: 2 * GB, from_tier_bytes: 12 * GB });
}

/// Offloaded gradients with the GPU stepping under ZeRO-1 (4 ranks, Ψ = 4B, fp16): the rank's
/// whole gradients (8 GB) go down each micro-batch, only its optimizer shard's (2 GB) come back.
#[test]
fn offloaded_gradients_under_zero1_go_down_whole_and_come_back_sharded() {
    let plan = OffloadPlan { gradients: true, ..OffloadPlan::default() };
    let s = split(4 * GB, 4, 1, 2, 2, &plan, 0);
    assert_eq!(s.gradients.tier_bytes, 8 * GB);
    assert_eq!(s.step_traffic(1), Traffic { to_tier_bytes: 8 * GB, from_tier_bytes: 2 * GB });
}

/// Activation offload moves exactly the activations each way, per micro-batch, and nothing
/// else moves.
#[test]
fn activation_offload_moves_exactly_the_activations_each_way() {
    let activations = 3_000_000_007;
    let plan = OffloadPlan { activations: true, ..OffloadPlan::default() };
    let s = split(GB, 8, 1, 2, 2, &plan, activations);
    assert_eq!(s.activations.tier_bytes, activations);
    assert_eq!(s.tier_bytes(), activations);
    assert_eq!(s.activations.per_micro_batch, Traffic::both_ways(activations));
    let step = s.step_traffic(4);
    assert_eq!(step, Traffic::both_ways(4 * activations));
    let kept = split(GB, 8, 1, 2, 2, &OffloadPlan::default(), activations);
    assert_eq!(kept.hbm_bytes(), s.hbm_bytes() + activations);
    assert_eq!(kept.step_traffic(4), Traffic::default());
}

/// Without offload the split is `params::state_bytes`: Rajbhandari et al. 2020, Figure 1,
/// Ψ = 7.5B, N = 64, P_os: 4Ψ + 12Ψ/64 = 31.40625 GB in HBM, nothing on the tier or the link.
#[test]
fn no_offload_is_the_zero_papers_figure() {
    let s = split(7_500_000_000, 64, 1, 2, 2, &OffloadPlan::default(), 0);
    assert_eq!(s.hbm_bytes(), 31_406_250_000);
    assert_eq!((s.tier_bytes(), s.step_traffic(16)), (0, Traffic::default()));
}

/// Master weights and moments add up to `state_bytes`' optimizer shard even when it does not
/// divide: Ψ = 1,000,000,007 over 3 ranks, ZeRO-1: ⌈12Ψ/3⌉ = 4,000,000,028 bytes, of which
/// ⌈4,000,000,028 / 3⌉ = 1,333,333,343 master weights and 2,666,666,685 moments.
#[test]
fn master_weights_and_moments_add_up_to_the_optimizer_shard() {
    let psi = 1_000_000_007;
    let optimizer = state_bytes(psi, &zero_inputs(3, 1, 2, 2)).optimizer;
    assert_eq!(optimizer, 4_000_000_028);
    let s = split(psi, 3, 1, 2, 2, &OffloadPlan::default(), 0);
    assert_eq!(s.master_weights.hbm_bytes, 1_333_333_343);
    assert_eq!(s.optimizer_state.hbm_bytes, 2_666_666_685);
    assert_eq!(owned_bytes(psi, OPTIMIZER_BYTES_PER_PARAM, 3, 1), optimizer);
}

/// Each flag moves its own part, and only it, to the tier.
#[test]
fn each_flag_offloads_its_own_part() {
    for what in Offloaded::ALL {
        let mut plan = OffloadPlan::default();
        match what {
            Offloaded::OptimizerState => plan.optimizer_state = true,
            Offloaded::MasterWeights => plan.master_weights = true,
            Offloaded::Gradients => plan.gradients = true,
            Offloaded::Parameters => plan.parameters = true,
            Offloaded::Activations => plan.activations = true,
        }
        assert!(plan.offloads(what));
        let s = split(GB, 2, 3, 2, 2, &plan, GB);
        for other in Offloaded::ALL {
            let part = s.part(other);
            assert_eq!(part.tier_bytes > 0, other == what, "{what:?} / {other:?}");
            assert!(part.hbm_bytes + part.tier_bytes > 0);
        }
    }
}

#[test]
fn odd_inputs_get_an_answer_not_a_panic() {
    let plan = everything();
    assert_eq!(split(10, 0, 2, 2, 2, &plan, 0), split(10, 1, 2, 2, 2, &plan, 0));
    let s = split(u64::MAX, 1, 0, 8, 8, &plan, u64::MAX);
    assert_eq!(s.step_traffic(u64::MAX).from_tier_bytes, u64::MAX);
    assert_eq!(s.tier_bytes(), u64::MAX);
}

#[test]
fn validate_accepts_the_published_plans() {
    assert_eq!(OffloadPlan::default().validate(0, "s.toml"), Ok(()));
    assert_eq!(zero_offload().validate(2, "s.toml"), Ok(()));
    assert_eq!(everything().validate(3, "s.toml"), Ok(()));
    let activations = OffloadPlan { activations: true, ..OffloadPlan::default() };
    assert_eq!(activations.validate(0, "s.toml"), Ok(()));
}

#[test]
fn validate_refuses_contradictions_naming_the_field() {
    let refused = |plan: OffloadPlan, stage: u8| plan.validate(stage, "s.toml").unwrap_err();

    let e = refused(OffloadPlan { optimizer_state: false, ..zero_offload() }, 2);
    assert_eq!((e.origin.as_str(), e.field.as_str()), ("s.toml", "offload.optimizer_on_cpu"));
    assert!(e.expected.contains("cannot step what it does not hold"), "{}", e.expected);
    let e = refused(OffloadPlan { master_weights: false, ..zero_offload() }, 2);
    assert_eq!(e.field, "offload.optimizer_on_cpu");
    let e = refused(OffloadPlan { gradients: false, ..zero_offload() }, 2);
    assert_eq!(e.field, "offload.optimizer_on_cpu");
    assert!(e.expected.contains("gradients"), "{}", e.expected);

    let e = refused(OffloadPlan { parameters: true, ..OffloadPlan::default() }, 2);
    assert_eq!(e.field, "offload.parameters");
    assert!(e.expected.contains("zero_stage 3"), "{}", e.expected);

    let e = refused(OffloadPlan::default(), 4);
    assert_eq!((e.field.as_str(), e.expected.as_str()), ("zero_stage", "0, 1, 2 or 3, got 4"));
}

fn parse(entries: &[(&'static str, bool)]) -> Result<OffloadPlan, ValueError> {
    OffloadPlan::deserialize(MapDeserializer::new(entries.iter().copied()))
}

#[test]
fn a_plan_reads_with_defaults_and_refuses_unknown_keys() {
    assert_eq!(parse(&[]).unwrap(), OffloadPlan::default());
    let plan = parse(&[("gradients", true), ("optimizer_on_cpu", true)]).unwrap();
    assert!(plan.gradients && plan.optimizer_on_cpu && !plan.parameters);
    let e = parse(&[("optimiser_state", true)]).unwrap_err();
    assert!(e.to_string().contains("optimiser_state"), "{e}");
}
