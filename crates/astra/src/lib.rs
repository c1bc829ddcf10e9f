//! Runs ASTRA-sim's inputs unchanged: Chakra traces (one per NPU), the system JSON, the network
//! YAML, the remote-memory JSON and an optional communicator-group JSON.
//!
//! The crate is layered top-down:
//! - parsers, each refusing unknown keys and naming file, field and expectation on error:
//!   [`parse_system`], [`parse_network`], [`parse_remote_memory`], [`parse_comm_groups`],
//!   [`parse_cases`] (the reference results);
//! - timing ([`Ctx::collective_ns`], [`message_ns`], [`pipeline_ns`]): ASTRA-sim's analytical
//!   semantics, with integer nanoseconds (1 cycle = 1 ns);
//! - [`simulate`]: every node of every rank becomes a task of an [`astrolabe_engine::Graph`]
//!   (COMP on the rank's compute stream; collectives, sends and memory accesses on its
//!   communication stream; receives free), a collective is one rendezvous across its group timed
//!   analytically per chunk, and the engine's timeline gives each rank's finish time and exposed
//!   communication ([`AstraReport`]).
//!
//! The semantics, and where they differ from Astrolabe's own model, are in `docs/astra-sim.md`.
//! Like the chakra crate, [`load_traces`] opens trace files itself; configuration files arrive as
//! text.

mod build;
mod check;
mod collective;
mod error;
pub mod flow_backend;
mod json;
mod memory;
mod network;
mod node;
mod run;
mod system;

pub use build::RankTrace;
pub use check::{parse_cases, relative_error, Case};
pub use collective::{message_ns, pipeline_ns, Backend, CollKind, Ctx};
pub use error::AstraError;
pub use memory::{parse_comm_groups, parse_remote_memory, CommGroups, RemoteMemory};
pub use network::{parse_network, Dim, DimKind, Network, MAX_NPUS};
pub use run::{load_traces, simulate, AstraReport, Config, RankResult};
pub use system::{parse_system, Algorithm, CollectiveOptimization, Implementations, SystemConfig};
