//! Wall-clock cost of running one 1 GiB all-reduce through `astrolabe astra`'s
//! congestion-unaware backend on 1,024 ranks (8×8×16 rings) and 16,384 ranks (16×32×32 rings).
//!
//! Setup writes one Chakra trace per rank (a single ALL_REDUCE node) with the chakra writer into
//! `<tmp>/astrolabe-bench-all-reduce/<ranks>/`, with the system JSON and network YAML beside it;
//! the files stay there so that `scripts/bench.sh` can measure the peak memory of the real
//! command on them. Timed: reading every trace and simulating (what the command does after
//! parsing its two configuration files). After the runs, the table of docs/performance.md's
//! ASTRA-sim section is written to `<criterion dir>/astrolabe-astra-performance.md`.

// criterion's group macro defines an undocumented public function.
#![allow(missing_docs)]

use astrolabe_astra::{
    load_traces, parse_network, parse_system, simulate, Backend, Config, RemoteMemory,
};
use astrolabe_chakra::{
    rank_path, write_trace, Attr, CollectiveCommType, GlobalMetadata, Node, NodeType, Trace,
};
use criterion::{criterion_group, Criterion};
use std::fmt::Write;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// (ranks per dimension, innermost first) of each case, in the table's order.
const CASES: [[u64; 3]; 2] = [[8, 8, 16], [16, 32, 32]];
/// The all-reduce's buffer: 1 GiB.
const SIZE_BYTES: u64 = 1 << 30;

const SYSTEM: &str = r#"{
  "endpoint-delay": 10,
  "active-chunks-per-dimension": 1,
  "preferred-dataset-splits": 4,
  "all-reduce-implementation": ["ring", "ring", "ring"],
  "all-gather-implementation": ["ring", "ring", "ring"],
  "reduce-scatter-implementation": ["ring", "ring", "ring"],
  "all-to-all-implementation": ["ring", "ring", "ring"],
  "collective-optimization": "localBWAware",
  "local-mem-bw": 1600
}
"#;

fn ranks(dims: [u64; 3]) -> u64 {
    dims.iter().product()
}

/// The case's folder (traces under `all_reduce.<rank>.et`).
fn case_dir(dims: [u64; 3]) -> PathBuf {
    std::env::temp_dir().join("astrolabe-bench-all-reduce").join(ranks(dims).to_string())
}

fn network_yaml(dims: [u64; 3]) -> String {
    let npus: Vec<String> = dims.iter().map(u64::to_string).collect();
    format!(
        "topology: [ Ring, Ring, Ring ]\nnpus_count: [ {} ]\nbandwidth: [ 50.0, 50.0, 50.0 ]\n\
         latency: [ 500.0, 500.0, 500.0 ]\n",
        npus.join(", ")
    )
}

/// Writes the traces, system and network of one case; returns the parsed configuration.
fn setup(dims: [u64; 3]) -> Config {
    let dir = case_dir(dims);
    std::fs::create_dir_all(&dir).expect("the temporary folder is writable");
    let mut node = Node::new(0, "all_reduce_1GiB", NodeType::CommColl);
    node.attr.push(Attr::comm_type(CollectiveCommType::AllReduce));
    node.attr.push(Attr::u64("comm_size", SIZE_BYTES));
    node.attr.push(Attr::bool_list("involved_dim", vec![true; 3]));
    let metadata = GlobalMetadata { version: "0.0.4".into(), attr: vec![] };
    let trace = Trace { metadata, nodes: vec![node] };
    for rank in 0..ranks(dims) {
        write_trace(rank_path(&dir.join("all_reduce"), rank), &trace).expect("writes a trace");
    }
    let network = network_yaml(dims);
    std::fs::write(dir.join("network.yml"), &network).expect("writes the network");
    std::fs::write(dir.join("system.json"), SYSTEM).expect("writes the system");
    let (system, _) = parse_system(SYSTEM, "system.json").expect("a valid system");
    Config {
        system,
        system_origin: "system.json".into(),
        network: parse_network(&network, "network.yml").expect("a valid network"),
        remote_memory: RemoteMemory::None,
        comm_groups: None,
    }
}

/// Reads every trace of the case and simulates it; returns the largest finish time in ns.
fn load_and_run(config: &Config, dims: [u64; 3]) -> u64 {
    let prefix = case_dir(dims).join("all_reduce");
    let traces = load_traces(&prefix).expect("reads the traces");
    let report = simulate(config, &traces, None, Backend::CongestionUnaware, "all_reduce")
        .expect("simulates");
    report.max_finish_ns
}

fn all_reduce(c: &mut Criterion) {
    let mut group = c.benchmark_group("astra_all_reduce_1GiB");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for dims in CASES {
        let config = setup(dims);
        group.bench_function(ranks(dims).to_string(), |b| {
            b.iter(|| load_and_run(black_box(&config), dims))
        });
    }
    group.finish();
}

criterion_group!(benches, all_reduce);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let path = criterion_dir().join("astrolabe-astra-performance.md");
    match std::fs::write(&path, table()) {
        Ok(()) => println!("table written to {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}

/// Where criterion keeps its results: `$CARGO_TARGET_DIR/criterion`, else the workspace's.
fn criterion_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("criterion")
}

/// Criterion's median for `name`, in milliseconds, if it has run.
fn median_ms(name: &str) -> Option<f64> {
    let file = criterion_dir().join("astra_all_reduce_1GiB").join(name).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    Some(v["median"]["point_estimate"].as_f64()? / 1e6)
}

/// The markdown table: one row per case, then the ratio of medians.
fn table() -> String {
    let mut out = String::from(
        "| ranks | network | simulated finish (ns) | median wall time (ms) |\n|---:|---|---:|---:|\n",
    );
    for dims in CASES {
        let finish = load_and_run(&setup(dims), dims);
        let median = median_ms(&ranks(dims).to_string())
            .map_or("not run".to_string(), |ms| format!("{ms:.1}"));
        let shape = dims.iter().map(u64::to_string).collect::<Vec<_>>().join("×");
        let _ = writeln!(out, "| {} | {shape} rings | {finish} | {median} |", ranks(dims));
    }
    let ratio = match (median_ms("16384"), median_ms("1024")) {
        (Some(big), Some(small)) => format!("{:.2}", big / small),
        _ => "not run".to_string(),
    };
    let _ =
        writeln!(out, "\nRatio of medians: 16,384 ranks ÷ 1,024 ranks = {ratio} (16× the ranks).");
    out
}
