//! `astrolabe simulate` as a user runs it: the default scenario, the examples, bad scenarios.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

const DATASET: &str = "../../../shared/data/validation/dev.json";

fn astrolabe(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("astrolabe").unwrap().args(args).output().unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = astrolabe(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn example(name: &str) -> String {
    format!("../../examples/{name}.toml")
}

#[test]
fn the_default_scenario_prints_the_published_figure_beside_the_prediction() {
    let out = astrolabe(&["simulate", "--dataset", DATASET]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("gpt3-175b-96xh100"), "{text}");
    assert!(text.contains("Published     MFU 47.0 %"), "{text}");
    assert!(text.contains("megatron-h100-strong-177B-96gpu"), "{text}");
}

#[test]
fn json_has_the_contract_keys_and_a_breakdown_that_adds_up() {
    let v = json(&["simulate", "--json", "--dataset", DATASET]);
    for key in ["step_time_s", "tokens_per_s", "mfu", "memory_peak_bytes", "fits_in_memory"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let step = v["step_time_s"].as_f64().unwrap();
    let parts: f64 =
        v["breakdown"].as_object().unwrap().values().map(|x| x.as_f64().unwrap()).sum();
    assert!((parts - step).abs() < 1e-9 * step.max(1.0), "{parts} vs {step}");
    assert_eq!(v["reference"]["mfu"].as_f64(), Some(0.47));
    assert_eq!(v["plan"]["dp"], 2);
}

#[test]
fn the_default_equals_its_example_file() {
    let default = json(&["simulate", "--json", "--dataset", DATASET]);
    let file = json(&["simulate", "--json", "--dataset", DATASET, &example("gpt3-175b-96xh100")]);
    assert_eq!(default["step_time_s"], file["step_time_s"]);
    assert_eq!(default["memory"], file["memory"]);
}

#[test]
fn a_missing_dataset_is_said_not_fatal() {
    let out = astrolabe(&["simulate", "--dataset", "/nonexistent/dev.json"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("published figure not shown"));
}

#[test]
fn a_plan_that_does_not_fit_is_reported_in_full_then_exits_2() {
    let text = SMALL.replace("llama3-8b", "llama3-70b").replace("tp = 2", "tp = 8");
    let path = scenario_file("too-big.toml", &text);
    let out = astrolabe(&["simulate", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fits_in_memory"], false);
    assert!(v["step_time_s"].as_f64().unwrap() > 0.0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("too-big.toml") && err.contains("`memory`"), "{err}");
}

#[test]
fn per_rank_mode_gives_the_same_step() {
    let a = json(&["simulate", "--json", &example("llama3-8b-8xh100")]);
    let b = json(&["simulate", "--json", "--per-rank", &example("llama3-8b-8xh100")]);
    assert_eq!(a["step_time_s"], b["step_time_s"]);
    assert_eq!(b["simulated_gpus"], 8);
}

fn scenario_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("astrolabe-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SMALL: &str = "[model]\npreset = \"llama3-8b\"\n[cluster]\npreset = \"dgx-h100-basepod\"\n\
                     nodes = 1\n[plan]\ntp = 2\nglobal_batch = 16\n";

#[test]
fn bad_scenarios_exit_2_naming_the_file_and_field() {
    let cases = [
        ("unknown-key.toml", SMALL.replace("tp = 2", "tp = 2\ntensor = 2"), "tensor"),
        ("missing.toml", SMALL.replace("global_batch = 16\n", ""), "plan.global_batch"),
        ("impossible.toml", SMALL.replace("tp = 2", "tp = 3"), "plan.tp"),
        ("preset.toml", SMALL.replace("llama3-8b", "llama4"), "model.preset"),
        ("cluster.toml", SMALL.replace("dgx-h100-basepod", "dgx-z"), "dgx-z"),
        (
            "file.toml",
            SMALL.replace("preset = \"dgx-h100-basepod\"\nnodes = 1", "file = \"nope.toml\""),
            "cluster.file",
        ),
        (
            "network.toml",
            format!("{SMALL}[network]\nmodel = \"congestion-aware\"\nfabric = \"nope\"\n"),
            "network.fabric",
        ),
        ("cost-key.toml", format!("{SMALL}[cost]\nspot = true\n"), "cost.spot"),
        ("cost-pue.toml", format!("{SMALL}[cost]\npue = 0.5\n"), "cost.pue"),
    ];
    for (name, text, field) in cases {
        let path = scenario_file(name, &text);
        let out = astrolabe(&["simulate", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{name}: {err}");
        assert!(err.contains(name), "{name} does not name the file: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = astrolabe(&["simulate", "/nonexistent/scenario.toml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_network_model_flag_is_checked_and_overrides_the_scenario() {
    let out = astrolabe(&["simulate", "--network-model", "packet-level"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--network-model"));
    let path = example("llama3-70b-512xh100-fat-tree");
    let flows = json(&["simulate", "--json", &path]);
    let plain = json(&["simulate", "--json", "--network-model", "analytical", &path]);
    assert_eq!(flows["network"]["model"], "congestion-aware");
    assert_eq!(plain["network"]["model"], "analytical");
    assert!(plain["network"]["links"].is_null());
    assert!(flows["network"]["links"]["classes"].as_array().unwrap().len() >= 3);
    // 1:4 oversubscribed leaves make the data-parallel communication longer.
    let dp = |v: &Value| v["breakdown"]["exposed_dp_comm_s"].as_f64().unwrap();
    assert!(dp(&flows) > dp(&plain), "{} vs {}", dp(&flows), dp(&plain));
}

#[test]
fn on_premise_cost_follows_the_step_and_the_scale_out_network() {
    let text = SMALL.replace("nodes = 1", "nodes = 2").replace("tp = 2", "tp = 8")
        + "[cost]\npricing = \"on-premise\"\nrun_tokens = 1e9\n";
    let path = scenario_file("on-premise.toml", &text);
    let v = json(&["simulate", "--json", path.to_str().unwrap()]);
    let cost = &v["cost"];
    assert_eq!(cost["scale_out_gbps"].as_f64(), Some(400.0));
    // H100 defaults at 400 Gb/s: capital (33,750 + 4 × 1,060) / (5 × 8,760 h), power
    // 1.275 kW × 1.58 × 0.0806 USD/kWh, facility 184.06 USD/kW-month × 12 / 8,760 h × 1.275 kW.
    let rate = 37_990.0 / 43_800.0 + 1.275 * 1.58 * 0.0806 + 184.06 * 12.0 / 8_760.0 * 1.275;
    let got = cost["rate"]["usd_per_gpu_hour"].as_f64().unwrap();
    assert!((got - rate).abs() < 1e-12, "{got} vs {rate}");
    let tokens_per_step = v["tokens_per_step"].as_u64().unwrap();
    let steps = 1_000_000_000u64.div_ceil(tokens_per_step);
    assert_eq!(cost["run"]["steps"].as_u64(), Some(steps));
    let step_s = v["step_time_s"].as_f64().unwrap();
    let per_step = 16.0 * step_s / 3_600.0 * rate;
    let usd_per_step = cost["run"]["usd_per_step"].as_f64().unwrap();
    assert!((usd_per_step - per_step).abs() < 1e-9 * per_step, "{usd_per_step} vs {per_step}");
    assert_eq!(cost["run_tokens_per_parameter"], Value::Null);
}
