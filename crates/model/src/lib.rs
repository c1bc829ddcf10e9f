//! Transformer model shapes and what they cost: parameters, FLOPs, per-layer operations on a
//! tensor-parallel rank, and activation memory.
//!
//! - [`model`]: [`TransformerModel`], read from a file (unknown fields rejected) or a preset, and
//!   its checks.
//! - [`params`]: parameter counts by part (methods on [`TransformerModel`]).
//! - [`flops`]: model FLOPs per token (MFU) and hardware FLOPs under recomputation (HFU).
//! - [`ops`]: the forward GEMMs and memory-bound operations of one layer on one rank, sharded
//!   as Megatron-LM shards them, for the compute and workload layers.
//! - [`activations`]: bytes kept for the backward pass, after Korthikanti et al. 2022.
//! - [`presets`]: GPT-3, Llama 2 and 3, the Megatron-LM scaling-study shapes, and the
//!   mixtures of experts Mixtral 8x7B, Qwen3-235B-A22B and DeepSeek-V3.
//!
//! Counts are exact integers. Every formula names its source and is tested against the
//! published figure.

pub mod activations;
pub mod flops;
pub mod model;
pub mod ops;
pub mod params;
pub mod presets;

pub use activations::{
    activation_bytes_of_layer, embedding_activation_bytes, layer_activation_bytes,
    moe_layer_activation_bytes, output_activation_bytes,
};
pub use model::{FfnKind, Mla, Moe, NormKind, PositionEmbedding, Recompute, TransformerModel};
pub use ops::{
    check_tensor_parallel, context_shard, layer_forward_ops, layer_forward_ops_cp,
    logits_forward_op, moe_layer_forward_ops, ExpertLoad, LayerOp, OpKind,
};
pub use presets::{preset, preset_names};
