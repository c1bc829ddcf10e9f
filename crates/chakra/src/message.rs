//! The trace's messages: `GlobalMetadata`, `Node`, `IOInfo` and the node-type and collective enums.
//!
//! Hand-written `prost` structs; the tags are the field numbers of the format (see the crate docs).
//! Rust field names are ours and do not reach the wire.

use crate::attr::AttributeProto;

/// A whole trace held in memory: the metadata message and every node in file order.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Trace {
    /// The first message of the file.
    pub metadata: GlobalMetadata,
    /// The nodes, in the order they appear in the file.
    pub nodes: Vec<Node>,
}

/// The first message of every trace file: a format version and free-form attributes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GlobalMetadata {
    /// Field 1: the version string of the trace format (the samples say `0.0.4`).
    #[prost(string, tag = "1")]
    pub version: String,
    /// Field 2: attributes of the whole trace.
    #[prost(message, repeated, tag = "2")]
    pub attr: Vec<AttributeProto>,
}

/// One vertex of the execution graph: an operation with its dependencies and attributes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Node {
    /// Field 1: the node's id, unique within its file.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Field 2: a human-readable name.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Field 3: the raw [`NodeType`] value; readers refuse values outside the enum.
    #[prost(enumeration = "NodeType", tag = "3")]
    pub node_type: i32,
    /// Field 4: ids of nodes that must finish before this one starts (ordering only).
    #[prost(uint64, repeated, tag = "4")]
    pub ctrl_deps: Vec<u64>,
    /// Field 5: ids of nodes whose outputs this one consumes.
    #[prost(uint64, repeated, tag = "5")]
    pub data_deps: Vec<u64>,
    /// Field 6: start time observed when the trace was collected, in microseconds.
    #[prost(uint64, tag = "6")]
    pub start_time_micros: u64,
    /// Field 7: duration observed when the trace was collected, in microseconds.
    #[prost(uint64, tag = "7")]
    pub duration_micros: u64,
    /// Field 8: description of the inputs.
    #[prost(message, optional, tag = "8")]
    pub inputs: Option<IoInfo>,
    /// Field 9: description of the outputs.
    #[prost(message, optional, tag = "9")]
    pub outputs: Option<IoInfo>,
    /// Field 10: named attributes (`comm_type`, `comm_size`, `is_cpu_op`, ...).
    #[prost(message, repeated, tag = "10")]
    pub attr: Vec<AttributeProto>,
}

/// The format's `IOInfo`: textual descriptions of a node's tensors.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IoInfo {
    /// Field 1: the values.
    #[prost(string, tag = "1")]
    pub values: String,
    /// Field 2: the shapes.
    #[prost(string, tag = "2")]
    pub shapes: String,
    /// Field 3: the element types.
    #[prost(string, tag = "3")]
    pub types: String,
}

/// What a node does (field 3 of `Node`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum NodeType {
    /// 0: not a valid node (also what an absent field decodes to).
    Invalid = 0,
    /// 1: a metadata node.
    Metadata = 1,
    /// 2: a load from (remote) memory.
    MemLoad = 2,
    /// 3: a store to (remote) memory.
    MemStore = 3,
    /// 4: a computation.
    Comp = 4,
    /// 5: a point-to-point send.
    CommSend = 5,
    /// 6: a point-to-point receive.
    CommRecv = 6,
    /// 7: a collective communication; its kind is the `comm_type` attribute.
    CommColl = 7,
}

/// The kind of collective, carried by a node's `comm_type` attribute as an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum CollectiveCommType {
    /// 0: all-reduce.
    AllReduce = 0,
    /// 1: reduce to one root.
    Reduce = 1,
    /// 2: all-gather.
    AllGather = 2,
    /// 3: gather to one root.
    Gather = 3,
    /// 4: scatter from one root.
    Scatter = 4,
    /// 5: broadcast from one root.
    Broadcast = 5,
    /// 6: all-to-all.
    AllToAll = 6,
    /// 7: reduce-scatter.
    ReduceScatter = 7,
    /// 8: reduce-scatter with equal blocks.
    ReduceScatterBlock = 8,
    /// 9: barrier.
    Barrier = 9,
}

impl Node {
    /// A node with the given id, name and type and nothing else set.
    pub fn new(id: u64, name: impl Into<String>, node_type: NodeType) -> Self {
        Node { id, name: name.into(), node_type: node_type as i32, ..Node::default() }
    }

    /// The node's type, or `None` if field 3 holds a value outside [`NodeType`].
    ///
    /// Nodes produced by [`crate::TraceReader`] always have a known type.
    pub fn known_type(&self) -> Option<NodeType> {
        NodeType::try_from(self.node_type).ok()
    }
}
