//! Errors: every one names its origin (a file path or what the caller passed) and the place in it.

use std::fmt;

/// Largest single message a reader accepts or a writer produces: 256 MiB.
///
/// A length prefix above it is refused before any memory is reserved for the message.
pub const MAX_MESSAGE_BYTES: u64 = 256 * 1024 * 1024;

/// Which list of a node a dependency came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepKind {
    /// `ctrl_deps` (field 4).
    Ctrl,
    /// `data_deps` (field 5).
    Data,
}

impl fmt::Display for DepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DepKind::Ctrl => "ctrl_deps",
            DepKind::Data => "data_deps",
        })
    }
}

/// Who carries an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrOwner {
    /// The node with this id.
    Node(u64),
    /// The `GlobalMetadata` message.
    Metadata,
}

impl fmt::Display for AttrOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrOwner::Node(id) => write!(f, "node {id}"),
            AttrOwner::Metadata => f.write_str("global metadata"),
        }
    }
}

/// An attribute that is missing, repeated or of the wrong kind. It does not know its file:
/// [`AttrError::in_file`] turns it into a [`ChakraError`] that does.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{owner}: attribute `{name}`: expected {expected}")]
pub struct AttrError {
    /// The node (or the metadata) that carries the attribute.
    pub owner: AttrOwner,
    /// The attribute's name.
    pub name: String,
    /// What was expected and what was found, in words.
    pub expected: String,
}

impl AttrError {
    /// The same error, naming the file (or other origin) it came from.
    pub fn in_file(self, origin: impl Into<String>) -> ChakraError {
        ChakraError::Attribute { origin: origin.into(), error: self }
    }
}

/// Everything that can go wrong reading, writing or checking a trace.
///
/// Message indexes count from 0 (the `GlobalMetadata`); node number k is message k + 1. Byte
/// offsets are where the message's length prefix starts.
#[derive(Debug, thiserror::Error)]
pub enum ChakraError {
    /// The file could not be opened, read, listed or written.
    #[error("{origin}: {error}")]
    Io {
        /// The file or directory.
        origin: String,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// A length prefix is not a valid varint.
    #[error(
        "{origin}: message {message_index} at byte {offset_bytes}: malformed varint length \
         prefix, expected at most 10 bytes encoding a value below 2^64"
    )]
    MalformedVarint {
        /// The file.
        origin: String,
        /// Which message.
        message_index: u64,
        /// Where its prefix starts.
        offset_bytes: u64,
    },
    /// The file ends inside a length prefix.
    #[error(
        "{origin}: message {message_index} at byte {offset_bytes}: truncated length prefix, \
         expected the rest of a varint, found the end of the file"
    )]
    TruncatedPrefix {
        /// The file.
        origin: String,
        /// Which message.
        message_index: u64,
        /// Where its prefix starts.
        offset_bytes: u64,
    },
    /// The file ends before the message's announced length.
    #[error(
        "{origin}: message {message_index} at byte {offset_bytes}: truncated message, expected \
         {expected_bytes} bytes, found {found_bytes} before the end of the file"
    )]
    TruncatedMessage {
        /// The file.
        origin: String,
        /// Which message.
        message_index: u64,
        /// Where its prefix starts.
        offset_bytes: u64,
        /// The length the prefix announced.
        expected_bytes: u64,
        /// The bytes that were there.
        found_bytes: u64,
    },
    /// A message longer than [`MAX_MESSAGE_BYTES`].
    #[error(
        "{origin}: message {message_index} at byte {offset_bytes}: length prefix of \
         {length_bytes} bytes is beyond the limit, expected at most {limit_bytes} bytes"
    )]
    MessageTooLarge {
        /// The file.
        origin: String,
        /// Which message.
        message_index: u64,
        /// Where its prefix starts.
        offset_bytes: u64,
        /// The announced (or, when writing, the encoded) length.
        length_bytes: u64,
        /// [`MAX_MESSAGE_BYTES`].
        limit_bytes: u64,
    },
    /// The bytes of a message are not a valid protobuf encoding of the expected message.
    #[error(
        "{origin}: message {message_index} at byte {offset_bytes}: expected a {expected} \
         message, protobuf decoding failed: {error}"
    )]
    Decode {
        /// The file.
        origin: String,
        /// Which message.
        message_index: u64,
        /// Where its prefix starts.
        offset_bytes: u64,
        /// `GlobalMetadata` or `Node`.
        expected: &'static str,
        /// What prost reported.
        error: prost::DecodeError,
    },
    /// A node's type (field 3) is outside the `NodeType` enum.
    #[error(
        "{origin}: node {node_id} (message {message_index}): unknown NodeType value {value}, \
         expected 0 to 7"
    )]
    UnknownNodeType {
        /// The file.
        origin: String,
        /// The node's id.
        node_id: u64,
        /// Which message (when writing: the position among the nodes written, plus one).
        message_index: u64,
        /// The raw value found.
        value: i32,
    },
    /// The file does not start with a `GlobalMetadata` message.
    #[error("{origin}: missing GlobalMetadata: expected it as the first message, found {found}")]
    MissingMetadata {
        /// The file.
        origin: String,
        /// What was there instead (an empty file, a node).
        found: String,
    },
    /// Two nodes share an id.
    #[error(
        "{origin}: duplicate node id {node_id}: nodes number {first_position} and \
         {second_position} (counting from 0) both have it, expected unique ids"
    )]
    DuplicateNodeId {
        /// The file.
        origin: String,
        /// The shared id.
        node_id: u64,
        /// Position of the first node with it.
        first_position: usize,
        /// Position of the second.
        second_position: usize,
    },
    /// A dependency names a node that is not in the trace.
    #[error(
        "{origin}: node {node_id}: {kind} names node {dep_id}, expected the id of a node in the \
         trace"
    )]
    DanglingDependency {
        /// The file.
        origin: String,
        /// The node whose dependency dangles.
        node_id: u64,
        /// Which dependency list.
        kind: DepKind,
        /// The id that was not found.
        dep_id: u64,
    },
    /// The dependencies form a cycle.
    #[error(
        "{origin}: dependency cycle through node {node_id}, expected the ctrl_deps and \
         data_deps to form an acyclic graph"
    )]
    Cycle {
        /// The file.
        origin: String,
        /// One node on the cycle.
        node_id: u64,
    },
    /// An attribute is missing, repeated or of the wrong kind.
    #[error("{origin}: {error}")]
    Attribute {
        /// The file.
        origin: String,
        /// The node (or metadata), attribute and expectation.
        error: AttrError,
    },
    /// No `<prefix>.<rank>.et` file exists.
    #[error("{prefix}: no rank files, expected `{prefix}.0.et` and following")]
    NoRankFiles {
        /// The prefix as given.
        prefix: String,
    },
    /// The rank files skip a rank.
    #[error(
        "{prefix}: rank files are not contiguous: `{missing}` is missing, expected every rank \
         from 0 to {highest_rank}"
    )]
    MissingRank {
        /// The prefix as given.
        prefix: String,
        /// The path of the first missing file.
        missing: String,
        /// The highest rank found.
        highest_rank: u32,
    },
}
