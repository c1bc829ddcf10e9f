//! The search's speed target: every candidate plan of the default space of Llama 3 405B on
//! 16,384 H100 (examples/llama3-405b-16384xh100.toml), resolved, accounted and, when it fits,
//! simulated, in under 60 seconds on a 2-core machine.
//!
//! `cargo bench -p astrolabe-explore` runs criterion (10 samples of the whole search);
//! `scripts/bench.sh search` runs it and puts the table it writes into docs/performance.md.

// criterion's group macro defines an undocumented public function.
#![allow(missing_docs)]

use astrolabe_explore::search::{search, Objective, Outcome};
use astrolabe_explore::Space;
use astrolabe_sim::{no_cluster_files, parse_scenario, Scenario};
use criterion::{criterion_group, Criterion};
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

const NAME: &str = "llama3-405b-16384xh100";

fn scenario() -> Scenario {
    let text = include_str!("../../../examples/llama3-405b-16384xh100.toml");
    parse_scenario(text, NAME, &no_cluster_files).expect("the example parses")
}

fn whole_space(c: &mut Criterion) {
    let s = scenario();
    let space = Space::for_scenario(&s);
    let mut group = c.benchmark_group("search");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    group.bench_function(NAME, |b| b.iter(|| search(&s, &space, Objective::Time, 10, &|| {})));
    group.finish();
}

criterion_group!(benches, whole_space);

fn main() {
    benches();
    criterion::Criterion::default().configure_from_args().final_summary();
    let path = criterion_dir().join("astrolabe-search-performance.md");
    match std::fs::write(&path, table()) {
        Ok(()) => println!("wrote {}", path.display()),
        Err(e) => eprintln!("cannot write {}: {e}", path.display()),
    }
}

fn criterion_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion")
}

/// Criterion's median, in seconds, if it has run.
fn median_s() -> Option<f64> {
    let file = criterion_dir().join("search").join(NAME).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()?;
    Some(v["median"]["point_estimate"].as_f64()? / 1e9)
}

/// The markdown table of docs/performance.md: the search's counts and its median time.
fn table() -> String {
    let s = scenario();
    let found = search(&s, &Space::for_scenario(&s), Objective::Time, 1, &|| {});
    let refused: usize = found.invalid_by_field.values().sum();
    let simulated = found.all.iter().filter(|e| matches!(e.outcome, Outcome::Simulated(_))).count();
    let mut out = String::from(
        "| scenario | candidate plans | refused by the plan's checks | do not fit | simulated | median (s) | plans per second |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    let (median, rate) = match median_s() {
        Some(t) => (format!("{t:.1}"), format!("{:.0}", found.candidates as f64 / t)),
        None => ("not run".into(), "not run".into()),
    };
    let _ = writeln!(
        out,
        "| {NAME} | {} | {refused} | {} | {simulated} | {median} | {rate} |",
        found.candidates, found.does_not_fit
    );
    let _ = writeln!(
        out,
        "\nBest plan: {} ({:.3} s per step).",
        found.best[0].label, found.best[0].summary.step_time_s
    );
    out
}
