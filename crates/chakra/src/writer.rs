//! Writing: [`TraceWriter`] appends nodes one at a time; [`write_trace`] writes a whole file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use prost::Message;

use crate::error::{ChakraError, MAX_MESSAGE_BYTES};
use crate::message::{GlobalMetadata, Node, Trace};
use crate::reader::check_node_type;

/// Writes a trace: the `GlobalMetadata` first (by the constructor), then nodes, each preceded by
/// its length as a varint. It refuses what [`crate::TraceReader`] would refuse: a node type
/// outside the enum, a message above [`MAX_MESSAGE_BYTES`].
pub struct TraceWriter<W: Write> {
    sink: W,
    origin: String,
    message_index: u64,
    offset_bytes: u64,
    buffer: Vec<u8>,
}

impl TraceWriter<BufWriter<File>> {
    /// Creates (or truncates) the file at `path` and writes `metadata`; errors name the path.
    pub fn create(path: impl AsRef<Path>, metadata: &GlobalMetadata) -> Result<Self, ChakraError> {
        let origin = path.as_ref().display().to_string();
        match File::create(path.as_ref()) {
            Ok(file) => TraceWriter::new(BufWriter::new(file), origin, metadata),
            Err(error) => Err(ChakraError::Io { origin, error }),
        }
    }
}

impl<W: Write> TraceWriter<W> {
    /// Writes `metadata` to `sink`; `origin` names the destination in errors.
    pub fn new(
        sink: W,
        origin: impl Into<String>,
        metadata: &GlobalMetadata,
    ) -> Result<Self, ChakraError> {
        let origin = origin.into();
        let mut writer =
            TraceWriter { sink, origin, message_index: 0, offset_bytes: 0, buffer: Vec::new() };
        writer.write_message(metadata)?;
        Ok(writer)
    }

    /// Appends one node.
    pub fn write_node(&mut self, node: &Node) -> Result<(), ChakraError> {
        check_node_type(node, &self.origin, self.message_index)?;
        self.write_message(node)
    }

    /// Flushes and hands back the sink.
    pub fn finish(mut self) -> Result<W, ChakraError> {
        self.sink
            .flush()
            .map_err(|error| ChakraError::Io { origin: self.origin.clone(), error })?;
        Ok(self.sink)
    }

    fn write_message(&mut self, message: &impl Message) -> Result<(), ChakraError> {
        let length_bytes = message.encoded_len() as u64;
        if length_bytes > MAX_MESSAGE_BYTES {
            return Err(ChakraError::MessageTooLarge {
                origin: self.origin.clone(),
                message_index: self.message_index,
                offset_bytes: self.offset_bytes,
                length_bytes,
                limit_bytes: MAX_MESSAGE_BYTES,
            });
        }
        self.buffer.clear();
        // Encoding into a Vec cannot run out of room; the error arm is for completeness.
        let encoded = message.encode_length_delimited(&mut self.buffer);
        let written =
            encoded.map_err(std::io::Error::other).and_then(|()| self.sink.write_all(&self.buffer));
        written.map_err(|error| ChakraError::Io { origin: self.origin.clone(), error })?;
        self.message_index += 1;
        self.offset_bytes += self.buffer.len() as u64;
        Ok(())
    }
}

/// Writes a whole trace to the file at `path` (created or truncated).
pub fn write_trace(path: impl AsRef<Path>, trace: &Trace) -> Result<(), ChakraError> {
    let writer = TraceWriter::create(path, &trace.metadata)?;
    write_nodes(writer, &trace.nodes).map(drop)
}

/// Writes a whole trace to `sink`, returning it; `origin` names it in errors.
pub fn write_trace_to<W: Write>(
    sink: W,
    origin: impl Into<String>,
    trace: &Trace,
) -> Result<W, ChakraError> {
    write_nodes(TraceWriter::new(sink, origin, &trace.metadata)?, &trace.nodes)
}

fn write_nodes<W: Write>(mut writer: TraceWriter<W>, nodes: &[Node]) -> Result<W, ChakraError> {
    for node in nodes {
        writer.write_node(node)?;
    }
    writer.finish()
}
