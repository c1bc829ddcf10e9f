//! ASTRA-sim's bundled traces: every file reads, re-encodes to the same bytes, and holds exactly
//! the nodes checked by hand here.

mod common;

use astrolabe_chakra::*;
use common::{astra_sim_dir, et_files};

#[test]
fn every_sample_reads_validates_and_reencodes_to_the_same_bytes() {
    let dir = astra_sim_dir();
    let mut files = et_files(&dir.join("workload"));
    files.extend(et_files(&dir.join("system/custom_collectives")));
    // 4 collectives x (4 + 8 + 16) ranks, and the 8 ranks of the custom all-reduce.
    assert_eq!(files.len(), 4 * 28 + 8);
    for path in files {
        let origin = path.display().to_string();
        let trace = read_trace(&path).unwrap_or_else(|e| panic!("{e}"));
        validate_dependencies(&trace.nodes, &origin).unwrap_or_else(|e| panic!("{e}"));
        let original = std::fs::read(&path).expect("readable sample");
        assert!(common::encode(&trace) == original, "{origin}: re-encoding differs");
        let streamed = TraceReader::open(&path).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(streamed, trace.nodes, "{origin}");
    }
}

/// (folder and prefix, CollectiveCommType in `comm_type`).
const COLLECTIVES: [(&str, CollectiveCommType); 4] = [
    ("all_gather", CollectiveCommType::AllGather),
    ("all_reduce", CollectiveCommType::AllReduce),
    ("all_to_all", CollectiveCommType::AllToAll),
    ("reduce_scatter", CollectiveCommType::ReduceScatter),
];

#[test]
fn collective_workloads_hold_one_collective_node_per_rank() {
    let dir = astra_sim_dir();
    for (collective, comm_type) in COLLECTIVES {
        for npus in [4u64, 8, 16] {
            let prefix = dir.join(format!("workload/{collective}/{npus}npus_1MB/{collective}"));
            let ranks = RankFiles::discover(&prefix).unwrap();
            assert_eq!(ranks.len() as u64, npus);
            for rank in 0..ranks.len() {
                let trace = read_trace(ranks.path(rank).unwrap()).unwrap();
                assert_eq!(
                    trace.metadata,
                    GlobalMetadata { version: "0.0.4".into(), attr: vec![] }
                );
                let [node] = trace.nodes.as_slice() else { panic!("one node per file") };
                assert_eq!(node.id, rank as u64, "the node id is the rank");
                assert_eq!(node.name, format!("{collective}_{npus}npus_1MB"));
                assert_eq!(node.node_type(), NodeType::CommColl);
                assert_eq!(node.comm_type(), Ok(comm_type));
                assert_eq!(node.attr_u64("comm_size"), Ok(Some(1_048_576)));
                assert_eq!(node.attr_bool("is_cpu_op"), Ok(Some(false)));
                assert_eq!(node.attr.len(), 3);
            }
        }
    }
}

#[test]
fn all_reduce_4npus_rank_0_is_exactly_this_node() {
    let path = astra_sim_dir().join("workload/all_reduce/4npus_1MB/all_reduce.0.et");
    let trace = read_trace(path).unwrap();
    let mut expected = Node::new(0, "all_reduce_4npus_1MB", NodeType::CommColl);
    // The sample writes every integer as int64.
    expected.attr = vec![
        Attr::bool("is_cpu_op", false),
        Attr::i64("comm_type", 0),
        Attr::i64("comm_size", 1_048_576),
    ];
    assert_eq!(trace.nodes, vec![expected]);
}

#[test]
fn all_to_all_4npus_rank_3_is_exactly_this_node() {
    let path = astra_sim_dir().join("workload/all_to_all/4npus_1MB/all_to_all.3.et");
    let trace = read_trace(path).unwrap();
    let mut expected = Node::new(3, "all_to_all_4npus_1MB", NodeType::CommColl);
    expected.attr = vec![
        Attr::bool("is_cpu_op", false),
        Attr::comm_type(CollectiveCommType::AllToAll),
        Attr::i64("comm_size", 1_048_576),
    ];
    assert_eq!(trace.nodes, vec![expected]);
}

