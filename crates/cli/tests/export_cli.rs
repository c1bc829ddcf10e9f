//! `astrolabe export-chakra` as a user runs it: the traces read back, the files round-trip, the
//! export runs through `astrolabe astra`, and bad input exits 2.

use assert_cmd::Command;
use astrolabe_chakra::{
    read_trace, validate_dependencies, write_trace, CollectiveCommType, NodeType, RankFiles,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A small job with every kind of node: TP2 (sequence parallel) PP2 DP2 on one 8-GPU node,
/// the distributed optimizer, 4 micro-batches per replica.
const TINY: &str = r#"
name = "tiny"
[model]
preset = "llama3-8b"
layers = 4
seq_len = 1024
[cluster]
preset = "dgx-h100-basepod"
nodes = 1
[plan]
tp = 2
pp = 2
global_batch = 8
zero_stage = 1
"#;

fn astrolabe(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("astrolabe").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args).output().unwrap()
}

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("astrolabe-export-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `TINY`, exports it under `dir/tiny`; returns the summary.
fn export_tiny(dir: &Path) -> Value {
    let scenario = dir.join("tiny.toml");
    std::fs::write(&scenario, TINY).unwrap();
    let prefix = dir.join("out/tiny");
    json(&astrolabe(&[
        "export-chakra",
        scenario.to_str().unwrap(),
        "--out",
        prefix.to_str().unwrap(),
        "--json",
    ]))
}

#[test]
fn traces_read_back_with_valid_dependencies_and_attributes() {
    let dir = scratch("read");
    let summary = export_tiny(&dir);
    assert_eq!(summary["ranks"], 8);
    let files = RankFiles::discover(dir.join("out/tiny")).unwrap();
    assert_eq!(files.len(), 8);
    let mut nodes = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for path in files.paths() {
        let trace = read_trace(path).unwrap();
        validate_dependencies(&trace.nodes, &path.display().to_string()).unwrap();
        nodes += trace.nodes.len();
        for n in &trace.nodes {
            let kind = n.known_type().unwrap();
            kinds.insert(kind as i32);
            match kind {
                NodeType::CommColl => {
                    let t = n.comm_type().unwrap();
                    assert!(matches!(
                        t,
                        CollectiveCommType::AllGather | CollectiveCommType::ReduceScatter
                    ));
                    assert!(n.attr_u64("comm_size").unwrap().unwrap() > 0);
                    assert_eq!(n.attr_bool_list("involved_dim").unwrap().unwrap().len(), 3);
                }
                NodeType::CommSend => assert!(n.attr_u64("comm_dst").unwrap().is_some()),
                NodeType::CommRecv => assert!(n.attr_u64("comm_src").unwrap().is_some()),
                NodeType::Comp => assert!(n.duration_micros > 0),
                other => panic!("unexpected node type {other:?}"),
            }
        }
    }
    assert_eq!(nodes as u64, summary["nodes"].as_u64().unwrap());
    let expected: std::collections::BTreeSet<i32> =
        [NodeType::Comp, NodeType::CommSend, NodeType::CommRecv, NodeType::CommColl]
            .iter()
            .map(|&k| k as i32)
            .collect();
    assert_eq!(kinds, expected);
}

#[test]
fn files_round_trip_and_are_deterministic() {
    let (a, b) = (scratch("det-a"), scratch("det-b"));
    export_tiny(&a);
    export_tiny(&b);
    for suffix in ["0.et", "7.et", "network.yml", "system.json"] {
        let name = format!("out/tiny.{suffix}");
        let (x, y) = (std::fs::read(a.join(&name)).unwrap(), std::fs::read(b.join(&name)).unwrap());
        assert!(x == y, "{name} differs between two runs");
    }
    let original = a.join("out/tiny.3.et");
    let copy = a.join("copy.et");
    write_trace(&copy, &read_trace(&original).unwrap()).unwrap();
    assert_eq!(std::fs::read(&original).unwrap(), std::fs::read(&copy).unwrap());
}

#[test]
fn the_export_runs_through_astra_near_astrolabes_step() {
    let dir = scratch("astra");
    let summary = export_tiny(&dir);
    let p = |s: &str| dir.join(format!("out/tiny{s}")).display().to_string();
    let (w, sys, net) = (p(""), p(".system.json"), p(".network.yml"));
    let out =
        astrolabe(&["astra", "--workload", &w, "--system", &sys, "--network", &net, "--json"]);
    let report = json(&out);
    let astra_ns = report["max_finish_ns"].as_f64().unwrap();
    let graph_ns = summary["astrolabe_graph_ns"].as_f64().unwrap();
    // Same order of magnitude, not equal: ASTRA-sim's collective timing (docs/astra-sim.md),
    // one communication node at a time per rank, compute rounded to whole microseconds.
    let ratio = astra_ns / graph_ns;
    assert!((0.5..2.0).contains(&ratio), "astra {astra_ns} ns vs Astrolabe {graph_ns} ns");
}

/// Llama 3 8B cut to 4 layers at 2,048 tokens, TP 2 CP 2 DP 2 on one node (`cp_comm` ring or
/// all_gather), and Mixtral 8x7B cut to 2 layers at 1,024 tokens, TP 2 EP 2 DP 4.
fn cp_scenario(cp_comm: &str) -> String {
    format!(
        "name = \"cp\"\n[model]\npreset = \"llama3-8b\"\nlayers = 4\nseq_len = 2048\n\
         [cluster]\npreset = \"dgx-h100-basepod\"\nnodes = 1\n[plan]\ntp = 2\ncp = 2\n\
         cp_comm = \"{cp_comm}\"\nglobal_batch = 4\nzero_stage = 1\n"
    )
}

const EP_SCENARIO: &str = "name = \"ep\"\n[model]\npreset = \"mixtral-8x7b\"\nlayers = 2\n\
    seq_len = 1024\n[cluster]\npreset = \"dgx-h100-basepod\"\nnodes = 1\n[plan]\ntp = 2\n\
    ep = 2\nglobal_batch = 8\nzero_stage = 1\n";

/// Exports `text` as `dir/out/job`; returns the summary.
fn export_text(dir: &Path, text: &str) -> Value {
    let scenario = dir.join("job.toml");
    std::fs::write(&scenario, text).unwrap();
    let prefix = dir.join("out/job");
    let (s, p) = (scenario.to_str().unwrap(), prefix.to_str().unwrap());
    json(&astrolabe(&["export-chakra", s, "--out", p, "--json"]))
}

/// A communication node as read back.
struct CommNode {
    kind: NodeType,
    /// `comm_type` of a collective.
    coll: Option<i32>,
    size_bytes: u64,
    involved_dim: Vec<bool>,
    /// `comm_dst` of a send, `comm_src` of a receive.
    peer: Option<u64>,
}

/// The communication nodes of rank `rank` of `dir/out/job`, read back by the chakra reader.
fn comm_nodes(dir: &Path, rank: usize) -> Vec<CommNode> {
    let trace = read_trace(dir.join(format!("out/job.{rank}.et"))).unwrap();
    validate_dependencies(&trace.nodes, "job").unwrap();
    let mut out = Vec::new();
    for n in &trace.nodes {
        let kind = n.known_type().unwrap();
        if kind == NodeType::Comp {
            continue;
        }
        out.push(CommNode {
            kind,
            coll: (kind == NodeType::CommColl).then(|| n.comm_type().unwrap() as i32),
            size_bytes: n.attr_u64("comm_size").unwrap().unwrap(),
            involved_dim: n.attr_bool_list("involved_dim").unwrap().unwrap_or(&[]).to_vec(),
            peer: n.attr_u64("comm_dst").unwrap().or(n.attr_u64("comm_src").unwrap()),
        });
    }
    out
}

/// Runs `dir/out/job` through `astrolabe astra`; returns its finish over Astrolabe's graph time.
fn astra_ratio(dir: &Path, summary: &Value) -> f64 {
    let p = |s: &str| dir.join(format!("out/job{s}")).display().to_string();
    let (w, sys, net) = (p(""), p(".system.json"), p(".network.yml"));
    let out =
        astrolabe(&["astra", "--workload", &w, "--system", &sys, "--network", &net, "--json"]);
    let astra_ns = json(&out)["max_finish_ns"].as_f64().unwrap();
    astra_ns / summary["astrolabe_graph_ns"].as_f64().unwrap()
}

#[test]
fn context_parallel_exports_read_back_and_run_through_astra() {
    // One CP rank's keys and values of a layer on a TP rank: 1,024 tokens × 2 × 512 × 2 bytes.
    let share = 2_097_152;
    let dir = scratch("cp-ring");
    let summary = export_text(&dir, &cp_scenario("ring"));
    for rank in 0..8 {
        let nodes = comm_nodes(&dir, rank);
        // 4 layers × 2 micro-batches × (1 + 2) ring steps, each a send to and a receive from
        // the other CP rank (cp stride 2), of one share.
        let ring = |kind| nodes.iter().filter(|n| n.kind == kind).collect::<Vec<_>>();
        for kind in [NodeType::CommSend, NodeType::CommRecv] {
            let steps = ring(kind);
            assert_eq!(steps.len(), 24, "rank {rank}");
            assert!(steps
                .iter()
                .all(|n| n.size_bytes == share && n.peer == Some((rank ^ 2) as u64)));
        }
    }
    let ratio = astra_ratio(&dir, &summary);
    assert!((0.5..2.0).contains(&ratio), "ring: astra / Astrolabe = {ratio}");

    let dir = scratch("cp-gather");
    let summary = export_text(&dir, &cp_scenario("all_gather"));
    let (gather, scatter) =
        (CollectiveCommType::AllGather as i32, CollectiveCommType::ReduceScatter as i32);
    for rank in 0..8 {
        let nodes = comm_nodes(&dir, rank);
        let cp_dim = vec![false, true, false];
        // 8 all-gathers (comm_size: each rank's input, one share) and 8 reduce-scatters (the
        // whole buffer, two shares) over the CP dimension.
        let over_cp = |t: i32, size: u64| {
            nodes
                .iter()
                .filter(|n| n.coll == Some(t) && n.size_bytes == size && n.involved_dim == cp_dim)
                .count()
        };
        assert_eq!((over_cp(gather, share), over_cp(scatter, 2 * share)), (8, 8), "rank {rank}");
    }
    let ratio = astra_ratio(&dir, &summary);
    assert!((0.5..2.0).contains(&ratio), "all-gather: astra / Astrolabe = {ratio}");
}

#[test]
fn expert_parallel_exports_read_back_and_run_through_astra() {
    let dir = scratch("ep");
    let summary = export_text(&dir, EP_SCENARIO);
    let dims: Vec<&str> =
        summary["dimensions"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(dims, ["nvlink4-nvswitch/tp", "nvlink4-nvswitch/ep", "nvlink4-nvswitch/dp"]);
    let all_to_all = CollectiveCommType::AllToAll as i32;
    for rank in 0..8 {
        let nodes = comm_nodes(&dir, rank);
        // 2 layers × 2 micro-batches × 4 all-to-alls of the TP rank's 1,024 token copies ×
        // 4,096 × 2 bytes over the EP dimension; the expert-TP all-gather and reduce-scatter of
        // the pair's 2,048 copies (16,777,216 bytes) over the TP dimension, 8 each; the experts'
        // gradients (1,409,286,144 bytes per layer) over the expert-data dimension.
        let a2a = nodes.iter().filter(|n| n.coll == Some(all_to_all)).collect::<Vec<_>>();
        assert_eq!(a2a.len(), 16, "rank {rank}");
        assert!(a2a
            .iter()
            .all(|n| n.size_bytes == 8_388_608 && n.involved_dim == [false, true, false]));
        // Chakra sizes an all-gather by each rank's input (half the gathered 16,777,216 bytes).
        let over_tp = |t: CollectiveCommType, size: u64| {
            let tp_dim = [true, false, false];
            let of = |n: &&CommNode| {
                n.coll == Some(t as i32) && n.size_bytes == size && n.involved_dim == tp_dim
            };
            nodes.iter().filter(of).count()
        };
        let (gather, scatter) = (CollectiveCommType::AllGather, CollectiveCommType::ReduceScatter);
        assert_eq!((over_tp(gather, 8_388_608), over_tp(scatter, 16_777_216)), (8, 8));
        let experts = nodes.iter().filter(|n| n.size_bytes == 1_409_286_144).collect::<Vec<_>>();
        assert_eq!(experts.len(), 2);
        assert!(experts.iter().all(|n| n.involved_dim == [false, false, true]));
    }
    let ratio = astra_ratio(&dir, &summary);
    assert!((0.5..2.0).contains(&ratio), "EP: astra / Astrolabe = {ratio}");
}

#[test]
fn the_example_exports() {
    let dir = scratch("example");
    let prefix = dir.join("llama").display().to_string();
    let summary = json(&astrolabe(&[
        "export-chakra",
        "../../examples/llama3-8b-8xh100.toml",
        "--out",
        &prefix,
        "--json",
    ]));
    assert_eq!(summary["ranks"], 8);
    assert_eq!(summary["dimensions"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let dir = scratch("bad");
    let prefix = dir.join("x").display().to_string();
    let out = astrolabe(&["export-chakra", "no-such.toml", "--out", &prefix]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such.toml"));
    // 500,000 micro-batches of the tiny job: about 80 million nodes, above the cap.
    let scenario = dir.join("huge.toml");
    std::fs::write(&scenario, TINY.replace("global_batch = 8", "global_batch = 1000000")).unwrap();
    let out = astrolabe(&["export-chakra", scenario.to_str().unwrap(), "--out", &prefix]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("50000000") && stderr.contains("plan.global_batch"), "{stderr}");
    // Hybrid sharding: its groups are not exported.
    let hybrid = TINY.replace("zero_stage = 1", "zero_stage = 3\nshard_group = 1");
    std::fs::write(&scenario, hybrid).unwrap();
    let out = astrolabe(&["export-chakra", scenario.to_str().unwrap(), "--out", &prefix]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tiny: `plan.shard_group`: dp·cp (2)"), "{stderr}");
}
