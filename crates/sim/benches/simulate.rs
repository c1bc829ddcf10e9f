//! Wall-clock cost of simulating one training step, on the scenarios of `examples/`.
//!
//! `cargo bench -p astrolabe-sim` runs criterion; `scripts/bench.sh` runs it and regenerates the
//! table of docs/performance.md from the medians criterion records. Parsing is outside the
//! measured loop: the figures are the simulation itself (pricing, graph building, engine, report).

// criterion's group macro defines an undocumented public function.
#![allow(missing_docs)]

use astrolabe_sim::{no_cluster_files, parse_scenario, simulate, Mode, NetworkModel, Scenario};
use criterion::{criterion_group, Criterion};
use std::fmt::Write;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

/// (criterion group, example, mode) of every benchmark, in the table's order. The
/// `congestion_aware` group runs the representative mode with the flow-level network model.
const CASES: [(&str, &str, Mode); 5] = [
    ("representative", "llama3-405b-16384xh100", Mode::Representative),
    ("congestion_aware", "llama3-405b-16384xh100", Mode::Representative),
    ("representative", "gpt3-175b-96xh100", Mode::Representative),
    ("representative", "gpt3-175b-1024xa100", Mode::Representative),
    ("per_rank", "gpt3-175b-1024xa100", Mode::PerRank),
];

fn scenario(name: &str) -> Scenario {
    let path = format!("{}/../../examples/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the examples are in the repository");
    parse_scenario(&text, &path, &no_cluster_files).expect("the examples are valid")
}

fn representative(c: &mut Criterion) {
    let mut group = c.benchmark_group("representative");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    for name in ["llama3-405b-16384xh100", "gpt3-175b-96xh100", "gpt3-175b-1024xa100"] {
        let sc = scenario(name);
        group.bench_function(name, |b| {
            b.iter(|| simulate(black_box(&sc), Mode::Representative).expect("simulates"))
        });
    }
    group.finish();
}

/// The scenario of a case: the example, with the flow-level model in the `congestion_aware`
/// group (on the fabric derived from its cluster).
fn case_scenario(group: &str, name: &str) -> Scenario {
    let mut sc = scenario(name);
    if group == "congestion_aware" {
        sc.network.model = NetworkModel::CongestionAware;
    }
    sc
}

fn congestion_aware(c: &mut Criterion) {
    let mut group = c.benchmark_group("congestion_aware");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    let sc = case_scenario("congestion_aware", "llama3-405b-16384xh100");
    group.bench_function("llama3-405b-16384xh100", |b| {
        b.iter(|| simulate(black_box(&sc), Mode::Representative).expect("simulates"))
    });
    group.finish();
}

fn per_rank(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_rank");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    let sc = scenario("gpt3-175b-1024xa100");
    group.bench_function("gpt3-175b-1024xa100", |b| {
        b.iter(|| simulate(black_box(&sc), Mode::PerRank).expect("simulates"))
    });
    group.finish();
}

criterion_group!(benches, representative, congestion_aware, per_rank);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let path = criterion_dir().join("astrolabe-performance.md");
    match std::fs::write(&path, table()) {
        Ok(()) => println!("table written to {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}

fn criterion_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion")
}

/// Criterion's median for `group/name`, in milliseconds, if it has run.
fn median_ms(group: &str, name: &str) -> Option<f64> {
    let file = criterion_dir().join(group).join(name).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    Some(v["median"]["point_estimate"].as_f64()? / 1e6)
}

/// The markdown table of docs/performance.md.
fn table() -> String {
    let mut out = String::from(
        "| scenario | mode | GPUs | simulated GPUs | tasks | median (ms) |\n|---|---|---:|---:|---:|---:|\n",
    );
    for (group, name, mode) in CASES {
        let sc = case_scenario(group, name);
        let r = simulate(&sc, mode).expect("simulates");
        let median = median_ms(group, name).map_or("not run".to_string(), |ms| format!("{ms:.1}"));
        let _ = writeln!(
            out,
            "| {name} | {group} | {} | {} | {} | {median} |",
            sc.cluster.gpus(),
            r.simulated_gpus,
            r.simulated_tasks
        );
    }
    let ratio = |a: (&str, &str), b: (&str, &str)| match (median_ms(a.0, a.1), median_ms(b.0, b.1))
    {
        (Some(x), Some(y)) => format!("{:.3}", x / y),
        _ => "not run".to_string(),
    };
    let big = ("representative", "llama3-405b-16384xh100");
    let default = ("representative", "gpt3-175b-96xh100");
    let _ = writeln!(
        out,
        "\nRatios of medians: 16,384-GPU 405B ÷ 96-GPU default = {}; per-rank ÷ representative \
         at 1,024 GPUs = {}; congestion-aware ÷ analytical for the 16,384-GPU 405B = {}.",
        ratio(big, default),
        ratio(("per_rank", "gpt3-175b-1024xa100"), ("representative", "gpt3-175b-1024xa100")),
        ratio(("congestion_aware", "llama3-405b-16384xh100"), big)
    );
    if let Some(peak) = peak_rss_mib() {
        let _ = writeln!(out, "\nPeak resident memory of the benchmark process: {peak} MiB.");
    }
    out
}

/// The process's peak resident set size (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
