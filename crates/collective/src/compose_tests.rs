//! Hand-computed compositions over a two-dimensional network, and properties.

use super::*;
use astrolabe_network::{Dimension, DimensionKind};
use proptest::prelude::*;

fn switch(name: &str, size: usize, gb_per_s: f64) -> Dimension {
    Dimension {
        name: name.into(),
        kind: DimensionKind::Switch,
        size,
        bandwidth: Bandwidth::from_gb_per_s(gb_per_s),
        latency_ns: 1000.0,
        efficiency: 1.0,
        pipeline_fill_ns: 0.0,
        oversubscription: 1.0,
        in_network_reduction: None,
    }
}

/// 4 ranks at 100 GB/s inside, 2 groups of them joined at 10 GB/s per rank.
fn two_level() -> Topology {
    Topology::new(vec![switch("inner", 4, 100.0), switch("outer", 2, 10.0)], "t").unwrap()
}

fn run(
    op: CollectiveOp,
    alg: Algorithm,
    composition: Composition,
    chunks: usize,
) -> CollectiveResult {
    let t = two_level();
    let g = Group::leading(&t, 8, "t").unwrap();
    let options = CollectiveOptions { algorithms: vec![alg], composition, chunks };
    simulate(&t, &g, op, 1_000_000_000, &options).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs()
}

#[test]
fn hierarchical_all_reduce_by_hand() {
    // RS inner: 3 steps × 2 µs + 0.75 GB / 100 GB/s = 0.007506 s
    // AR outer on 0.25 GB: 2 steps × 2 µs + 0.25 GB / 10 GB/s = 0.025004 s
    // AG inner: 0.007506 s
    let r = run(CollectiveOp::AllReduce, Algorithm::Ring, Composition::Hierarchical, 1);
    assert!(close(r.time_s, 0.040016), "{}", r.time_s);
    let ops: Vec<_> = r.phases.iter().map(|p| (p.dims[0].as_str(), p.op)).collect();
    assert_eq!(
        ops,
        vec![
            ("inner", CollectiveOp::ReduceScatter),
            ("outer", CollectiveOp::AllReduce),
            ("inner", CollectiveOp::AllGather)
        ]
    );
    assert!(close(r.busbw_gbps, 1.0 / 0.040016 * 1.75));
}

#[test]
fn chunked_pipelining_by_hand() {
    // Pieces of 0.25 GB: RS 0.001881, AR 0.006254, AG 0.001881 → sum 0.010016;
    // busiest dimension is `outer` (0.006254): total = 0.010016 + 3 × 0.006254.
    let r = run(CollectiveOp::AllReduce, Algorithm::Ring, Composition::Hierarchical, 4);
    assert!(close(r.time_s, 0.028778), "{}", r.time_s);
    assert_eq!(r.chunks, 4);
}

#[test]
fn flat_ring_by_hand() {
    // 8-rank ring: inner carries 6 of 8 hops (100 / 0.75 GB/s), outer 2 of 8 (10 / 0.25 = 40 GB/s).
    // 14 steps × 2 µs + 1.75 GB / 40 GB/s.
    let r = run(CollectiveOp::AllReduce, Algorithm::Ring, Composition::Flat, 1);
    assert!(close(r.time_s, 28e-6 + 0.04375), "{}", r.time_s);
    assert_eq!(r.composition, Composition::Flat);
    // Auto takes the faster: the pipelined hierarchy.
    let auto = run(CollectiveOp::AllReduce, Algorithm::Auto, Composition::Auto, 4);
    // Auto runs the flat ring, as NCCL does, even where the ideal pipelined hierarchy would be
    // faster on paper.
    assert_eq!(auto.composition, Composition::Flat);
    assert!(close(auto.time_s, r.time_s));
    // Broadcast has no flat ring: auto falls back to the hierarchy.
    let b = run(CollectiveOp::Broadcast, Algorithm::Auto, Composition::Auto, 1);
    assert_eq!(b.composition, Composition::Hierarchical);
}

#[test]
fn all_to_all_and_send_recv_by_hand() {
    // All-to-all crosses both dimensions at once; the outer one decides:
    // direct, 1 step × 2 µs + 1/2 GB / 10 GB/s.
    let r = run(CollectiveOp::AllToAll, Algorithm::Direct, Composition::Hierarchical, 1);
    assert!(close(r.time_s, 2e-6 + 0.05), "{}", r.time_s);
    // Send/recv from rank 0 to rank 7 crosses both: latencies add, the slower link sets the rate.
    let s = run(CollectiveOp::SendRecv, Algorithm::Auto, Composition::Auto, 1);
    assert!(close(s.time_s, 4e-6 + 0.1), "{}", s.time_s);
}

