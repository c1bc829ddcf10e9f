//! What a training run costs: the price of a GPU-hour, in the cloud or on premise, and the
//! money and energy of a step and of a whole run.
//!
//! Three pieces, top-down:
//! - [`CostInputs`]: what a user may set, read from a scenario's `[cost]` table;
//! - [`Rate`]: one GPU-hour of one GPU kind, from those inputs, the [`catalog`] of prices with
//!   their sources and the global defaults; on premise it is capital (server and scale-out
//!   network share, written off) plus power plus facility;
//! - [`RunCost`]: a rate times the GPUs and the step time of a simulated step, for one step and
//!   for the steps of a run (by default 20 tokens per parameter, Chinchilla-optimal).
//!
//! This crate knows no hardware types and no time-stepping: GPUs come as catalog names,
//! bandwidth as Gb/s, the step as seconds. It reads no files. Formulas and sources:
//! `docs/cost.md`.

pub mod catalog;
pub mod inputs;
pub mod rate;
pub mod run_cost;

pub use catalog::{GpuPrices, TOKENS_PER_PARAMETER};
pub use inputs::{CostInputs, Pricing};
pub use rate::{OnPremiseParts, Rate};
pub use run_cost::RunCost;
