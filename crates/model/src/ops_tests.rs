//! Tests of the per-rank layer operations: shapes, bytes, FLOP conservation and plan errors.

use super::*;
use crate::preset;
use proptest::prelude::*;

fn names(ops: &[LayerOp]) -> Vec<&'static str> {
    ops.iter().map(|op| op.name).collect()
}

fn find(ops: &[LayerOp], name: &str) -> OpKind {
    ops.iter().find(|op| op.name == name).unwrap().kind
}

/// Sum over the ranks, layers and passes (forward + 2 × forward for backward) of the GEMM FLOPs,
/// logits included, against the model FLOPs per token times the tokens of the micro-batch.
fn check_flops_conserved(model: &TransformerModel, b: u64, tp: u64, sp: bool) {
    let ops = layer_forward_ops(model, b, tp, sp).unwrap();
    let layer: u128 = ops.iter().map(|op| u128::from(op.flops())).sum();
    let logits = u128::from(logits_forward_op(model, b, tp).flops());
    let total = (layer * u128::from(model.layers) + logits) * u128::from(tp) * 3;
    let expected = u128::from(model.model_flops_per_token()) * u128::from(b * model.seq_len);
    assert_eq!(total, expected, "{} b={b} tp={tp} sp={sp}", model.name);
}

#[test]
fn gemm_flops_add_up_to_model_flops() {
    for (name, tp) in [("gpt3-175b", 1), ("megatron-gpt-145.6b", 8), ("llama2-70b", 8)] {
        for sp in [false, true] {
            check_flops_conserved(&preset(name).unwrap(), 2, tp, sp);
        }
    }
    check_flops_conserved(&preset("llama3-405b").unwrap(), 1, 8, true);
    check_flops_conserved(&preset("llama3-8b").unwrap(), 4, 4, false);
}

#[test]
fn llama_op_sequence_and_shapes_on_tp8() {
    let m = preset("llama3-8b").unwrap();
    let ops = layer_forward_ops(&m, 1, 8, true).unwrap();
    let expected = [
        "layernorm1",
        "qkv_proj",
        "rotary",
        "attn_scores",
        "softmax",
        "attn_dropout",
        "attn_values",
        "attn_out_proj",
        "attn_residual",
        "layernorm2",
        "mlp_up",
        "mlp_gate",
        "swiglu_act",
        "mlp_down",
        "mlp_residual",
    ];
    assert_eq!(names(&ops), expected);
    // 32 heads and 8 KV groups of 128 over 8 ranks: (4096 + 2·1024) / 8 = 768 columns.
    assert_eq!(find(&ops, "qkv_proj"), OpKind::Gemm { m: 8192, n: 768, k: 4096, batch: 1 });
    assert_eq!(find(&ops, "attn_scores"), OpKind::Gemm { m: 8192, n: 8192, k: 128, batch: 4 });
    assert_eq!(find(&ops, "attn_values"), OpKind::Gemm { m: 8192, n: 128, k: 8192, batch: 4 });
    assert_eq!(find(&ops, "attn_out_proj"), OpKind::Gemm { m: 8192, n: 4096, k: 512, batch: 1 });
    assert_eq!(find(&ops, "mlp_down"), OpKind::Gemm { m: 8192, n: 4096, k: 1792, batch: 1 });
}

#[test]
fn memory_bytes_follow_sequence_parallelism() {
    let m = preset("llama3-8b").unwrap();
    let with_sp = layer_forward_ops(&m, 1, 8, true).unwrap();
    let without = layer_forward_ops(&m, 1, 8, false).unwrap();
    // 8192 tokens × 4096 / 8 ranks, read and written at 2 bytes.
    assert_eq!(find(&with_sp, "layernorm1"), OpKind::Memory { bytes: 16_777_216 });
    assert_eq!(find(&without, "layernorm1"), OpKind::Memory { bytes: 134_217_728 });
    // Two reads, one write at 2 bytes and a 1-byte mask over 8192 × 4096 elements.
    assert_eq!(find(&without, "mlp_residual"), OpKind::Memory { bytes: 234_881_024 });
    // 4 heads × 8192² scores: read + write at 2 bytes.
    assert_eq!(find(&with_sp, "softmax"), OpKind::Memory { bytes: 1_073_741_824 });
    assert_eq!(find(&with_sp, "attn_dropout"), OpKind::Memory { bytes: 1_342_177_280 });
    // SwiGLU reads gate and up, writes their product: 8192 × 1792 × 6 bytes.
    assert_eq!(find(&with_sp, "swiglu_act"), OpKind::Memory { bytes: 88_080_384 });
}

