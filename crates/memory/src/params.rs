//! Parameters per GPU of each pipeline stage, and the bytes of model and optimizer state.
//!
//! **Placement** (Megatron-LM, Narayanan et al. 2021 §2.2): stage `i` of `pp` holds the layers
//! of its virtual stages ([`MemoryInputs::layers_per_virtual_stage`]): layers
//! `i·L/pp .. (i+1)·L/pp` when the split is even and not interleaved; the first stage also
//! holds the input embedding (tokens and, if learned, positions), the last stage the final norm
//! and the output head. With tied embeddings
//! and `pp > 1` the last stage keeps its own copy of the `V × h` word embedding for the output
//! layer (Megatron's `shared_embedding` on the last stage, its gradient all-reduced with the
//! first stage's), so that copy is counted there, with its gradient and optimizer state.
//!
//! **Tensor parallelism** (Shoeybi et al. 2019): each weight matrix, and the QKV and MLP-up/gate
//! biases, are split `tp` ways (exactly, since `tp` divides heads, kv_heads and ffn_hidden); the
//! word embedding and output head are split along the vocabulary (`ceil(V/tp)` rows each: give
//! the padded vocabulary to be exact). Norms, the biases of the two row-parallel projections
//! (attention output, MLP down) and the learned position table are replicated on every rank.
//! No approximation: replicated parameters are not divided.
//!
//! **Bytes** (mixed-precision Adam, Rajbhandari et al. 2020 §3.1): weights and gradients at the
//! given widths; optimizer state `K = 12` bytes per parameter (fp32 master weights, momentum,
//! variance). ZeRO (§5): stage 1 divides the optimizer state by `dp`, stage 2 the gradients too,
//! stage 3 the weights too; each shard is rounded up to a whole byte count. Stage 3 also holds
//! a working set of gathered layers ([`gathered_bytes`]).

use astrolabe_model::TransformerModel;

use crate::inputs::MemoryInputs;

/// Bytes of Adam's optimizer state per parameter in mixed precision: fp32 master weights,
/// momentum and variance, `K = 12` in Rajbhandari et al. 2020 §3.1.
pub const OPTIMIZER_BYTES_PER_PARAM: u64 = 12;

/// Parameters held by one GPU (one tensor-parallel rank) of pipeline stage `stage` of `pp`, which
/// holds `stage_layers` transformer layers (over all its chunks: the sum of its entries of
/// [`MemoryInputs::layers_per_virtual_stage`]) plus the embedding on stage 0 and the final norm
/// and output head on stage `pp − 1`.
pub fn stage_params_per_gpu(
    model: &TransformerModel,
    tp: u64,
    pp: u64,
    stage: u64,
    stage_layers: u64,
) -> u64 {
    let mut params = stage_layers * layer_params_per_gpu(model, tp);
    let word_embedding = model.vocab.div_ceil(tp) * model.hidden;
    if stage == 0 {
        let positions = model.embedding_params() - model.vocab * model.hidden;
        params += word_embedding + positions;
    }
    if stage == pp - 1 {
        params += model.final_norm_params();
        // The output head, or the tied copy of the word embedding unless it is on this stage.
        if !model.tied_embeddings || pp > 1 {
            params += word_embedding;
        }
    }
    params
}

/// One layer's parameters on one tensor-parallel rank: its split part over `tp`, plus the
/// replicated norms and row-parallel biases.
pub fn layer_params_per_gpu(model: &TransformerModel, tp: u64) -> u64 {
    let row_parallel_biases = if model.linear_biases { 2 * model.hidden } else { 0 };
    let replicated = model.norm_params_per_layer() + row_parallel_biases;
    (model.layer_params() - replicated) / tp + replicated
}

/// Bytes of weights, gradients and optimizer state one GPU keeps for `params` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateBytes {
    /// Model weights at `weight_bytes_per_param`, divided by `dp` under ZeRO-3.
    pub weights: u64,
    /// Gradients at `grad_bytes_per_param`, divided by `dp` under ZeRO-2 and 3.
    pub gradients: u64,
    /// Optimizer state at 12 B/param, divided by `dp` under ZeRO-1, 2 and 3.
    pub optimizer: u64,
}

/// The state bytes of `params` parameters under the precision and ZeRO stage of `inputs`.
pub fn state_bytes(params: u64, inputs: &MemoryInputs) -> StateBytes {
    let shard = |bytes: u64, from_stage: u8| {
        if inputs.zero_stage >= from_stage {
            bytes.div_ceil(inputs.dp)
        } else {
            bytes
        }
    };
    StateBytes {
        weights: shard(params * inputs.weight_bytes_per_param, 3),
        gradients: shard(params * inputs.grad_bytes_per_param, 2),
        optimizer: shard(params * OPTIMIZER_BYTES_PER_PARAM, 1),
    }
}

/// ZeRO-3 / FSDP working set of a stage holding `stage_layers` layers: the whole (gathered)
/// weights of the layers resident at once, plus one layer's whole gradient before its
/// reduce-scatter. With resharding after the forward, two layers are resident (the one
/// computing and the one prefetched, PyTorch FSDP's default of one unit ahead); without it,
/// every layer gathered in the forward stays until its backward. 0 below stage 3.
pub fn gathered_bytes(model: &TransformerModel, inputs: &MemoryInputs, stage_layers: u64) -> u64 {
    if inputs.zero_stage < 3 || stage_layers == 0 {
        return 0;
    }
    let layer = layer_params_per_gpu(model, inputs.tp);
    let resident = if inputs.reshard_after_forward { stage_layers.min(2) } else { stage_layers };
    let weights = resident.saturating_mul(layer).saturating_mul(inputs.weight_bytes_per_param);
    weights.saturating_add(layer.saturating_mul(inputs.grad_bytes_per_param))
}
