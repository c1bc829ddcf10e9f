//! The forward operations of one layer on one tensor-parallel rank, sharded as Megatron-LM does.
//!
//! QKV, MLP up and gate are column-parallel (each rank holds `1/tp` of the output columns, whole
//! heads), attention runs on `heads/tp` heads, the attention output and MLP down projections are
//! row-parallel (each rank holds `1/tp` of the input rows; an all-reduce, or with sequence
//! parallelism a reduce-scatter, follows). Norms, dropout and residual adds run on the whole
//! activation, or on `1/tp` of the sequence with sequence parallelism. Communication is not listed
//! here: the workload layer adds it.
//!
//! Element-wise operations are estimated by the bytes they read and write at bf16 (2 bytes per
//! element), dropout masks at 1 byte per element (Korthikanti et al. 2022 count them the same way).

use astrolabe_core::InputError;
use serde::Serialize;

use crate::model::{FfnKind, Mla, Moe, PositionEmbedding, TransformerModel};

/// Bytes per activation element (bf16).
pub const ACTIVATION_BYTES: u64 = 2;
/// Bytes per dropout-mask element.
pub const MASK_BYTES: u64 = 1;
/// Largest accepted micro-batch, in sequences.
pub const MAX_MICRO_BATCH: u64 = 1 << 16;

/// What an operation does to the hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// `batch` independent products of an `m×k` by a `k×n` matrix.
    Gemm {
        /// Rows of the left operand and of the result.
        m: u64,
        /// Columns of the right operand and of the result.
        n: u64,
        /// The contracted dimension.
        k: u64,
        /// Independent products (heads × sequences for attention, 1 for projections).
        batch: u64,
    },
    /// A memory-bound element-wise operation moving `bytes` to and from memory.
    Memory {
        /// Bytes read plus bytes written.
        bytes: u64,
    },
}

/// One operation of a layer's forward pass on one tensor-parallel rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayerOp {
    /// Stable name, e.g. `qkv_proj`, `attn_scores`, `mlp_down`.
    pub name: &'static str,
    /// GEMM shape or bytes moved.
    pub kind: OpKind,
}

impl LayerOp {
    /// `batch` products of an `m×k` by a `k×n` matrix.
    pub fn gemm(name: &'static str, m: u64, n: u64, k: u64, batch: u64) -> Self {
        LayerOp { name, kind: OpKind::Gemm { m, n, k, batch } }
    }

    /// A memory-bound pass over `elements` that moves `bytes_per_element` bytes for each.
    pub fn memory(name: &'static str, elements: u64, bytes_per_element: u64) -> Self {
        LayerOp { name, kind: OpKind::Memory { bytes: elements.saturating_mul(bytes_per_element) } }
    }

    /// FLOPs: `2·m·n·k·batch` for a GEMM, 0 for a memory-bound operation. Saturates at
    /// `u64::MAX`.
    pub fn flops(&self) -> u64 {
        match self.kind {
            OpKind::Gemm { m, n, k, batch } => product(&[2, m, n, k, batch]),
            OpKind::Memory { .. } => 0,
        }
    }

    /// Bytes moved: for a GEMM both inputs and the output once each at bf16, for a memory-bound
    /// operation its estimate. Saturates at `u64::MAX`.
    pub fn bytes(&self) -> u64 {
        match self.kind {
            OpKind::Gemm { m, n, k, batch } => {
                let elements = product(&[m, k])
                    .saturating_add(product(&[k, n]))
                    .saturating_add(product(&[m, n]));
                product(&[ACTIVATION_BYTES, elements, batch])
            }
            OpKind::Memory { bytes } => bytes,
        }
    }
}

fn product(factors: &[u64]) -> u64 {
    factors.iter().fold(1, |acc: u64, &x| acc.saturating_mul(x))
}

