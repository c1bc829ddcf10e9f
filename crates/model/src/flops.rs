//! FLOPs per token: model FLOPs (for MFU) and hardware FLOPs under recomputation (for HFU).
//!
//! Only matrix multiplies are counted, each `m×k` by `k×n` product as `2·m·n·k`; norms, softmax,
//! biases and element-wise work are left out, as in the published formulas. Per token, one layer's
//! forward pass costs
//!
//! ```text
//! QKV 2h(h + 2·kv_dim) + scores 2sh + attention over values 2sh + output 2h² + MLP 2·h·f·n
//! ```
//!
//! with `n` = 2 (GeLU) or 3 (SwiGLU) matrices. Every query is charged against all `s` keys: causal
//! masking is not discounted, as in Narayanan et al. 2021. The logits GEMM adds `2hV`. The
//! backward pass costs twice the forward (gradients of inputs and of weights), so model FLOPs are
//! `3 × forward`. For GPT (MHA, f = 4h) this is Korthikanti et al. 2022's model FLOPs
//! `72Bslh²(1 + s/(6h) + V/(12hl))` per batch of `B` sequences; adding one more forward pass of
//! the layers (full recomputation) gives Narayanan et al. 2021's `96Bslh²(1 + s/(6h) + V/(16lh))`.

use crate::model::{Recompute, TransformerModel};

impl TransformerModel {
    /// Forward FLOPs of one layer per token (all GEMMs, attention core included).
    pub fn layer_forward_flops_per_token(&self) -> u64 {
        let (h, kv, f) = (self.hidden, self.kv_dim(), self.ffn_hidden);
        let qkv = 2 * h * (h + 2 * kv);
        let out = 2 * h * h;
        let mlp = 2 * h * f * self.ffn_kind.matrices();
        qkv + self.attention_core_forward_flops_per_token() + out + mlp
    }

    /// Forward FLOPs per token of the attention core of one layer: scores `QKᵀ` and attention
    /// over values, `2sh` each (all `seq_len` keys, no causal discount).
    pub fn attention_core_forward_flops_per_token(&self) -> u64 {
        2 * (2 * self.seq_len * self.hidden)
    }

    /// Forward FLOPs per token of the logits GEMM, `2hV`.
    pub fn logits_forward_flops_per_token(&self) -> u64 {
        2 * self.hidden * self.vocab
    }

    /// Forward FLOPs per token of the whole model.
    pub fn forward_flops_per_token(&self) -> u64 {
        self.layers * self.layer_forward_flops_per_token() + self.logits_forward_flops_per_token()
    }

    /// Model FLOPs per token for forward plus backward without recomputation, `3 × forward`:
    /// the numerator of MFU.
    pub fn model_flops_per_token(&self) -> u64 {
        3 * self.forward_flops_per_token()
    }

    /// FLOPs per token the hardware executes under `recompute`, the numerator of HFU: full
    /// recomputation reruns every layer's forward pass, selective recomputation (Korthikanti et
    /// al. 2022) reruns only the attention core's two GEMMs. The logits are never recomputed.
    pub fn hardware_flops_per_token(&self, recompute: Recompute) -> u64 {
        let extra_per_layer = match recompute {
            Recompute::None => 0,
            Recompute::Selective => self.attention_core_forward_flops_per_token(),
            Recompute::Full => self.layer_forward_flops_per_token(),
        };
        self.model_flops_per_token() + self.layers * extra_per_layer
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Recompute;
    use crate::preset;

    /// `(B, s, l, h, V)` of a GPT preset, as `u128` for the closed forms.
    fn gpt_shape(name: &str) -> (crate::TransformerModel, [u128; 4]) {
        let m = preset(name).unwrap();
        let dims = [m.seq_len, m.layers, m.hidden, m.vocab].map(u128::from);
        (m, dims)
    }

    #[test]
    fn full_recompute_equals_narayanan_closed_form_exactly() {
        // 96·B·s·l·h²·(1 + s/(6h) + V/(16lh)) = 96Bslh² + 16Bs²lh + 6BshV.
        for name in ["gpt3-175b", "megatron-gpt-1.7b", "megatron-gpt-1008b"] {
            let (m, [s, l, h, v]) = gpt_shape(name);
            let b = 1536u128;
            let closed = 96 * b * s * l * h * h + 16 * b * s * s * l * h + 6 * b * s * h * v;
            let ours = u128::from(m.hardware_flops_per_token(Recompute::Full)) * b * s;
            assert_eq!(ours, closed, "{name}");
        }
    }

    #[test]
    fn model_flops_equal_korthikanti_closed_form_exactly() {
        // 72·B·s·l·h²·(1 + s/(6h) + V/(12hl)) = 72Bslh² + 12Bs²lh + 6BshV.
        let (m, [s, l, h, v]) = gpt_shape("gpt3-175b");
        let b = 8u128;
        let closed = 72 * b * s * l * h * h + 12 * b * s * s * l * h + 6 * b * s * h * v;
        assert_eq!(u128::from(m.model_flops_per_token()) * b * s, closed);
        assert_eq!(m.hardware_flops_per_token(Recompute::None), m.model_flops_per_token());
    }

    #[test]
    fn selective_recompute_adds_one_forward_of_the_attention_core() {
        // GPT-3 175B: 4sh per layer per token = 4 · 2048 · 12288 · 96.
        let m = preset("gpt3-175b").unwrap();
        let extra = m.hardware_flops_per_token(Recompute::Selective) - m.model_flops_per_token();
        assert_eq!(extra, 9_663_676_416);
    }

    #[test]
    fn llama3_70b_per_token() {
        // 6 × 69,501,714,432 matrix parameters (layers and output head; no norms, no input
        // embedding) plus the attention term 12·s·h·l = 12 · 8192 · 8192 · 80.
        let m = preset("llama3-70b").unwrap();
        assert_eq!(12 * m.seq_len * m.hidden * m.layers, 64_424_509_440);
        assert_eq!(m.model_flops_per_token(), 6 * 69_501_714_432 + 64_424_509_440);
        assert_eq!(m.model_flops_per_token(), 481_434_796_032);
    }

    #[test]
    fn gemm_flops_are_six_per_matrix_parameter_without_attention() {
        // Without the attention core, model FLOPs = 6 × (layer matrices + output head).
        let m = preset("llama2-7b").unwrap();
        let core = m.layers * m.attention_core_forward_flops_per_token();
        let matrices = m.layers * (m.attention_params_per_layer() + m.mlp_params_per_layer())
            + m.vocab * m.hidden;
        assert_eq!(m.model_flops_per_token() - 3 * core, 6 * matrices);
    }
}
