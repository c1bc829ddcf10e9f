//! Length-delimited framing: a varint length, then that many bytes, repeated to the end.

use std::io::{BufReader, ErrorKind, Read};

use crate::error::{ChakraError, MAX_MESSAGE_BYTES};

/// Where a message sits in its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FramePos {
    /// 0 for the first message of the file.
    pub index: u64,
    /// Offset of the message's length prefix.
    pub offset_bytes: u64,
}

/// Reads one frame at a time into a reused buffer, never more than [`MAX_MESSAGE_BYTES`].
pub(crate) struct Frames<R> {
    source: BufReader<R>,
    origin: String,
    next: FramePos,
    body: Vec<u8>,
}

impl<R: Read> Frames<R> {
    pub fn new(source: R, origin: String) -> Self {
        let next = FramePos { index: 0, offset_bytes: 0 };
        Frames { source: BufReader::new(source), origin, next, body: Vec::new() }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The body of the frame last returned by [`Frames::next_frame`].
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The next frame's position, with its body in [`Frames::body`]; `None` at a clean end.
    pub fn next_frame(&mut self) -> Result<Option<FramePos>, ChakraError> {
        let pos = self.next;
        let Some((length_bytes, prefix_bytes)) = self.read_prefix(pos)? else {
            return Ok(None);
        };
        if length_bytes > MAX_MESSAGE_BYTES {
            return Err(ChakraError::MessageTooLarge {
                origin: self.origin.clone(),
                message_index: pos.index,
                offset_bytes: pos.offset_bytes,
                length_bytes,
                limit_bytes: MAX_MESSAGE_BYTES,
            });
        }
        self.read_body(pos, length_bytes)?;
        self.next = FramePos {
            index: pos.index + 1,
            offset_bytes: pos.offset_bytes + prefix_bytes + length_bytes,
        };
        Ok(Some(pos))
    }

    /// Reads exactly `length_bytes`, growing the buffer only as bytes arrive (a lying prefix
    /// costs no memory).
    fn read_body(&mut self, pos: FramePos, length_bytes: u64) -> Result<(), ChakraError> {
        self.body.clear();
        let found = (&mut self.source).take(length_bytes).read_to_end(&mut self.body);
        let found_bytes = found.map_err(|error| self.io_error(error))? as u64;
        if found_bytes < length_bytes {
            return Err(ChakraError::TruncatedMessage {
                origin: self.origin.clone(),
                message_index: pos.index,
                offset_bytes: pos.offset_bytes,
                expected_bytes: length_bytes,
                found_bytes,
            });
        }
        Ok(())
    }

    /// The varint length and how many bytes it took; `None` if the file ends before it starts.
    fn read_prefix(&mut self, pos: FramePos) -> Result<Option<(u64, u64)>, ChakraError> {
        let mut value = 0u64;
        for position in 0..10u32 {
            let Some(byte) = self.read_byte()? else {
                if position == 0 {
                    return Ok(None);
                }
                return Err(ChakraError::TruncatedPrefix {
                    origin: self.origin.clone(),
                    message_index: pos.index,
                    offset_bytes: pos.offset_bytes,
                });
            };
            // The tenth byte may only carry bit 63: anything more overflows or continues.
            if position == 9 && byte > 1 {
                break;
            }
            value |= u64::from(byte & 0x7f) << (7 * position);
            if byte & 0x80 == 0 {
                return Ok(Some((value, u64::from(position) + 1)));
            }
        }
        Err(ChakraError::MalformedVarint {
            origin: self.origin.clone(),
            message_index: pos.index,
            offset_bytes: pos.offset_bytes,
        })
    }

    fn read_byte(&mut self) -> Result<Option<u8>, ChakraError> {
        let mut byte = [0u8; 1];
        loop {
            match self.source.read(&mut byte) {
                Ok(0) => return Ok(None),
                Ok(_) => return Ok(Some(byte[0])),
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(self.io_error(error)),
            }
        }
    }

    fn io_error(&self, error: std::io::Error) -> ChakraError {
        ChakraError::Io { origin: self.origin.clone(), error }
    }
}
