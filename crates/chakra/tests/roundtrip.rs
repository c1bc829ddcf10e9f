//! Write, read back, compare: every field, every attribute kind, the streaming API, files on
//! disk, and the wire bytes of packed lists.

mod common;

use astrolabe_chakra::*;
use common::{encode, every_attr_kind, rich_trace};
use proptest::prelude::*;
use prost::Message;

#[test]
fn a_trace_with_every_field_and_attribute_kind_reads_back_identical() {
    let trace = rich_trace();
    assert_eq!(every_attr_kind().len(), 30, "one attribute per value field 3..=32");
    let read = read_trace_from(encode(&trace).as_slice(), "memory").unwrap();
    assert_eq!(read, trace);
}

#[test]
fn files_on_disk_round_trip() {
    let path = std::env::temp_dir().join(format!("astrolabe-chakra-{}-rt.et", std::process::id()));
    let trace = rich_trace();
    write_trace(&path, &trace).unwrap();
    assert_eq!(read_trace(&path).unwrap(), trace);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn the_streaming_writer_and_reader_go_node_by_node() {
    let trace = rich_trace();
    let mut writer = TraceWriter::new(Vec::new(), "memory", &trace.metadata).unwrap();
    for node in &trace.nodes {
        writer.write_node(node).unwrap();
    }
    let bytes = writer.finish().unwrap();
    assert_eq!(bytes, encode(&trace));
    let mut reader = TraceReader::new(bytes.as_slice(), "memory").unwrap();
    assert_eq!(reader.metadata(), &trace.metadata);
    assert_eq!(reader.origin(), "memory");
    for expected in &trace.nodes {
        assert_eq!(reader.next().unwrap().unwrap(), *expected);
    }
    assert!(reader.next().is_none());
}

#[test]
fn integer_attributes_of_every_kind_read_as_u64_and_i64() {
    let mut node = Node::new(1, "n", NodeType::Comp);
    node.attr = every_attr_kind();
    let u64_of = |name: &str| node.attr_u64(name).map_err(|e| e.to_string());
    let i64_of = |name: &str| node.attr_i64(name).unwrap();
    assert_eq!(u64_of("uint32"), Ok(Some(u64::from(u32::MAX))));
    assert_eq!(u64_of("uint64"), Ok(Some(u64::MAX)));
    assert_eq!(u64_of("fixed32"), Ok(Some(0xdead_beef)));
    assert_eq!(u64_of("fixed64"), Ok(Some(u64::MAX - 1)));
    assert_eq!(u64_of("absent"), Ok(None));
    let negative = ["int32", "int64", "sint32", "sint64", "sfixed32", "sfixed64"];
    for name in negative {
        assert!(u64_of(name).unwrap_err().contains("expected a non-negative integer"), "{name}");
    }
    assert_eq!(i64_of("int32"), Some(i64::from(i32::MIN)));
    assert_eq!(i64_of("int64"), Some(i64::MIN));
    assert_eq!(i64_of("sint32"), Some(-7));
    assert_eq!(i64_of("sint64"), Some(-(1 << 50)));
    assert_eq!(i64_of("sfixed32"), Some(-32));
    assert_eq!(i64_of("sfixed64"), Some(-64));
    assert_eq!(node.attr_bool("bool"), Ok(Some(true)));
    assert_eq!(node.attr_str("string"), Ok(Some("ünïcode ✓")));
    assert_eq!(node.attr_bool_list("bool_list"), Ok(Some(&[true, false, true][..])));
    for name in ["double", "float", "uint64_list", "bool", "string", "bytes"] {
        assert!(node.attr_u64(name).is_err(), "{name} is not an integer");
    }
}

#[test]
fn comm_type_reads_every_collective_from_any_integer_kind() {
    for value in 0..10 {
        let kind = CollectiveCommType::try_from(value).unwrap();
        for attr in [
            Attr::comm_type(kind),
            Attr::u64("comm_type", value as u64),
            Attr::new("comm_type", AttrValue::Sfixed32(value)),
        ] {
            let node = Node { attr: vec![attr], ..Node::new(0, "c", NodeType::CommColl) };
            assert_eq!(node.comm_type(), Ok(kind));
        }
    }
}

#[test]
fn numeric_lists_are_packed_and_unpacked_input_is_accepted() {
    let node = Node { ctrl_deps: vec![1, 2, 300], ..Node::default() };
    // Field 4, wire type 2 (0x22), 4 bytes: 1, 2, 300 as varints.
    assert_eq!(node.encode_to_vec(), [0x22, 4, 1, 2, 0xac, 0x02]);
    let list = Attr::bool_list("d", vec![true, false]);
    // Field 28 (0xe2 0x01: tag 28, wire type 2), a 4-byte BoolList whose field 1 is packed.
    assert_eq!(list.encode_to_vec(), [0x0a, 1, b'd', 0xe2, 0x01, 4, 0x0a, 2, 1, 0]);
    // Field 5 written unpacked (0x28 = field 5, varint) decodes to the same list.
    let unpacked = Node::decode(&[0x28, 7, 0x28, 8][..]).unwrap();
    assert_eq!(unpacked.data_deps, [7, 8]);
}

fn list<S: Strategy>(element: S) -> proptest::collection::VecStrategy<S> {
    proptest::collection::vec(element, 0..4)
}

/// Any value of any of the 30 kinds (finite floats, so that equality is meaningful).
fn attr_value() -> impl Strategy<Value = AttrValue> {
    use AttrValue as V;
    let f64s = || proptest::collection::vec(-1e300f64..1e300, 0..4);
    let f32s = || proptest::collection::vec(-1e30f32..1e30, 0..4);
    prop_oneof![
        (-1e300f64..1e300).prop_map(V::Double),
        f64s().prop_map(|values| V::DoubleList(DoubleList { values })),
        (-1e30f32..1e30).prop_map(V::Float),
        f32s().prop_map(|values| V::FloatList(FloatList { values })),
        any::<i32>().prop_map(V::Int32),
        list(any::<i32>()).prop_map(|values| V::Int32List(Int32List { values })),
        any::<i64>().prop_map(V::Int64),
        list(any::<i64>()).prop_map(|values| V::Int64List(Int64List { values })),
        any::<u32>().prop_map(V::Uint32),
        list(any::<u32>()).prop_map(|values| V::Uint32List(Uint32List { values })),
        any::<u64>().prop_map(V::Uint64),
        list(any::<u64>()).prop_map(|values| V::Uint64List(Uint64List { values })),
        any::<i32>().prop_map(V::Sint32),
        list(any::<i32>()).prop_map(|values| V::Sint32List(Sint32List { values })),
        any::<i64>().prop_map(V::Sint64),
        list(any::<i64>()).prop_map(|values| V::Sint64List(Sint64List { values })),
        any::<u32>().prop_map(V::Fixed32),
        list(any::<u32>()).prop_map(|values| V::Fixed32List(Fixed32List { values })),
        any::<u64>().prop_map(V::Fixed64),
        list(any::<u64>()).prop_map(|values| V::Fixed64List(Fixed64List { values })),
        any::<i32>().prop_map(V::Sfixed32),
        list(any::<i32>()).prop_map(|values| V::Sfixed32List(Sfixed32List { values })),
        any::<i64>().prop_map(V::Sfixed64),
        list(any::<i64>()).prop_map(|values| V::Sfixed64List(Sfixed64List { values })),
        any::<bool>().prop_map(V::Bool),
        list(any::<bool>()).prop_map(|values| V::BoolList(BoolList { values })),
        ".{0,8}".prop_map(V::String),
        list(".{0,4}".prop_map(String::from))
            .prop_map(|values| V::StringList(StringList { values })),
        list(any::<u8>()).prop_map(V::Bytes),
        list(list(any::<u8>())).prop_map(|values| V::BytesList(BytesList { values })),
    ]
}

fn attribute() -> impl Strategy<Value = AttributeProto> {
    ("[a-z_]{0,8}", ".{0,4}", proptest::option::of(attr_value()))
        .prop_map(|(name, doc_string, value)| AttributeProto { name, doc_string, value })
}

fn io_info() -> impl Strategy<Value = Option<IoInfo>> {
    proptest::option::of(
        (".{0,4}", ".{0,4}", ".{0,4}").prop_map(|(values, shapes, types)| IoInfo {
            values,
            shapes,
            types,
        }),
    )
}

fn node() -> impl Strategy<Value = Node> {
    let ids = (any::<u64>(), ".{0,8}", 0i32..8);
    let deps = (
        proptest::collection::vec(any::<u64>(), 0..4),
        proptest::collection::vec(any::<u64>(), 0..4),
    );
    let times = (any::<u64>(), any::<u64>(), io_info(), io_info());
    let attrs = proptest::collection::vec(attribute(), 0..4);
    (ids, deps, times, attrs).prop_map(
        |(
            (id, name, node_type),
            (ctrl_deps, data_deps),
            (start_time_micros, duration_micros, inputs, outputs),
            attr,
        )| Node {
            id,
            name,
            node_type,
            ctrl_deps,
            data_deps,
            start_time_micros,
            duration_micros,
            inputs,
            outputs,
            attr,
        },
    )
}

proptest! {
    #[test]
    fn any_trace_round_trips(
        version in ".{0,8}",
        metadata_attr in proptest::collection::vec(attribute(), 0..3),
        nodes in proptest::collection::vec(node(), 0..6),
    ) {
        let trace = Trace { metadata: GlobalMetadata { version, attr: metadata_attr }, nodes };
        let bytes = encode(&trace);
        let read = read_trace_from(bytes.as_slice(), "memory");
        // Written metadata holds only known fields, so it is never mistaken for a node.
        prop_assert_eq!(read.map_err(|e| e.to_string()), Ok(trace));
    }
}
