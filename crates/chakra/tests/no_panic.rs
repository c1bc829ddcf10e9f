//! No input panics: arbitrary bytes, and valid traces truncated or corrupted at random. This is
//! the stable-toolchain stand-in for the cargo-fuzz target in `fuzz/`.

mod common;

use astrolabe_chakra::*;
use proptest::prelude::*;
use prost::Message;

/// Reads `bytes` every way the API offers and, when they are a valid trace, checks that writing
/// them back and reading again changes nothing. Returns the result of the plain read.
fn exercise(bytes: &[u8]) -> Result<Trace, ChakraError> {
    let streamed: Result<Vec<Node>, _> = TraceReader::new(bytes, "fuzz").and_then(|r| r.collect());
    let read = read_trace_from(bytes, "fuzz");
    // Compared as encoded bytes: the fixture holds a NaN attribute, which `==` never equals.
    let bytes_of = |nodes: &[Node]| nodes.iter().map(Message::encode_to_vec).collect::<Vec<_>>();
    let streamed_bytes = streamed.as_ref().ok().map(|n| bytes_of(n));
    assert_eq!(streamed_bytes, read.as_ref().ok().map(|t| bytes_of(&t.nodes)));
    if let Ok(trace) = &read {
        let _ = validate_dependencies(&trace.nodes, "fuzz");
        for node in &trace.nodes {
            touch_attributes(node);
        }
        let written = common::encode(trace);
        let again = read_trace_from(written.as_slice(), "again").expect("what was read rewrites");
        assert_eq!(common::encode(&again), written);
    }
    read
}

fn touch_attributes(node: &Node) {
    for attr in &node.attr {
        let _ = node.attr_u64(&attr.name).map_err(|e| e.to_string());
        let _ = node.attr_i64(&attr.name);
        let _ = node.attr_bool(&attr.name);
        let _ = node.attr_str(&attr.name);
        let _ = node.attr_bool_list(&attr.name);
    }
    let _ = node.comm_type().map_err(|e| e.in_file("fuzz").to_string());
}

/// Sample files and a rich trace, as bytes, with the offsets where each message ends.
fn valid_files() -> Vec<(Vec<u8>, Vec<usize>)> {
    let dir = common::astra_sim_dir();
    let samples = [
        "workload/all_to_all/4npus_1MB/all_to_all.1.et",
        "system/custom_collectives/custom_ring_allreduce_8npus_1MB/custom_allreduce.3.et",
    ];
    let mut traces: Vec<Trace> = samples.iter().map(|s| read_trace(dir.join(s)).unwrap()).collect();
    traces.push(common::rich_trace());
    traces.iter().map(|t| (common::encode(t), message_ends(t))).collect()
}

fn message_ends(trace: &Trace) -> Vec<usize> {
    let lengths = std::iter::once(trace.metadata.encoded_len())
        .chain(trace.nodes.iter().map(Message::encoded_len));
    lengths
        .scan(0, |end, length| {
            *end += prost::length_delimiter_len(length) + length;
            Some(*end)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = exercise(&bytes);
    }

    #[test]
    fn arbitrary_nodes_after_valid_metadata_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut bytes = vec![0u8];
        prost::encode_length_delimiter(body.len(), &mut bytes).unwrap();
        bytes.extend(&body);
        let _ = exercise(&bytes);
    }
}

proptest! {
    #[test]
    fn truncation_fails_unless_it_falls_between_messages(which in 0usize..3, cut in any::<prop::sample::Index>()) {
        let (bytes, ends) = &valid_files()[which];
        let length = cut.index(bytes.len());
        let result = exercise(&bytes[..length]);
        if length == 0 {
            let is_missing = matches!(result, Err(ChakraError::MissingMetadata { .. }));
            prop_assert!(is_missing);
        } else if let Some(messages) = ends.iter().position(|&end| end == length) {
            prop_assert_eq!(result.map(|t| t.nodes.len()).ok(), Some(messages));
        } else {
            let truncated = matches!(
                result,
                Err(ChakraError::TruncatedPrefix { .. } | ChakraError::TruncatedMessage { .. })
            );
            prop_assert!(truncated, "{:?}", result);
        }
    }

    #[test]
    fn corrupted_valid_files_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let (mut bytes, _) = valid_files().swap_remove(which);
        for (position, value) in edits {
            let at = position.index(bytes.len());
            bytes[at] = value;
        }
        let _ = exercise(&bytes);
    }
}
