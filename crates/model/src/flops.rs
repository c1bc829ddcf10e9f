//! FLOPs per token: model FLOPs (for MFU) and hardware FLOPs under recomputation (for HFU).
//!
//! Only matrix multiplies are counted, each `m×k` by `k×n` product as `2·m·n·k`; norms, softmax,
//! biases and element-wise work are left out, as in the published formulas. Per token, one dense
//! layer's forward pass costs
//!
//! ```text
//! projections 2·(attention matrix parameters) + scores 2·s·heads·d_qk + values 2·s·heads·d_v
//! + MLP 2·h·f·n
//! ```
//!
//! with `n` = 2 (GeLU) or 3 (SwiGLU) matrices. For grouped-query attention the projections are
//! `2h(q_dim + 2·kv_dim) + 2·q_dim·h` and `heads·d_qk = heads·d_v = q_dim` (`h` unless `head_dim`
//! is given); multi-head latent attention has its five projections and `d_qk = nope + rope`,
//! `d_v = v_head_dim`. An MoE layer replaces the MLP by the router `2·h·experts` and `top_k`
//! routed plus `shared_experts` shared experts, `2·h·expert_ffn_hidden·n` each: model FLOPs
//! count the parameters a token passes through, not those it skips. Every query is charged
//! against all `s` keys: causal masking is not discounted, as in Narayanan et al. 2021. The
//! logits GEMM adds `2hV`. The backward pass costs twice the forward (gradients of inputs and of
//! weights), so model FLOPs are `3 × forward`. For GPT (MHA, f = 4h) this is Korthikanti et al.
//! 2022's model FLOPs `72Bslh²(1 + s/(6h) + V/(12hl))` per batch of `B` sequences; adding one more
//! forward pass of the layers (full recomputation) gives Narayanan et al. 2021's
//! `96Bslh²(1 + s/(6h) + V/(16lh))`.

use crate::model::{Recompute, TransformerModel};

impl TransformerModel {
    /// Forward FLOPs per token of one layer's attention projections, `2 ×` their weights.
    pub fn attention_projection_forward_flops_per_token(&self) -> u64 {
        2 * self.attention_matrix_params_per_layer()
    }

    /// Forward FLOPs per token of the attention core of one layer: scores `QKᵀ`,
    /// `2·s·heads·d_qk`, and attention over values, `2·s·heads·d_v` (all `seq_len` keys, no
    /// causal discount). `4sh` for multi-head attention of `head_dim = h / heads`.
    pub fn attention_core_forward_flops_per_token(&self) -> u64 {
        let (qk, v) = match self.mla {
            Some(mla) => (mla.qk_nope_head_dim + mla.qk_rope_head_dim, mla.v_head_dim),
            None => (self.head_dim(), self.head_dim()),
        };
        2 * self.seq_len * self.heads * (qk + v)
    }

    /// Forward FLOPs per token of an MLP of inner width `width`.
    fn mlp_forward_flops(&self, width: u64) -> u64 {
        2 * self.hidden * width * self.ffn_kind.matrices()
    }

    /// Forward FLOPs per token of one MoE layer's MLP block: the router, `top_k` routed
    /// experts and the shared experts (the dense MLP without `moe`).
    fn moe_block_forward_flops(&self) -> u64 {
        match self.moe {
            Some(moe) => {
                let router = 2 * self.hidden * moe.experts;
                let experts = (moe.top_k + moe.shared_experts) * moe.expert_ffn_hidden;
                router + self.mlp_forward_flops(experts)
            }
            None => self.mlp_forward_flops(self.ffn_hidden),
        }
    }

    /// Forward FLOPs per token of the attention of one layer, projections and core.
    fn attention_forward_flops(&self) -> u64 {
        self.attention_projection_forward_flops_per_token()
            + self.attention_core_forward_flops_per_token()
    }

    /// Forward FLOPs of one dense layer per token (all GEMMs, attention core included). For a
    /// mixture-of-experts model this is one of its first `dense_layers` layers.
    pub fn layer_forward_flops_per_token(&self) -> u64 {
        self.attention_forward_flops() + self.mlp_forward_flops(self.ffn_hidden)
    }

    /// Forward FLOPs of one MoE layer per token: attention, router, `top_k` routed and the
    /// shared experts. Equals [`Self::layer_forward_flops_per_token`] without `moe`.
    pub fn moe_layer_forward_flops_per_token(&self) -> u64 {
        self.attention_forward_flops() + self.moe_block_forward_flops()
    }

    /// Forward FLOPs per token of layer `layer` (0-based), MoE or dense.
    pub fn forward_flops_of_layer(&self, layer: u64) -> u64 {
        if self.is_moe_layer(layer) {
            self.moe_layer_forward_flops_per_token()
        } else {
            self.layer_forward_flops_per_token()
        }
    }

    /// Forward FLOPs per token of all layers, logits excluded.
    fn layers_forward_flops(&self) -> u64 {
        let moe_layers = self.moe_layers();
        (self.layers - moe_layers) * self.layer_forward_flops_per_token()
            + moe_layers * self.moe_layer_forward_flops_per_token()
    }

    /// Forward FLOPs per token of the logits GEMM, `2hV`.
    pub fn logits_forward_flops_per_token(&self) -> u64 {
        2 * self.hidden * self.vocab
    }

    /// Forward FLOPs per token of the whole model.
    pub fn forward_flops_per_token(&self) -> u64 {
        self.layers_forward_flops() + self.logits_forward_flops_per_token()
    }