#[test]
fn gpt_has_gelu_and_no_rotary() {
    let m = preset("gpt3-175b").unwrap();
    let ops = layer_forward_ops(&m, 1, 8, false).unwrap();
    let n = names(&ops);
    assert!(n.contains(&"gelu") && !n.contains(&"mlp_gate") && !n.contains(&"rotary"));
    assert_eq!(find(&ops, "mlp_up"), OpKind::Gemm { m: 2048, n: 6144, k: 12288, batch: 1 });
}

#[test]
fn gemm_flops_and_bytes() {
    let op = LayerOp::gemm("x", 2048, 6144, 12288, 1);
    assert_eq!(op.flops(), 2 * 2048 * 6144 * 12288);
    assert_eq!(op.bytes(), 2 * (2048 * 12288 + 12288 * 6144 + 2048 * 6144));
    let batched = LayerOp::gemm("y", 4, 4, 2, 3);
    assert_eq!((batched.flops(), batched.bytes()), (192, 2 * (8 + 8 + 16) * 3));
    assert_eq!(LayerOp::memory("z", 10, 4).flops(), 0);
}

#[test]
fn logits_are_split_over_the_padded_vocabulary() {
    let m = preset("gpt3-175b").unwrap(); // 50257 = 8 × 6282 + 1
    let op = logits_forward_op(&m, 1, 8);
    assert_eq!(op.kind, OpKind::Gemm { m: 2048, n: 6283, k: 12288, batch: 1 });
}

#[test]
fn plans_that_do_not_shard_are_rejected() {
    let m = preset("llama3-8b").unwrap();
    let err = |b, tp, sp| layer_forward_ops(&m, b, tp, sp).unwrap_err().to_string();
    assert_eq!(err(1, 3, false), "parallel plan: `tp`: a divisor of the model's heads (32), got 3");
    assert_eq!(
        err(1, 16, false),
        "parallel plan: `tp`: a divisor of the model's kv_heads (8), got 16"
    );
    assert!(err(1, 0, false).contains("`tp`"));
    assert!(err(0, 1, false).contains("`micro_batch`"));
    let mut odd = m.clone();
    odd.seq_len = 8190;
    let e = layer_forward_ops(&odd, 1, 4, true).unwrap_err().to_string();
    assert!(e.contains("seq_len (sequence parallelism) (8190)"), "{e}");
    assert!(layer_forward_ops(&odd, 1, 4, false).is_ok());
}

proptest! {
    #[test]
    fn flops_conserved_for_any_shardable_shape(
        head_dim in 1u64..=128, kv in 1u64..=4, group in 1u64..=4, tp_pow in 0u32..=2,
        layers in 1u64..=8, ffn_mult in 1u64..=64, swiglu: bool, sp: bool,
        seq_blocks in 1u64..=64, vocab_blocks in 1u64..=64, b in 1u64..=4,
    ) {
        let tp = 1u64 << tp_pow;
        let heads = kv * group * tp;
        let mut m = preset("llama2-7b").unwrap();
        m.layers = layers;
        m.heads = heads;
        m.kv_heads = kv * tp;
        m.hidden = heads * head_dim;
        m.ffn_hidden = ffn_mult * tp;
        m.ffn_kind = if swiglu { FfnKind::Swiglu } else { FfnKind::Gelu };
        m.seq_len = seq_blocks * tp;
        m.vocab = vocab_blocks * tp;
        check_flops_conserved(&m, b, tp, sp);
    }
}

