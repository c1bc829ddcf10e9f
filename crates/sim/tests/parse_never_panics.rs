//! Arbitrary scenarios into the parser and the simulator: always a report or an error, never a
//! panic. (A stand-in for a cargo-fuzz target: this machine has no nightly toolchain for
//! libFuzzer.)

use astrolabe_sim::{no_cluster_files, parse_scenario, simulate, Mode};
use proptest::prelude::*;

const LINES: [&str; 24] = [
    "[model]\npreset = \"llama3-8b\"\n",
    "[model]\npreset = \"gpt3-175b\"\n",
    "seq_len = 0\n",
    "seq_len = 64\n",
    "layers = 2\n",
    "heads = 7\n",
    "[cluster]\npreset = \"dgx-h100-basepod\"\n",
    "nodes = 1\n",
    "nodes = 0\n",
    "file = 3\n",
    "[plan]\n",
    "tp = 2\n",
    "tp = 0\n",
    "pp = 2\n",
    "dp = 18446744073709551615\n",
    "global_batch = 16\n",
    "global_batch = 1073741824\n",
    "micro_batch = 4294967296\n",
    "virtual_stages = 2\n",
    "first_stage_layers = 0\n",
    "zero_stage = 255\n",
    "precision = \"fp8\"\n",
    "placement = \"pp-dp-tp\"\n",
    "framework_reserve = \"-1GB\"\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        let _ = parse_scenario(&text, "fuzz.toml", &no_cluster_files);
    }

    #[test]
    fn shuffled_lines_give_a_report_or_a_named_error(
        picks in proptest::collection::vec(0usize..LINES.len(), 0..16)
    ) {
        let text: String = picks.iter().map(|&i| LINES[i]).collect();
        match parse_scenario(&text, "fuzz.toml", &no_cluster_files) {
            Ok(sc) => {
                if let Ok(r) = simulate(&sc, Mode::Representative) {
                    prop_assert!(r.step_time_s > 0.0);
                }
            }
            Err(e) => prop_assert!(e.origin.starts_with("fuzz.toml") || e.origin == "preset"),
        }
    }
}
