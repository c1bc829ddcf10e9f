//! The system JSON: every key used, warned about or refused; defaults named.

use super::*;

fn parse(text: &str) -> Result<(SystemConfig, Vec<String>), String> {
    parse_system(text, "sys.json").map_err(|e| e.to_string())
}

#[test]
fn reads_the_bundled_ring_file() {
    let text = r#"{"scheduling-policy": "LIFO", "endpoint-delay": 10, "active-chunks-per-dimension": 1,
        "preferred-dataset-splits": 4, "all-reduce-implementation": ["ring"],
        "all-gather-implementation": ["ring"], "reduce-scatter-implementation": ["ring"],
        "all-to-all-implementation": ["ring"], "collective-optimization": "localBWAware",
        "local-mem-bw": 1600, "boost-mode": 0, "roofline-enabled": 0, "peak-perf": 900}"#;
    let (sys, warnings) = parse(text).unwrap();
    assert_eq!(sys.endpoint_delay_ns, 10);
    assert_eq!(sys.preferred_dataset_splits, 4);
    assert_eq!(sys.implementations.all_reduce, Some(vec![Algorithm::Ring]));
    assert_eq!(sys.collective_optimization, CollectiveOptimization::LocalBwAware);
    assert_eq!(sys.local_mem_bw_gb_per_s, Some(1600.0));
    assert_eq!(sys.peak_perf_tflops, Some(900.0));
    assert!(!sys.roofline_enabled);
    assert!(sys.defaults.is_empty());
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("`boost-mode`"), "{warnings:?}");
}

#[test]
fn absent_keys_are_named_as_defaults() {
    let (sys, _) = parse(
        r#"{"preferred-dataset-splits": 1, "local-mem-bw": 50,
        "all-reduce-implementation-custom": ["a/b"]}"#,
    )
    .unwrap();
    assert_eq!(sys.custom_all_reduce.as_deref(), Some("a/b"));
    assert_eq!(sys.endpoint_delay_ns, 10);
    assert!(sys.defaults.iter().any(|d| d == "endpoint-delay = 10 ns"), "{:?}", sys.defaults);
}

#[test]
fn bad_input_names_file_field_and_expectation() {
    let cases = [
        (r#"{"endpoint-delay": 0}"#, "sys.json: `endpoint-delay`: an integer from 1 to"),
        (r#"{"endpoint-dealy": 10}"#, "sys.json: `endpoint-dealy`: a known key, one of:"),
        (
            r#"{"all-reduce-implementation": ["ring", "tree"]}"#,
            "`all-reduce-implementation[1]`: ring, direct or halvingDoubling, found `tree`",
        ),
        (r#"{"all-reduce-implementation": []}"#, "found none"),
        (r#"{"collective-optimization": "fast"}"#, "localBWAware or baseline"),
        (r#"{"local-mem-bw": -1}"#, "`local-mem-bw`: a positive number"),
        (r#"{"roofline-enabled": 2}"#, "0, 1, true or false"),
        ("[1]", "`(file)`: a JSON object"),
        ("{", "valid JSON"),
    ];
    for (text, want) in cases {
        let err = parse(text).unwrap_err();
        assert!(err.contains(want), "{text}: {err}");
    }
}

proptest::proptest! {
    #[test]
    fn never_panics(text in ".{0,200}") {
        let _ = parse_system(&text, "p");
    }
}
