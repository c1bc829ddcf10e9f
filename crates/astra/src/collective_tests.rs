//! Collective timing against hand-computed figures (the formulas in the module docs).

use super::*;
use crate::network::DimKind;
use crate::system::parse_system;

fn ring(npus: u64) -> Network {
    let bandwidth_bytes_per_ns = 50.0 * (1u64 << 30) as f64 / 1e9;
    Network {
        dims: vec![Dim { kind: DimKind::Ring, npus, bandwidth_bytes_per_ns, latency_ns: 500.0 }],
    }
}

fn system(extra: &str) -> SystemConfig {
    let text = format!(
        r#"{{"endpoint-delay": 10, "preferred-dataset-splits": 4, "local-mem-bw": 1600,
        "all-reduce-implementation": ["ring"], "all-gather-implementation": ["ring"],
        "reduce-scatter-implementation": ["ring"], "all-to-all-implementation": ["ring"]{extra}}}"#
    );
    parse_system(&text, "s").unwrap().0
}

fn time(net: &Network, sys: &SystemConfig, kind: CollKind, bytes: u64) -> u64 {
    let ctx = Ctx {
        network: net,
        system: sys,
        system_origin: "s",
        backend: Backend::CongestionUnaware,
        flow: None,
    };
    let dims: Vec<usize> = (0..net.dims.len()).collect();
    ctx.collective_ns(kind, bytes, &dims).unwrap()
}

#[test]
fn ring_collectives_on_one_dimension() {
    let sys = system("");
    let mb = 1 << 20;
    // All-reduce, 4 ranks: chunk 262144 B, message 65536 B: ⌊500 + 1220.7⌋ = 1720 ns;
    // 6·1720 + 7·10 + 3·3·⌊40.96⌋ = 10750 per chunk, 4 chunks in a row.
    assert_eq!(time(&ring(4), &sys, CollKind::AllReduce, mb), 4 * 10750);
    // Reduce-scatter: 3·1720 + 4·10 + 3·3·40 = 5560.
    assert_eq!(time(&ring(4), &sys, CollKind::ReduceScatter, mb), 4 * 5560);
    // All-gather: comm_size is the per-rank input, so a message is 262144 B: ⌊500 + 4882.8⌋.
    assert_eq!(time(&ring(4), &sys, CollKind::AllGather, mb), 4 * (3 * 5382 + 4 * 10));
    // All-to-all on a ring: p(p−1)/2 = 6 one-hop messages of 65536 B.
    assert_eq!(time(&ring(4), &sys, CollKind::AllToAll, mb), 4 * (6 * 1720 + 7 * 10));
}

#[test]
fn direct_and_halving_doubling() {
    let sys = system(
        r#", "reduce-scatter-implementation": ["direct"], "all-gather-implementation": ["halvingDoubling"]"#,
    );
    let net = ring(4);
    // Direct reduce-scatter: the farthest peer (2 hops) bounds the round: ⌊1000 + 1220.7⌋.
    assert_eq!(
        time(&net, &sys, CollKind::ReduceScatter, 1 << 20),
        4 * (2220 + 2 * 10 + 3 * 3 * 40)
    );
    // Halving-doubling all-gather of 1 MiB output per chunk: 262144 B at distance 1, then
    // 524288 B at distance 2: ⌊500 + 4882.8⌋ + ⌊1000 + 9765.6⌋ + 3·10.
    assert_eq!(time(&net, &sys, CollKind::AllGather, 1 << 20), 4 * (5382 + 10765 + 30));
    let err = Ctx {
        network: &ring(6),
        system: &sys,
        system_origin: "s",
        backend: Backend::CongestionUnaware,
        flow: None,
    }
    .collective_ns(CollKind::AllGather, 1 << 20, &[0])
    .unwrap_err();
    assert!(err.to_string().contains("power-of-two"), "{err}");
}

#[test]
fn local_bw_aware_all_reduce_over_two_dimensions() {
    let mut net = ring(4);
    net.dims.push(Dim { npus: 2, ..net.dims[0] });
    let sys = system(
        r#", "all-reduce-implementation": ["ring", "ring"], "collective-optimization": "localBWAware", "preferred-dataset-splits": 1"#,
    );
    // RS on dim 0 over 1 MiB (message 262144 B), AR on dim 1 over 262144 B (message 131072 B),
    // AG back on dim 0 (message 262144 B).
    let rs = 3 * 5382 + 4 * 10 + 3 * 3 * 163;
    let ar = 2 * 2941 + 3 * 10 + 3 * 81;
    let ag = 3 * 5382 + 4 * 10;
    assert_eq!(time(&net, &sys, CollKind::AllReduce, 1 << 20), rs + ar + ag);
    let short = system(r#", "preferred-dataset-splits": 1"#);
    let ctx = Ctx {
        network: &net,
        system: &short,
        system_origin: "s",
        backend: Backend::CongestionUnaware,
        flow: None,
    };
    let err = ctx.collective_ns(CollKind::AllReduce, 1, &[0, 1]).unwrap_err().to_string();
    assert!(err.contains("one algorithm per network dimension (2), found 1"), "{err}");
}

#[test]
fn pipeline_of_chunks() {
    assert_eq!(pipeline_ns(&[10], 4, 1), 40);
    assert_eq!(pipeline_ns(&[10], 4, 2), 20);
    // Two stages, one chunk each: the second chunk enters stage 0 when the first leaves it.
    assert_eq!(pipeline_ns(&[10, 5], 2, 1), 25);
    assert_eq!(pipeline_ns(&[5, 10], 2, 1), 25);
    assert_eq!(pipeline_ns(&[], 3, 1), 0);
}

#[test]
fn congestion_aware_messages_store_and_forward() {
    let dim =
        Dim { kind: DimKind::Switch, npus: 8, bandwidth_bytes_per_ns: 100.0, latency_ns: 50.0 };
    assert_eq!(message_ns(&dim, 2, 1000, Backend::CongestionUnaware), 110);
    assert_eq!(message_ns(&dim, 2, 1000, Backend::CongestionAware), 120);
}
