//! Layer 3 of Astrolabe: network topologies as ordered lists of dimensions, innermost first.
//!
//! A dimension is a Ring, a FullyConnected clique or a Switch of `size` ranks, with per-GPU
//! bandwidth (per direction), per-hop latency, an achievable-bandwidth efficiency, and for
//! switched tiers an oversubscription factor and optional in-network reduction. A rank's
//! coordinates are mixed-radix digits, dimension 0 varying fastest.

mod dimension;
mod group;
mod topology;

pub use dimension::{Dimension, DimensionKind, InNetworkReduction};
pub use group::Group;
pub use topology::Topology;
