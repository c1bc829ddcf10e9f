//! `[network]`: parsing, checks against the cluster, and the congestion-aware step.

use crate::run::{simulate, Mode};
use crate::scenario::{no_cluster_files, parse_scenario, Scenario};
use crate::NetworkModel;
use astrolabe_core::InputError;

/// 64 H100 (8 nodes) running Llama 3 8B with TP 4 and DP 16: the gradient reduce-scatters
/// cross nodes on every rail.
const BASE: &str = r#"
[model]
preset = "llama3-8b"
[cluster]
preset = "dgx-h100-superpod"
nodes = 8
[plan]
tp = 4
global_batch = 16
zero_stage = 1
"#;

fn parse(network: &str) -> Result<Scenario, InputError> {
    parse_scenario(&format!("{BASE}{network}"), "t.toml", &no_cluster_files)
}

fn field(network: &str) -> String {
    parse(network).unwrap_err().field
}

/// Rail leaves of `per_leaf` nodes at `oversubscription`, 2 spines.
fn fabric(per_leaf: usize, oversubscription: f64, out: &str) -> String {
    format!(
        r#"
[network]
model = "congestion-aware"
[network.fabric]
name = "test"
nodes = 8
gpus_per_node = 8
scale_up = "nvlink4-nvswitch"
[network.fabric.scale_out]
fabric = "{out}"
rail_optimized = true
tiers = [{{ group = {per_leaf}, oversubscription = {oversubscription} }}, {{ group = 0, switches = 2 }}]
"#
    )
}

#[test]
fn the_analytical_model_is_the_default() {
    assert_eq!(parse("").unwrap().network.model, NetworkModel::Analytical);
}

#[test]
fn a_preset_fabric_is_resized_to_the_cluster() {
    let sc = parse("[network]\nmodel = \"congestion-aware\"\nfabric = \"sakuraone\"\n").unwrap();
    let spec = sc.network.fabric.unwrap();
    assert_eq!((spec.name.as_str(), spec.nodes), ("sakuraone", 8));
}

#[test]
fn contradictions_and_unknowns_name_their_field() {
    assert_eq!(field("[network]\nmodel = \"packet\"\n"), "network.model");
    assert_eq!(field("[network]\nfabric = \"sakuraone\"\n"), "network.model");
    assert_eq!(
        field("[network]\nmodel = \"congestion-aware\"\nfabric = \"x\"\n"),
        "network.fabric"
    );
    assert_eq!(field("[network]\nmodel = \"congestion-aware\"\nfabric = 3\n"), "network.fabric");
    let per_node = fabric(4, 1.0, "ib-ndr").replace("gpus_per_node = 8", "gpus_per_node = 4");
    assert_eq!(field(&per_node), "network.fabric.gpus_per_node");
    let small = fabric(4, 1.0, "ib-ndr").replace("nodes = 8", "nodes = 4");
    assert_eq!(field(&small), "network.fabric.nodes");
    assert!(parse("[network]\nmodel = \"congestion-aware\"\nspeed = 1\n").is_err());
}

#[test]
fn a_lone_group_on_a_non_blocking_fabric_costs_what_the_analytical_model_says() {
    let analytical = simulate(&parse("").unwrap(), Mode::Representative).unwrap();
    let flows = simulate(&parse(&fabric(4, 1.0, "ib-ndr")).unwrap(), Mode::Representative).unwrap();
    assert_eq!(flows.step_time_s, analytical.step_time_s);
    for (a, f) in analytical.collectives.iter().zip(&flows.collectives) {
        assert_eq!(a.time_s, f.time_s, "{:?}", a.purpose);
    }
    assert!(analytical.network.links.is_none());
    assert!(flows.network.links.is_some());
}

#[test]
fn oversubscribed_leaf_uplinks_slow_the_data_parallel_collectives() {
    let open = simulate(&parse(&fabric(4, 1.0, "ib-ndr")).unwrap(), Mode::Representative).unwrap();
    let tight = simulate(&parse(&fabric(4, 4.0, "ib-ndr")).unwrap(), Mode::Representative).unwrap();
    let dp = |r: &crate::SimReport| {
        r.collectives
            .iter()
            .find(|c| c.purpose == crate::costs::Purpose::DpGradients)
            .unwrap()
            .time_s
    };
    // A DP group of 16 ranks has 2 per node (TP 4 on 8-GPU nodes) over all 8 nodes; its
    // inter-node ring crosses the leaf boundary between nodes 3 and 4, where 1:4 leaves a
    // quarter of the bandwidth: the reduce-scatter is slower, the TP all-gathers (inside
    // nodes) are not.
    assert!(dp(&tight) > 1.5 * dp(&open), "{} vs {}", dp(&tight), dp(&open));
    assert_eq!(tight.collectives[0].time_s, open.collectives[0].time_s);
    assert!(tight.step_time_s >= open.step_time_s);
}

#[test]
fn the_link_report_conserves_the_bytes_of_the_step() {
    let r = simulate(&parse(&fabric(4, 1.0, "ib-ndr")).unwrap(), Mode::Representative).unwrap();
    let links = r.network.links.unwrap();
    let tiers = links.bytes_per_tier;
    let by_class: u64 = links.classes.iter().map(|c| c.bytes).sum();
    let by_tier =
        tiers.nvlink_bytes + tiers.nic_bytes + tiers.leaf_uplink_bytes + tiers.spine_bytes;
    assert_eq!(by_class, by_tier);
    // Every byte a GPU sends over its NIC is received over a NIC: NIC links carry each
    // inter-node byte twice (up and down).
    assert_eq!(tiers.nic_bytes % 2, 0);
    assert!(links.hottest.len() == crate::flow_pricing::HOT_LINKS);
    assert!(links.hottest.windows(2).all(|w| w[0].bytes >= w[1].bytes));
}

#[test]
fn a_cluster_unlike_its_catalog_fabric_needs_a_fabric_description() {
    let text = r#"
[model]
preset = "llama3-8b"
[cluster]
gpu = "h100-sxm"
[[cluster.network]]
fabric = "nvlink4-nvswitch"
size = 8
[[cluster.network]]
fabric = "ib-ndr"
size = 2
bandwidth_gb_per_s = 10.0
[plan]
tp = 8
global_batch = 16
[network]
model = "congestion-aware"
"#;
    let sc = parse_scenario(text, "t.toml", &no_cluster_files).unwrap();
    let e = simulate(&sc, Mode::Representative).unwrap_err();
    assert_eq!(e.field, "network.fabric", "{e}");
}
