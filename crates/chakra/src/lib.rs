//! Reader and writer of Chakra execution traces (`.et` files), the workload format of ASTRA-sim.
//!
//! A workload is one file per rank, `<prefix>.<rank>.et` for ranks 0 to n − 1 ([`RankFiles`]).
//! Each file is a stream of protobuf messages, each preceded by its length as a varint (the usual
//! length-delimited framing). The first message is a [`GlobalMetadata`]; every later one is a
//! [`Node`] of the rank's execution graph.
//!
//! # Messages and field numbers
//!
//! The field numbers below are facts about the format, as documented publicly by the Chakra
//! project and restated in `shared/data/astra-sim/README.md`. The structs here are written for this
//! crate with `prost`'s derive macros: no schema file, no code generation.
//!
//! | message | fields |
//! |---|---|
//! | [`GlobalMetadata`] | 1 `version` (string), 2 `attr` (repeated [`AttributeProto`]) |
//! | [`Node`] | 1 `id` (uint64), 2 `name`, 3 `type` ([`NodeType`]), 4 `ctrl_deps` and 5 `data_deps` (repeated uint64), 6 `start_time_micros`, 7 `duration_micros` (uint64), 8 `inputs` and 9 `outputs` ([`IoInfo`]), 10 `attr` |
//! | [`IoInfo`] (`IOInfo`) | 1 `values`, 2 `shapes`, 3 `types` (strings) |
//! | [`AttributeProto`] | 1 `name`, 2 `doc_string`, then one value ([`AttrValue`]): odd fields 3 to 31 are double, float, int32, int64, uint32, uint64, sint32, sint64, fixed32, fixed64, sfixed32, sfixed64, bool, string, bytes; the even field after each is a list of that kind |
//! | lists ([`DoubleList`] ... [`BytesList`]) | 1 the repeated values (packed for numbers and bools, as in proto3) |
//!
//! [`NodeType`]: 0 INVALID, 1 METADATA, 2 MEM_LOAD, 3 MEM_STORE, 4 COMP, 5 COMM_SEND, 6 COMM_RECV,
//! 7 COMM_COLL. [`CollectiveCommType`] (the integer attribute `comm_type`): 0 ALL_REDUCE,
//! 1 REDUCE, 2 ALL_GATHER, 3 GATHER, 4 SCATTER, 5 BROADCAST, 6 ALL_TO_ALL, 7 REDUCE_SCATTER,
//! 8 REDUCE_SCATTER_BLOCK, 9 BARRIER.
//!
//! ASTRA-sim reads attributes by name: `is_cpu_op` (bool); `num_ops`, `tensor_size`, `comm_type`,
//! `comm_size`, `comm_src`, `comm_dst`, `comm_tag`, `comm_priority` (any integer kind);
//! `pg_name` (string); `involved_dim` (bool list). [`Node::attr_u64`] and its siblings read them
//! that way.
//!
//! # Use
//!
//! - [`TraceReader`] streams the nodes of one file; [`read_trace`] loads it as a [`Trace`].
//! - [`TraceWriter`] and [`write_trace`] write one; [`Attr`] builds attributes.
//! - [`validate_dependencies`] checks ids and the dependency graph of one file.
//!
//! ```
//! use astrolabe_chakra::*;
//!
//! let mut node = Node::new(0, "grad_sync", NodeType::CommColl);
//! node.attr.push(Attr::comm_type(CollectiveCommType::AllReduce));
//! node.attr.push(Attr::u64("comm_size", 1 << 20));
//! let metadata = GlobalMetadata { version: "0.0.4".into(), attr: vec![] };
//! let trace = Trace { metadata, nodes: vec![node] };
//! let bytes = write_trace_to(Vec::new(), "memory", &trace)?;
//!
//! for node in TraceReader::new(bytes.as_slice(), "memory")? {
//!     let node = node?;
//!     assert_eq!(node.comm_type()?, CollectiveCommType::AllReduce);
//!     assert_eq!(node.attr_u64("comm_size")?, Some(1_048_576));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits and errors
//!
//! One message may be at most [`MAX_MESSAGE_BYTES`] (256 MiB); a longer length prefix is refused
//! before memory is reserved for it. Every error ([`ChakraError`]) names the file and the place:
//! a node id, or the message index and the byte offset of its length prefix. No input panics:
//! property tests feed arbitrary, truncated and corrupted bytes, and `fuzz/` holds a cargo-fuzz
//! target for the same.
//!
//! Unlike the engine crates, this crate opens files itself: traces can be too large to hand over
//! as text, so the reader streams them.

mod access;
mod attr;
mod error;
mod framing;
mod message;
mod ranks;
mod reader;
mod validate;
mod writer;

pub use attr::{
    Attr, AttrValue, AttributeProto, BoolList, BytesList, DoubleList, Fixed32List, Fixed64List,
    FloatList, Int32List, Int64List, Sfixed32List, Sfixed64List, Sint32List, Sint64List,
    StringList, Uint32List, Uint64List,
};
pub use error::{AttrError, AttrOwner, ChakraError, DepKind, MAX_MESSAGE_BYTES};
pub use message::{CollectiveCommType, GlobalMetadata, IoInfo, Node, NodeType, Trace};
pub use ranks::{rank_path, RankFiles};
pub use reader::{read_trace, read_trace_from, TraceReader};
pub use validate::validate_dependencies;
pub use writer::{write_trace, write_trace_to, TraceWriter};