#[test]
fn context_parallel_ranks_split_every_op_and_attend_to_the_whole_sequence() {
    // Llama 3 8B, s = 8192, CP 2, TP 1: each rank holds 4096 tokens; its queries meet all 8192
    // keys: attn_scores is 32 heads of (4096 × 128) · (128 × 8192).
    let m = preset("llama3-8b").unwrap();
    let ops = layer_forward_ops_cp(&m, 1, 1, false, 2).unwrap();
    assert_eq!(find(&ops, "attn_scores"), OpKind::Gemm { m: 4096, n: 8192, k: 128, batch: 32 });
    assert_eq!(find(&ops, "attn_values"), OpKind::Gemm { m: 4096, n: 128, k: 8192, batch: 32 });
    assert_eq!(find(&ops, "mlp_up"), OpKind::Gemm { m: 4096, n: 14336, k: 4096, batch: 1 });
    // FLOPs of the two CP ranks together equal one rank's without CP.
    let flops = |ops: &[LayerOp]| ops.iter().map(LayerOp::flops).sum::<u64>();
    assert_eq!(2 * flops(&ops), flops(&layer_forward_ops(&m, 1, 1, false).unwrap()));
    // With sequence parallelism the local sequence must split over tp: 8190 / 2 = 4095 tokens.
    let mut odd = m.clone();
    odd.seq_len = 8190;
    let e = layer_forward_ops_cp(&odd, 1, 2, true, 2).unwrap_err().to_string();
    assert!(e.contains("(4095)"), "{e}");
}

/// Llama 3 8B's attention with 8 experts of width 1,792 (top-2, one shared) in every layer.
fn toy_moe() -> TransformerModel {
    let mut m = preset("llama3-8b").unwrap();
    m.moe = Some(crate::Moe {
        experts: 8,
        top_k: 2,
        expert_ffn_hidden: 1792,
        shared_experts: 1,
        dense_layers: 0,
    });
    m
}

/// One micro-batch of 8,192 tokens on tp = 2, ep = 4: the rank holds 2 experts and processes
/// 16,384 routed copies (8,192 × top-2, balanced), 8,192 per expert, on its half of each
/// expert's 1,792 columns: up, gate and down are 2 products each of 8,192 × 896 × 4,096.
/// The router sees every token against all 8 experts; the shared expert is a 1,792-wide MLP.
#[test]
fn moe_layer_ops_on_one_rank() {
    let m = toy_moe();
    let load = ExpertLoad { ep: 4, expert_tp: 2, routed_tokens: 16_384 };
    let ops = moe_layer_forward_ops(&m, 1, 2, false, 1, load).unwrap();
    let moe_names: Vec<_> = names(&ops).into_iter().skip_while(|n| *n != "router").collect();
    assert_eq!(
        moe_names,
        [
            "router",
            "router_topk",
            "permute",
            "expert_up",
            "expert_gate",
            "expert_swiglu_act",
            "expert_down",
            "unpermute",
            "shared_up",
            "shared_gate",
            "shared_act",
            "shared_down",
            "mlp_residual"
        ]
    );
    assert_eq!(find(&ops, "router"), OpKind::Gemm { m: 8192, n: 8, k: 4096, batch: 1 });
    assert_eq!(find(&ops, "expert_up"), OpKind::Gemm { m: 8192, n: 896, k: 4096, batch: 2 });
    assert_eq!(find(&ops, "expert_down"), OpKind::Gemm { m: 8192, n: 4096, k: 896, batch: 2 });
    assert_eq!(find(&ops, "shared_up"), OpKind::Gemm { m: 8192, n: 896, k: 4096, batch: 1 });
    // 16,384 copies of 4,096 elements read and written at 2 bytes.
    assert_eq!(find(&ops, "permute"), OpKind::Memory { bytes: 268_435_456 });
    // The routed experts' FLOPs on all tp·ep = 8 ranks are those of top-2 experts per token
    // over the ep = 4 micro-batches: 3 matrices × 2 · 4,096 · 1,792 per copy.
    let expert_flops: u64 =
        ops.iter().filter(|op| op.name.starts_with("expert_")).map(LayerOp::flops).sum();
    assert_eq!(expert_flops * 8, 4 * 8192 * 2 * 3 * 2 * 4096 * 1792);
}

