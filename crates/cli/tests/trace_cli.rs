//! `astrolabe simulate --trace`: the Perfetto / Chrome trace of a step, read back as JSON.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn out_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("astrolabe-trace-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs `simulate --json --trace` on the example `name` (the trace file named by `tag`);
/// returns the report, the trace and the trace's text.
fn simulate_traced(name: &str, tag: &str, extra: &[&str]) -> (Value, Value, String) {
    let path = out_path(&format!("{name}-{tag}.json"));
    let scenario = format!("../../examples/{name}.toml");
    let mut args = vec!["simulate", "--json", "--trace", path.to_str().unwrap(), &scenario];
    args.extend_from_slice(extra);
    let out = Command::cargo_bin("astrolabe").unwrap().args(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&path).unwrap();
    let trace = serde_json::from_str(&text).unwrap();
    (serde_json::from_slice(&out.stdout).unwrap(), trace, text)
}

/// Integer nanoseconds of a microsecond field written with three decimals.
fn ns(event: &Value, key: &str) -> u64 {
    let us = event[key].as_f64().unwrap_or_else(|| panic!("{key} in {event}"));
    assert!(us >= 0.0, "{key} < 0 in {event}");
    (us * 1000.0).round() as u64
}

/// Checks the trace against the report; returns the number of tracks.
fn check(report: &Value, trace: &Value) -> usize {
    let events = trace["traceEvents"].as_array().unwrap();
    let mut names: BTreeMap<(u64, u64), String> = BTreeMap::new();
    let mut spans: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
    for e in events {
        let key = (e["pid"].as_u64().unwrap(), e["tid"].as_u64().unwrap_or(0));
        match (e["ph"].as_str().unwrap(), e["name"].as_str().unwrap()) {
            ("M", "thread_name") => {
                let name = e["args"]["name"].as_str().unwrap().to_string();
                assert!(names.insert(key, name).is_none(), "two thread_names for {key:?}");
            }
            ("X", _) => {
                let (start, dur) = (ns(e, "ts"), ns(e, "dur"));
                assert_eq!(e["args"]["duration_ns"].as_u64(), Some(dur), "{e}");
                spans.entry(key).or_default().push((start, start + dur));
            }
            _ => {}
        }
    }
    // One thread_name per track that has events, and no name without events.
    let tracks: BTreeSet<_> = spans.keys().copied().collect();
    assert_eq!(names.keys().copied().collect::<BTreeSet<_>>(), tracks);
    for (key, list) in &mut spans {
        list.sort_unstable();
        for w in list.windows(2) {
            assert!(w[0].1 <= w[1].0, "overlap on {key:?}: {w:?}");
        }
    }
    let last_end = spans.values().flatten().map(|s| s.1).max().unwrap();
    assert_eq!(trace["otherData"]["makespan_ns"].as_u64(), Some(last_end));
    let graph_s = report["step_time_s"].as_f64().unwrap()
        - report["breakdown"]["step_overhead_s"].as_f64().unwrap();
    let graph_ns = graph_s * 1e9;
    assert!((last_end as f64 - graph_ns).abs() <= 1.0, "{last_end} ns vs {graph_ns} ns");
    let tasks: usize = spans.values().map(Vec::len).sum();
    assert_eq!(report["simulated_tasks"].as_u64(), Some(tasks as u64));
    tracks.len()
}

#[test]
fn a_pipelined_step_traces_every_task_on_its_stage_and_stream() {
    let (report, trace, _) = simulate_traced("llama3-70b-64xh100", "rep", &[]);
    let pp = report["plan"]["pp"].as_u64().unwrap();
    let tracks = check(&report, &trace);
    let events = trace["traceEvents"].as_array().unwrap();
    let processes: Vec<&str> = events
        .iter()
        .filter(|e| e["name"] == "process_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..pp).map(|s| format!("stage {s}")).collect();
    assert_eq!(processes, expected);
    assert!(tracks as u64 >= 2 * pp, "{tracks} tracks for {pp} stages");
    let first = events.iter().find(|e| e["ph"] == "X").unwrap();
    assert_eq!(first["args"]["stage"], 0, "{first}");
    assert_eq!(first["args"]["micro_batch"], 0, "{first}");
}

#[test]
fn per_rank_mode_traces_every_gpu() {
    let (report, trace, _) = simulate_traced("llama3-8b-8xh100", "per-rank", &["--per-rank"]);
    check(&report, &trace);
    let gpus = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "process_name")
        .count();
    assert_eq!(gpus, 8);
}

#[test]
fn the_trace_is_byte_identical_between_runs() {
    let (_, _, a) = simulate_traced("llama3-8b-fsdp-8xh100", "a", &[]);
    let (_, _, b) = simulate_traced("llama3-8b-fsdp-8xh100", "b", &[]);
    assert!(a == b, "two runs differ");
}

#[test]
fn an_unwritable_trace_path_exits_2_naming_it() {
    let path = "/nonexistent-dir/trace.json";
    let out = Command::cargo_bin("astrolabe")
        .unwrap()
        .args(["simulate", "--trace", path, "../../examples/llama3-8b-8xh100.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(path) && err.contains("--trace"), "{err}");
    assert!(out.stdout.is_empty(), "nothing is simulated before the path is known to work");
}
