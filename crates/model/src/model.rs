//! The shape of a dense decoder-only transformer, as read from a file or a preset, and its checks.

use astrolabe_core::{check_count, InputError};
use serde::{Deserialize, Serialize};

/// Largest accepted `layers`. With the other limits below, every count in this crate fits in a
/// `u64` with room to spare (the largest FLOPs-per-token figure stays under 2^58).
pub const MAX_LAYERS: u64 = 1 << 12;
/// Largest accepted `hidden` (262,144; the largest published dense models use 25,600).
pub const MAX_HIDDEN: u64 = 1 << 18;
/// Largest accepted `ffn_hidden`.
pub const MAX_FFN_HIDDEN: u64 = 1 << 20;
/// Largest accepted `vocab`.
pub const MAX_VOCAB: u64 = 1 << 22;
/// Largest accepted `seq_len` (4,194,304 tokens).
pub const MAX_SEQ_LEN: u64 = 1 << 22;

/// The feed-forward (MLP) block of each layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FfnKind {
    /// Two matrices, `h -> ffn_hidden -> h`, with a GeLU between them (GPT).
    Gelu,
    /// Three matrices: up and gate `h -> ffn_hidden`, `silu(gate) * up`, down `ffn_hidden -> h`
    /// (Llama).
    Swiglu,
}

impl FfnKind {
    /// Number of `hidden × ffn_hidden` weight matrices in the block.
    pub fn matrices(self) -> u64 {
        match self {
            FfnKind::Gelu => 2,
            FfnKind::Swiglu => 3,
        }
    }
}

/// The normalization before attention, before the MLP and after the last layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormKind {
    /// LayerNorm with a weight and a bias vector of `hidden` each (GPT).
    LayerNorm,
    /// RMSNorm with a weight vector only (Llama).
    RmsNorm,
}

impl NormKind {
    /// Parameters of one norm over a `hidden`-wide vector.
    pub fn params(self, hidden: u64) -> u64 {
        match self {
            NormKind::LayerNorm => 2 * hidden,
            NormKind::RmsNorm => hidden,
        }
    }
}

/// How token positions enter the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionEmbedding {
    /// A learned `seq_len × hidden` table added to the token embeddings (GPT-2/3, Megatron GPT).
    Learned,
    /// Rotary embeddings applied to queries and keys: no parameters (Llama).
    Rotary,
}

/// Which activations are recomputed in the backward pass instead of being kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recompute {
    /// Keep every activation.
    None,
    /// Recompute the attention core (scores, softmax, dropout, attention over values) only,
    /// Korthikanti et al. 2022. Memory-wise this also describes a fused (flash) attention kernel,
    /// which never stores the `seq_len²` tensors either.
    Selective,
    /// Keep only each layer's input and rerun the layer's forward pass in the backward pass.
    Full,
}

/// Mixture of experts in the MLP (Shazeer et al. 2017; Fedus et al. 2022): a router sends each
/// token to `top_k` of `experts` routed experts, each a SwiGLU or GeLU MLP of `expert_ffn_hidden`,
/// plus `shared_experts` experts of the same width that see every token (DeepSeekMoE). The first
/// `dense_layers` layers keep a dense MLP of the model's `ffn_hidden` (DeepSeek-V3: 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moe {
    /// Routed experts per MoE layer.
    pub experts: u64,
    /// Experts each token is routed to.
    pub top_k: u64,
    /// Inner width of one expert's MLP.
    pub expert_ffn_hidden: u64,
    /// Shared experts (always active), each `expert_ffn_hidden` wide.
    #[serde(default)]
    pub shared_experts: u64,
    /// Leading layers with a dense MLP instead of experts.
    #[serde(default)]
    pub dense_layers: u64,
}