/// The same layer with expert tensor parallelism 1 under tp = 2 (Megatron-Core's parallel
/// folding): each expert is whole on the rank, and the two former TP ranks split the token
/// copies instead, 8,192 each (4,096 per expert): up is 2 products of 4,096 × 1,792 × 4,096.
/// Per rank the expert FLOPs equal those of the split experts: 3 GEMMs · 2 experts ·
/// 2 · 4,096 · 1,792 · 4,096 = 2 experts · 3 · 2 · 8,192 · 896 · 4,096.
#[test]
fn expert_tensor_parallel_changes_the_shape_not_the_flops() {
    let m = toy_moe();
    let split = ExpertLoad { ep: 4, expert_tp: 2, routed_tokens: 16_384 };
    let whole = ExpertLoad { ep: 4, expert_tp: 1, routed_tokens: 8_192 };
    let split_ops = moe_layer_forward_ops(&m, 1, 2, true, 1, split).unwrap();
    let whole_ops = moe_layer_forward_ops(&m, 1, 2, true, 1, whole).unwrap();
    let up = OpKind::Gemm { m: 4096, n: 1792, k: 4096, batch: 2 };
    assert_eq!(find(&whole_ops, "expert_up"), up);
    let gemm_flops = |ops: &[LayerOp]| -> u64 {
        let experts = ops.iter().filter(|op| op.name.starts_with("expert_"));
        experts.filter(|op| matches!(op.kind, OpKind::Gemm { .. })).map(LayerOp::flops).sum()
    };
    assert_eq!(gemm_flops(&whole_ops), 3 * 2 * 2 * 4096 * 1792 * 4096);
    assert_eq!(gemm_flops(&split_ops), gemm_flops(&whole_ops));
}

#[test]
fn moe_plan_errors_name_the_expert_width() {
    let mut m = toy_moe();
    m.moe.as_mut().unwrap().expert_ffn_hidden = 1004;
    let load = ExpertLoad { ep: 1, expert_tp: 8, routed_tokens: 1 };
    let err = moe_layer_forward_ops(&m, 1, 8, false, 1, load).unwrap_err();
    assert_eq!(err.field, "tp");
    assert!(err.to_string().contains("moe.expert_ffn_hidden"), "{err}");
}

/// DeepSeek-V3's attention shapes (128 heads, q rank 1,536, kv rank 512, 128 + 64 query/key
/// width, 128 value width) on tp = 8: 16 heads per rank, down projections replicated.
#[test]
fn mla_shapes_on_tp8() {
    let mut m = preset("llama3-8b").unwrap();
    (m.hidden, m.heads, m.kv_heads, m.seq_len) = (7168, 128, 128, 4096);
    m.mla = Some(crate::Mla {
        q_lora_rank: 1536,
        kv_lora_rank: 512,
        qk_nope_head_dim: 128,
        qk_rope_head_dim: 64,
        v_head_dim: 128,
    });
    m.ffn_hidden = 18432;
    let ops = layer_forward_ops(&m, 1, 8, true).unwrap();
    let t = 4096;
    assert_eq!(find(&ops, "q_down_proj"), OpKind::Gemm { m: t, n: 1536, k: 7168, batch: 1 });
    assert_eq!(find(&ops, "q_up_proj"), OpKind::Gemm { m: t, n: 16 * 192, k: 1536, batch: 1 });
    assert_eq!(find(&ops, "kv_down_proj"), OpKind::Gemm { m: t, n: 576, k: 7168, batch: 1 });
    assert_eq!(find(&ops, "kv_up_proj"), OpKind::Gemm { m: t, n: 16 * 256, k: 512, batch: 1 });
    assert_eq!(find(&ops, "attn_scores"), OpKind::Gemm { m: t, n: t, k: 192, batch: 16 });
    assert_eq!(find(&ops, "attn_values"), OpKind::Gemm { m: t, n: 128, k: t, batch: 16 });
    assert_eq!(find(&ops, "attn_out_proj"), OpKind::Gemm { m: t, n: 7168, k: 2048, batch: 1 });
}
