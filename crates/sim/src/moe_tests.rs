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

/// 8,192 tokens × top-2 = 16,384 copies on a balanced rank; 1.5× imbalance makes it 24,576,
/// a capacity factor of 1.25 caps it at 20,480. One all-to-all moves 16,384 × 4,096 × 2 bytes.
#[test]
fn expert_load_follows_imbalance_and_capacity() {
    let sc = scenario("ep = 4\n").unwrap();
    let load = expert_load(&sc.model, &sc.plan).unwrap();
    assert_eq!(load, ExpertLoad { ep: 4, routed_tokens: 16_384 });
    assert_eq!(all_to_all_bytes(&sc.model, &load), 134_217_728);
    let sc = scenario("ep = 4\nrouting_imbalance = 1.5\n").unwrap();
    assert_eq!(expert_load(&sc.model, &sc.plan).unwrap().routed_tokens, 24_576);
    let sc = scenario("ep = 4\nrouting_imbalance = 1.5\ncapacity_factor = 1.25\n").unwrap();
    assert_eq!(expert_load(&sc.model, &sc.plan).unwrap().routed_tokens, 20_480);
}

#[test]
fn impossible_expert_plans_are_refused_by_field() {
    let e = error("ep = 3\n");
    assert!(e.contains("plan.ep") && e.contains("divisor of both dp (8)"), "{e}");
    let e = error("ep = 4\nrouting_imbalance = 0.5\n");
    assert!(e.contains("plan.routing_imbalance") && e.contains("from 1"), "{e}");
    let e = error("ep = 4\ncapacity_factor = -1\n");
    assert!(e.contains("plan.capacity_factor"), "{e}");
    let e = error("ep = 4\nzero_stage = 3\n");
    assert!(e.contains("plan.zero_stage") && e.contains("mixture-of-experts"), "{e}");
    let e = error("ep = 2\nplacement = \"tp-dp-pp\"\n");
    assert!(e.contains("plan.placement") && e.contains("naming ep"), "{e}");
    let dense = "[model]\npreset = \"llama3-8b\"\n[cluster]\npreset = \"dgx-h100-basepod\"\n\
                 nodes = 1\n[plan]\nep = 2\nglobal_batch = 8\n";
    let e = parse_scenario(dense, "d.toml", &no_cluster_files).unwrap_err().to_string();
    assert!(e.contains("plan.ep") && e.contains("has no experts"), "{e}");
}
