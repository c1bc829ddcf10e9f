//! `astrolabe report --html`: the page is written, self-contained, with its four charts.

use assert_cmd::Command;
use std::path::PathBuf;

fn out_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("astrolabe-report-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn report(args: &[&str], name: &str) -> String {
    let path = out_path(name);
    let mut all = vec!["report", "--html", path.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = Command::cargo_bin("astrolabe").unwrap().args(&all).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_page_is_self_contained_and_has_its_four_charts() {
    let html = report(&["../../examples/llama3-70b-64xh100.toml"], "70b.html");
    for id in ["breakdown", "stage-times", "memory", "timeline"] {
        assert_eq!(html.matches(&format!("<svg class=\"chart\" id=\"{id}\"")).count(), 1, "{id}");
    }
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 4);
    for attr in ["src=", "href=", "url("] {
        assert!(!html.contains(attr), "a resource reference `{attr}` in the page");
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("default-src 'none'"), "the page forbids loading anything");
    // The summary's figures, with units.
    assert!(html.contains("<td>MFU (%)</td>") && html.contains("<td>step time (s)</td>"));
    assert!(html.contains("HBM capacity: 80.0 GB"), "the capacity line");
    assert!(html.contains("<td>fits in memory</td><td>yes</td>"));
}

#[test]
fn the_page_is_byte_identical_between_runs_and_modes_agree_on_the_summary() {
    let example = "../../examples/llama3-8b-8xh100.toml";
    let a = report(&[example], "a.html");
    let b = report(&[example], "b.html");
    assert!(a == b, "two runs differ");
    let per_rank = report(&["--per-rank", example], "per-rank.html");
    let step = |html: &str| {
        let at = html.find("<td>step time (s)</td>").unwrap();
        html[at..at + 60].to_string()
    };
    assert_eq!(step(&a), step(&per_rank));
    assert!(per_rank.contains("stage 0 · dp 0 · tp 1 compute"), "per-rank rows");
}

#[test]
fn an_unwritable_page_path_or_a_bad_flag_exits_2_naming_it() {
    let path = "/nonexistent-dir/page.html";
    let out = Command::cargo_bin("astrolabe").unwrap().args(["report", "--html", path]).output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(path) && err.contains("--html"), "{err}");
    let page = out_path("bad.html");
    let args = ["report", "--html", page.to_str().unwrap(), "--network-model", "magic"];
    let out = Command::cargo_bin("astrolabe").unwrap().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--network-model"));
    assert!(!page.exists(), "no empty page left behind");
}
