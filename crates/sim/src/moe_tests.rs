use super::*;
use crate::scenario::{no_cluster_files, parse_scenario};

/// Llama 3 8B with 8 experts of 14,336 (top-2) on 2 DGX H100 nodes, TP 2: dp = 8.
fn scenario(plan: &str) -> Result<crate::Scenario, InputError> {
    let text = format!(
        "[model]\npreset = \"llama3-8b\"\n\
         moe = {{ experts = 8, top_k = 2, expert_ffn_hidden = 14336 }}\n\
         [cluster]\npreset = \"dgx-h100-basepod\"\nnodes = 2\n\
         [plan]\ntp = 2\nglobal_batch = 16\n{plan}"
    );
    parse_scenario(&text, "t.toml", &no_cluster_files)
}

fn error(plan: &str) -> String {
    scenario(plan).unwrap_err().to_string()
}

/// 8,192 tokens per micro-batch, 4,096 on each TP rank: the rank routes 4,096 × top-2 = 8,192
/// copies and, with the experts split over the 2 TP ranks, processes both ranks' copies: 16,384
/// on a balanced rank; 1.5× imbalance makes it 24,576, a capacity factor of 1.25 caps it at
/// 20,480. One all-to-all moves 8,192 × 4,096 × 2 bytes; the expert-TP all-gather the 16,384
/// copies, 134,217,728 bytes.
#[test]
fn expert_load_follows_imbalance_and_capacity() {
    let sc = scenario("ep = 4\n").unwrap();
    let load = expert_load(&sc.model, &sc.plan).unwrap();
    assert_eq!(load, ExpertLoad { ep: 4, expert_tp: 2, routed_tokens: 16_384 });
    assert_eq!(all_to_all_bytes(&sc.model, &sc.plan), 67_108_864);
    assert_eq!(expert_tp_bytes(&sc.model, &load), 134_217_728);
    let sc = scenario("ep = 4\nrouting_imbalance = 1.5\n").unwrap();
    assert_eq!(expert_load(&sc.model, &sc.plan).unwrap().routed_tokens, 24_576);
    assert_eq!(all_to_all_bytes(&sc.model, &sc.plan), 12_288 * 4096 * 2);
    let sc = scenario("ep = 4\nrouting_imbalance = 1.5\ncapacity_factor = 1.25\n").unwrap();
    assert_eq!(expert_load(&sc.model, &sc.plan).unwrap().routed_tokens, 20_480);
}

/// EP 4 within DP (ranks 0, 2, 4, 6 of the default `tp-cp-ep-dp-pp` order at TP 2): the expert
/// data-parallel replicas are cp·dp / ep = 2, ranks 0 and 8.
#[test]
fn experts_within_data_parallel_follow_the_placement() {
    let sc = scenario("ep = 4\n").unwrap();
    assert!(!folded(&sc.plan));
    let groups = expert_groups(&crate::costs::placement(&sc.plan), &sc.plan);
    assert_eq!(groups.ep, [0, 2, 4, 6]);
    assert_eq!(groups.expert_tp, [0, 1]);
    assert_eq!(groups.expert_dp, [0, 8]);
    assert_eq!(expert_dp(&sc.plan), 2);
}

/// Folded: expert_tp = 1 under TP 2 with EP 8 regroups a stage's 16 ranks as 1 × 8 × 2: EP over
/// ranks 0–7 (both TP ranks of four DP replicas, one node), replicas 0 and 8. Each rank holds
/// one whole expert (3 × 4,096 × 14,336 = 176,160,768 parameters, as within DP at EP 4 with
/// two half experts) and processes only its own 8,192 copies: no expert-TP collective. EP 16 is
/// refused (16 does not divide the 8 experts), EP 8 with expert_tp 2 fits 16 ranks, expert_tp
/// 3 does not divide the expert width.
#[test]
fn folded_experts_regroup_the_stage() {
    let sc = scenario("ep = 8\nexpert_tp = 1\n").unwrap();
    assert!(folded(&sc.plan));
    let groups = expert_groups(&crate::costs::placement(&sc.plan), &sc.plan);
    assert_eq!(groups.ep, (0..8).collect::<Vec<_>>());
    assert_eq!((groups.expert_tp, groups.expert_dp), (vec![0], vec![0, 8]));
    let load = expert_load(&sc.model, &sc.plan).unwrap();
    assert_eq!(load, ExpertLoad { ep: 8, expert_tp: 1, routed_tokens: 8_192 });
    assert_eq!(expert_tp_bytes(&sc.model, &load), 0);
    let split = (sc.plan.expert_tp, sc.plan.ep);
    let per_gpu = astrolabe_memory::params::moe_layer_params_per_gpu(&sc.model, 2, split).1;
    assert_eq!(per_gpu, 176_160_768);
    assert!(scenario("ep = 8\nexpert_tp = 2\n").is_ok());
    // Per-rank mode and the export place only experts within data parallelism.
    let err = crate::simulate(&sc, crate::Mode::PerRank).unwrap_err();
    assert_eq!(err.field, "plan.expert_tp");
    assert_eq!(crate::export::export(&sc).unwrap_err().field, "plan.expert_tp");
    let e = error("ep = 16\nexpert_tp = 1\n");
    assert!(e.contains("plan.ep") && e.contains("experts (8)"), "{e}");
    let e = error("ep = 2\nexpert_tp = 3\n");
    assert!(e.contains("plan.expert_tp") && e.contains("14336"), "{e}");
}

#[test]
fn impossible_expert_plans_are_refused_by_field() {
    let e = error("ep = 3\n");
    assert!(e.contains("plan.ep") && e.contains("divisor of the model's experts (8)"), "{e}");
    let e = error("ep = 4\nrouting_imbalance = 0.5\n");
    assert!(e.contains("plan.routing_imbalance") && e.contains("from 1"), "{e}");
    let e = error("ep = 4\ncapacity_factor = -1\n");
    assert!(e.contains("plan.capacity_factor"), "{e}");
    let e = error("ep = 4\nzero_stage = 3\nshard_group = 4\n");
    assert!(e.contains("plan.shard_group") && e.contains("mixture-of-experts"), "{e}");
    let e = error("ep = 4\nsequence_parallel = false\n");
    assert!(e.contains("plan.sequence_parallel") && e.contains("tp > 1"), "{e}");
    let e = error("ep = 2\nplacement = \"tp-dp-pp\"\n");
    assert!(e.contains("plan.placement") && e.contains("naming ep"), "{e}");
    let dense = "[model]\npreset = \"llama3-8b\"\n[cluster]\npreset = \"dgx-h100-basepod\"\n\
                 nodes = 1\n[plan]\nep = 2\nglobal_batch = 8\n";
    let e = parse_scenario(dense, "d.toml", &no_cluster_files).unwrap_err().to_string();
    assert!(e.contains("plan.ep") && e.contains("has no experts"), "{e}");
}