/// Checks that `tp` can shard `model` as Megatron-LM requires (whole heads and key/value groups
/// per rank, an even split of the MLP, and of the sequence with sequence parallelism) and that
/// the model itself is valid.
pub fn check_tensor_parallel(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
) -> Result<(), InputError> {
    model.validate(&model.name)?;
    let origin = "parallel plan";
    if micro_batch == 0 || micro_batch > MAX_MICRO_BATCH {
        let expected = format!("an integer from 1 to {MAX_MICRO_BATCH}, got {micro_batch}");
        return Err(InputError::new(origin, "micro_batch", expected));
    }
    let mut divides = vec![("heads", model.heads)];
    if model.mla.is_none() {
        divides.push(("kv_heads", model.kv_heads));
    }
    if model.moe.is_none_or(|m| m.dense_layers > 0) {
        divides.push(("ffn_hidden", model.ffn_hidden));
    }
    // Routed experts are split `expert_tp` ways, which the plan checks; shared experts like
    // the MLP.
    if let Some(m) = model.moe.filter(|m| m.shared_experts > 0) {
        let width = m.shared_experts * m.expert_ffn_hidden;
        divides.push((
            "moe.expert_ffn_hidden × shared_experts (shared experts are split like the MLP)",
            width,
        ));
    }
    let seq = sequence_parallel.then_some(("seq_len (sequence parallelism)", model.seq_len));
    for (what, value) in divides.into_iter().chain(seq) {
        if tp == 0 || value % tp != 0 {
            let expected = format!("a divisor of the model's {what} ({value}), got {tp}");
            return Err(InputError::new(origin, "tp", expected));
        }
    }
    Ok(())
}

/// The forward operations of one layer on one tensor-parallel rank for a micro-batch of
/// `micro_batch` sequences, in execution order.
pub fn layer_forward_ops(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
) -> Result<Vec<LayerOp>, InputError> {
    layer_forward_ops_cp(model, micro_batch, tp, sequence_parallel, 1)
}

/// The model as one of `cp` context-parallel ranks sees it: `seq_len / cp` tokens of each
/// sequence (rounded down; the plan checks that `cp` divides the sequence). `cp = 0` reads as 1.
pub fn context_shard(model: &TransformerModel, cp: u64) -> TransformerModel {
    TransformerModel { seq_len: model.seq_len / cp.max(1), ..model.clone() }
}

/// [`layer_forward_ops`] on one of `cp` context-parallel ranks: every operation runs on the
/// rank's `s/cp` tokens, except that its queries attend to the keys of the whole sequence
/// (ring or all-gather attention), so the score and value products are `s/cp × s` per head:
/// `1/cp` of the layer's attention, as with causal load balancing (no causal discount, as in the
/// rest of the FLOP count). `model` is the whole model; `cp` must divide its sequence. For a
/// mixture-of-experts model this is a dense layer (see [`moe_layer_forward_ops`]).
pub fn layer_forward_ops_cp(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
    cp: u64,
) -> Result<Vec<LayerOp>, InputError> {
    layer_ops(model, micro_batch, tp, sequence_parallel, cp, None)
}

/// Where a MoE layer's routed experts run, seen from one rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpertLoad {
    /// Expert-parallel ranks the routed experts are spread over (each holds `experts / ep`).
    pub ep: u64,
    /// Expert tensor parallelism: ranks each expert's matrices are split over (its FFN width
    /// divided `expert_tp` ways); all of them process the same token copies.
    pub expert_tp: u64,
    /// Token copies this rank's experts process per micro-batch: `tokens × top_k` on average,
    /// more on the busiest rank under routing imbalance, capped by a capacity factor.
    pub routed_tokens: u64,
}

/// The forward operations of one MoE layer on one rank: attention as in a dense layer, then the
/// router (`tokens × experts × hidden`), the permutation of the routed token copies, the rank's
/// `experts / ep` experts as one grouped GEMM (`routed_tokens` copies shared evenly among them;
/// expert matrices split `expert_tp` ways), the un-permutation and weighted sum, and the
/// shared experts as a dense MLP over every token. The dispatch and combine all-to-alls are
/// communication: the workload layer adds them.
pub fn moe_layer_forward_ops(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
    cp: u64,
    load: ExpertLoad,
) -> Result<Vec<LayerOp>, InputError> {
    layer_ops(model, micro_batch, tp, sequence_parallel, cp, Some(load))
}