/// Multi-head latent attention (DeepSeek-V2/V3): queries and keys/values pass through low-rank
/// bottlenecks; each head's query and key have a `qk_nope_head_dim` part and a rotary
/// `qk_rope_head_dim` part (the rotary key part shared by all heads); values are `v_head_dim`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mla {
    /// Rank of the query compression (0: queries projected directly from `hidden`).
    pub q_lora_rank: u64,
    /// Rank of the joint key/value compression.
    pub kv_lora_rank: u64,
    /// Per-head query/key width without rotary embedding.
    pub qk_nope_head_dim: u64,
    /// Per-head query/key width with rotary embedding.
    pub qk_rope_head_dim: u64,
    /// Per-head value width.
    pub v_head_dim: u64,
}

/// A decoder-only transformer (GPT, Llama, Mixtral, Qwen3, DeepSeek-V3 and their relatives).
///
/// All sizes are element counts, not bytes. Use [`TransformerModel::validate`] before computing
/// with a model read from a file; the counting functions assume a valid model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerModel {
    /// Display name, e.g. `llama3-70b`.
    pub name: String,
    /// Number of transformer layers.
    pub layers: u64,
    /// Model (residual stream) width `h`.
    pub hidden: u64,
    /// Query heads `a`; `hidden / heads` is the head dimension.
    pub heads: u64,
    /// Key/value heads (grouped-query attention); equal to `heads` for multi-head attention.
    pub kv_heads: u64,
    /// Inner width of the MLP.
    pub ffn_hidden: u64,
    /// MLP form: `gelu` (2 matrices) or `swiglu` (3 matrices).
    pub ffn_kind: FfnKind,
    /// Normalization: `layernorm` (weight + bias) or `rmsnorm` (weight only).
    pub norm: NormKind,
    /// Whether the attention and MLP projections carry bias vectors (GPT: yes, Llama: no).
    pub linear_biases: bool,
    /// `learned` (a `seq_len × hidden` table) or `rotary` (no parameters).
    pub position_embedding: PositionEmbedding,
    /// Vocabulary size `V` as the model stores it (Megatron pads it; give the padded size).
    pub vocab: u64,
    /// Training sequence length `s` in tokens.
    pub seq_len: u64,
    /// Whether the output projection shares the input embedding matrix.
    pub tied_embeddings: bool,
    /// Width of one attention head when it is not `hidden / heads` (Qwen3: 128 with
    /// `hidden` 4096 and 64 heads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<u64>,
    /// RMSNorm of each head's query and key (Qwen3): `2 × head_dim` parameters per layer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub qk_norm: bool,
    /// Mixture of experts in the MLP; `None` for a dense model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moe: Option<Moe>,
    /// Multi-head latent attention instead of (grouped-query) multi-head attention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mla: Option<Mla>,
}

impl TransformerModel {
    /// Checks every field; the error names `origin`, the field and what would be accepted.
    ///
    /// Explicit widths are bounded so that every count in this crate stays far below `u64::MAX`:
    /// all query heads together (`heads × head_dim`, and MLA's per-head widths times `heads`) at
    /// most [`MAX_HIDDEN`]; at most 65,536 routed and as many shared experts, all experts of a
    /// layer together at most 4,194,304 (4 × [`MAX_FFN_HIDDEN`]) wide.
    pub fn validate(&self, origin: &str) -> Result<(), InputError> {
        let bounds = [
            ("layers", self.layers, MAX_LAYERS),
            ("hidden", self.hidden, MAX_HIDDEN),
            ("heads", self.heads, MAX_HIDDEN),
            ("kv_heads", self.kv_heads, MAX_HIDDEN),
            ("ffn_hidden", self.ffn_hidden, MAX_FFN_HIDDEN),
            ("vocab", self.vocab, MAX_VOCAB),
            ("seq_len", self.seq_len, MAX_SEQ_LEN),
        ];
        for (field, value, max) in bounds {
            check_count(origin, field, value, max)?;
        }
        self.validate_heads(origin)?;
        if let Some(moe) = &self.moe {
            self.validate_moe(origin, moe)?;
        }
        if let Some(mla) = &self.mla {
            self.validate_mla(origin, mla)?;
        }
        Ok(())
    }

