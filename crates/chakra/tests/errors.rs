//! Every error kind, with the exact words a user sees: the origin, the place, what was expected.

mod common;

use astrolabe_chakra::*;
use prost::Message;

/// The 8 bytes of a valid `GlobalMetadata { version: "0.0.4" }` with its length prefix.
const METADATA: [u8; 8] = [7, 0x0a, 5, b'0', b'.', b'0', b'.', b'4'];

fn with_metadata(rest: &[u8]) -> Vec<u8> {
    [&METADATA[..], rest].concat()
}

fn read_error(bytes: &[u8]) -> String {
    match read_trace_from(bytes, "t.et") {
        Ok(trace) => panic!("expected an error, read {trace:?}"),
        Err(error) => error.to_string(),
    }
}

fn check(bytes: &[u8], expected: &str) {
    assert_eq!(read_error(bytes), expected);
}

#[test]
fn framing_errors_name_the_message_and_its_byte_offset() {
    let limit = MAX_MESSAGE_BYTES;
    let mut too_large = Vec::new();
    prost::encode_length_delimiter(limit as usize + 1, &mut too_large).unwrap();
    let mut at_limit = Vec::new();
    prost::encode_length_delimiter(limit as usize, &mut at_limit).unwrap();
    let cases: Vec<(Vec<u8>, String)> = vec![
        (with_metadata(&[0xff; 10]), "t.et: message 1 at byte 8: malformed varint length prefix, expected at most 10 bytes encoding a value below 2^64".into()),
        (with_metadata(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]), "t.et: message 1 at byte 8: malformed varint length prefix, expected at most 10 bytes encoding a value below 2^64".into()),
        (with_metadata(&[0x80]), "t.et: message 1 at byte 8: truncated length prefix, expected the rest of a varint, found the end of the file".into()),
        (with_metadata(&[5, 0x08, 1]), "t.et: message 1 at byte 8: truncated message, expected 5 bytes, found 2 before the end of the file".into()),
        (METADATA[..5].to_vec(), "t.et: message 0 at byte 0: truncated message, expected 7 bytes, found 4 before the end of the file".into()),
        (with_metadata(&too_large), format!("t.et: message 1 at byte 8: length prefix of {} bytes is beyond the limit, expected at most 268435456 bytes", limit + 1)),
        (with_metadata(&at_limit), "t.et: message 1 at byte 8: truncated message, expected 268435456 bytes, found 0 before the end of the file".into()),
    ];
    for (bytes, expected) in cases {
        check(&bytes, &expected);
    }
}

