//! Whole runs on small in-memory traces: overlap, exposed communication, send/recv, errors.

use super::*;
use crate::network::parse_network;
use crate::system::parse_system;
use astrolabe_chakra::{Attr, CollectiveCommType, GlobalMetadata, Node, NodeType, Trace};

fn config(npus: u64) -> Config {
    let sys = r#"{"endpoint-delay": 10, "preferred-dataset-splits": 1, "local-mem-bw": 1000,
        "all-reduce-implementation": ["ring"]}"#;
    let net = format!(
        "topology: [ FullyConnected ]\nnpus_count: [ {npus} ]\nbandwidth: [ 1 ]\nlatency: [ 100 ]"
    );
    Config {
        system: parse_system(sys, "s.json").unwrap().0,
        system_origin: "s.json".into(),
        network: parse_network(&net, "n.yml").unwrap(),
        remote_memory: RemoteMemory::None,
        comm_groups: None,
    }
}

fn node(id: u64, t: NodeType, deps: &[u64], attrs: Vec<astrolabe_chakra::AttributeProto>) -> Node {
    let mut n = Node::new(id, format!("n{id}"), t);
    n.data_deps = deps.to_vec();
    n.attr = attrs;
    n
}

fn comp(id: u64, micros: u64, deps: &[u64]) -> Node {
    let mut n = node(id, NodeType::Comp, deps, vec![]);
    n.duration_micros = micros;
    n
}

fn all_reduce(id: u64, bytes: u64, deps: &[u64]) -> Node {
    node(
        id,
        NodeType::CommColl,
        deps,
        vec![Attr::comm_type(CollectiveCommType::AllReduce), Attr::u64("comm_size", bytes)],
    )
}

fn p2p(id: u64, t: NodeType, peer: (&str, u64), bytes: u64, deps: &[u64]) -> Node {
    node(
        id,
        t,
        deps,
        vec![Attr::u64(peer.0, peer.1), Attr::u64("comm_size", bytes), Attr::u64("comm_tag", 7)],
    )
}

fn traces(nodes: Vec<Vec<Node>>) -> Vec<RankTrace> {
    let metadata = GlobalMetadata { version: "0.0.4".into(), attr: vec![] };
    nodes
        .into_iter()
        .enumerate()
        .map(|(r, nodes)| RankTrace {
            origin: format!("w.{r}.et"),
            trace: Trace { metadata: metadata.clone(), nodes },
        })
        .collect()
}

fn sim(npus: u64, nodes: Vec<Vec<Node>>) -> Result<AstraReport, String> {
    simulate(&config(npus), &traces(nodes), None, Backend::CongestionUnaware, "w")
        .map_err(|e| e.to_string())
}

#[test]
fn collective_overlaps_independent_compute() {
    // All-reduce of 2000 B over 2 ranks: 2 messages of 1000 B, ⌊100 + 1000/1.0737⌋ = 1031 ns;
    // 2·1031 + 3·10 + 3·⌊1⌋ = 2095 ns.
    let r = sim(
        2,
        vec![
            vec![comp(0, 1, &[]), all_reduce(1, 2000, &[]), comp(2, 2, &[1])],
            vec![all_reduce(5, 2000, &[])],
        ],
    )
    .unwrap();
    assert_eq!(r.ranks[0], RankResult { rank: 0, finish_ns: 2095 + 2000, exposed_comm_ns: 1095 });
    assert_eq!(r.ranks[1], RankResult { rank: 1, finish_ns: 2095, exposed_comm_ns: 2095 });
    assert_eq!((r.max_finish_ns, r.min_finish_ns), (4095, 2095));
}

#[test]
fn receive_waits_for_the_matching_send() {
    // 1000 B over one fully-connected hop: ⌊100 + 931.3⌋ = 1031 ns, no endpoint delay.
    let r = sim(
        2,
        vec![
            vec![comp(0, 3, &[]), p2p(1, NodeType::CommSend, ("comm_dst", 1), 1000, &[0])],
            vec![p2p(0, NodeType::CommRecv, ("comm_src", 0), 1000, &[]), comp(1, 1, &[0])],
        ],
    )
    .unwrap();
    assert_eq!(r.ranks[0].finish_ns, 3000 + 1031);
    assert_eq!(r.ranks[1].finish_ns, 3000 + 1031 + 1000);
    assert_eq!(r.ranks[1].exposed_comm_ns, 0);
}

#[test]
fn unmatched_or_inconsistent_communication_is_an_error() {
    let recv = || p2p(0, NodeType::CommRecv, ("comm_src", 0), 8, &[]);
    let err = sim(2, vec![vec![], vec![recv()]]).unwrap_err();
    assert!(err.contains("1 receives, 0 sends"), "{err}");
    let err = sim(2, vec![vec![all_reduce(0, 8, &[])], vec![]]).unwrap_err();
    assert!(err.contains("1 of 2 did"), "{err}");
    let err = sim(2, vec![vec![all_reduce(0, 8, &[])], vec![all_reduce(0, 16, &[])]]).unwrap_err();
    assert!(err.contains("the same collective and comm_size"), "{err}");
    let err = sim(3, vec![vec![]]).unwrap_err();
    assert!(err.contains("one trace per NPU of the network (3), found 1"), "{err}");
    let mem = node(0, NodeType::MemLoad, &[], vec![Attr::u64("tensor_size", 8)]);
    let err = sim(2, vec![vec![mem], vec![]]).unwrap_err();
    assert!(err.contains("NO_MEMORY_EXPANSION"), "{err}");
}

