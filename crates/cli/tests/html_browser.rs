//! The report page in a real headless browser: every chart is laid out with a non-zero size.
//!
//! Needs Chromium (`ASTROLABE_CHROMIUM`, else `/usr/bin/chromium`); `scripts/test.sh`
//! installs Debian's package when it is missing. Without it this test fails, saying so.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn chromium() -> PathBuf {
    let path =
        std::env::var_os("ASTROLABE_CHROMIUM").map_or("/usr/bin/chromium".into(), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: the browser test needs Chromium; run `scripts/test.sh` (it installs \
         Debian's chromium package) or set ASTROLABE_CHROMIUM to a Chromium binary",
        path.display()
    );
    path
}

/// The DOM of `page` after load, as headless Chromium dumps it.
fn dump_dom(browser: &Path, page: &Path, profile: &Path) -> String {
    let out = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Chromium starts");
    assert!(out.status.success(), "Chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The DOM Chromium renders of `astrolabe report` on the 70B example with `extra` flags.
fn report_dom(tag: &str, extra: &[&str]) -> String {
    let browser = chromium();
    let dir = std::env::temp_dir().join(format!("astrolabe-browser-{tag}-{}", std::process::id()));
    let profile = dir.join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    let page = dir.join("report.html");
    let out = Command::cargo_bin("astrolabe")
        .unwrap()
        .args([
            "report",
            "--html",
            page.to_str().unwrap(),
            "../../examples/llama3-70b-64xh100.toml",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dom = dump_dom(&browser, &page, &profile);
    let _ = std::fs::remove_dir_all(&dir);
    dom
}

#[test]
fn chromium_renders_the_four_charts_of_the_report() {
    let dom = report_dom("step", &[]);
    assert!(
        dom.contains("data-charts-rendered=\"4\""),
        "the dumped DOM: {}",
        &dom[..dom.len().min(2000)]
    );
}

#[test]
fn chromium_renders_the_scaling_and_what_if_charts_added_to_the_report() {
    let extra = ["--scale", "64..512", "--vary", "gpu=b200", "--vary", "network.bandwidth=x2"];
    let dom = report_dom("added", &extra);
    // The step's four, the scaling curve, and the comparison's speed-up and cost.
    for id in ["scale-mfu", "compare-speedup", "compare-cost"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(
        dom.contains("data-charts-rendered=\"7\""),
        "the dumped DOM: {}",
        &dom[..dom.len().min(2000)]
    );
}
