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
}
