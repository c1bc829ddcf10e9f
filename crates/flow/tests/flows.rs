//! Single flows against the closed form, max-min sharing by hand, conservation, errors.

use astrolabe_flow::{simulate_flows, CableSpec, Fabric, FlowRequest, LinkClass, Transport};
use proptest::prelude::*;

/// `n` GPUs on one switch; every cable `gb_per_s` line rate and `latency_ns` per hop.
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
            class: LinkClass::Nic,
            transport: t,
        };
        f.add_cable(g, s, spec).unwrap();
    }
    f
}

fn flow(src: usize, dst: usize, bytes: u64, start_ns: u64) -> FlowRequest {
    FlowRequest { src, dst, bytes, start_ns }
}

proptest! {
    #[test]
    fn one_flow_at_a_time_is_bytes_over_bandwidth_plus_latency(
        gb_per_s in 1.0f64..1000.0,
        latency_ns in 0u64..20_000,
        efficiency in 0.5f64..=1.0,
        sizes in proptest::collection::vec(1u64..(1 << 32), 1..6),
    ) {
        let f = star(4, gb_per_s, latency_ns, efficiency);
        // Back to back, each starting after the previous one arrived: never two at once.
        let mut start = 0u64;
        for (i, &bytes) in sizes.iter().enumerate() {
            let run = simulate_flows(&f, &[flow(i % 4, (i + 1) % 4, bytes, start)]).unwrap();
            let took = (run.flows[0].finish_ns - start) as f64;
            let expected = bytes as f64 / (gb_per_s * efficiency) + 2.0 * latency_ns as f64;
            prop_assert!((took - expected).abs() <= 0.01 * expected + 1.0, "{took} vs {expected}");
            start = run.flows[0].finish_ns;
        }
    }

    #[test]
    fn bytes_are_conserved_and_bad_input_never_panics(
        flows in proptest::collection::vec((0usize..7, 0usize..7, 0u64..1_000_000, 0u64..10_000), 0..40),
    ) {
        let f = star(6, 10.0, 100, 1.0);
        let reqs: Vec<_> = flows.iter().map(|&(s, d, b, t)| flow(s, d, b, t)).collect();
        match simulate_flows(&f, &reqs) {
            Ok(run) => {
                let on_flows: u64 = reqs.iter().zip(&run.flows).map(|(r, o)| r.bytes * o.hops as u64).sum();
                prop_assert_eq!(on_flows, run.links.total_bytes());
                for (r, o) in reqs.iter().zip(&run.flows) {
                    prop_assert!(o.finish_ns >= r.start_ns);
                }
            }
            Err(e) => prop_assert!(e.origin.starts_with("flows[")),
        }
    }
}

#[test]
fn max_min_sharing_by_hand() {
    // 1 byte/ns links, no latency. A: 0→2 (1000 B) and B: 1→2 (3000 B) share switch→gpu2, so
    // each runs at 0.5 B/ns; A ends at 2000 ns. B then has 2000 B left at 1 B/ns: 4000 ns.
    // C: 3→4 (1000 B) shares nothing: 1000 ns.
    let f = star(5, 1.0, 0, 1.0);
    let run = simulate_flows(&f, &[flow(0, 2, 1000, 0), flow(1, 2, 3000, 0), flow(3, 4, 1000, 0)])
        .unwrap();
    let finish: Vec<u64> = run.flows.iter().map(|o| o.finish_ns).collect();
    assert_eq!(finish, vec![2000, 4000, 1000]);
}

#[test]
fn max_min_with_two_bottlenecks_by_hand() {
    // gpu0 sends 500 B to gpu1 and 500 B to gpu2, sharing gpu0's uplink (1 B/ns): 0.5 each.
    // gpu3 sends 1500 B to gpu2, sharing gpu2's downlink with 0→2, which the uplink holds to
    // 0.5, so 3→2 gets the other 0.5. At 1000 ns both 500 B flows end; 3→2 has 1000 B left,
    // now alone at 1 B/ns: it ends at 2000 ns.
    let f = star(4, 1.0, 0, 1.0);
    let run =
        simulate_flows(&f, &[flow(0, 1, 500, 0), flow(0, 2, 500, 0), flow(3, 2, 1500, 0)]).unwrap();
    let finish: Vec<u64> = run.flows.iter().map(|o| o.finish_ns).collect();
    assert_eq!(finish, vec![1000, 1000, 2000]);
}

#[test]
fn errors_name_the_flow_and_field() {
    let f = star(2, 1.0, 0, 1.0);
    let e = simulate_flows(&f, &[flow(0, 1, 1, 0), flow(0, 9, 1, 0)]).unwrap_err();
    assert_eq!(e.to_string(), "flows[1]: `dst`: a GPU rank below 2, got 9");
    let e = simulate_flows(&f, &[flow(1, 1, 1, 0)]).unwrap_err();
    assert_eq!(e.to_string(), "flows[0]: `dst`: a GPU other than the source");
    let mut apart = Fabric::new("apart");
    apart.add_gpu().unwrap();
    apart.add_gpu().unwrap();
    let e = simulate_flows(&apart, &[flow(0, 1, 1, 0)]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "flows[0]: `dst`: GPUs joined by the fabric; no route from gpu0 to gpu1"
    );
}
