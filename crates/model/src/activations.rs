//! Activation memory kept for the backward pass, per layer and per micro-batch, on one
//! tensor-parallel rank, after Korthikanti et al. 2022 (arXiv 2205.05198), generalized.
//!
//! The paper counts, for `s` tokens × `b` sequences, width `h`, `a` heads, 2-byte activations and
//! 1-byte dropout masks, what each GEMM and element-wise op must keep. Term by term, with
//! `g = kv_heads / heads` (grouped-query attention) and an MLP of `n` matrices of width `f`:
//!
//! ```text
//! attention  input of QKV (norm output)        2sbh   replicated over TP
//!            Q                                 2sbh   split
//!            K and V                           4sbh·g split   (paper, MHA: 4sbh)
//!            softmax output                    2as²b  split
//!            attention dropout mask            as²b   split
//!            dropout output (input of ·V)      2as²b  split
//!            input of the output projection    2sbh   split
//!            dropout mask after it             sbh    replicated
//! MLP        input of the first GEMM(s)        2sbh   replicated
//!            GeLU: up output + GeLU output     4sbf   split   (paper, f = 4h: 16sbh)
//!            SwiGLU: up, gate, their product   6sbf   split
//!            dropout mask                      sbh    replicated
//! norms      the two inputs                    4sbh   replicated
//! ```
//!
//! So `replicated = 10sbh`, `split = sbh(4 + 4g) + 2nsbf`, `core = 5as²b`; for GPT (g = 1, n = 2,
//! f = 4h) `split = 24sbh` and the total is the paper's `sbh(34 + 5as/h)`. Tensor parallelism
//! divides `split` and `core` by `t`; sequence parallelism also divides `replicated` by `t`.
//! Selective recomputation drops `core`; full recomputation keeps only the layer input, `2sbh`
//! (`/t` with sequence parallelism). Dropout is always assumed, as in the paper.
//!
//! Beyond the paper, in the same style (all at 2 bytes per element):
//!
//! ```text
//! explicit head width  Q and the output projection's input are q_dim wide      split
//! query/key norm       their inputs, 2sb(q_dim + kv_dim)                       split
//! MLA                  Q and K 2sb·heads·(nope + rope) each, V and the output
//!                      projection's input 2sb·heads·v each                     split
//!                      latents kept for the up projections and their norms,
//!                      2sb(2·q_lora + 2·kv_lora + rope)                        whole
//! MoE layer            inner activations of top_k routed and the shared
//!                      experts, 2nsb·f_e·(top_k + shared), instead of 2nsbf     split
//!                      routed token copies (the experts' input), 2sb·top_k·h   whole
//!                      router probabilities, 2sbE                              whole
//! ```
//!
//! `whole` is kept entirely on every tensor-parallel rank, with or without sequence parallelism,
//! as the operations in [`crate::ops`] run: MLA's down projections are replicated, and every
//! rank routes and permutes all tokens of the micro-batch for its `1/t` of each expert's width
//! (expert tensor parallelism equal to `t`; with expert parallelism a rank's experts receive
//! `top_k` copies per token on average under balanced routing). The expert outputs kept for
//! the gradient of the routing weights are not counted.

use astrolabe_core::InputError;

use crate::model::{Recompute, TransformerModel};
use crate::ops::{check_tensor_parallel, ACTIVATION_BYTES, MASK_BYTES};

/// Bytes per element of the fp32 logits kept for the cross-entropy loss.
pub const LOGIT_BYTES: u64 = 4;

/// Bytes of activations one dense layer keeps for one micro-batch of `micro_batch` sequences on
/// one tensor-parallel rank. For a mixture-of-experts model this is one of its first
/// `dense_layers` layers (see [`moe_layer_activation_bytes`]). Saturates at `u64::MAX`.
pub fn layer_activation_bytes(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
    recompute: Recompute,
) -> Result<u64, InputError> {
    layer_bytes(model, micro_batch, tp, sequence_parallel, recompute, false)
}

/// As [`layer_activation_bytes`] for one layer with routed experts; equal to it for a model
/// without `moe`.
pub fn moe_layer_activation_bytes(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
    recompute: Recompute,
) -> Result<u64, InputError> {
    layer_bytes(model, micro_batch, tp, sequence_parallel, recompute, true)
}

/// As [`layer_activation_bytes`] for layer `layer` (0-based), dense or MoE.
pub fn activation_bytes_of_layer(
    model: &TransformerModel,
    layer: u64,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
    recompute: Recompute,
) -> Result<u64, InputError> {
    let moe = model.is_moe_layer(layer);
    layer_bytes(model, micro_batch, tp, sequence_parallel, recompute, moe)
}

fn layer_bytes(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
    recompute: Recompute,
    moe_layer: bool,
) -> Result<u64, InputError> {
    check_tensor_parallel(model, micro_batch, tp, sequence_parallel)?;
    let [b, s, h, t] = [micro_batch, model.seq_len, model.hidden, tp].map(u128::from);
    let sb = s * b;
    // Width of the residual stream each rank holds, in elements per token.
    let stream = if sequence_parallel { h / t } else { h };
    let kept =
        || replicated(sb, stream) + split(model, sb, t, moe_layer) + whole(model, sb, moe_layer);
    let bytes = match recompute {
        Recompute::Full => u128::from(ACTIVATION_BYTES) * sb * stream,
        Recompute::Selective => kept(),
        Recompute::None => kept() + core(model, b, t),
    };
    Ok(saturate(bytes))
}

