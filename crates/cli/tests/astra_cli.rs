//! `astrolabe astra` as a user runs it: every case of ASTRA-sim's reference results, bad input,
//! and the table of docs/astra-sim.md.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const DATA: &str = "../../../shared/data/astra-sim";

/// Cases of expected.json that do not match within 1% yet, with the reason. Every other case
/// must match; a case listed here must still fail (so the list stays true).
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn astrolabe(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("astrolabe").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args).output().unwrap()
}

fn data(rel: &str) -> String {
    format!("{DATA}/{rel}")
}

fn run_case(case: &Value) -> Result<Value, String> {
    let s = |k: &str| data(case[k].as_str().unwrap());
    let backend = match case["backend"].as_str().unwrap() {
        "congestion_unaware" => "congestion-unaware",
        _ => "congestion-aware",
    };
    let (w, sys, net, mem) = (s("workload"), s("system"), s("network"), s("remote_memory"));
    let args = [
        "astra",
        "--workload",
        &w,
        "--system",
        &sys,
        "--network",
        &net,
        "--remote-memory",
        &mem,
        "--backend",
        backend,
        "--json",
    ];
    // Custom collectives name their traces relative to the data folder, as ASTRA-sim resolves
    // them against its working directory: run from there.
    let mut cmd = Command::cargo_bin("astrolabe").unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA);
    let rel = |p: &str| p.trim_start_matches(&format!("{DATA}/")).to_string();
    let args: Vec<String> = args.iter().map(|a| rel(a)).collect();
    let out = cmd.current_dir(dir).args(&args).output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

fn within_1pct(got: u64, want: u64) -> bool {
    (got as f64 - want as f64).abs() <= 0.01 * want as f64
}

#[test]
fn every_reference_case_matches_astra_sim_within_one_percent() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(data("expected.json"));
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = expected["cases"].as_array().unwrap();
    assert!(cases.len() >= 28, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let (min, max) = (
            case["expected_cycles_min"].as_u64().unwrap(),
            case["expected_cycles_max"].as_u64().unwrap(),
        );
        let verdict = match run_case(case) {
            Ok(v) => {
                let ranks = v["ranks"].as_array().unwrap();
                assert_eq!(ranks.len() as u64, case["npus"].as_u64().unwrap(), "{id}");
                for r in ranks {
                    assert!(
                        r["exposed_comm_ns"].as_u64().unwrap() <= r["finish_ns"].as_u64().unwrap(),
                        "{id}: {r}"
                    );
                }
                let got =
                    (v["min_finish_ns"].as_u64().unwrap(), v["max_finish_ns"].as_u64().unwrap());
                if within_1pct(got.0, min) && within_1pct(got.1, max) {
                    Ok(())
                } else {
                    Err(format!("{id}: got {got:?}, ASTRA-sim ({min}, {max})"))
                }
            }
            Err(e) => Err(format!("{id}: {e}")),
        };
        let known = KNOWN_FAILURES.iter().find(|(k, _)| *k == id);
        match (verdict, known) {
            (Ok(()), None) | (Err(_), Some(_)) => {}
            (Ok(()), Some((_, why))) => {
                failures.push(format!("{id} now matches: remove it from KNOWN_FAILURES ({why})"))
            }
            (Err(e), None) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn bad_inputs_exit_2_naming_file_and_field() {
    let dir = std::env::temp_dir().join(format!("astrolabe-astra-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = dir.join("bad.yml");
    std::fs::write(
        &net,
        "topology: [ Ring ]\nnpus_count: [ 4 ]\nbandwidth: [ 50 ]\nlatency: [ 500 ]\nmtu: 9000\n",
    )
    .unwrap();
    let (w, sys) = (
        data("workload/all_reduce/4npus_1MB/all_reduce"),
        data("system/native_collectives/Ring_4chunks.json"),
    );
    let out = astrolabe(&[
        "astra",
        "--workload",
        &w,
        "--system",
        &sys,
        "--network",
        net.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yml: `mtu`: a known key"), "{err}");
    let out = astrolabe(&[
        "astra",
        "--workload",
        &data("workload/nothing"),
        "--system",
        &sys,
        "--network",
        &data("network/Ring_4npus.yml"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rank files"));
}

#[test]
fn docs_table_is_the_check_output() {
    let out = astrolabe(&["astra", "--check", &data("expected.json"), "--markdown"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/astra-sim.md"),
    )
    .unwrap();
    assert!(doc.contains(table.trim()), "docs/astra-sim.md is stale: regenerate the table with\n`astrolabe astra --check ../shared/data/astra-sim/expected.json --markdown`\n{table}");
}

/// ASTRA-sim's congestion-aware backend refuses networks of more than one dimension; Astrolabe
/// runs them on its flow-level model. The 8-rank all-reduce of the bundled traces on a 2 × 4
/// network of rings completes on every rank, and takes at least the bytes each rank must send
/// over its slowest dimension (2·(4−1)/4 of the post-reduce-scatter half on 2^30 B/s links).
#[test]
fn congestion_aware_runs_multi_dimensional_networks() {
    let dir = std::env::temp_dir().join(format!("astrolabe-astra-2d-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sys = dir.join("sys.json");
    let net = dir.join("net.yml");
    let algos = r#"["ring", "ring"]"#;
    std::fs::write(
        &sys,
        format!(
            r#"{{"endpoint-delay": 10, "preferred-dataset-splits": 4, "active-chunks-per-dimension": 1,
            "all-reduce-implementation": {algos}, "all-gather-implementation": {algos},
            "reduce-scatter-implementation": {algos}, "all-to-all-implementation": {algos},
            "collective-optimization": "localBWAware", "local-mem-bw": 1600}}"#
        ),
    )
    .unwrap();
    std::fs::write(
        &net,
        "topology: [ Ring, Ring ]\nnpus_count: [ 2, 4 ]\nbandwidth: [ 1, 1 ]\nlatency: [ 100, 100 ]\n",
    )
    .unwrap();
    let w = data("workload/all_reduce/8npus_1MB/all_reduce");
    let (sys, net) = (sys.display().to_string(), net.display().to_string());
    let args = ["astra", "--workload", &w, "--system", &sys, "--network", &net];
    let out = astrolabe(&[&args[..], &["--backend", "congestion-aware", "--json"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ranks = report["ranks"].as_array().unwrap();
    assert_eq!(ranks.len(), 8);
    let finish = report["max_finish_ns"].as_f64().unwrap();
    // Outer ring all-reduce on half of 1 MiB: 2·3/4 · 2^19 B at 2^30 B/s = 732,421.875 ns.
    assert!(finish > 732_421.0, "{finish}");
    assert!(ranks.iter().all(|r| r["finish_ns"].as_f64().unwrap() > 0.0));
    let unaware = astrolabe(&[&args[..], &["--backend", "congestion-unaware", "--json"]].concat());
    assert!(unaware.status.success(), "{}", String::from_utf8_lossy(&unaware.stderr));
}
