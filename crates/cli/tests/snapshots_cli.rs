//! Snapshots of every output format of `astrolabe collective` and `astrolabe presets`.

use assert_cmd::Command;

fn stdout(args: &[&str]) -> String {
    let out = Command::cargo_bin("astrolabe").unwrap().args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn collective_human() {
    insta::assert_snapshot!(stdout(&["collective", "--gpus", "16", "--size", "1GiB"]));
}

#[test]
fn collective_json() {
    insta::assert_snapshot!(stdout(&[
        "collective",
        "--gpus",
        "16",
        "--size",
        "1GiB",
        "--op",
        "all-gather",
        "--json"
    ]));
}

#[test]
fn collective_sweep_human() {
    insta::assert_snapshot!(stdout(&["collective", "--sweep", "--size", "64MiB"]));
}

#[test]
fn presets_human() {
    insta::assert_snapshot!(stdout(&["presets"]));
}

const DATASET: &str = "../../../shared/data/validation/dev.json";

#[test]
fn simulate_default_human() {
    insta::assert_snapshot!(stdout(&["simulate", "--dataset", DATASET]));
}

/// A mixture of experts in the text report: the EP line of the breakdown and the all-to-all
/// traffic.
#[test]
fn simulate_moe_human() {
    let path = "../../examples/deepseek-v3-2048xh800.toml";
    insta::assert_snapshot!(stdout(&["simulate", "--dataset", DATASET, path]));
}

/// The congestion-aware model in the text report: the fabric's link classes and hottest links.
#[test]
fn simulate_fat_tree_human() {
    let path = "../../examples/llama3-70b-512xh100-fat-tree.toml";
    insta::assert_snapshot!(stdout(&["simulate", "--dataset", DATASET, path]));
}

/// Offload in the text report: the memory stall line and the tier's use and traffic.
#[test]
fn simulate_offload_human() {
    let path = "../../examples/llama3-70b-8xh100-offload.toml";
    insta::assert_snapshot!(stdout(&["simulate", "--dataset", DATASET, path]));
}

#[test]
fn simulate_examples_json() {
    for name in [
        "gpt3-175b-96xh100",
        "llama3-8b-8xh100",
        "llama3-70b-64xh100",
        "llama3-405b-16384xh100",
        "gpt3-175b-1024xa100",
        "deepseek-v3-2048xh800",
        "llama3-405b-131k-4d",
        "llama3-8b-fsdp-8xh100",
        "llama3-70b-512xh100-fat-tree",
        "llama3-70b-8xh100-offload",
    ] {
        let path = format!("../../examples/{name}.toml");
        let text = stdout(&["simulate", "--json", "--dataset", DATASET, &path]);
        insta::assert_snapshot!(format!("simulate_{name}_json"), text);
    }
}
