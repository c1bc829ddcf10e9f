//! The shape of a dense decoder-only transformer, as read from a file or a preset, and its checks.

use astrolabe_core::{check_count, InputError};
use serde::{Deserialize, Serialize};

/// Largest accepted `layers`. With the other limits below, every count in this crate fits in a
/// `u64` with room to spare (the largest FLOPs-per-token figure stays under 2^57).
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

/// A dense decoder-only transformer (GPT, Llama and their relatives).
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
}

impl TransformerModel {
    /// Checks every field; the error names `origin`, the field and what would be accepted.
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
        if self.hidden % self.heads != 0 {
            let expected = format!("a divisor of hidden ({}), got {}", self.hidden, self.heads);
            return Err(InputError::new(origin, "heads", expected));
        }
        if self.heads % self.kv_heads != 0 {
            let expected = format!("a divisor of heads ({}), got {}", self.heads, self.kv_heads);
            return Err(InputError::new(origin, "kv_heads", expected));
        }
        Ok(())
    }

    /// Width of one attention head, `hidden / heads`.
    pub fn head_dim(&self) -> u64 {
        self.hidden / self.heads.max(1)
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
