//! `astrolabe search`, `compare` and `scale` as a user runs them: snapshots of every output
//! format, the ranking's promise, errors with exit code 2, and the HTML pages they write.

use assert_cmd::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("astrolabe").unwrap().args(args).output().unwrap()
}

fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

const EIGHT_B: &str = "../../examples/llama3-8b-8xh100.toml";
const SEVENTY_B: &str = "../../examples/llama3-70b-64xh100.toml";
/// A space of 36 candidates: small enough for a debug build.
const SMALL: [&str; 10] =
    ["--tp", "2,8", "--pp", "1,2", "--cp", "1", "--micro-batch", "1,2", "--zero-stage", "1,3"];

fn search(extra: &[&str]) -> String {
    let mut args = vec!["search", EIGHT_B];
    args.extend(SMALL);
    args.extend(extra);
    stdout(&args)
}

#[test]
fn search_human() {
    insta::assert_snapshot!(search(&["--top", "5"]));
}

#[test]
fn search_json_best_plan_is_never_worse_than_any_listed() {
    let json: serde_json::Value =
        serde_json::from_str(&search(&["--top", "50", "--json"])).unwrap();
    let best = json["best"].as_array().unwrap();
    assert!(best.len() >= 5, "{} plans listed", best.len());
    let first = best[0]["summary"]["step_time_s"].as_f64().unwrap();
    for b in best {
        assert!(first <= b["summary"]["step_time_s"].as_f64().unwrap());
    }
    let refused: u64 =
        json["invalid_by_field"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    let total =
        refused + json["does_not_fit"].as_u64().unwrap() + json["simulated"].as_u64().unwrap();
    assert_eq!(total, json["candidates"].as_u64().unwrap());
    insta::assert_snapshot!(serde_json::to_string_pretty(&json["best"][0]).unwrap());
}

#[test]
fn search_by_cost_over_several_sizes_ranks_them_together() {
    let json: serde_json::Value = serde_json::from_str(&search(&[
        "--gpus",
        "8,16",
        "--objective",
        "cost",
        "--top",
        "40",
        "--json",
    ]))
    .unwrap();
    let best = json["best"].as_array().unwrap();
    let gpus: std::collections::BTreeSet<u64> =
        best.iter().map(|b| b["summary"]["gpus"].as_u64().unwrap()).collect();
    assert_eq!(gpus.into_iter().collect::<Vec<_>>(), vec![8, 16]);
    let cost = |b: &serde_json::Value| b["summary"]["usd_per_million_tokens"].as_f64().unwrap();
    for pair in best.windows(2) {
        assert!(cost(&pair[0]) <= cost(&pair[1]));
    }
}

#[test]
fn compare_human_and_json() {
    let args = [
        "compare",
        SEVENTY_B,
        "--vary",
        "gpu=b200",
        "--vary",
        "cluster=dgx-b200-superpod",
        "--vary",
        "network.scaleout_bandwidth=x2",
        "--vary",
        "precision=fp8",
        "--vary",
        "gpus=x2",
    ];
    insta::assert_snapshot!(stdout(&args));
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let text = stdout(&json_args);
    insta::assert_snapshot!("compare_json", text);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["speedup"].as_f64(), Some(1.0));
    assert_eq!(rows[0]["run_cost_change"].as_f64(), Some(0.0));
    // Twice the GPUs at the same batch: faster, each GPU busy less of the time.
    let doubled = &rows[5];
    assert!(doubled["speedup"].as_f64().unwrap() > 1.5);
    assert_eq!(doubled["summary"]["gpus"].as_u64(), Some(128));
}

#[test]
fn scale_human_and_json() {
    let args = ["scale", SEVENTY_B, "--gpus", "64..1024"];
    insta::assert_snapshot!(stdout(&args));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["scale", SEVENTY_B, "--gpus", "64..1024", "--json"]))
            .unwrap();
    let points = json["points"].as_array().unwrap();
    let sizes: Vec<u64> = points.iter().map(|p| p["gpus"].as_u64().unwrap()).collect();
    assert_eq!(sizes, vec![64, 128, 256, 512, 1024]);
    assert_eq!(points[0]["scaling_efficiency"].as_f64(), Some(1.0));
}

#[test]
fn a_size_the_plan_cannot_use_is_reported_not_fatal() {
    // On 8,192 GPUs TP 8 × PP 4 leaves dp = 256 replicas for 128 sequences.
    let out = stdout(&["scale", SEVENTY_B, "--gpus", "8192"]);
    assert!(out.contains("not run: plan.global_batch"), "{out}");
}

#[test]
fn pages_of_scale_and_compare_are_self_contained_with_their_charts() {
    let dir = std::env::temp_dir().join(format!("astrolabe-explore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scale = dir.join("scale.html");
    stdout(&["scale", SEVENTY_B, "--gpus", "64..256", "--html", scale.to_str().unwrap()]);
    let compare = dir.join("compare.html");
    stdout(&["compare", SEVENTY_B, "--vary", "gpus=x2", "--html", compare.to_str().unwrap()]);
    for (page, ids) in
        [(scale, vec!["scale-mfu"]), (compare, vec!["compare-speedup", "compare-cost"])]
    {
        let html = std::fs::read_to_string(&page).unwrap();
        for id in ids {
            assert!(html.contains(&format!("<svg class=\"chart\" id=\"{id}\"")), "{id} missing");
        }
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_exits_2_naming_the_flag() {
    let cases: [(&[&str], &str); 6] = [
        (&["search", EIGHT_B, "--objective", "speed"], "--objective"),
        (&["search", EIGHT_B, "--tp", "2,x"], "--tp"),
        (&["search", EIGHT_B, "--gpus", "12"], "gpus"),
        (&["compare", SEVENTY_B, "--vary", "warp=x2"], "warp"),
        (&["compare", SEVENTY_B, "--vary", "plan.tp=3"], "plan.tp"),
        (&["scale", SEVENTY_B, "--gpus", "64..8"], "--gpus"),
    ];
    for (args, field) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{args:?}: {err}");
    }
}
