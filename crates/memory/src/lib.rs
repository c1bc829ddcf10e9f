//! Layer 6 of Astrolabe: how many bytes each GPU of a training job holds, and whether they fit.
//!
//! - [`inputs`]: [`MemoryInputs`], the parallel plan as the accounting sees it, its checks and
//!   the layers of each virtual pipeline stage (even, or uneven first and last stages).
//! - [`params`]: parameters per GPU of each pipeline stage (tensor-parallel shards plus the
//!   replicated norms and biases) and the bytes of weights, gradients and optimizer state under
//!   mixed-precision Adam and ZeRO.
//! - [`schedule`]: how many micro-batches' activations each stage keeps at its peak under GPipe,
//!   1F1B and interleaved 1F1B.
//! - [`offload`]: which bytes of the state stay in HBM and which live on a slower tier under
//!   an [`offload::OffloadPlan`] (ZeRO-Offload, ZeRO-Infinity, activation offload), and the
//!   bytes crossing the link to it per micro-batch and per step.
//! - [`account()`]: the per-stage sum, the worst stage and the verdict, a [`MemoryReport`].
//!
//! Every GPU of a stage holds the same bytes (tensor and data-parallel ranks are symmetric), so
//! one row per stage describes the whole job. Bytes are exact integers, SI (GB = 1e9 bytes).
//! Activation sizes come from `astrolabe-model` (Korthikanti et al. 2022).

mod account;
pub mod inputs;
pub mod offload;
pub mod params;
pub mod schedule;

pub use account::{account, moe_layers_of_stage, MemoryReport, StageMemory};
pub use inputs::{MemoryInputs, Schedule};
