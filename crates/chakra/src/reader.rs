//! Reading: [`TraceReader`] streams one node at a time; [`read_trace`] loads a whole file.

use std::fs::File;
use std::io::Read;
use std::iter::FusedIterator;
use std::path::Path;

use prost::Message;

use crate::error::ChakraError;
use crate::framing::{FramePos, Frames};
use crate::message::{GlobalMetadata, Node, NodeType, Trace};

/// Streams the nodes of one trace file without holding the file in memory.
///
/// The metadata is read by the constructor. Each item is a node or the first error met; after
/// an error the iterator ends. Every node it yields has a known [`NodeType`].
pub struct TraceReader<R> {
    frames: Frames<R>,
    metadata: GlobalMetadata,
    failed: bool,
}

impl TraceReader<File> {
    /// Opens `path` and reads its `GlobalMetadata`; errors name the path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ChakraError> {
        let origin = path.as_ref().display().to_string();
        match File::open(path.as_ref()) {
            Ok(file) => TraceReader::new(file, origin),
            Err(error) => Err(ChakraError::Io { origin, error }),
        }
    }
}

impl<R: Read> TraceReader<R> {
    /// Reads the `GlobalMetadata` from `source`; `origin` names it in errors (a path, usually).
    pub fn new(source: R, origin: impl Into<String>) -> Result<Self, ChakraError> {
        let mut frames = Frames::new(source, origin.into());
        let Some(pos) = frames.next_frame()? else {
            let origin = frames.origin().to_string();
            return Err(ChakraError::MissingMetadata { origin, found: "an empty file".into() });
        };
        let metadata = decode_metadata(frames.body(), frames.origin(), pos)?;
        Ok(TraceReader { frames, metadata, failed: false })
    }

    /// The trace's `GlobalMetadata`.
    pub fn metadata(&self) -> &GlobalMetadata {
        &self.metadata
    }

    /// The origin given to the constructor (the path for [`TraceReader::open`]).
    pub fn origin(&self) -> &str {
        self.frames.origin()
    }

    fn read_node(&mut self) -> Result<Option<Node>, ChakraError> {
        let Some(pos) = self.frames.next_frame()? else {
            return Ok(None);
        };
        let node = Node::decode(self.frames.body())
            .map_err(|error| decode_error(self.frames.origin(), pos, "Node", error))?;
        check_node_type(&node, self.frames.origin(), pos.index)?;
        Ok(Some(node))
    }
}

impl<R: Read> Iterator for TraceReader<R> {
    type Item = Result<Node, ChakraError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.read_node().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

impl<R: Read> FusedIterator for TraceReader<R> {}

/// Reads a whole trace file: its metadata and every node, in file order.
pub fn read_trace(path: impl AsRef<Path>) -> Result<Trace, ChakraError> {
    collect(TraceReader::open(path)?)
}

/// Reads a whole trace from any reader; `origin` names it in errors.
pub fn read_trace_from<R: Read>(
    source: R,
    origin: impl Into<String>,
) -> Result<Trace, ChakraError> {
    collect(TraceReader::new(source, origin)?)
}

fn collect<R: Read>(mut reader: TraceReader<R>) -> Result<Trace, ChakraError> {
    let nodes = reader.by_ref().collect::<Result<Vec<_>, _>>()?;
    Ok(Trace { metadata: reader.metadata, nodes })
}

/// Refuses a node whose type is outside [`NodeType`] (prost keeps unknown values as integers).
pub(crate) fn check_node_type(
    node: &Node,
    origin: &str,
    message_index: u64,
) -> Result<(), ChakraError> {
    match node.known_type() {
        Some(_) => Ok(()),
        None => Err(ChakraError::UnknownNodeType {
            origin: origin.to_string(),
            node_id: node.id,
            message_index,
            value: node.node_type,
        }),
    }
}

/// Decodes the first message, telling a missing metadata (the file starts with a node) apart from
/// a corrupt one.
fn decode_metadata(
    body: &[u8],
    origin: &str,
    pos: FramePos,
) -> Result<GlobalMetadata, ChakraError> {
    let decoded = GlobalMetadata::decode(body);
    // A node without id or name decodes as metadata with every field unknown: check that too.
    let suspicious = decoded.as_ref().map_or(true, |m| m.encoded_len() == 0 && !body.is_empty());
    if suspicious {
        if let Some(node) = as_typed_node(body) {
            let found = format!("a Node (id {}, name `{}`)", node.id, node.name);
            return Err(ChakraError::MissingMetadata { origin: origin.to_string(), found });
        }
    }
    decoded.map_err(|error| decode_error(origin, pos, "GlobalMetadata", error))
}

/// `body` as a node with a real type (not INVALID), if it decodes as one.
fn as_typed_node(body: &[u8]) -> Option<Node> {
    let node = Node::decode(body).ok()?;
    let typed = node.known_type().is_some_and(|t| t != NodeType::Invalid);
    typed.then_some(node)
}

fn decode_error(
    origin: &str,
    pos: FramePos,
    expected: &'static str,
    error: prost::DecodeError,
) -> ChakraError {
    ChakraError::Decode {
        origin: origin.to_string(),
        message_index: pos.index,
        offset_bytes: pos.offset_bytes,
        expected,
        error,
    }
}