/// Norm inputs, inputs of QKV and of the MLP, two dropout masks: `10sbh`, `/t` with SP.
fn replicated(sb: u128, stream: u128) -> u128 {
    let norm_inputs = 2 * ACTIVATION_BYTES;
    let qkv_and_mlp_inputs = 2 * ACTIVATION_BYTES;
    let per_token = norm_inputs + qkv_and_mlp_inputs + 2 * MASK_BYTES;
    u128::from(per_token) * sb * stream
}

/// Q, K, V, the output projection's input and the MLP's inner activations, split over `t`.
fn split(model: &TransformerModel, sb: u128, t: u128, moe_layer: bool) -> u128 {
    let width = attention_split_width(model) + mlp_split_width(model, moe_layer);
    u128::from(ACTIVATION_BYTES) * sb * width / t
}

/// Elements per token of Q, K, V, the output projection's input and the query/key norms'
/// inputs.
fn attention_split_width(model: &TransformerModel) -> u128 {
    let heads = u128::from(model.heads);
    match model.mla {
        Some(mla) => {
            let [nope, rope, v] =
                [mla.qk_nope_head_dim, mla.qk_rope_head_dim, mla.v_head_dim].map(u128::from);
            2 * heads * (nope + rope) + 2 * heads * v
        }
        None => {
            let [q, kv] = [model.q_dim(), model.kv_dim()].map(u128::from);
            let norms = if model.qk_norm { q + kv } else { 0 };
            2 * q + 2 * kv + norms
        }
    }
}

/// Elements per token of the MLP's inner activations: `n·f` dense, `n·f_e·(top_k + shared)`
/// in an MoE layer.
fn mlp_split_width(model: &TransformerModel, moe_layer: bool) -> u128 {
    let n = u128::from(model.ffn_kind.matrices());
    match model.moe.filter(|_| moe_layer) {
        Some(moe) => {
            let [f, k, shared] =
                [moe.expert_ffn_hidden, moe.top_k, moe.shared_experts].map(u128::from);
            n * f * (k + shared)
        }
        None => n * u128::from(model.ffn_hidden),
    }
}

/// MLA's latents, an MoE layer's routed token copies and router probabilities: whole on every
/// tensor-parallel rank.
fn whole(model: &TransformerModel, sb: u128, moe_layer: bool) -> u128 {
    let latents = model
        .mla
        .map_or(0, |mla| 2 * mla.q_lora_rank + 2 * mla.kv_lora_rank + mla.qk_rope_head_dim);
    let routing = match model.moe.filter(|_| moe_layer) {
        Some(moe) => moe.top_k * model.hidden + moe.experts,
        None => 0,
    };
    u128::from(ACTIVATION_BYTES) * sb * u128::from(latents + routing)
}

/// Softmax output, its dropout mask and the dropout output: `5as²b / t`.
fn core(model: &TransformerModel, b: u128, t: u128) -> u128 {
    let [a, s] = [model.heads, model.seq_len].map(u128::from);
    let per_score = u128::from(2 * ACTIVATION_BYTES + MASK_BYTES);
    per_score * (a / t) * s * s * b
}

/// Bytes the input embedding keeps per micro-batch on the first pipeline stage: its dropout
/// mask, `sbh` (`/t` with sequence parallelism), Korthikanti et al. 2022 §4.3.
pub fn embedding_activation_bytes(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
) -> Result<u64, InputError> {
    check_tensor_parallel(model, micro_batch, tp, sequence_parallel)?;
    let [b, s, h, t] = [micro_batch, model.seq_len, model.hidden, tp].map(u128::from);
    let stream = if sequence_parallel { h / t } else { h };
    Ok(saturate(u128::from(MASK_BYTES) * s * b * stream))
}

/// Bytes the output layer keeps per micro-batch on the last pipeline stage: the final norm's
/// input and the logits GEMM's input (`2sbh` each, `/t` with sequence parallelism) and the fp32
/// logits for the loss, `4sb·ceil(V/t)`. With sequence parallelism this is the paper's
/// `4sbh/t · (1 + V/h)` (Korthikanti et al. 2022 §4.3); without it the two inputs are whole.
pub fn output_activation_bytes(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
) -> Result<u64, InputError> {
    check_tensor_parallel(model, micro_batch, tp, sequence_parallel)?;
    let [b, s, h, t] = [micro_batch, model.seq_len, model.hidden, tp].map(u128::from);
    let stream = if sequence_parallel { h / t } else { h };
    let vocab_per_rank = u128::from(model.vocab.div_ceil(tp));
    let inputs = u128::from(2 * ACTIVATION_BYTES) * s * b * stream;
    Ok(saturate(inputs + u128::from(LOGIT_BYTES) * s * b * vocab_per_rank))
}

fn saturate(bytes: u128) -> u64 {
    u64::try_from(bytes).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[path = "activations_tests.rs"]
mod tests;
