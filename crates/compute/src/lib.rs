//! Layer 5 of Astrolabe: the time of each operation from its FLOPs, bytes and shape on an
//! accelerator.
//!
//! - [`calibration`]: [`ComputeModel`], the kernel efficiencies of one GPU generation (GEMM
//!   fraction of peak per precision, shape curve, attention, HBM, per-kernel overhead), each with
//!   its public evidence, and the bytes an Adam step moves. The only place such constants live.
//! - [`time`]: roofline timing of a [`LayerOp`](astrolabe_model::LayerOp), of a list of them,
//!   and of an optimizer step.
//!
//! Times are `f64` seconds; the engine rounds them to its integer nanoseconds.

pub mod calibration;
pub mod time;

pub use calibration::{ComputeModel, Generation, ADAM_BYTES_PER_PARAM};
pub use time::ATTENTION_OPS;