    /// `hidden / heads` must be whole unless `head_dim` is given; `kv_heads` groups `heads`.
    fn validate_heads(&self, origin: &str) -> Result<(), InputError> {
        match self.head_dim {
            Some(width) => {
                check_count(origin, "head_dim", width, MAX_HIDDEN / self.heads)?;
            }
            None if self.hidden % self.heads != 0 => {
                let expected = format!("a divisor of hidden ({}), got {}", self.hidden, self.heads);
                return Err(InputError::new(origin, "heads", expected));
            }
            None => {}
        }
        if self.heads % self.kv_heads != 0 {
            let expected = format!("a divisor of heads ({}), got {}", self.heads, self.kv_heads);
            return Err(InputError::new(origin, "kv_heads", expected));
        }
        Ok(())
    }

    /// Expert counts, `top_k` among the experts, the experts' width, the leading dense layers.
    fn validate_moe(&self, origin: &str, moe: &Moe) -> Result<(), InputError> {
        const MAX_EXPERTS: u64 = 1 << 16;
        // All experts of a layer together at most 4 × MAX_FFN_HIDDEN wide (DeepSeek-V3: 526,336).
        const MAX_ALL_EXPERTS_WIDTH: u64 = 1 << 22;
        check_count(origin, "moe.experts", moe.experts, MAX_EXPERTS)?;
        if moe.top_k == 0 || moe.top_k > moe.experts {
            let (experts, top_k) = (moe.experts, moe.top_k);
            let expected = format!("an integer from 1 to experts ({experts}), got {top_k}");
            return Err(InputError::new(origin, "moe.top_k", expected));
        }
        if moe.shared_experts > MAX_EXPERTS {
            let shared = moe.shared_experts;
            let expected = format!("an integer from 0 to {MAX_EXPERTS}, got {shared}");
            return Err(InputError::new(origin, "moe.shared_experts", expected));
        }
        let all = moe.experts + moe.shared_experts;
        let max_width = (MAX_ALL_EXPERTS_WIDTH / all).min(MAX_FFN_HIDDEN);
        let width = moe.expert_ffn_hidden;
        if width == 0 || width > max_width {
            let why = if max_width < MAX_FFN_HIDDEN {
                format!(" (the {all} experts at most {MAX_ALL_EXPERTS_WIDTH} wide together)")
            } else {
                String::new()
            };
            let expected = format!("an integer from 1 to {max_width}{why}, got {width}");
            return Err(InputError::new(origin, "moe.expert_ffn_hidden", expected));
        }
        if moe.dense_layers > self.layers {
            let (layers, dense) = (self.layers, moe.dense_layers);
            let expected = format!("an integer from 0 to layers ({layers}), got {dense}");
            return Err(InputError::new(origin, "moe.dense_layers", expected));
        }
        Ok(())
    }

    /// Latent ranks up to `MAX_HIDDEN`; per-head widths such that all heads together are at
    /// most `MAX_HIDDEN` wide.
    fn validate_mla(&self, origin: &str, mla: &Mla) -> Result<(), InputError> {
        let per_head = MAX_HIDDEN / self.heads;
        if mla.q_lora_rank > MAX_HIDDEN {
            let expected = format!(
                "0 (no query compression) or an integer up to {MAX_HIDDEN}, got {}",
                mla.q_lora_rank
            );
            return Err(InputError::new(origin, "mla.q_lora_rank", expected));
        }
        check_count(origin, "mla.kv_lora_rank", mla.kv_lora_rank, MAX_HIDDEN)?;
        let qk = mla.qk_nope_head_dim.saturating_add(mla.qk_rope_head_dim);
        if qk == 0 || qk > per_head {
            let expected = format!(
                "qk_nope_head_dim + qk_rope_head_dim from 1 to {per_head} ({} heads), got {} + {}",
                self.heads, mla.qk_nope_head_dim, mla.qk_rope_head_dim
            );
            return Err(InputError::new(origin, "mla.qk_nope_head_dim", expected));
        }
        check_count(origin, "mla.v_head_dim", mla.v_head_dim, per_head)?;
        Ok(())
    }

    /// Width of one attention head: `head_dim` if given, else `hidden / heads`.
    pub fn head_dim(&self) -> u64 {
        self.head_dim.unwrap_or(self.hidden / self.heads.max(1))
    }