#[test]
fn interval_helpers() {
    assert_eq!(union(vec![(5, 9), (0, 2), (1, 3), (9, 9)]), vec![(0, 3), (5, 9)]);
    assert_eq!(overlap_ns(&[(0, 3), (5, 9)], &[(2, 6)]), 2);
}

/// ASTRA-sim aborts on METADATA nodes and BARRIER collectives; here a METADATA node takes no
/// time and a BARRIER is a zero-length rendezvous: rank 0 waits at it for rank 1's 3 µs of
/// compute, then both compute 2 µs, so both finish at 5,000 ns.
#[test]
fn metadata_nodes_and_barriers_run() {
    let barrier = |id: u64, deps: &[u64]| {
        node(id, NodeType::CommColl, deps, vec![Attr::comm_type(CollectiveCommType::Barrier)])
    };
    let rank0 = vec![node(0, NodeType::Metadata, &[], vec![]), barrier(1, &[0]), comp(2, 2, &[1])];
    let rank1 = vec![comp(0, 3, &[]), barrier(1, &[0]), comp(2, 2, &[1])];
    let r = sim(2, vec![rank0, rank1]).unwrap();
    assert_eq!((r.ranks[0].finish_ns, r.ranks[1].finish_ns), (5000, 5000));
}

fn with_memory(npus: u64, json: &str, nodes: Vec<Vec<Node>>) -> Vec<u64> {
    let mut c = config(npus);
    c.remote_memory = crate::memory::parse_remote_memory(json, "m.json").unwrap();
    c.remote_memory.check_npus(npus, "m.json").unwrap();
    let r = simulate(&c, &traces(nodes), None, Backend::CongestionUnaware, "w").unwrap();
    r.ranks.iter().map(|r| r.finish_ns).collect()
}

fn load(id: u64, bytes: u64, deps: &[u64]) -> Node {
    node(id, NodeType::MemLoad, deps, vec![Attr::u64("tensor_size", bytes)])
}

/// Each access of 1,000 B costs 100 ns + 1000 / 10 B/ns = 200 ns. Own ports: all four ranks
/// finish at 200 ns. Two NPUs per node: the second of each node waits, 400 ns. One pool: the
/// four queue, 200, 400, 600, 800 ns (ties served in task order, i.e. rank order).
#[test]
fn shared_memory_ports_serve_accesses_one_at_a_time() {
    let four = || (0..4).map(|_| vec![load(0, 1000, &[])]).collect::<Vec<_>>();
    let port = r#""remote-mem-latency": 100, "remote-mem-bw": 10"#;
    let per_npu = format!(r#"{{"memory-type": "PER_NPU_MEMORY_EXPANSION", {port}}}"#);
    assert_eq!(with_memory(4, &per_npu, four()), [200, 200, 200, 200]);
    let per_node = format!(
        r#"{{"memory-type": "PER_NODE_MEMORY_EXPANSION", "num-nodes": 2, "num-npus-per-node": 2, {port}}}"#
    );
    assert_eq!(with_memory(4, &per_node, four()), [200, 400, 200, 400]);
    let pool = format!(r#"{{"memory-type": "MEMORY_POOL", {port}}}"#);
    assert_eq!(with_memory(4, &pool, four()), [200, 400, 600, 800]);
}

/// An access on the pool holds its rank's communication slot. Rank 0 loads at 0..200 ns; rank 1
/// computes 1 µs, then loads at 1,000..1,200 ns; the all-reduce (which depends on neither load)
/// starts when both slots are free, at 1,200 ns, and takes 2,095 ns; rank 0's second load waits
/// for it: 3,295..3,495 ns.
#[test]
fn pool_accesses_hold_the_communication_slot() {
    let pool = r#"{"memory-type": "MEMORY_POOL", "remote-mem-latency": 100, "remote-mem-bw": 10}"#;
    let rank0 = vec![load(0, 1000, &[]), all_reduce(1, 2000, &[]), load(2, 1000, &[])];
    let rank1 = vec![comp(0, 1, &[]), load(1, 1000, &[0]), all_reduce(2, 2000, &[])];
    assert_eq!(with_memory(2, pool, vec![rank0, rank1]), [3495, 3295]);
}

#[test]
fn remote_memory_files_are_checked() {
    let parse = |json: &str| crate::memory::parse_remote_memory(json, "m.json");
    let err = parse(r#"{"memory-type": "MEMORY_POOL", "remote-mem-latency": 1, "remote-mem-bw": 1, "num-nodes": 2}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("m.json") && err.contains("num-nodes") && err.contains("PER_NODE"),
        "{err}"
    );
    let err = parse(r#"{"memory-type": "PER_NODE_MEMORY_EXPANSION", "remote-mem-latency": 1, "remote-mem-bw": 1, "num-nodes": 2}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("num-npus-per-node") && err.contains("required"), "{err}");
    let small = parse(r#"{"memory-type": "PER_NODE_MEMORY_EXPANSION", "remote-mem-latency": 1, "remote-mem-bw": 1, "num-nodes": 2, "num-npus-per-node": 2}"#)
        .unwrap();
    let err = small.check_npus(8, "m.json").unwrap_err().to_string();
    assert!(err.contains("covering the 8 NPUs") && err.contains("2 x 2"), "{err}");
    let err = parse(r#"{"memory-type": "CXL"}"#).unwrap_err().to_string();
    assert!(err.contains("MEMORY_POOL, found `CXL`"), "{err}");
}