fn layer_ops(
    model: &TransformerModel,
    micro_batch: u64,
    tp: u64,
    sequence_parallel: bool,
    cp: u64,
    experts: Option<ExpertLoad>,
) -> Result<Vec<LayerOp>, InputError> {
    let local = context_shard(model, cp);
    check_tensor_parallel(&local, micro_batch, tp, sequence_parallel)?;
    let (b, s, h) = (micro_batch, local.seq_len, model.hidden);
    let tokens = b * s;
    // Elements of the residual stream on this rank: the whole of it, or 1/tp of the sequence.
    let stream = if sequence_parallel { tokens * h / tp } else { tokens * h };
    let mut ops = vec![LayerOp::memory("layernorm1", stream, 2 * ACTIVATION_BYTES)];
    match model.mla {
        Some(mla) => ops.extend(mla_ops(&local, &mla, b, tp, model.seq_len)),
        None => ops.extend(attention_ops(&local, b, tp, model.seq_len)),
    }
    ops.push(residual("attn_residual", stream));
    ops.push(LayerOp::memory("layernorm2", stream, 2 * ACTIVATION_BYTES));
    match (model.moe, experts) {
        (Some(moe), Some(load)) => ops.extend(moe_ops(model, &moe, tokens, tp, load)),
        _ => ops.extend(mlp_ops(model, tokens, tp)),
    }
    ops.push(residual("mlp_residual", stream));
    Ok(ops)
}

/// Bias, dropout and residual add fused: reads two activations, writes one and a mask.
fn residual(name: &'static str, elements: u64) -> LayerOp {
    LayerOp::memory(name, elements, 3 * ACTIVATION_BYTES + MASK_BYTES)
}

/// Attention of `model.seq_len` queries per sequence against `keys` keys.
fn attention_ops(model: &TransformerModel, b: u64, tp: u64, keys: u64) -> Vec<LayerOp> {
    let (s, h, d, q) = (model.seq_len, model.hidden, model.head_dim(), model.q_dim());
    let (tokens, heads) = (b * s, model.heads / tp);
    let qkv_width = (q + 2 * model.kv_dim()) / tp;
    let scores = product(&[b, heads, s, keys]);
    let mut ops = vec![LayerOp::gemm("qkv_proj", tokens, qkv_width, h, 1)];
    if model.position_embedding == PositionEmbedding::Rotary {
        let rotated = tokens * (q + model.kv_dim()) / tp; // queries and keys
        ops.push(LayerOp::memory("rotary", rotated, 2 * ACTIVATION_BYTES));
    }
    ops.extend([
        LayerOp::gemm("attn_scores", s, keys, d, b * heads),
        LayerOp::memory("softmax", scores, 2 * ACTIVATION_BYTES),
        LayerOp::memory("attn_dropout", scores, 2 * ACTIVATION_BYTES + MASK_BYTES),
        LayerOp::gemm("attn_values", s, d, keys, b * heads),
        LayerOp::gemm("attn_out_proj", tokens, h, q / tp, 1),
    ]);
    if model.qk_norm {
        ops.insert(
            1,
            LayerOp::memory("qk_norm", rotated_width(model, tokens, tp), 2 * ACTIVATION_BYTES),
        );
    }
    ops
}

/// Query and key elements of one rank.
fn rotated_width(model: &TransformerModel, tokens: u64, tp: u64) -> u64 {
    tokens * (model.q_dim() + model.kv_dim()) / tp
}

/// Multi-head latent attention on one rank (DeepSeek-V2 §2.1): the down projections of queries
/// and keys/values (and their norms) are replicated on every TP rank, the up projections,
/// attention and output projection split by heads.
fn mla_ops(model: &TransformerModel, mla: &Mla, b: u64, tp: u64, keys: u64) -> Vec<LayerOp> {
    let (s, h) = (model.seq_len, model.hidden);
    let (tokens, heads) = (b * s, model.heads / tp);
    let qk = mla.qk_nope_head_dim + mla.qk_rope_head_dim;
    let scores = product(&[b, heads, s, keys]);
    let mut ops = Vec::new();
    if mla.q_lora_rank > 0 {
        ops.extend([
            LayerOp::gemm("q_down_proj", tokens, mla.q_lora_rank, h, 1),
            LayerOp::memory("q_norm", tokens * mla.q_lora_rank, 2 * ACTIVATION_BYTES),
            LayerOp::gemm("q_up_proj", tokens, heads * qk, mla.q_lora_rank, 1),
        ]);
    } else {
        ops.push(LayerOp::gemm("q_proj", tokens, heads * qk, h, 1));
    }
    let kv_up = heads * (mla.qk_nope_head_dim + mla.v_head_dim);
    let rotated = tokens * (heads + 1) * mla.qk_rope_head_dim;
    ops.extend([
        LayerOp::gemm("kv_down_proj", tokens, mla.kv_lora_rank + mla.qk_rope_head_dim, h, 1),
        LayerOp::memory("kv_norm", tokens * mla.kv_lora_rank, 2 * ACTIVATION_BYTES),
        LayerOp::gemm("kv_up_proj", tokens, kv_up, mla.kv_lora_rank, 1),
        LayerOp::memory("rotary", rotated, 2 * ACTIVATION_BYTES),
        LayerOp::gemm("attn_scores", s, keys, qk, b * heads),
        LayerOp::memory("softmax", scores, 2 * ACTIVATION_BYTES),
        LayerOp::memory("attn_dropout", scores, 2 * ACTIVATION_BYTES + MASK_BYTES),
        LayerOp::gemm("attn_values", s, mla.v_head_dim, keys, b * heads),
        LayerOp::gemm("attn_out_proj", tokens, h, heads * mla.v_head_dim, 1),
    ]);
    ops
}

