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
