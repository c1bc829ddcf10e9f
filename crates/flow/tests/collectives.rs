//! Collectives as flows: agreement with crates/collective without contention, slowdown under
//! contention, conservation of bytes, errors.

use astrolabe_collective::{simulate as analytical, Algorithm, CollectiveOptions, Composition};
use astrolabe_core::Bandwidth;
use astrolabe_flow::{
    simulate_collectives, CableSpec, CollectiveOp, CollectiveRequest, Fabric, FabricSpec,
    LinkClass, Schedule, Transport,
};
use astrolabe_network::{Dimension, DimensionKind, Group, Topology};
use proptest::prelude::*;

type Analytical = astrolabe_collective::CollectiveOp;

/// `n` GPUs on one switch: the flow-level twin of a `Switch` dimension.
fn star(n: usize, gb_per_s: f64, latency_ns: u64, efficiency: f64) -> Fabric {
    let mut f = Fabric::new("star");
    let t = f
        .add_transport(Transport { name: "t".into(), efficiency, message_overhead_ns: 0 })
        .unwrap();
    let s = f.add_switch("switch").unwrap();
    for _ in 0..n {
        let g = f.add_gpu().unwrap();
        let spec = CableSpec {
            capacity_bytes_per_s: gb_per_s * 1e9,
            latency_ns,
            class: LinkClass::Nvlink,
            transport: t,
        };
        f.add_cable(g, s, spec).unwrap();
    }
    f
}

/// The analytical dimension with the same parameters and no pipeline fill.
fn dimension(n: usize, gb_per_s: f64, latency_ns: u64, efficiency: f64) -> Dimension {
    Dimension {
        name: "switch".into(),
        kind: DimensionKind::Switch,
        size: n,
        bandwidth: Bandwidth::from_gb_per_s(gb_per_s),
        latency_ns: latency_ns as f64,
        efficiency,
        pipeline_fill_ns: 0.0,
        oversubscription: 1.0,
        in_network_reduction: None,
    }
}

fn analytical_ns(dims: Vec<Dimension>, n: usize, op: Analytical, bytes: u64) -> f64 {
    let topo = Topology::new(dims, "t").unwrap();
    let group = Group::leading(&topo, n, "t").unwrap();
    let options = CollectiveOptions {
        algorithms: vec![Algorithm::Ring],
        composition: Composition::Hierarchical,
        chunks: 1,
    };
    analytical(&topo, &group, op, bytes, &options).unwrap().time_s * 1e9
}

fn request(
    op: CollectiveOp,
    schedule: Schedule,
    ranks: Vec<usize>,
    bytes: u64,
) -> CollectiveRequest {
    CollectiveRequest { op, schedule, ranks, bytes, start_ns: 0 }
}

const OPS: [(CollectiveOp, Analytical); 3] = [
    (CollectiveOp::AllReduce, Analytical::AllReduce),
    (CollectiveOp::ReduceScatter, Analytical::ReduceScatter),
    (CollectiveOp::AllGather, Analytical::AllGather),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A ring on an idle switch agrees with the analytical ring phase when both describe the
    /// same thing: efficiency = transport efficiency, pipeline fill 0 (the flow model has no
    /// chunking), hop latency = link latency (a switch step is two hops in both).
    #[test]
    fn ring_on_an_idle_switch_matches_the_analytical_phase(
        n in 2usize..17,
        gb_per_s in 10.0f64..900.0,
        latency_ns in 0u64..5_000,
        efficiency in 0.5f64..=1.0,
        mib in 1u64..512,
        which in 0usize..3,
    ) {
        let (op, aop) = OPS[which];
        let bytes = mib << 20;
        let f = star(n, gb_per_s, latency_ns, efficiency);
        let run = simulate_collectives(&f, &[request(op, Schedule::Ring, (0..n).collect(), bytes)]).unwrap();
        let flow_ns = run.outcomes[0].duration_ns() as f64;
        let model_ns = analytical_ns(vec![dimension(n, gb_per_s, latency_ns, efficiency)], n, aop, bytes);
        prop_assert!((flow_ns - model_ns).abs() <= 0.01 * model_ns, "{flow_ns} vs {model_ns}");
    }
}

#[test]
fn hierarchical_all_reduce_matches_the_two_dimension_analytical_time() {
    // 4 nodes × 8 GPUs: NVLink 4 in the node, one NDR rail leaf per GPU index (all 4 nodes on
    // one leaf, so a rail hop is GPU → leaf → GPU, like a Switch dimension's two hops).
    let f =
        FabricSpec::rail_optimized(4, 8, "nvlink4-nvswitch", "ib-ndr", 4, 1, 1.0).build().unwrap();
    let cat = |name| astrolabe_hardware::fabric::find(name, "t").unwrap();
    let mut inner = cat("nvlink4-nvswitch").dimension(8);
    let mut outer = cat("ib-ndr").dimension(4);
    inner.pipeline_fill_ns = 0.0;
    outer.pipeline_fill_ns = 0.0;
    let bytes = 1 << 30;
    let schedule = Schedule::Hierarchical { extents: vec![8, 4] };
    let run = simulate_collectives(
        &f,
        &[request(CollectiveOp::AllReduce, schedule, (0..32).collect(), bytes)],
    )
    .unwrap();
    let flow_ns = run.outcomes[0].duration_ns() as f64;
    let model_ns = analytical_ns(vec![inner, outer], 32, Analytical::AllReduce, bytes);
    assert!((flow_ns - model_ns).abs() <= 0.01 * model_ns, "{flow_ns} vs {model_ns}");
}