#[test]
fn the_largest_valid_varint_is_read_then_refused_as_too_large() {
    let bytes = with_metadata(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert!(read_error(&bytes).contains(&format!("length prefix of {} bytes", u64::MAX)));
}

#[test]
fn decode_failures_say_which_message_was_expected() {
    // Tag byte 0x0f: field 1 with wire type 7, which does not exist.
    let bad_node = with_metadata(&[1, 0x0f]);
    let message = read_error(&bad_node);
    assert!(
        message.starts_with(
            "t.et: message 1 at byte 8: expected a Node message, protobuf decoding failed: "
        ),
        "{message}"
    );
    let message = read_error(&[1, 0x0f]);
    assert!(message.starts_with("t.et: message 0 at byte 0: expected a GlobalMetadata message, protobuf decoding failed: "), "{message}");
    // Field 2 (name) holding invalid UTF-8.
    let message = read_error(&with_metadata(&[3, 0x12, 1, 0xff]));
    assert!(message.contains("message 1 at byte 8: expected a Node message"), "{message}");
}

#[test]
fn missing_metadata_is_named_for_an_empty_file_and_for_a_leading_node() {
    check(
        &[],
        "t.et: missing GlobalMetadata: expected it as the first message, found an empty file",
    );
    let sample = std::fs::read(
        common::astra_sim_dir().join("workload/all_reduce/4npus_1MB/all_reduce.0.et"),
    )
    .unwrap();
    // Drop the metadata: the file now starts with the node (id 0, which is not even encoded).
    check(&sample[METADATA.len()..], "t.et: missing GlobalMetadata: expected it as the first message, found a Node (id 0, name `all_reduce_4npus_1MB`)");
    let mut node = Vec::new();
    Node::new(12, "", NodeType::Comp).encode_length_delimited(&mut node).unwrap();
    check(&node, "t.et: missing GlobalMetadata: expected it as the first message, found a Node (id 12, name ``)");
}

#[test]
fn unknown_node_types_are_refused_by_reader_and_writer() {
    let node = Node { id: 9, node_type: 42, ..Node::default() };
    let mut bytes = METADATA.to_vec();
    node.encode_length_delimited(&mut bytes).unwrap();
    check(&bytes, "t.et: node 9 (message 1): unknown NodeType value 42, expected 0 to 7");
    let mut writer = TraceWriter::new(Vec::new(), "out.et", &GlobalMetadata::default()).unwrap();
    let error = writer.write_node(&node).unwrap_err().to_string();
    assert_eq!(error, "out.et: node 9 (message 1): unknown NodeType value 42, expected 0 to 7");
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let error = read_trace("/nonexistent/astrolabe/x.0.et").unwrap_err().to_string();
    assert!(error.starts_with("/nonexistent/astrolabe/x.0.et: "), "{error}");
    let error = TraceReader::open("/nonexistent/astrolabe/x.0.et").err().unwrap();
    assert!(matches!(error, ChakraError::Io { .. }));
}

#[test]
fn attribute_errors_name_the_node_the_attribute_and_the_expectation() {
    let mut node = Node::new(3, "n", NodeType::CommColl);
    node.attr = vec![
        Attr::i64("negative", -5),
        Attr::string("text", "x"),
        Attr::u64("twice", 1),
        Attr::u64("twice", 2),
        AttributeProto { name: "empty".into(), ..AttributeProto::default() },
        Attr::u64("big", u64::MAX),
        Attr::bool("flag", true),
    ];
    let cases: Vec<(Result<(), AttrError>, &str)> = vec![
        (node.attr_u64("negative").map(drop), "node 3: attribute `negative`: expected a non-negative integer, found int64 -5"),
        (node.attr_u64("text").map(drop), "node 3: attribute `text`: expected an integer (any protobuf integer kind), found string"),
        (node.attr_u64("twice").map(drop), "node 3: attribute `twice`: expected one attribute of this name, found 2"),
        (node.attr_bool("empty").map(drop), "node 3: attribute `empty`: expected a value, found an attribute with none"),
        (node.attr_i64("big").map(drop), "node 3: attribute `big`: expected an integer up to 2^63 - 1, found uint64 18446744073709551615"),
        (node.attr_bool("text").map(drop), "node 3: attribute `text`: expected a bool, found string"),
        (node.attr_str("flag").map(drop), "node 3: attribute `flag`: expected a string, found bool"),
        (node.attr_bool_list("flag").map(drop), "node 3: attribute `flag`: expected a bool list, found bool"),
        (node.require_u64("absent").map(drop), "node 3: attribute `absent`: expected an integer, found no such attribute"),
        (node.comm_type().map(drop), "node 3: attribute `comm_type`: expected a CollectiveCommType integer, found no such attribute"),
    ];
    for (result, expected) in cases {
        assert_eq!(result.unwrap_err().to_string(), expected);
    }
}

#[test]
fn comm_type_outside_the_enum_and_metadata_attributes() {
    let mut node = Node::new(4, "n", NodeType::CommColl);
    node.attr = vec![Attr::i64("comm_type", 10)];
    let error = node.comm_type().unwrap_err();
    assert_eq!(
        error.to_string(),
        "node 4: attribute `comm_type`: expected a CollectiveCommType from 0 to 9, found int64 10"
    );
    assert_eq!(error.in_file("a.et").to_string(), "a.et: node 4: attribute `comm_type`: expected a CollectiveCommType from 0 to 9, found int64 10");
    let metadata = GlobalMetadata { version: String::new(), attr: vec![Attr::u64("schema", 1)] };
    let error = metadata.attr_str("schema").unwrap_err();
    assert_eq!(
        error.to_string(),
        "global metadata: attribute `schema`: expected a string, found uint64"
    );
}

/// A fresh empty directory under the system's temporary folder.
fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("astrolabe-chakra-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn rank_files_must_exist_and_be_contiguous() {
    let dir = scratch_dir("ranks");
    let prefix = dir.join("w");
    let error = RankFiles::discover(&prefix).unwrap_err().to_string();
    assert_eq!(
        error,
        format!("{p}: no rank files, expected `{p}.0.et` and following", p = prefix.display())
    );
    for rank in [0, 2] {
        std::fs::write(rank_path(&prefix, rank), common::encode(&Trace::default())).unwrap();
    }
    std::fs::write(dir.join("w.01.et"), b"not a rank: leading zero").unwrap();
    let error = RankFiles::discover(&prefix).unwrap_err().to_string();
    assert_eq!(error, format!("{p}: rank files are not contiguous: `{p}.1.et` is missing, expected every rank from 0 to 2", p = prefix.display()));
    std::fs::write(rank_path(&prefix, 1), common::encode(&Trace::default())).unwrap();
    let ranks = RankFiles::discover(&prefix).unwrap();
    assert_eq!(ranks.len(), 3);
    assert_eq!(ranks.path(2), Some(rank_path(&prefix, 2).as_path()));
    assert!(ranks.open(1).unwrap().next().is_none());
    let error = ranks.open(3).err().unwrap().to_string();
    assert!(error.starts_with(&format!("{}.3.et: ", prefix.display())), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}