/// Node types of one custom all-reduce rank in file order: S send, R receive, C compute.
/// Seven receive-reduce-send steps, then seven receive-forward steps of the ring.
const CUSTOM_RING_TYPES: &str = "SRCSRCSRCSRCSRCSRCSRCSRSRSRSRSRSRSR";

#[test]
fn custom_allreduce_ranks_are_a_ring_of_sends_receives_and_reductions() {
    let dir = astra_sim_dir().join("system/custom_collectives/custom_ring_allreduce_8npus_1MB");
    let xml = std::fs::read_to_string(dir.join("custom_allreduce.xml")).unwrap();
    let ranks = RankFiles::discover(dir.join("custom_allreduce")).unwrap();
    assert_eq!(ranks.len(), 8);
    for rank in 0..8u64 {
        let trace = read_trace(ranks.path(rank as usize).unwrap()).unwrap();
        check_custom_metadata(&trace.metadata, &xml);
        let types: String = trace.nodes.iter().map(|n| type_letter(n.node_type())).collect();
        assert_eq!(types, CUSTOM_RING_TYPES);
        for (position, node) in trace.nodes.iter().enumerate() {
            assert_eq!(node.id, position as u64);
            let previous: Vec<u64> = (0..node.id).rev().take(1).collect();
            assert_eq!(node.data_deps, previous, "a chain: each node waits for the one before");
            assert!(node.ctrl_deps.is_empty());
            check_custom_node(node, rank);
        }
    }
}

fn check_custom_metadata(metadata: &GlobalMetadata, xml: &str) {
    assert_eq!(metadata.version, "");
    let names: Vec<&str> = metadata.attr.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["schema", "input_file", "collective"]);
    assert_eq!(metadata.attr_str("schema"), Ok(Some("1.0.2-chakra.0.0.4")));
    assert_eq!(metadata.attr_str("collective"), Ok(Some("allreduce")));
    assert_eq!(metadata.attr_str("input_file"), Ok(Some(xml)), "the MSCCL-style XML, verbatim");
}

fn check_custom_node(node: &Node, rank: u64) {
    // (name stem, peer attribute, peer rank, number in `comm_type`): the node type's own number
    // (5 or 6), not a collective kind, sits in `comm_type` of these sends and receives.
    let (stem, peer_name, peer, comm_type) = match node.node_type() {
        NodeType::CommSend => ("COMM_SEND_NODE", "comm_dst", (rank + 1) % 8, 5),
        NodeType::CommRecv => ("COMM_RECV_NODE", "comm_src", (rank + 7) % 8, 6),
        NodeType::Comp => {
            assert!(node.name.starts_with("COMP_NODE_tb0_step"));
            assert!(node.attr.is_empty());
            assert_eq!(node.duration_micros, 7);
            return;
        }
        other => panic!("unexpected {other:?}"),
    };
    assert!(node.name.starts_with(&format!("{stem}_tb0_step")), "{}", node.name);
    let names: Vec<&str> = node.attr.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["comm_type", "comm_size", peer_name, "comm_tag"]);
    assert_eq!(node.attr_u64("comm_type"), Ok(Some(comm_type)));
    assert_eq!(node.attr_u64("comm_size"), Ok(Some(131_072)), "1 MiB over 8 ranks");
    // Peers and tags are int32 here, unlike the int64 of the other attributes.
    let raw = |name: &str| node.attr(name).and_then(|a| a.value.clone());
    assert_eq!(raw(peer_name), Some(AttrValue::Int32(peer as i32)));
    assert_eq!(raw("comm_tag"), Some(AttrValue::Int32(0)));
    assert_eq!(node.duration_micros, 0);
}

fn type_letter(node_type: NodeType) -> char {
    match node_type {
        NodeType::CommSend => 'S',
        NodeType::CommRecv => 'R',
        NodeType::Comp => 'C',
        _ => '?',
    }
}
