//! Offload in the step: transfer and stall times by hand, contention on a shared tier, memory
//! moved off HBM, and the errors.

use super::*;
use crate::run::{simulate, Mode};
use crate::scenario::{no_cluster_files, parse_scenario, Scenario};
use astrolabe_hardware::memory_tier::TierKind;

/// A tier of `gpus` GPUs sharing 100 GB/s, each GPU's link 100 GB/s, 1 µs latency.
fn pool(gpus: u32) -> MemoryTier {
    MemoryTier {
        name: "pool".into(),
        kind: TierKind::Pool,
        capacity_bytes: 1_000_000_000_000,
        gpus_sharing: gpus,
        per_gpu_bytes_per_s: 100e9,
        aggregate_bytes_per_s: 100e9,
        latency_ns: 1_000.0,
    }
}

const SCENARIO: &str = r#"
[model]
preset = "llama3-8b"
[cluster]
preset = "dgx-h100-basepod"
nodes = 1
memory_tiers = ["dgx-h100-host"]
[plan]
tp = 8
global_batch = 4
zero_stage = 0
"#;

fn parse(extra: &str) -> Result<Scenario, InputError> {
    parse_scenario(&format!("{SCENARIO}{extra}"), "t.toml", &no_cluster_files)
}

fn plan() -> Plan {
    parse("").unwrap().plan
}

fn gpu_state_offload(tier: MemoryTier) -> Offload {
    let plan = OffloadPlan { optimizer_state: true, master_weights: true, ..Default::default() };
    Offload { tier, plan }
}

/// One billion parameters on the stage, 10 layers of 100 M, 1 MB of activations per layer.
fn shape() -> StageShape {
    StageShape {
        stage_params: 1_000_000_000,
        layer_params: 100_000_000,
        layers: 10,
        layer_activation_bytes: 1_000_000,
        micro_batches: 4,
    }
}

#[test]
fn a_gpu_step_reads_and_writes_twelve_bytes_a_parameter() {
    // 1e9 params × 12 B = 12 GB each way at 100 GB/s: 0.12 s + 1 µs = 120,001,000 ns.
    let t = times(&gpu_state_offload(pool(1)), &plan(), &shape());
    assert_eq!(t.costs.state_load_ns, 120_001_000);
    assert_eq!(t.costs.state_store_ns, 120_001_000);
    assert_eq!(t.costs.cpu_optimizer_ns, None);
    assert_eq!((t.costs.act_store_ns, t.costs.grad_store_ns, t.fetch_per_gather_ns), (0, 0, 0));
    assert_eq!(t.step_bytes, 24_000_000_000);
}

#[test]
fn two_gpus_on_one_pool_port_take_twice_as_long() {
    let one = times(&gpu_state_offload(pool(1)), &plan(), &shape()).costs.state_load_ns;
    let two = times(&gpu_state_offload(pool(2)), &plan(), &shape()).costs.state_load_ns;
    // 50 GB/s each when both move at once: 0.24 s + 1 µs.
    assert_eq!(two, 240_001_000);
    assert_eq!(two - 1_000, 2 * (one - 1_000));
}

#[test]
fn a_cpu_step_is_bound_by_the_tiers_memory_bandwidth() {
    let p = OffloadPlan {
        optimizer_state: true,
        master_weights: true,
        gradients: true,
        optimizer_on_cpu: true,
        ..Default::default()
    };
    let t = times(&Offload { tier: pool(1), plan: p }, &plan(), &shape());
    // Adam on the CPU: 24 B of state read and written + 4 B gradient + 2 B weights = 30 B per
    // parameter; 30 GB over 100 GB/s = 0.3 s.
    assert_eq!(t.costs.cpu_optimizer_ns, Some(300_000_000));
    // No state load; the updated bf16 weights come up: 2 GB / 100 GB/s + 1 µs.
    assert_eq!(t.costs.state_load_ns, 0);
    assert_eq!(t.costs.state_store_ns, 20_001_000);
    // A layer's fp32 gradients go down after every backward: 400 MB / 100 GB/s + 1 µs.
    assert_eq!(t.costs.grad_store_ns, 4_001_000);
}

