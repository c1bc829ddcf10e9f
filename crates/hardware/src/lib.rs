//! Layer 2 of Astrolabe: the hardware catalog and cluster descriptions.
//!
//! [`accelerator`] lists GPUs with their dense peak FLOP/s per precision, HBM and scale-up
//! bandwidth; [`fabric`] lists interconnects with their line rate, latency and measured
//! efficiency; [`cluster`] puts them together into presets and reads user cluster TOML files.
//! [`memory_tier`] lists memory beyond HBM (host DRAM, Grace LPDDR5X, CXL expansion and pools).
//! Every catalog number carries its public source in a comment; constants fitted to
//! `shared/data/validation/dev.json` say which entries and how.

pub mod accelerator;
pub mod cluster;
pub mod fabric;
mod file;
pub mod memory_tier;

pub use accelerator::{Accelerator, Precision};
pub use cluster::{Cluster, ClusterPreset};
pub use fabric::Fabric;
pub use file::parse_cluster_toml;
