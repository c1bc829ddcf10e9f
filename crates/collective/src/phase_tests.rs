//! Hand-computed phase costs for every algorithm on every kind of dimension.

use super::*;
use astrolabe_network::InNetworkReduction;

/// 100 GB/s per GPU, 1 µs per hop, efficiency 1, no fill: numbers easy to check by hand.
fn dim(kind: DimensionKind, size: usize) -> Dimension {
    Dimension {
        name: "t".into(),
        kind,
        size,
        bandwidth: Bandwidth::from_gb_per_s(100.0),
        latency_ns: 1000.0,
        efficiency: 1.0,
        pipeline_fill_ns: 0.0,
        oversubscription: 1.0,
        in_network_reduction: None,
    }
}

fn time(kind: DimensionKind, size: usize, extent: usize, op: CollectiveOp, alg: Algorithm) -> f64 {
    phase_cost(&dim(kind, size), extent, op, 1e9, alg).unwrap().time_s()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-9)
}

use Algorithm::*;
use CollectiveOp::*;
use DimensionKind::{FullyConnected, Ring as RingDim, Switch};

#[test]
fn table_of_hand_computed_phase_times() {
    // (kind, size, extent, op, algorithm, expected seconds for a 1 GB buffer)
    let cases = [
        // Ring all-reduce, 4 ranks of a switch: 6 steps × 2 hops × 1 µs + 2·3/4·1 GB / 100 GB/s.
        (Switch, 4, 4, AllReduce, Ring, 12e-6 + 0.015),
        // Same on a ring dimension: 1 hop per step.
        (RingDim, 4, 4, AllReduce, Ring, 6e-6 + 0.015),
        // A 4-rank subset of an 8-rank ring is a line: half the bandwidth.
        (RingDim, 8, 4, AllGather, Ring, 3e-6 + 0.75 / 50.0),
        // Direct reduce-scatter on 4 of 8 fully connected ranks: 3/7 of the GPU's bandwidth.
        (FullyConnected, 8, 4, ReduceScatter, Direct, 1e-6 + 0.75 / (100.0 * 3.0 / 7.0)),
        // Direct all-to-all on a 4-ring: peers at 1, 2, 1 hops → 4/4 of the buffer on the wire;
        // latency of the farthest peer (2 hops).
        (RingDim, 4, 4, AllToAll, Direct, 2e-6 + 0.01),
        // Pairwise-exchange all-to-all on a switch: 7 steps, 7/8 of the buffer.
        (Switch, 8, 8, AllToAll, Ring, 14e-6 + 0.875 / 100.0),
        // Halving-doubling all-reduce on an 8-ring: distances 4, 2, 1 → pass load
        // 1/2·4 + 1/4·2 + 1/8·1 = 2.625 buffers, twice; 2·7 hops of latency.
        (RingDim, 8, 8, AllReduce, HalvingDoubling, 14e-6 + 5.25 / 100.0),
        // Halving-doubling reduce-scatter on 6 switch ranks: p = 4, 2 levels (1/2 + 1/4) plus a
        // fold step moving the whole buffer: 3 steps of 2 hops.
        (Switch, 6, 6, ReduceScatter, HalvingDoubling, 6e-6 + 1.75 / 100.0),
        // Bruck all-to-all on 8 switch ranks: 3 steps of half the buffer.
        (Switch, 8, 8, AllToAll, HalvingDoubling, 6e-6 + 1.5 / 100.0),
        // Double binary tree all-reduce on 8: 2·3 steps of 2 hops, 2 buffers on the wire.
        (Switch, 8, 8, AllReduce, DoubleBinaryTree, 12e-6 + 2.0 / 100.0),
        (FullyConnected, 8, 8, Broadcast, DoubleBinaryTree, 3e-6 + 1.0 / 100.0),
        // Pipelined ring broadcast: 7 steps, the buffer crosses each link once.
        (Switch, 8, 8, Broadcast, Ring, 14e-6 + 0.01),
        // Direct reduce: the root receives 7 buffers.
        (Switch, 8, 8, Reduce, Direct, 2e-6 + 0.07),
        (Switch, 8, 2, SendRecv, Ring, 2e-6 + 0.01),
    ];
    for (kind, size, extent, op, alg, expected) in cases {
        let got = time(kind, size, extent, op, alg);
        assert!(close(got, expected), "{alg} {op} on {kind:?}{size}/{extent}: {got} vs {expected}");
    }
}

#[test]
fn in_network_reduction_uses_its_own_efficiency() {
    let mut d = dim(Switch, 8);
    d.in_network_reduction = Some(InNetworkReduction { efficiency: 0.5 });
    let cost = phase_cost(&d, 8, AllReduce, 1e9, InNetwork).unwrap();
    // Up and down the switch: 2 steps of 2 hops; the buffer once on the wire at 50 GB/s.
    assert_eq!(cost.steps, 2);
    assert!(close(cost.time_s(), 4e-6 + 0.02));
    let ag = phase_cost(&d, 8, AllGather, 1e9, InNetwork).unwrap();
    assert!(close(ag.time_s(), 4e-6 + 0.875 / 50.0));
}

#[test]
fn fill_overhead_follows_the_pipelining_formula() {
    let mut d = dim(Switch, 2);
    d.pipeline_fill_ns = 10_000.0;
    let cost = phase_cost(&d, 2, SendRecv, 1e9, Ring).unwrap();
    // 2 µs + (√0.01 + √1e-5)² = 2 µs + 0.01 + 2·0.1·√1e-5 + 1e-5.
    let expected = 2e-6 + 0.01 + 0.2 * 1e-5_f64.sqrt() + 1e-5;
    assert!(close(cost.time_s(), expected), "{}", cost.time_s());
}

#[test]
fn oversubscription_divides_bandwidth() {
    let mut d = dim(Switch, 4);
    d.oversubscription = 4.0;
    let cost = phase_cost(&d, 4, ReduceScatter, 1e9, Ring).unwrap();
    assert!(close(cost.time_s(), 6e-6 + 0.75 / 25.0));
}

#[test]
fn unsupported_combinations_say_why() {
    let ring = dim(RingDim, 8);
    let sw = dim(Switch, 8);
    for (d, op, alg) in [
        (&ring, AllReduce, DoubleBinaryTree),
        (&sw, AllToAll, DoubleBinaryTree),
        (&sw, AllReduce, InNetwork),
        (&sw, AllReduce, Auto),
    ] {
        let e = phase_cost(d, 8, op, 1e9, alg).unwrap_err();
        assert!(e.0.contains(alg.name()), "{}", e.0);
    }
}

#[test]
fn empty_phase_takes_no_time() {
    let cost = phase_cost(&dim(Switch, 8), 1, AllReduce, 1e9, Ring).unwrap();
    assert_eq!(cost.time_s(), 0.0);
}
