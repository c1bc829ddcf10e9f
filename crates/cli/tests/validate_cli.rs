//! `astrolabe validate` as a user runs it: the contract keys, bad datasets, the docs table.

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::PathBuf;

const DATASET: &str = "../../../shared/data/validation/dev.json";

fn astrolabe(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("astrolabe").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args).output().unwrap()
}

fn json_of(args: &[&str]) -> Value {
    let out = astrolabe(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("astrolabe-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn json_has_the_contract_keys_and_errors_are_predicted_over_measured() {
    let v = json_of(&["validate", "--json", "--dataset", DATASET]);
    let entries = v["entries"].as_array().unwrap();
    assert!(entries.len() >= 40, "{} entries compared", entries.len());
    for e in entries {
        for key in ["id", "metric", "measured", "predicted", "error", "assumptions"] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
        let (m, p, err) = (e["measured"].as_f64(), e["predicted"].as_f64(), e["error"].as_f64());
        assert!((p.unwrap() / m.unwrap() - 1.0 - err.unwrap()).abs() < 1e-12, "{e}");
    }
    let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"training") && kinds.contains(&"collective"));
    let summary = &v["summary"];
    assert_eq!(summary["count"].as_u64(), Some(entries.len() as u64));
    let (median, p90) = (summary["median_abs_error"].as_f64(), summary["p90_abs_error"].as_f64());
    assert!(median.unwrap() <= p90.unwrap());
    for s in v["skipped"].as_array().unwrap() {
        assert!(!s["reason"].as_str().unwrap().is_empty(), "{s}");
    }
    // Context parallelism (cp = 2) and FSDP are simulated: compared, not skipped.
    for id in ["nemo2407-LLAMA3-8B-8gpu", "opt-175B-992gpu"] {
        assert!(entries.iter().any(|e| e["id"] == id), "{id} not compared");
    }
}

/// One good entry (Korthikanti et al. 22B, full recomputation) and three broken ones.
fn broken_dataset() -> String {
    let good = json!({
        "id": "good-22B", "kind": "training", "source": "test",
        "model": { "name": "GPT 22B", "layers": 48, "hidden": 6144, "heads": 64, "ffn": 24576,
                   "vocab": 51200, "seq_len": 2048 },
        "global_batch_size": 4, "micro_batch_size": 4, "tp": 8, "pp": 1, "dp": 1, "cp": 1,
        "activation_recompute": "full", "sequence_parallel": false, "precision": "bf16",
        "gpu_type": "A100-SXM4-80GB", "gpu_count": 8, "gpus_per_node": 8,
        "framework": "Megatron-LM", "metrics": { "step_time_s": 1.42 }
    });
    let mut bad_tp = good.clone();
    bad_tp["id"] = json!("bad-tp");
    bad_tp["tp"] = json!("eight");
    let mut bad_metric = good.clone();
    bad_metric["id"] = json!("bad-metric");
    bad_metric["metrics"] = json!({ "step_time_s": "1.4 s" });
    let mut wrong_gpus = good.clone();
    wrong_gpus["id"] = json!("wrong-gpus");
    wrong_gpus["dp"] = json!(2);
    let no_id = json!({ "kind": "training" });
    json!({ "entries": [bad_tp, good, no_id, bad_metric, wrong_gpus] }).to_string()
}

#[test]
fn malformed_entries_are_skipped_by_id_and_field_and_the_rest_still_run() {
    let path = temp_file("broken.json", &broken_dataset());
    let file = path.to_str().unwrap();
    let v = json_of(&["validate", "--json", "--dataset", file]);
    let ids: Vec<&str> =
        v["entries"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["good-22B"]);
    let skipped: Vec<(String, String)> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().into(), s["reason"].as_str().unwrap().into()))
        .collect();
    let expect = [
        ("bad-tp", "entry `bad-tp`: `tp`:"),
        ("entries[2]", "entries[2]: `id`:"),
        ("bad-metric", "entry `bad-metric`: `metrics.step_time_s`:"),
        ("wrong-gpus", "`plan.dp`: tp·cp·pp·dp equal to the cluster's 8 GPUs"),
    ];
    assert_eq!(skipped.len(), expect.len(), "{skipped:?}");
    for ((id, reason), (want_id, want)) in skipped.iter().zip(expect) {
        assert_eq!(id, want_id);
        assert!(reason.contains(want), "{reason}");
        assert!(id == "wrong-gpus" || reason.starts_with(file), "names the file: {reason}");
    }
}

#[test]
fn an_unusable_dataset_exits_2_naming_the_file() {
    let not_json = temp_file("not.json", "{ entries: ");
    let no_entries = temp_file("empty.json", "{\"about\": \"x\"}");
    for path in ["/nonexistent/dev.json", not_json.to_str().unwrap(), no_entries.to_str().unwrap()]
    {
        let out = astrolabe(&["validate", "--dataset", path]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(path) && !err.contains("panicked"), "{err}");
    }
}

#[test]
fn the_built_scenario_simulates_to_the_validated_figure() {
    let path = temp_file("ok.json", &broken_dataset());
    let file = path.to_str().unwrap();
    let v = json_of(&["validate", "--json", "--dataset", file]);
    let out = astrolabe(&["validate", "--dataset", file, "--scenario", "good-22B"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("# assumed plan.zero_stage = 0"), "{text}");
    let scenario = temp_file("good-22B.toml", &text);
    let sim = json_of(&["simulate", "--json", "--dataset", DATASET, scenario.to_str().unwrap()]);
    assert_eq!(sim["step_time_s"], v["entries"][0]["predicted"]);
}

#[test]
fn docs_validation_table_is_the_commands_output() {
    let out = astrolabe(&["validate", "--markdown", "--dataset", DATASET]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).unwrap();
    let doc = std::fs::read_to_string("../../docs/validation.md").unwrap();
    assert!(doc.contains(table.trim()), "docs/validation.md is stale: run scripts/gen-docs.sh");
}