#[test]
fn collectives_sharing_a_bottleneck_each_take_longer() {
    // Two rings over disjoint GPUs of two 4-GPU leaves joined by one 1:4 oversubscribed spine:
    // each ring crosses the spine twice per step, so together they share the leaf uplinks.
    let spec = FabricSpec::fat_tree(
        8,
        1,
        None,
        "ib-ndr",
        vec![astrolabe_flow::TierSpec::new(4, 1, 4.0), astrolabe_flow::TierSpec::new(0, 1, 1.0)],
    );
    let f = spec.build().unwrap();
    let a = request(CollectiveOp::AllReduce, Schedule::Ring, vec![0, 4, 1, 5], 64 << 20);
    let b = request(CollectiveOp::AllReduce, Schedule::Ring, vec![2, 6, 3, 7], 64 << 20);
    let alone_a =
        simulate_collectives(&f, std::slice::from_ref(&a)).unwrap().outcomes[0].duration_ns();
    let alone_b =
        simulate_collectives(&f, std::slice::from_ref(&b)).unwrap().outcomes[0].duration_ns();
    let both = simulate_collectives(&f, &[a, b]).unwrap();
    assert!(both.outcomes[0].duration_ns() > alone_a, "{both:?} vs {alone_a}");
    assert!(both.outcomes[1].duration_ns() > alone_b);
    // Uplinks are the bottleneck (4 × 50 GB/s / 4 = 50 GB/s per leaf): sharing halves them.
    let ratio = both.outcomes[0].duration_ns() as f64 / alone_a as f64;
    assert!(ratio > 1.8 && ratio < 2.05, "{ratio}");
}

#[test]
fn bytes_are_conserved_and_runs_are_deterministic() {
    let f = FabricSpec::rail_optimized(8, 4, "nvlink4-nvswitch", "roce-400", 2, 2, 2.0)
        .build()
        .unwrap();
    let reqs = vec![
        request(
            CollectiveOp::AllReduce,
            Schedule::Hierarchical { extents: vec![4, 8] },
            (0..32).collect(),
            10_000_001,
        ),
        request(CollectiveOp::AllToAll, Schedule::Direct, (0..32).step_by(3).collect(), 3_000_000),
        request(CollectiveOp::ReduceScatter, Schedule::Ring, vec![5, 9, 13, 2, 30], 777),
        request(CollectiveOp::AllGather, Schedule::Direct, vec![1, 2], 0),
    ];
    let run = simulate_collectives(&f, &reqs).unwrap();
    let on_flows: u64 = run.outcomes.iter().map(|o| o.bytes_on_links).sum();
    assert_eq!(on_flows, run.links.total_bytes());
    assert_eq!(run.links.bytes_per_tier(&f).iter().sum::<u64>(), on_flows);
    assert_eq!(run, simulate_collectives(&f, &reqs).unwrap());
    // A ring all-reduce sends 2(p−1) segments per rank: every segment of 777 B crosses links.
    assert_eq!(run.outcomes[2].flows, 5 * 4);
    assert_eq!(run.outcomes[3].flows, 2);
}

#[test]
fn link_report_finds_the_oversubscribed_uplinks() {
    let spec = FabricSpec::fat_tree(
        8,
        1,
        None,
        "ib-ndr",
        vec![astrolabe_flow::TierSpec::new(4, 1, 4.0), astrolabe_flow::TierSpec::new(0, 1, 1.0)],
    );
    let f = spec.build().unwrap();
    let run = simulate_collectives(
        &f,
        &[request(CollectiveOp::AllToAll, Schedule::Direct, (0..8).collect(), 8 << 20)],
    )
    .unwrap();
    let hot = run.links.hottest(&f, 2);
    assert!(hot.iter().all(|h| h.class == LinkClass::LeafUplink), "{hot:?}");
    let classes = run.links.classes(&f);
    let util = |c| classes.iter().find(|l| l.class == c).unwrap().utilization;
    assert!(util(LinkClass::LeafUplink) > util(LinkClass::Nic));
    assert!(util(LinkClass::LeafUplink) <= 1.0);
}

#[test]
fn errors_are_input_errors() {
    let f = star(4, 100.0, 0, 1.0);
    let e = simulate_collectives(
        &f,
        &[request(CollectiveOp::AllReduce, Schedule::Ring, vec![0, 7], 1)],
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "collectives[0]: `ranks[1]`: a GPU rank below 4, got 7");
    let mut apart = star(2, 100.0, 0, 1.0);
    apart.add_gpu().unwrap();
    let e = simulate_collectives(
        &apart,
        &[request(CollectiveOp::AllGather, Schedule::Ring, vec![0, 1, 2], 8)],
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "collectives[0]: `ranks`: GPUs joined by the fabric; no route from gpu1 to gpu2"
    );
    let one =
        simulate_collectives(&f, &[request(CollectiveOp::AllReduce, Schedule::Ring, vec![3], 8)])
            .unwrap();
    assert_eq!(one.outcomes[0].duration_ns(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_requests_never_panic(
        ranks in proptest::collection::vec(0usize..20, 0..10),
        op in 0usize..4,
        sched in 0usize..3,
        bytes in 0u64..10_000_000,
    ) {
        let f = FabricSpec::rail_optimized(4, 4, "nvlink4-nvswitch", "ib-ndr", 2, 2, 1.0).build().unwrap();
        let op = [CollectiveOp::AllReduce, CollectiveOp::ReduceScatter, CollectiveOp::AllGather, CollectiveOp::AllToAll][op];
        let n = ranks.len();
        let schedule = [Schedule::Ring, Schedule::Direct, Schedule::Hierarchical { extents: vec![2, n / 2] }][sched].clone();
        if let Ok(run) = simulate_collectives(&f, &[request(op, schedule, ranks, bytes)]) {
            prop_assert_eq!(run.outcomes[0].bytes_on_links, run.links.total_bytes());
        }
    }
}
