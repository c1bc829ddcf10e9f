//! Layer 1 of Astrolabe: units, simulated time, the discrete-event queue and input errors.
//!
//! Everything here is SI: a gigabyte is 1e9 bytes, a GB/s is 1e9 bytes per second. Formats that
//! mean otherwise are converted once, at their reader, never here.

pub mod error;
pub mod queue;
pub mod time;
pub mod units;

pub use error::{check_count, InputError};
pub use queue::EventQueue;
pub use time::TimeNs;
pub use units::{parse_size_bytes, Bandwidth, FlopRate};