    /// Model FLOPs per token for forward plus backward without recomputation, `3 × forward`,
    /// over the active parameters only: the numerator of MFU.
    pub fn model_flops_per_token(&self) -> u64 {
        3 * self.forward_flops_per_token()
    }

    /// FLOPs per token the hardware executes under `recompute`, the numerator of HFU: full
    /// recomputation reruns every layer's forward pass, selective recomputation (Korthikanti et
    /// al. 2022) reruns only the attention core's two GEMMs. The logits are never recomputed.
    pub fn hardware_flops_per_token(&self, recompute: Recompute) -> u64 {
        let extra = match recompute {
            Recompute::None => 0,
            Recompute::Selective => self.layers * self.attention_core_forward_flops_per_token(),
            Recompute::Full => self.layers_forward_flops(),
        };
        self.model_flops_per_token() + extra
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

    /// Every dense preset gives the pre-MoE formula, `2h(h + 2·kv_dim) + 4sh + 2h² + 2hfn` per
    /// layer, for every layer.
    #[test]
    fn dense_models_are_unchanged() {
        for name in crate::preset_names().into_iter().filter(|n| preset(n).unwrap().moe.is_none()) {
            let m = preset(name).unwrap();
            let (h, kv, s, f) = (m.hidden, m.kv_dim(), m.seq_len, m.ffn_hidden);
            let old =
                2 * h * (h + 2 * kv) + 4 * s * h + 2 * h * h + 2 * h * f * m.ffn_kind.matrices();
            assert_eq!(m.layer_forward_flops_per_token(), old, "{name}");
            assert_eq!(m.moe_layer_forward_flops_per_token(), old, "{name}");
            assert_eq!(m.forward_flops_of_layer(0), old, "{name}");
            let forward = m.layers * old + m.logits_forward_flops_per_token();
            assert_eq!(m.forward_flops_per_token(), forward, "{name}");
        }
    }

    /// For an MoE model, model FLOPs without the attention core are 6 × the active matrix
    /// parameters: active parameters less the input embedding, every norm (MLA's latent norms
    /// included) and nothing else (the router has no bias here). By hand: Mixtral
    /// 12,879,925,248 − 131,072,000 − 32 · 8,192 − 4,096; Qwen3 22,190,763,520 − 622,329,856 −
    /// 94 · 8,448 − 4,096; DeepSeek-V3 3 · (187,105,280 + 396,361,728) + 58 · (187,105,280 +
    /// 1,835,008 + 9 · 44,040,192) + 926,679,040.
    #[test]
    fn moe_gemm_flops_are_six_per_active_matrix_parameter() {
        let cases = [
            ("mixtral-8x7b", 12_748_587_008),
            ("qwen3-235b-a22b", 21_567_635_456),
            ("deepseek-v3", 36_624_596_992),
        ];
        for (name, matrices) in cases {
            let m = preset(name).unwrap();
            let latent_norms = m.mla.map_or(0, |mla| mla.q_lora_rank + mla.kv_lora_rank);
            let norms = m.layers * (m.norm_params_per_layer() + latent_norms) + m.hidden;
            assert_eq!(m.active_params() - m.vocab * m.hidden - norms, matrices, "{name}");
            let core = m.layers * m.attention_core_forward_flops_per_token();
            assert_eq!(m.model_flops_per_token() - 3 * core, 6 * matrices, "{name}");
        }
    }

    /// DeepSeek-V3, s = 4096: scores 2·s·128·192 plus values 2·s·128·128 = 335,544,320 per layer.
    /// Full recomputation adds the forward pass of the 3 dense and 58 MoE layers, selective
    /// recomputation the 61 attention cores.
    #[test]
    fn deepseek_v3_mixed_layers() {
        let m = preset("deepseek-v3").unwrap();
        let core = m.attention_core_forward_flops_per_token();
        assert_eq!(core, 335_544_320);
        assert_eq!(m.model_flops_per_token(), 6 * 36_624_596_992 + 3 * 61 * core);
        assert_eq!(m.model_flops_per_token(), 281_152_192_512);
        let layers: u64 = (0..m.layers).map(|l| m.forward_flops_of_layer(l)).sum();
        assert_eq!(layers + m.logits_forward_flops_per_token(), m.forward_flops_per_token());
        let dense = m.layer_forward_flops_per_token();
        let moe = m.moe_layer_forward_flops_per_token();
        assert_eq!(layers, 3 * dense + 58 * moe);
        assert_eq!(m.forward_flops_of_layer(2), dense);
        assert_eq!(m.forward_flops_of_layer(3), moe);
        let full = m.hardware_flops_per_token(Recompute::Full);
        assert_eq!(full, m.model_flops_per_token() + layers);
        let selective = m.hardware_flops_per_token(Recompute::Selective);
        assert_eq!(selective, m.model_flops_per_token() + 61 * core);
    }

    /// Qwen3's 64 heads of 128 make q_dim 8192, twice `hidden`: the core is `4·s·q_dim`.
    #[test]
    fn attention_core_follows_q_dim() {
        let m = preset("qwen3-235b-a22b").unwrap();
        assert_eq!(m.attention_core_forward_flops_per_token(), 4 * 4096 * 8192);
        // Projections: 2 · (4096·8192 + 2 · 4096·512 + 8192·4096).
        assert_eq!(m.attention_projection_forward_flops_per_token(), 2 * 71_303_168);
    }
}