    /// Width of all query heads together, `heads × head_dim` (`hidden` unless `head_dim` is
    /// given).
    pub fn q_dim(&self) -> u64 {
        self.heads * self.head_dim()
    }

    /// Whether layer `layer` (0-based) has routed experts.
    pub fn is_moe_layer(&self, layer: u64) -> bool {
        self.moe.is_some_and(|m| layer >= m.dense_layers)
    }

    /// Layers with routed experts.
    pub fn moe_layers(&self) -> u64 {
        self.moe.map_or(0, |m| self.layers.saturating_sub(m.dense_layers))
    }

    /// Width of the key (or value) projection output, `kv_heads × head_dim`.
    pub fn kv_dim(&self) -> u64 {
        self.kv_heads * self.head_dim()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset;

    fn llama() -> TransformerModel {
        preset("llama3-8b").unwrap()
    }

    fn rejected_field(model: &TransformerModel) -> String {
        model.validate("m.toml").unwrap_err().field
    }

    #[test]
    fn presets_are_valid() {
        for name in crate::preset_names() {
            preset(name).unwrap().validate(name).unwrap();
        }
    }

    #[test]
    fn zeros_and_limits_are_rejected_by_field() {
        let mut m = llama();
        m.layers = 0;
        assert_eq!(rejected_field(&m), "layers");
        let mut m = llama();
        m.seq_len = MAX_SEQ_LEN + 1;
        assert_eq!(rejected_field(&m), "seq_len");
        let mut m = llama();
        m.kv_heads = 0;
        assert_eq!(rejected_field(&m), "kv_heads");
    }

    #[test]
    fn divisibility_errors_name_the_field_and_the_expectation() {
        let mut m = llama();
        m.heads = 30;
        let e = m.validate("m.toml").unwrap_err();
        assert_eq!(e.to_string(), "m.toml: `heads`: a divisor of hidden (4096), got 30");
        let mut m = llama();
        m.kv_heads = 5;
        let e = m.validate("m.toml").unwrap_err();
        assert_eq!(e.to_string(), "m.toml: `kv_heads`: a divisor of heads (32), got 5");
    }

    /// The error message of `model`, which must be invalid.
    fn message(model: &TransformerModel) -> String {
        model.validate("m.toml").unwrap_err().to_string()
    }

    #[test]
    fn explicit_head_dim_lifts_the_divisor_rule_and_is_bounded() {
        let mut m = llama();
        (m.heads, m.kv_heads, m.head_dim) = (48, 8, Some(128)); // 4096 / 48 is not whole
        m.validate("m.toml").unwrap();
        assert_eq!(m.q_dim(), 6144);
        m.head_dim = Some(0);
        assert_eq!(message(&m), "m.toml: `head_dim`: an integer from 1 to 5461, got 0");
        // 48 heads of 5462 would be wider than MAX_HIDDEN (262,144) together.
        m.head_dim = Some(5462);
        assert_eq!(rejected_field(&m), "head_dim");
    }

    fn mixtral() -> TransformerModel {
        preset("mixtral-8x7b").unwrap()
    }

    fn with_moe(edit: impl FnOnce(&mut Moe)) -> TransformerModel {
        let mut m = mixtral();
        edit(m.moe.as_mut().unwrap());
        m
    }

    #[test]
    fn moe_errors_name_the_field_and_the_expectation() {
        let cases = [
            (with_moe(|e| e.experts = 0), "`moe.experts`: an integer from 1 to 65536, got 0"),
            (
                with_moe(|e| e.experts = 65_537),
                "`moe.experts`: an integer from 1 to 65536, got 65537",
            ),
            (with_moe(|e| e.top_k = 0), "`moe.top_k`: an integer from 1 to experts (8), got 0"),
            (with_moe(|e| e.top_k = 9), "`moe.top_k`: an integer from 1 to experts (8), got 9"),
            (
                with_moe(|e| e.shared_experts = 65_537),
                "`moe.shared_experts`: an integer from 0 to 65536, got 65537",
            ),
            (
                with_moe(|e| e.expert_ffn_hidden = 0),
                "`moe.expert_ffn_hidden`: an integer from 1 to 524288 (the 8 experts at most \
                 4194304 wide together), got 0",
            ),
            (
                with_moe(|e| e.shared_experts = 300),
                "`moe.expert_ffn_hidden`: an integer from 1 to 13617 (the 308 experts at most \
                 4194304 wide together), got 14336",
            ),
            (
                with_moe(|e| {
                    (e.experts, e.top_k, e.expert_ffn_hidden) = (2, 1, MAX_FFN_HIDDEN + 1)
                }),
                "`moe.expert_ffn_hidden`: an integer from 1 to 1048576, got 1048577",
            ),
            (
                with_moe(|e| e.dense_layers = 33),
                "`moe.dense_layers`: an integer from 0 to layers (32), got 33",
            ),
        ];
        for (model, expected) in cases {
            assert_eq!(message(&model), format!("m.toml: {expected}"));
        }
        with_moe(|e| (e.dense_layers, e.top_k) = (32, 8)).validate("m.toml").unwrap();
        with_moe(|e| (e.shared_experts, e.expert_ffn_hidden) = (8, 262_144)).validate("m").unwrap();
    }

    fn with_mla(edit: impl FnOnce(&mut Mla)) -> TransformerModel {
        let mut m = preset("deepseek-v3").unwrap();
        edit(m.mla.as_mut().unwrap());
        m
    }

    #[test]
    fn mla_errors_name_the_field_and_the_expectation() {
        let cases = [
            (
                with_mla(|a| a.q_lora_rank = MAX_HIDDEN + 1),
                "`mla.q_lora_rank`: 0 (no query compression) or an integer up to 262144, got 262145",
            ),
            (
                with_mla(|a| a.kv_lora_rank = 0),
                "`mla.kv_lora_rank`: an integer from 1 to 262144, got 0",
            ),
            (
                with_mla(|a| (a.qk_nope_head_dim, a.qk_rope_head_dim) = (0, 0)),
                "`mla.qk_nope_head_dim`: qk_nope_head_dim + qk_rope_head_dim from 1 to 2048 \
                 (128 heads), got 0 + 0",
            ),
            (
                with_mla(|a| a.qk_rope_head_dim = u64::MAX),
                "`mla.qk_nope_head_dim`: qk_nope_head_dim + qk_rope_head_dim from 1 to 2048 \
                 (128 heads), got 128 + 18446744073709551615",
            ),
            (
                with_mla(|a| a.v_head_dim = 0),
                "`mla.v_head_dim`: an integer from 1 to 2048, got 0",
            ),
            (
                with_mla(|a| a.v_head_dim = 2049),
                "`mla.v_head_dim`: an integer from 1 to 2048, got 2049",
            ),
        ];
        for (model, expected) in cases {
            assert_eq!(message(&model), format!("m.toml: {expected}"));
        }
        with_mla(|a| (a.q_lora_rank, a.qk_nope_head_dim) = (0, 0)).validate("m.toml").unwrap();
    }

    #[test]
    fn moe_and_mla_read_from_json() {
        for name in ["qwen3-235b-a22b", "deepseek-v3"] {
            let m = preset(name).unwrap();
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<TransformerModel>(&json).unwrap(), m, "{name}");
        }
    }

    #[test]
    fn head_and_kv_widths() {
        let m = llama();
        assert_eq!((m.head_dim(), m.kv_dim()), (128, 1024));
    }

    #[test]
    fn reads_json_and_rejects_unknown_fields() {
        let json = serde_json::to_string(&llama()).unwrap();
        let back: TransformerModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back, llama());
        assert!(json.contains("\"ffn_kind\":\"swiglu\"") && json.contains("\"norm\":\"rmsnorm\""));
        let extra = json.replacen('{', "{\"dropout\":0.1,", 1);
        let err = serde_json::from_str::<TransformerModel>(&extra).unwrap_err();
        assert!(err.to_string().contains("unknown field `dropout`"), "{err}");
    }
}
