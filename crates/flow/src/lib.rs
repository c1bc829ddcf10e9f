//! A flow-level, congestion-aware network model of Astrolabe, on explicit fabric graphs.
//!
//! # What it models
//!
//! A [`Fabric`] is a graph of GPUs and switches joined by directed links, each with a line rate
//! (bytes/s), a hop latency (ns), a class ([`LinkClass`]: nvlink, nic, leaf-uplink, spine) and
//! a [`Transport`] that says what fraction of the line rate flows reach. Fabrics are built from
//! a short [`FabricSpec`] (serde, TOML-readable): an NVSwitch domain per node, and a tree of
//! one to three switch tiers between nodes (rail-optimized or not, oversubscription per tier);
//! [`presets`] mirror the hardware catalog's clusters and two published ones (Llama 3's 24K-GPU
//! RoCE cluster, SAKURAONE). Line rates, latencies and efficiencies come from
//! `astrolabe_hardware::fabric`, so this model and the analytical one read the same numbers.
//!
//! Every transfer is a flow from one GPU to another along a route ([`Router`]: shortest path,
//! ECMP by a hash of source and destination, so deterministic). Flows that are active at the
//! same time share each link max-min fairly (progressive filling); rates are recomputed whenever
//! a flow starts or its last byte leaves. A flow arrives `Σ hop latency + message overhead`
//! after its last byte leaves; a single flow of `b` bytes on an idle path therefore takes
//! `b / (bottleneck line rate × efficiency) + latency`, rounded up to a whole nanosecond.
//!
//! Collectives ([`simulate_collectives`]) are expanded into their per-step flows: rings
//! (reduce-scatter and all-gather in p−1 steps, all-reduce in 2(p−1), each step one flow per
//! rank to its successor, started when the previous step's flow into that rank has arrived),
//! direct exchanges (all-to-all), and hierarchical compositions over the group's dimensions
//! (reduce-scatter inside nodes, all-reduce across nodes on each rail, all-gather inside nodes).
//! Several collectives given together run at once and contend for links. Outputs: completion
//! per collective and, per link, the bytes it carried ([`LinkLoad`]: utilization per class,
//! hottest links, bytes per tier).
//!
//! # Assumptions
//!
//! - Fluid flows: no packets, queues, congestion control or loss; a flow starts at its fair
//!   rate at once. Fairness is per flow, not per NIC queue pair or per channel.
//! - A link between two switches may stand for a bundle of parallel cables; flows on it share
//!   the whole bundle (perfect load balance inside a bundle; ECMP imbalance between bundles is
//!   modelled).
//! - GPUs never forward traffic (no PXN-style relaying through a peer GPU).
//! - Collectives have no chunk pipelining inside a step and no pipeline fill cost; reductions
//!   cost no time. A rank's next step waits for the flow into it, not for its own last send.
//!
//! # Cost
//!
//! Routing: one breadth-first search over switch-to-switch links per destination switch used,
//! cached. Simulation: events of one nanosecond are handled together, then max-min rates are
//! recomputed only for the connected component (flows linked through shared links) of the links
//! whose flow set changed: O((L_c + H_c) log L_c) for L_c links and H_c flow-hops in it. When
//! flows do not share links (rings on a non-blocking fabric) a component is one flow, so a
//! whole collective costs O(F log E) for F flows and E pending events; when every flow shares
//! one bottleneck, each event costs O(H log L) for all H active flow-hops.
//!
//! # Errors
//!
//! Bad input (unknown rank, zero capacity, unknown catalog fabric, disconnected GPUs, malformed
//! TOML) is an [`InputError`](astrolabe_core::InputError) naming the origin, field and
//! expectation; nothing here panics on input.

mod build;
pub mod collective;
mod driver;
mod engine;
mod fair;
mod flows;
pub mod graph;
pub mod presets;
pub mod report;
pub mod route;
pub mod spec;
pub mod transport;

pub use collective::{CollectiveOp, CollectiveOutcome, CollectiveRequest, Schedule};
pub use driver::{simulate_collectives, CollectiveRun};
pub use flows::{simulate_flows, FlowOutcome, FlowRequest, FlowRun};
pub use graph::{CableSpec, Fabric, Link, LinkClass, LinkId, Node, NodeId, NodeKind};
pub use presets::preset;
pub use report::{ClassLoad, HotLink, LinkLoad};
pub use route::Router;
pub use spec::{FabricSpec, ScaleOutSpec, TierSpec};
pub use transport::Transport;
