//! Layer 4 of Astrolabe: analytical timing of collectives on multi-dimensional networks.
//!
//! A collective on a [`Group`](astrolabe_network::Group) runs as phases, one per spanned
//! dimension, each with a per-dimension algorithm ([`phase`]); phases are composed
//! hierarchically or as one flat ring, and may be pipelined in chunks ([`compose`]). Sizes follow
//! nccl-tests: the `size` of a collective is the whole buffer per rank (the gathered output for
//! all-gather, the input for reduce-scatter), and bus bandwidth uses nccl-tests' factors.

mod algorithm;
pub mod compose;
mod op;
pub use compose::{simulate, CollectiveOptions, CollectiveResult, Composition, PhaseReport};
pub mod phase;

pub use algorithm::Algorithm;

pub use op::CollectiveOp;
