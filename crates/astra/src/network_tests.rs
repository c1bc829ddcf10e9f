//! The network YAML and routing.

use super::*;

#[test]
fn reads_bandwidth_in_binary_gigabytes() {
    let text = "topology: [ Ring, Switch ]\nnpus_count: [ 4, 2 ]\nbandwidth: [ 50.0, 25 ]  # GB/s\nlatency: [ 500.0, 10 ]";
    let net = parse_network(text, "n.yml").unwrap();
    assert_eq!(net.npus(), 8);
    assert_eq!(net.dims[0].bandwidth_bytes_per_ns, 50.0 * 1073741824.0 / 1e9);
    assert_eq!(net.dims[1].kind, DimKind::Switch);
    assert_eq!(net.coords(6), vec![2, 1]);
    // Lowest differing dimension decides: 0 -> 3 is one hop back round the ring.
    assert_eq!(net.route(0, 3), Some((0, 1)));
    assert_eq!(net.route(0, 2), Some((0, 2)));
    assert_eq!(net.route(1, 5), Some((1, 2)));
    assert_eq!(net.route(5, 5), None);
}

#[test]
fn bad_input_names_file_field_and_expectation() {
    let ok = "topology: [ Ring ]\nnpus_count: [ 4 ]\nbandwidth: [ 50 ]\nlatency: [ 500 ]\n";
    let cases = [
        (ok.replace("Ring", "Torus"), "`topology[0]`: Ring, FullyConnected or Switch"),
        (ok.replace("[ 4 ]", "[ 1 ]"), "`npus_count[0]`: an integer from 2"),
        (ok.replace("[ 50 ]", "[ 50, 2 ]"), "`bandwidth`: 1 entries like `topology`, found 2"),
        (ok.replace("[ 500 ]", "[ -1 ]"), "`latency[0]`: a non-negative number"),
        (ok.replace("[ 50 ]", "[ 0 ]"), "`bandwidth[0]`: a positive number"),
        (format!("{ok}links: 3\n"), "n.yml: `links`: a known key"),
        (ok.replace("latency: [ 500 ]\n", ""), "`latency`: a list"),
        ("- 1".to_string(), "a YAML mapping"),
        ("topology: [".to_string(), "valid YAML"),
    ];
    for (text, want) in cases {
        let err = parse_network(&text, "n.yml").unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
    }
}

proptest::proptest! {
    #[test]
    fn never_panics(text in ".{0,200}") {
        let _ = parse_network(&text, "p");
    }
}
