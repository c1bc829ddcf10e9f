//! Tests of activation memory against Korthikanti et al. 2022, Table 2 and §4.3.

use super::*;
use crate::model::FfnKind;
use crate::preset;
use proptest::prelude::*;
use Recompute::{Full, None as Keep, Selective};

fn bytes(m: &TransformerModel, b: u64, t: u64, sp: bool, r: Recompute) -> u64 {
    layer_activation_bytes(m, b, t, sp, r).unwrap()
}

/// GPT-3 175B's layer at s = 2048, b = 1, h = 12288, a = 96, t = 8, in the paper's own form.
#[test]
fn gpt3_layer_equals_table_2_exactly() {
    let m = preset("gpt3-175b").unwrap();
    let (s, b, h, a, t) = (2048.0, 1.0, 12288.0, 96.0, 8.0);
    let sbh: f64 = s * b * h;
    let cases = [
        (1, false, Keep, sbh * (34.0 + 5.0 * a * s / h)),
        (8, false, Keep, sbh * (10.0 + 24.0 / t + 5.0 * a * s / (h * t))),
        (8, true, Keep, sbh / t * (34.0 + 5.0 * a * s / h)),
        (8, false, Selective, sbh * (10.0 + 24.0 / t)),
        (8, true, Selective, sbh * 34.0 / t),
        (8, false, Full, 2.0 * sbh),
        (8, true, Full, 2.0 * sbh / t),
    ];
    for (tp, sp, r, paper) in cases {
        assert_eq!(bytes(&m, 1, tp, sp, r) as f64, paper, "tp={tp} sp={sp} {r:?}");
    }
    // The same numbers written out: 114 sbh, 23 sbh, 114 sbh / 8.
    assert_eq!(bytes(&m, 1, 1, false, Keep), 2_868_903_936);
    assert_eq!(bytes(&m, 1, 8, false, Keep), 578_813_952);
    assert_eq!(bytes(&m, 1, 8, true, Keep), 358_612_992);
}

/// Llama 3 70B, s = 8192, b = 1, t = 8, SP, selective: sbh/t · (10 + 4 + 4g + 2nf/h) with
/// g = 8/64 and 2·3·28672/8192 = 21, i.e. 35.5 · sbh/t.
#[test]
fn gqa_and_swiglu_terms() {
    let m = preset("llama3-70b").unwrap();
    let sbh_over_t = 8192 * 8192 / 8;
    assert_eq!(bytes(&m, 1, 8, true, Selective), sbh_over_t * 71 / 2);
    // The attention core adds 5as²b/t = 5 · 8 heads · 8192².
    let core = 5 * 8 * 8192 * 8192;
    assert_eq!(bytes(&m, 1, 8, true, Keep), sbh_over_t * 71 / 2 + core);
}

#[test]
fn swiglu_keeps_one_more_inner_activation_than_gelu() {
    let mut m = preset("megatron-gpt-7.5b").unwrap();
    let gelu = bytes(&m, 2, 4, true, Selective);
    m.ffn_kind = FfnKind::Swiglu;
    let swiglu = bytes(&m, 2, 4, true, Selective);
    assert_eq!(swiglu - gelu, 2 * 2 * m.seq_len * m.ffn_hidden / 4);
}

/// §4.3: embedding dropout mask sbh/t; output layer 4sbh/t · (1 + V/h), here written out as
/// 4sbh/t + 4sbV/t because V/h = 51200/12288 is not exact in binary.
#[test]
fn embedding_and_output_layer_terms() {
    let m = preset("megatron-gpt-145.6b").unwrap();
    let (s, h, v, t) = (2048, 12288, 51200, 8);
    assert_eq!(embedding_activation_bytes(&m, 1, t, true).unwrap(), s * h / t);
    assert_eq!(embedding_activation_bytes(&m, 1, t, false).unwrap(), s * h);
    let paper = 4 * s * h / t + 4 * s * v / t;
    assert_eq!(output_activation_bytes(&m, 1, t, true).unwrap(), paper);
    assert_eq!(paper, 65_011_712);
    assert_eq!(output_activation_bytes(&m, 1, t, false).unwrap(), 4 * s * h + 4 * s * v / t);
}

/// Mixtral 8x7B, s = 4096, b = 1, t = 8, SP, selective. Replicated: 10 · 4096 · 4096/8 =
/// 20,971,520. Split: 2 · 4096 · (2 · 4096 + 2 · 1024 + 3 · 14,336 · 2 experts) / 8 =
/// 2 · 4096 · 96,256 / 8 = 98,566,144. Whole: the 2 routed copies of each token and the 8 router
/// probabilities, 2 · 4096 · (2 · 4096 + 8) = 67,174,400. A dense layer of the same shape keeps
/// one 14,336-wide MLP instead: 20,971,520 + 2 · 4096 · 53,248 / 8 = 75,497,472.
#[test]
fn mixtral_moe_layer_by_hand() {
    let m = preset("mixtral-8x7b").unwrap();
    let moe = moe_layer_activation_bytes(&m, 1, 8, true, Selective).unwrap();
    assert_eq!(moe, 20_971_520 + 98_566_144 + 67_174_400);
    assert_eq!(bytes(&m, 1, 8, true, Selective), 75_497_472);
    assert_eq!(activation_bytes_of_layer(&m, 0, 1, 8, true, Selective).unwrap(), moe);
    // The attention core (5as²b/t = 5 · 4 heads · 4096²) and full recomputation are unchanged.
    let keep = moe_layer_activation_bytes(&m, 1, 8, true, Keep).unwrap();
    assert_eq!(keep - moe, 5 * 4 * 4096 * 4096);
    assert_eq!(moe_layer_activation_bytes(&m, 1, 8, true, Full).unwrap(), 2 * 4096 * 512);
}