#[test]
fn sub_group_of_one_dimension() {
    // 2 of the 4 inner ranks: a single ring phase, 2 steps of 2 µs + 1 GB / 100 GB/s.
    let t = two_level();
    let g = Group::leading(&t, 2, "t").unwrap();
    let o = CollectiveOptions {
        algorithms: vec![Algorithm::Ring],
        composition: Composition::Auto,
        chunks: 4,
    };
    let r = simulate(&t, &g, CollectiveOp::AllReduce, 1_000_000_000, &o).unwrap();
    assert!(close(r.time_s, 4e-6 + 0.01), "{}", r.time_s);
    assert_eq!(r.phases.len(), 1);
}

#[test]
fn bad_options_are_input_errors() {
    let t = two_level();
    let g = Group::leading(&t, 8, "t").unwrap();
    let three = CollectiveOptions { algorithms: vec![Algorithm::Ring; 3], ..Default::default() };
    assert_eq!(
        simulate(&t, &g, CollectiveOp::AllReduce, 8, &three).unwrap_err().origin,
        "--algorithm"
    );
    let tree_a2a =
        CollectiveOptions { algorithms: vec![Algorithm::DoubleBinaryTree], ..Default::default() };
    assert_eq!(
        simulate(&t, &g, CollectiveOp::AllToAll, 8, &tree_a2a).unwrap_err().origin,
        "--algorithm"
    );
    let flat_bcast = CollectiveOptions { composition: Composition::Flat, ..Default::default() };
    assert_eq!(
        simulate(&t, &g, CollectiveOp::Broadcast, 8, &flat_bcast).unwrap_err().origin,
        "--composition"
    );
    let no_chunks = CollectiveOptions { chunks: 0, ..Default::default() };
    assert_eq!(
        simulate(&t, &g, CollectiveOp::AllReduce, 8, &no_chunks).unwrap_err().origin,
        "--chunks"
    );
}

fn topo3(a: usize, b: usize, c: usize, bw: [f64; 3]) -> Topology {
    Topology::new(vec![switch("a", a, bw[0]), switch("b", b, bw[1]), switch("c", c, bw[2])], "t")
        .unwrap()
}

proptest! {
    /// Bytes are conserved: hierarchical ring phases put exactly the flat ring's per-rank traffic
    /// on the wire, 2(n−1)/n × size for all-reduce and (n−1)/n × size for the halves.
    #[test]
    fn hierarchical_ring_moves_the_optimal_bytes(a in 1usize..9, b in 1usize..9, c in 1usize..5, size in 1u64..1u64<<34) {
        let t = topo3(a, b, c, [100.0, 50.0, 25.0]);
        let n = t.npus();
        let g = Group::leading(&t, n, "t").unwrap();
        let o = CollectiveOptions { algorithms: vec![Algorithm::Ring], composition: Composition::Hierarchical, chunks: 1 };
        for (op, factor) in [(CollectiveOp::AllReduce, 2.0), (CollectiveOp::ReduceScatter, 1.0), (CollectiveOp::AllGather, 1.0)] {
            let r = simulate(&t, &g, op, size, &o).unwrap();
            let wire: f64 = r.phases.iter().map(|p| p.wire_bytes).sum();
            let expected = factor * (n as f64 - 1.0) / n as f64 * size as f64;
            prop_assert!((wire - expected).abs() <= 1e-9 * expected.max(1.0), "{op}: {wire} vs {expected}");
        }
    }

    /// A bigger buffer never finishes sooner, and more bandwidth never makes a collective slower.
    #[test]
    fn monotone_in_size_and_bandwidth(a in 1usize..9, b in 1usize..5, s1 in 1u64..1u64<<32, s2 in 1u64..1u64<<32, boost in 1.0f64..4.0, which in 0usize..2, op_i in 0usize..7) {
        let op = CollectiveOp::ALL[op_i];
        let t = topo3(a, b, 2, [100.0, 50.0, 25.0]);
        let g = Group::leading(&t, t.npus(), "t").unwrap();
        let o = CollectiveOptions::default();
        let (lo, hi) = (s1.min(s2), s1.max(s2));
        let t_lo = simulate(&t, &g, op, lo, &o).unwrap().time_s;
        let t_hi = simulate(&t, &g, op, hi, &o).unwrap().time_s;
        prop_assert!(t_lo <= t_hi * (1.0 + 1e-12));
        let mut bw = [100.0, 50.0, 25.0];
        bw[which] *= boost;
        let faster = topo3(a, b, 2, bw);
        let t_fast = simulate(&faster, &g, op, hi, &o).unwrap().time_s;
        prop_assert!(t_fast <= t_hi * (1.0 + 1e-12), "{op}: {t_fast} > {t_hi}");
    }
}
