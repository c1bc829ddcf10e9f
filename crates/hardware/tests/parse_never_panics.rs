//! Arbitrary text into the cluster parser: always a value or an error, never a panic.
//! (A stand-in for a cargo-fuzz target: this machine has no nightly toolchain for libFuzzer.)

use astrolabe_hardware::parse_cluster_toml;
use proptest::prelude::*;

const KEYS: [&str; 12] = [
    "gpu = \"h100-sxm\"\n",
    "preset = \"dgx-h100-basepod\"\n",
    "nodes = 0\n",
    "[[network]]\n",
    "fabric = \"ib-ndr\"\n",
    "size = 8\n",
    "size = 0\n",
    "kind = \"ring\"\n",
    "bandwidth_gb_per_s = -1e308\n",
    "latency_ns = nan\n",
    "oversubscription = 0.0\n",
    "in_network_reduction_efficiency = 2\n",
];

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(text in ".{0,400}") {
        let _ = parse_cluster_toml(&text, "fuzz.toml");
    }

    #[test]
    fn shuffled_valid_lines_never_panic(lines in proptest::collection::vec(0usize..KEYS.len(), 0..20)) {
        let text: String = lines.iter().map(|i| KEYS[*i]).collect();
        if let Err(e) = parse_cluster_toml(&text, "fuzz.toml") {
            prop_assert_eq!(e.origin, "fuzz.toml");
        }
    }
}