/// DeepSeek-V3, s = 4096, b = 1, t = 8, SP, selective. Replicated 10 · 4096 · 896 = 36,700,160.
/// Split attention: Q and K 128 · 192 each, V and the output projection's input 128 · 128 each,
/// 81,920; MLP in a dense layer 3 · 18,432 = 55,296, in an MoE layer 3 · 2048 · (8 + 1) =
/// 55,296 as well. Whole: latents 2 · 1536 + 2 · 512 + 64 = 4,160, plus in an MoE layer
/// 8 · 7168 + 256 = 57,600.
#[test]
fn deepseek_v3_layers_by_hand() {
    let m = preset("deepseek-v3").unwrap();
    let split = 2 * 4096 * (81_920 + 55_296) / 8;
    let dense = 36_700_160 + split + 2 * 4096 * 4_160;
    assert_eq!(activation_bytes_of_layer(&m, 2, 1, 8, true, Selective).unwrap(), dense);
    let moe = dense + 2 * 4096 * 57_600;
    assert_eq!(activation_bytes_of_layer(&m, 3, 1, 8, true, Selective).unwrap(), moe);
    assert_eq!(moe, 683_147_264);
}

/// Qwen3's queries are 8192 wide on a 4096 stream, and the query/key norms keep their inputs:
/// attention split width 2 · 8192 + 2 · 512 + (8192 + 512) = 26,112 per token.
#[test]
fn explicit_head_width_and_qk_norm() {
    let mut m = preset("qwen3-235b-a22b").unwrap();
    m.moe = None;
    let (s, t) = (4096, 4);
    let replicated = 10 * s * 4096 / t;
    let split = 2 * s * (26_112 + 3 * 12_288) / t;
    assert_eq!(bytes(&m, 1, t, true, Selective), replicated + split);
    m.qk_norm = false;
    assert_eq!(bytes(&m, 1, t, true, Selective), replicated + split - 2 * s * 8704 / t);
}

/// Dense models: an "MoE layer" is the dense layer.
#[test]
fn dense_models_have_no_moe_layers() {
    let m = preset("llama3-70b").unwrap();
    for r in [Keep, Selective, Full] {
        let dense = bytes(&m, 1, 8, true, r);
        assert_eq!(moe_layer_activation_bytes(&m, 1, 8, true, r).unwrap(), dense);
        assert_eq!(activation_bytes_of_layer(&m, 79, 1, 8, true, r).unwrap(), dense);
    }
}

#[test]
fn bad_plans_are_errors_not_panics() {
    let m = preset("llama3-8b").unwrap();
    assert!(layer_activation_bytes(&m, 1, 3, false, Keep).is_err());
    assert!(embedding_activation_bytes(&m, 0, 1, false).is_err());
    assert!(output_activation_bytes(&m, 1, 16, true).is_err());
}

proptest! {
    /// Every GPT shape (MHA, f = 4h) gives Table 2's formulas exactly, in integers.
    #[test]
    fn gpt_shapes_match_table_2(
        head_dim in 1u64..=256, heads_per_rank in 1u64..=16, tp_pow in 0u32..=3,
        seq_blocks in 1u64..=512, b in 1u64..=8, sp: bool,
    ) {
        let t = 1u64 << tp_pow;
        let mut m = preset("gpt3-175b").unwrap();
        m.heads = heads_per_rank * t;
        m.kv_heads = m.heads;
        m.hidden = m.heads * head_dim;
        m.ffn_hidden = 4 * m.hidden;
        m.seq_len = seq_blocks * t;
        let (s, h, a) = (m.seq_len, m.hidden, m.heads);
        let (sbh, core) = (s * b * h, 5 * a * s * s * b);
        let (keep, selective, full) = if sp {
            ((34 * sbh + core) / t, 34 * sbh / t, 2 * sbh / t)
        } else {
            (10 * sbh + (24 * sbh + core) / t, 10 * sbh + 24 * sbh / t, 2 * sbh)
        };
        prop_assert_eq!(bytes(&m, b, t, sp, Keep), keep);
        prop_assert_eq!(bytes(&m, b, t, sp, Selective), selective);
        prop_assert_eq!(bytes(&m, b, t, sp, Full), full);
    }
}
