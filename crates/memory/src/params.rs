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
//! **Experts** (Megatron-Core expert parallelism): a MoE layer's routed experts are spread over
//! `ep` ranks, `experts / ep` per rank, each split `expert_tp` ways (`tp` unless the plan folds
//! the experts, Megatron-Core's parallel folding); the router is replicated. Their ZeRO state is
//! sharded over the `expert_dp` ranks that hold the same experts.
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

/// Parameters one GPU holds, split by how the data-parallel ranks share them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageParams {
    /// Parameters replicated over (or ZeRO-sharded across) the data-parallel ranks.
    pub dense: u64,
    /// Routed-expert parameters: replicated over (or sharded across) only the `expert_dp`
    /// expert-data-parallel ranks that hold the same experts.
    pub expert: u64,
}

impl StageParams {
    /// Every parameter the GPU holds.
    pub fn total(&self) -> u64 {
        self.dense + self.expert
    }
}

/// Parameters held by one GPU (one tensor-parallel rank, one of `ep` expert-parallel ranks
/// splitting its experts `expert_tp` ways) of pipeline stage `stage` of `pp`, which holds `stage_layers` transformer layers (over all its
/// chunks: the sum of its entries of [`MemoryInputs::layers_per_virtual_stage`]) of which
/// `moe_layers` have routed experts, plus the embedding on stage 0 and the final norm and output
/// head on stage `pp − 1`.
pub fn stage_params_per_gpu(
    model: &TransformerModel,
    (tp, expert_tp, ep): (u64, u64, u64),
    (pp, stage): (u64, u64),
    stage_layers: u64,
    moe_layers: u64,
) -> StageParams {
    let (moe_dense, moe_expert) = moe_layer_params_per_gpu(model, tp, (expert_tp, ep));
    let dense_layers = stage_layers - moe_layers;
    let mut params = dense_layers * layer_params_per_gpu(model, tp) + moe_layers * moe_dense;
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
    StageParams { dense: params, expert: moe_layers * moe_expert }
}

/// One dense layer's parameters on one tensor-parallel rank: its split part over `tp`, plus the
/// replicated norms and row-parallel biases.
pub fn layer_params_per_gpu(model: &TransformerModel, tp: u64) -> u64 {
    let replicated = replicated_per_layer(model);
    (model.layer_params() - replicated) / tp + replicated
}

/// One MoE layer's parameters on one GPU as `(dense part, routed experts)`: attention, shared
/// experts and norms as in a dense layer (split `tp` ways), the router replicated on every rank,
/// and `experts / ep` routed experts each split `expert_tp` ways. 0 and 0 for a dense model.
pub fn moe_layer_params_per_gpu(
    model: &TransformerModel,
    tp: u64,
    (expert_tp, ep): (u64, u64),
) -> (u64, u64) {
    let Some(moe) = model.moe else { return (0, 0) };
    let router = model.router_params_per_layer();
    let routed = moe.experts * model.expert_params();
    let replicated = replicated_per_layer(model) + router;
    let dense = (model.moe_layer_params() - routed - replicated) / tp + replicated;
    (dense, moe.experts / ep.max(1) * model.expert_params() / expert_tp.max(1))
}

/// Norms and the biases of the two row-parallel projections: on every TP rank whole.
fn replicated_per_layer(model: &TransformerModel) -> u64 {
    let row_parallel_biases = if model.linear_biases { 2 * model.hidden } else { 0 };
    model.norm_params_per_layer() + row_parallel_biases
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

/// The state bytes of `params` parameters under the precision and ZeRO stage of `inputs`
/// (sharded over `inputs.dp` ranks).
pub fn state_bytes(params: u64, inputs: &MemoryInputs) -> StateBytes {
    state_bytes_over(params, inputs, inputs.dp)
}

/// The state bytes of a stage's parameters: the dense ones sharded over `dp` ranks, the routed
/// experts over the `expert_dp` ranks holding the same experts.
pub fn stage_state_bytes(params: StageParams, inputs: &MemoryInputs) -> StateBytes {
    let dense = state_bytes(params.dense, inputs);
    let expert = state_bytes_over(params.expert, inputs, inputs.expert_dp.max(1));
    StateBytes {
        weights: dense.weights + expert.weights,
        gradients: dense.gradients + expert.gradients,
        optimizer: dense.optimizer + expert.optimizer,
    }
}

fn state_bytes_over(params: u64, inputs: &MemoryInputs, ranks: u64) -> StateBytes {
    let shard = |bytes: u64, from_stage: u8| {
        if inputs.zero_stage >= from_stage {
            bytes.div_ceil(ranks)
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
/// reduce-scatter. A layer is counted at the larger of a dense and a MoE layer (dense part and
/// this rank's experts) when the model has experts: exact for a stage of MoE layers only. With resharding after the forward, two layers are resident (the one
/// computing and the one prefetched, PyTorch FSDP's default of one unit ahead); without it,
/// every layer gathered in the forward stays until its backward. 0 below stage 3.
pub fn gathered_bytes(model: &TransformerModel, inputs: &MemoryInputs, stage_layers: u64) -> u64 {
    if inputs.zero_stage < 3 || stage_layers == 0 {
        return 0;
    }
    let (moe_dense, moe_expert) =
        moe_layer_params_per_gpu(model, inputs.tp, (inputs.expert_tp, inputs.ep));
    let layer = layer_params_per_gpu(model, inputs.tp).max(moe_dense + moe_expert);
    let resident = if inputs.reshard_after_forward { stage_layers.min(2) } else { stage_layers };
    let weights = resident.saturating_mul(layer).saturating_mul(inputs.weight_bytes_per_param);
    weights.saturating_add(layer.saturating_mul(inputs.grad_bytes_per_param))
}
