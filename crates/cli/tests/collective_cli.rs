//! The real `astrolabe` binary: collective runs, presets, the nccl-tests comparison, bad input.

use assert_cmd::Command;
use serde_json::Value;

fn astrolabe() -> Command {
    let mut cmd = Command::cargo_bin("astrolabe").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env_remove("RUST_LOG");
    cmd
}

fn json(args: &[&str]) -> Value {
    let out = astrolabe().args(args).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

const DATASET: &str = "../../../shared/data/validation/dev.json";

#[test]
fn dgx_h100_all_reduce_16gib_matches_published_nvls_and_ring_within_5_percent() {
    let nvls = json(&[
        "collective",
        "--cluster",
        "dgx-h100-basepod",
        "--gpus",
        "8",
        "--op",
        "all-reduce",
        "--size",
        "16GiB",
    ]);
    let busbw = nvls["busbw_gbps"].as_f64().unwrap();
    assert!((busbw / 480.0 - 1.0).abs() < 0.05, "NVLS busbw {busbw}");
    let ring = json(&["collective", "--gpus", "8", "--size", "16GiB", "--algorithm", "ring"]);
    let busbw = ring["busbw_gbps"].as_f64().unwrap();
    assert!((busbw / 370.0 - 1.0).abs() < 0.05, "ring busbw {busbw}");
    for key in ["time_s", "algbw_gbps", "busbw_gbps"] {
        assert!(ring[key].as_f64().unwrap() > 0.0, "{key}");
    }
}

#[test]
fn nccl_check_meets_the_issue_bounds() {
    let v = json(&["nccl-check", "--dataset", DATASET]);
    let rows = v["rows"].as_array().unwrap();
    let mut sweep_points = 0;
    for r in rows {
        let (id, case, err) =
            (r["id"].as_str().unwrap(), r["case"].as_str().unwrap(), r["error"].as_f64().unwrap());
        if id == "nccl-dgxh100-1node-allreduce-sample"
            && case.starts_with("busbw_GBps_out_of_place")
        {
            sweep_points += 1;
            assert!(err.abs() <= 0.15, "{case}: {err}");
        }
        if id == "nccl-h100-2node-ndr-per-nic-maintainer"
            || id == "nccl-h100-nvls-vs-ring-maintainer"
        {
            assert!(err.abs() <= 0.05, "{case}: {err}");
        }
    }
    assert_eq!(sweep_points, 15, "every size of the sweep from 1 MiB to 16 GiB is compared");
}

#[test]
fn docs_collectives_table_is_the_commands_output() {
    let out =
        astrolabe().args(["nccl-check", "--markdown", "--dataset", DATASET]).output().unwrap();
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let doc = std::fs::read_to_string("../../docs/collectives.md").unwrap();
    assert!(doc.contains(table.trim()), "docs/collectives.md is stale: run scripts/gen-docs.sh");
}

#[test]
fn sweep_doubles_from_8_bytes() {
    let v = json(&["collective", "--sweep", "--size", "1MiB", "--gpus", "16"]);
    let sizes: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["size_bytes"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes.first(), Some(&8));
    assert_eq!(sizes.last(), Some(&(1 << 20)));
    assert_eq!(sizes.len(), 18);
    let times: Vec<f64> =
        v["results"].as_array().unwrap().iter().map(|r| r["time_s"].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time grows with size");
}

#[test]
fn every_op_runs_on_a_multi_dimensional_group() {
    for op in [
        "all-reduce",
        "reduce-scatter",
        "all-gather",
        "all-to-all",
        "broadcast",
        "reduce",
        "send-recv",
    ] {
        let v = json(&["collective", "--gpus", "32", "--op", op, "--size", "256MiB"]);
        assert!(v["time_s"].as_f64().unwrap() > 0.0, "{op}");
        assert_eq!(v["ranks"], 32);
    }
}

#[test]
fn cluster_files_work() {
    let dir = std::env::temp_dir().join(format!("astrolabe-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lab.toml");
    std::fs::write(&path, "gpu = \"h100-sxm\"\n[[network]]\nfabric = \"nvlink4-nvswitch\"\nsize = 8\n[[network]]\nfabric = \"ib-ndr\"\nsize = 2\n").unwrap();
    let v = json(&["collective", "--cluster", path.to_str().unwrap(), "--gpus", "16"]);
    assert_eq!(v["network"], "nvlink4-nvswitch 8 × ib-ndr 2");
}

#[test]
fn human_output_names_units() {
    let out = astrolabe().args(["collective"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for unit in ["time_us", "algbw_gbps", "busbw_gbps"] {
        assert!(text.contains(unit), "{text}");
    }
    let presets = astrolabe().arg("presets").output().unwrap();
    let text = String::from_utf8(presets.stdout).unwrap();
    assert!(
        text.contains("dgx-h100-basepod") && text.contains("gb200") && text.contains("roce-800")
    );
}

#[test]
fn bad_input_exits_2_with_a_named_field() {
    let cases: [(&[&str], &str); 8] = [
        (&["collective", "--cluster", "dgx-z900"], "--cluster"),
        (&["collective", "--gpus", "1000"], "--gpus"),
        (&["collective", "--gpus", "12"], "--gpus"),
        (&["collective", "--size", "16 GiBs"], "--size"),
        (&["collective", "--size=-1"], "--size"),
        (&["collective", "--op", "allreduce2"], "--op"),
        (&["collective", "--algorithm", "ring,ring,ring"], "--algorithm"),
        (&["collective", "--cluster", "/nonexistent/c.toml"], "/nonexistent/c.toml"),
    ];
    for (args, named) in cases {
        let out = astrolabe().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn zero_bandwidth_in_a_cluster_file_is_rejected() {
    let dir = std::env::temp_dir().join(format!("astrolabe-cli-bw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zero.toml");
    std::fs::write(
        &path,
        "gpu = \"h100-sxm\"\n[[network]]\nfabric = \"ib-ndr\"\nsize = 8\nbandwidth_gb_per_s = 0\n",
    )
    .unwrap();
    let out =
        astrolabe().args(["collective", "--cluster", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("zero.toml") && err.contains("network[0].bandwidth"), "{err}");
}