/// The MoE block on one rank; see [`moe_layer_forward_ops`].
fn moe_ops(
    model: &TransformerModel,
    moe: &Moe,
    tokens: u64,
    tp: u64,
    load: ExpertLoad,
) -> Vec<LayerOp> {
    let h = model.hidden;
    let local_experts = (moe.experts / load.ep.max(1)).max(1);
    let per_expert = load.routed_tokens.div_ceil(local_experts);
    let f = moe.expert_ffn_hidden / load.expert_tp.max(1);
    let copies = load.routed_tokens * h;
    let mut ops = vec![
        LayerOp::gemm("router", tokens, moe.experts, h, 1),
        LayerOp::memory("router_topk", tokens * moe.experts, 2 * ACTIVATION_BYTES),
        LayerOp::memory("permute", copies, 2 * ACTIVATION_BYTES),
        LayerOp::gemm("expert_up", per_expert, f, h, local_experts),
    ];
    let inner = per_expert * f * local_experts;
    match model.ffn_kind {
        FfnKind::Gelu => ops.push(LayerOp::memory("expert_gelu", inner, 2 * ACTIVATION_BYTES)),
        FfnKind::Swiglu => ops.extend([
            LayerOp::gemm("expert_gate", per_expert, f, h, local_experts),
            LayerOp::memory("expert_swiglu_act", inner, 3 * ACTIVATION_BYTES),
        ]),
    }
    ops.extend([
        LayerOp::gemm("expert_down", per_expert, h, f, local_experts),
        LayerOp::memory("unpermute", copies, 3 * ACTIVATION_BYTES),
    ]);
    if moe.shared_experts > 0 {
        let shared = TransformerModel {
            ffn_hidden: moe.shared_experts * moe.expert_ffn_hidden,
            ..model.clone()
        };
        ops.extend(mlp_ops(&shared, tokens, tp).into_iter().map(|mut op| {
            op.name = match op.name {
                "mlp_up" => "shared_up",
                "mlp_gate" => "shared_gate",
                "mlp_down" => "shared_down",
                _ => "shared_act",
            };
            op
        }));
    }
    ops
}

fn mlp_ops(model: &TransformerModel, tokens: u64, tp: u64) -> Vec<LayerOp> {
    let (h, f) = (model.hidden, model.ffn_hidden / tp);
    let inner = tokens * f;
    let mut ops = vec![LayerOp::gemm("mlp_up", tokens, f, h, 1)];
    match model.ffn_kind {
        FfnKind::Gelu => ops.push(LayerOp::memory("gelu", inner, 2 * ACTIVATION_BYTES)),
        FfnKind::Swiglu => ops.extend([
            LayerOp::gemm("mlp_gate", tokens, f, h, 1),
            LayerOp::memory("swiglu_act", inner, 3 * ACTIVATION_BYTES),
        ]),
    }
    ops.push(LayerOp::gemm("mlp_down", tokens, h, f, 1));
    ops
}

/// The logits GEMM on one tensor-parallel rank: the output layer is column-parallel over the
/// vocabulary, `ceil(vocab / tp)` columns per rank (Megatron pads the vocabulary). Expects a
/// plan [`check_tensor_parallel`] accepts; `tp = 0` is read as 1.
pub fn logits_forward_op(model: &TransformerModel, micro_batch: u64, tp: u64) -> LayerOp {
    let vocab_per_rank = model.vocab.div_ceil(tp.max(1));
    let tokens = micro_batch.saturating_mul(model.seq_len);
    LayerOp::gemm("logits", tokens, vocab_per_rank, model.hidden, 1)
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
