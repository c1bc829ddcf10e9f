//! Layer 7 of Astrolabe: a training step as an execution graph.
//!
//! [`schedule`] orders each pipeline stage's forward and backward passes (GPipe, 1F1B,
//! interleaved 1F1B, zero bubble; [`dualpipe`] the bidirectional DualPipe); [`pipeline`] expands them per layer into compute, tensor-parallel,
//! pipeline send and data-parallel tasks with their dependencies, for one representative rank per
//! stage or for every rank of a [`RankLayout`] with collective rendezvous over the groups it
//! names. Durations come in as [`StepCosts`]: this
//! layer decides what depends on what, not how long things take.

pub mod dualpipe;
pub mod pipeline;
pub mod ranks;
pub mod schedule;

pub use dualpipe::{
    dualpipe_direction, dualpipe_model_stage, dualpipe_orders, dualpipe_orders_timed,
    dualpipe_pass_times, PassTimes,
};
pub use pipeline::{build_step, MemoryCosts, MoeCosts, RankMode, StepCosts, StepGraph, StepShape};
pub use ranks::{RankGroups, RankLayout, StageRank};
pub use schedule::{stage_order, stage_orders, zero_bubble_orders, Pass, Schedule};