#[test]
fn activations_go_down_after_the_forward_and_come_back_for_the_backward() {
    let p = OffloadPlan { activations: true, ..Default::default() };
    let t = times(&Offload { tier: pool(1), plan: p }, &plan(), &shape());
    // 1 MB / 100 GB/s = 10 µs, + 1 µs.
    assert_eq!((t.costs.act_store_ns, t.costs.act_load_ns), (11_000, 11_000));
    // 10 layers × 1 MB × 4 micro-batches, each way.
    assert_eq!(t.step_bytes, 2 * 10 * 1_000_000 * 4);
}

#[test]
fn offloaded_state_leaves_hbm_and_the_stall_has_its_own_line() {
    let plain = simulate(&parse("").unwrap(), Mode::Representative).unwrap();
    let extra =
        "[offload]\ntier = \"dgx-h100-host\"\noptimizer_state = true\nmaster_weights = true\n";
    let r = simulate(&parse(extra).unwrap(), Mode::Representative).unwrap();
    let (before, after) = (&plain.memory.stages[0], &r.memory.stages[0]);
    // 12 B per parameter of the GPU's shard (TP 8, no data parallelism) leaves HBM.
    assert_eq!(after.offloaded_bytes, 12 * before.params);
    assert_eq!(after.total_bytes, before.total_bytes - 12 * before.params);
    assert_eq!(r.memory_traffic_bytes["dgx-h100-host"], 2 * 12 * before.params);
    assert!(r.breakdown.memory_stall_s > 0.0);
    assert!(r.step_time_s > plain.step_time_s);
    assert!(plain.memory_traffic_bytes.is_empty() && plain.offload.is_none());
}

#[test]
fn bad_offload_tables_name_their_field() {
    let field = |extra: &str| parse(extra).unwrap_err().field;
    assert_eq!(field("[offload]\ntier = \"cxl-pool\"\noptimizer_state = true\n"), "offload.tier");
    assert_eq!(field("[offload]\noptimizer_state = true\n"), "offload.tier");
    assert_eq!(field("[offload]\ntier = \"dgx-h100-host\"\n"), "offload");
    assert_eq!(field("[offload]\ntier = \"dgx-h100-host\"\nweights = true\n"), "offload");
    let cpu =
        "[offload]\ntier = \"dgx-h100-host\"\noptimizer_state = true\noptimizer_on_cpu = true\n";
    assert_eq!(field(cpu), "offload.optimizer_on_cpu");
    let unknown = SCENARIO.replace("[\"dgx-h100-host\"]", "[\"dgx-h200-host\"]");
    let e = parse_scenario(&unknown, "t.toml", &no_cluster_files).unwrap_err();
    assert_eq!(e.field, "memory_tiers[0]", "{e}");
}

#[test]
fn a_tier_without_room_is_an_error() {
    let small = SCENARIO.replace(
        "memory_tiers = [\"dgx-h100-host\"]",
        "memory_tiers = [{ name = \"tiny\", kind = \"host-pcie\", capacity_bytes = 8000000000, \
         gpus_sharing = 8, per_gpu_bytes_per_s = 50e9, aggregate_bytes_per_s = 400e9, \
         latency_ns = 1000.0 }]",
    );
    let text = format!("{small}[offload]\ntier = \"tiny\"\noptimizer_state = true\n");
    let sc = parse_scenario(&text, "t.toml", &no_cluster_files).unwrap();
    let e = simulate(&sc, Mode::Representative).unwrap_err();
    assert_eq!(e.field, "offload.tier", "{e}");
    assert!(e.expected.contains("1.0 GB per GPU"), "{e}");
    assert!(simulate(&sc, Mode::PerRank).is_err());
}
