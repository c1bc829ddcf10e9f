//! One training step end to end.
//!
//! A [`Scenario`] (model × cluster × parallel [`Plan`]) is read from TOML, checked, placed on the
//! network ([`placement`]), priced operation by operation ([`costs`]), executed as a dependency
//! graph by the engine, and summarised in a [`SimReport`]: step time, tokens per second, MFU and
//! HFU, a breakdown that adds up to the step time, memory per stage and traffic per network
//! dimension. This crate reads no files: the caller hands it text and a way to fetch the cluster
//! file a scenario may name.

pub mod breakdown;
pub mod compute_table;
pub mod context;
pub mod cost_step;
pub mod costs;
pub mod export;
pub mod flow_pricing;
pub mod moe;
pub mod network_choice;
pub mod offload_step;
pub mod placement;
pub mod plan;
pub mod rank_layout;
pub mod report;
pub mod run;
pub mod scenario;
pub mod trace;

pub use network_choice::{NetworkChoice, NetworkModel};
pub use plan::Plan;
pub use report::SimReport;
pub use run::{simulate, simulate_traced, Mode};
pub use scenario::{
    no_cluster_files, parse_scenario, resolve as resolve_scenario, Scenario, ScenarioTables,
    DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME,
};
pub use trace::StepTrace;
