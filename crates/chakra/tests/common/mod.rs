//! Helpers shared by the integration tests: the ASTRA-sim sample folder and a trace that uses
//! every attribute kind.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use astrolabe_chakra::*;

/// `shared/data/astra-sim`, beside the repository. Panics (fails the test) if it is missing:
/// these tests must never pass by skipping.
pub fn astra_sim_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/astra-sim");
    assert!(dir.is_dir(), "the ASTRA-sim sample folder is missing: {}", dir.display());
    dir
}

/// Every `.et` file under `dir`, sorted by path.
pub fn et_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("readable sample folder") {
            let path = entry.expect("readable entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "et") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every attribute kind once, with values at the edges of their ranges.
pub fn every_attr_kind() -> Vec<AttributeProto> {
    use AttrValue as V;
    vec![
        Attr::new("double", V::Double(-1.5e300)),
        Attr::new("double_list", V::DoubleList(DoubleList { values: vec![0.0, -0.0, 2.5] })),
        Attr::new("float", V::Float(3.25)),
        Attr::new("float_list", V::FloatList(FloatList { values: vec![f32::MIN, f32::MAX] })),
        Attr::new("int32", V::Int32(i32::MIN)),
        Attr::new("int32_list", V::Int32List(Int32List { values: vec![-1, 0, i32::MAX] })),
        Attr::new("int64", V::Int64(i64::MIN)),
        Attr::new("int64_list", V::Int64List(Int64List { values: vec![-1, i64::MAX] })),
        Attr::new("uint32", V::Uint32(u32::MAX)),
        Attr::new("uint32_list", V::Uint32List(Uint32List { values: vec![0, 1, u32::MAX] })),
        Attr::u64("uint64", u64::MAX),
        Attr::u64_list("uint64_list", vec![0, 1 << 40, u64::MAX]),
        Attr::new("sint32", V::Sint32(-7)),
        Attr::new("sint32_list", V::Sint32List(Sint32List { values: vec![i32::MIN, 7] })),
        Attr::new("sint64", V::Sint64(-(1 << 50))),
        Attr::new("sint64_list", V::Sint64List(Sint64List { values: vec![i64::MIN, 9] })),
        Attr::new("fixed32", V::Fixed32(0xdead_beef)),
        Attr::new("fixed32_list", V::Fixed32List(Fixed32List { values: vec![1, 2, 3] })),
        Attr::new("fixed64", V::Fixed64(u64::MAX - 1)),
        Attr::new("fixed64_list", V::Fixed64List(Fixed64List { values: vec![4, 5] })),
        Attr::new("sfixed32", V::Sfixed32(-32)),
        Attr::new("sfixed32_list", V::Sfixed32List(Sfixed32List { values: vec![-1, 1] })),
        Attr::new("sfixed64", V::Sfixed64(-64)),
        Attr::new("sfixed64_list", V::Sfixed64List(Sfixed64List { values: vec![i64::MIN] })),
        Attr::bool("bool", true),
        Attr::bool_list("bool_list", vec![true, false, true]),
        Attr::string("string", "ünïcode ✓"),
        Attr::new("string_list", V::StringList(StringList { values: vec!["a".into(), "".into()] })),
        Attr::new("bytes", V::Bytes(vec![0, 255, 128])),
        Attr::new("bytes_list", V::BytesList(BytesList { values: vec![vec![], vec![1, 2]] })),
    ]
}

/// A small graph with every node type, every Node field and every attribute kind.
pub fn rich_trace() -> Trace {
    let metadata = GlobalMetadata {
        version: "0.0.4".into(),
        attr: vec![Attr::string("schema", "test"), Attr::u64("ranks", 8)],
    };
    let io = |values: &str| IoInfo {
        values: values.into(),
        shapes: "[[2, 3]]".into(),
        types: "f32".into(),
    };
    let mut nodes: Vec<Node> = (0..8)
        .map(|id| {
            let node_type = NodeType::try_from(id as i32).expect("0 to 7 are node types");
            let mut node = Node::new(id, format!("node_{id}"), node_type);
            node.data_deps = (0..id).rev().take(1).collect();
            node
        })
        .collect();
    nodes[4].ctrl_deps = vec![0, 1, 2];
    nodes[4].start_time_micros = 123;
    nodes[4].duration_micros = 456;
    nodes[4].inputs = Some(io("[1]"));
    nodes[4].outputs = Some(io("[2]"));
    nodes[7].attr = every_attr_kind();
    nodes[7].attr.push(AttributeProto {
        name: "documented".into(),
        doc_string: "a doc string".into(),
        value: None,
    });
    Trace { metadata, nodes }
}

/// `trace` encoded as a file.
pub fn encode(trace: &Trace) -> Vec<u8> {
    write_trace_to(Vec::new(), "memory", trace).expect("writing to memory succeeds")
}
