//! Named model shapes from published papers and model cards.

use astrolabe_core::InputError;

use crate::model::{FfnKind, Mla, Moe, NormKind, PositionEmbedding, TransformerModel};

/// How a family builds its layers.
#[derive(Clone, Copy)]
enum Family {
    /// GeLU MLP of 4h, LayerNorm, biases, learned positions, tied embeddings.
    Gpt,
    /// As `Gpt` but with an untied output layer.
    GptUntied,
    /// SwiGLU, RMSNorm, no biases, rotary positions, untied output layer.
    Llama,
}

struct Entry {
    name: &'static str,
    family: Family,
    /// `[layers, hidden, heads, kv_heads, ffn_hidden, vocab, seq_len]`.
    dims: [u64; 7],
    /// Head width, query/key norms, experts and latent attention, where the model has them.
    extra: Extra,
}

/// The optional parts of a shape, as in [`TransformerModel`].
#[derive(Clone, Copy)]
struct Extra {
    head_dim: Option<u64>,
    qk_norm: bool,
    moe: Option<Moe>,
    mla: Option<Mla>,
}

/// A dense model with `head_dim = hidden / heads` and grouped-query attention.
const DENSE: Extra = Extra { head_dim: None, qk_norm: false, moe: None, mla: None };

const fn gpt(name: &'static str, family: Family, l: u64, h: u64, a: u64, v: u64, s: u64) -> Entry {
    Entry { name, family, dims: [l, h, a, a, 4 * h, v, s], extra: DENSE }
}

const fn llama(name: &'static str, dims: [u64; 7]) -> Entry {
    Entry { name, family: Family::Llama, dims, extra: DENSE }
}

/// A Llama-family model (SwiGLU, RMSNorm, no biases, rotary, untied) with extra parts.
const fn llama_with(name: &'static str, dims: [u64; 7], extra: Extra) -> Entry {
    Entry { name, family: Family::Llama, dims, extra }
}

/// `experts` routed experts of width `width`, `top_k` per token, in every layer but the first
/// `dense_layers`, plus `shared_experts`.
const fn moe(experts: u64, top_k: u64, width: u64, shared_experts: u64, dense_layers: u64) -> Moe {
    Moe { experts, top_k, expert_ffn_hidden: width, shared_experts, dense_layers }
}

// Mixtral 8x7B: Jiang et al. 2024, "Mixtral of Experts" (arXiv 2401.04088), Table 1, and
// Mistral AI's released config.json: 8 experts, top-2, expert width 14,336 in all 32 layers, no
// router bias. Mixtral was pre-trained with a 32k context; 4096 is our choice of training length,
// not a published one.
const MIXTRAL: Extra = Extra { moe: Some(moe(8, 2, 14336, 0, 0)), ..DENSE };

// Qwen3-235B-A22B: "Qwen3 Technical Report" (arXiv 2505.09388), §2, and the released
// config.json: head_dim 128 (64 heads are 8192 wide on a 4096 stream), q/k RMSNorm, 128
// experts, top-8, moe_intermediate_size 1536 in all 94 layers, no shared expert. The config's
// intermediate_size 12,288 is kept as `ffn_hidden` though no layer is dense. Sequence 4096, the
// length of the report's first (general) pre-training stage.
const QWEN3_MOE: Extra =
    Extra { head_dim: Some(128), qk_norm: true, moe: Some(moe(128, 8, 1536, 0, 0)), mla: None };

// DeepSeek-V3: "DeepSeek-V3 Technical Report" (arXiv 2412.19437), §4.2, and the released
// config.json: MLA with q_lora_rank 1536, kv_lora_rank 512, 128 + 64 query/key and 128 value
// width per head; the first 3 layers dense (18,432), then 256 routed experts of 2048, top-8,
// plus 1 shared expert. Pre-training sequence 4K (§4.2). The multi-token-prediction module (one
// more layer, the release's extra 14B) is not part of this preset.
const DEEPSEEK_V3: Extra = Extra {
    moe: Some(moe(256, 8, 2048, 1, 3)),
    mla: Some(Mla {
        q_lora_rank: 1536,
        kv_lora_rank: 512,
        qk_nope_head_dim: 128,
        qk_rope_head_dim: 64,
        v_head_dim: 128,
    }),
    ..DENSE
};

use Family::{Gpt, GptUntied};

const PRESETS: [Entry; 29] = [
    // Brown et al. 2020, "Language Models are Few-Shot Learners", Table 2.1; GPT-2 BPE vocabulary.
    gpt("gpt3-175b", Gpt, 96, 12288, 96, 50257, 2048),
    // Touvron et al. 2023, "Llama 2", and the released config.json files.
    llama("llama2-7b", [32, 4096, 32, 32, 11008, 32000, 4096]),
    llama("llama2-13b", [40, 5120, 40, 40, 13824, 32000, 4096]),
    llama("llama2-70b", [80, 8192, 64, 8, 28672, 32000, 4096]),
    // Llama Team 2024, "The Llama 3 Herd of Models", Table 3, and the released config.json files.
    llama("llama3-8b", [32, 4096, 32, 8, 14336, 128256, 8192]),
    llama("llama3-70b", [80, 8192, 64, 8, 28672, 128256, 8192]),
    llama("llama3-405b", [126, 16384, 128, 8, 53248, 128256, 8192]),
    // Mixture-of-experts models; sources beside MIXTRAL, QWEN3_MOE and DEEPSEEK_V3 above.
    llama_with("mixtral-8x7b", [32, 4096, 32, 8, 14336, 32000, 4096], MIXTRAL),
    llama_with("qwen3-235b-a22b", [94, 4096, 64, 4, 12288, 151936, 4096], QWEN3_MOE),
    llama_with("deepseek-v3", [61, 7168, 128, 128, 18432, 129280, 4096], DEEPSEEK_V3),
    // Narayanan et al. SC21, "Efficient Large-Scale Language Model Training on GPU Clusters
    // Using Megatron-LM", Table 1: vocabulary 51,200, sequence 2048.
    gpt("megatron-gpt-1.7b", Gpt, 24, 2304, 24, 51200, 2048),
    gpt("megatron-gpt-3.6b", Gpt, 30, 3072, 32, 51200, 2048),
    gpt("megatron-gpt-7.5b", Gpt, 36, 4096, 32, 51200, 2048),
    gpt("megatron-gpt-18.4b", Gpt, 40, 6144, 48, 51200, 2048),
    gpt("megatron-gpt-39.1b", Gpt, 48, 8192, 64, 51200, 2048),
    gpt("megatron-gpt-76.1b", Gpt, 60, 10240, 80, 51200, 2048),
    gpt("megatron-gpt-145.6b", Gpt, 80, 12288, 96, 51200, 2048),
    gpt("megatron-gpt-310.1b", Gpt, 96, 16384, 128, 51200, 2048),
    gpt("megatron-gpt-529.6b", Gpt, 105, 20480, 128, 51200, 2048),
    gpt("megatron-gpt-1008b", Gpt, 128, 25600, 160, 51200, 2048),
    // Megatron-LM README, "Training Speed and Scalability" (Megatron-Core r0.8.0, H100), model
    // table image: vocabulary 131,072, sequence 4096; layers, hidden and heads as given there.
    // Not stated there, assumed: GeLU MLP of 4h, biases, learned positions, and an untied
    // output layer (tied, the "177B" model would have 175.6B parameters).
    gpt("megatron-core-gpt-1.7b", GptUntied, 24, 2048, 16, 131072, 4096),
    gpt("megatron-core-gpt-7.1b", GptUntied, 30, 4096, 32, 131072, 4096),
    gpt("megatron-core-gpt-16b", GptUntied, 32, 6144, 48, 131072, 4096),
    gpt("megatron-core-gpt-32b", GptUntied, 48, 7168, 56, 131072, 4096),
    gpt("megatron-core-gpt-70b", GptUntied, 84, 8192, 64, 131072, 4096),
    gpt("megatron-core-gpt-119b", GptUntied, 92, 10240, 80, 131072, 4096),
    gpt("megatron-core-gpt-177b", GptUntied, 96, 12288, 96, 131072, 4096),
    gpt("megatron-core-gpt-314b", GptUntied, 96, 16384, 128, 131072, 4096),
    gpt("megatron-core-gpt-462b", GptUntied, 112, 18432, 144, 131072, 4096),
];

/// Names accepted by [`preset`], in a fixed order.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|e| e.name).collect()
}

/// The named model shape, or an error listing the valid names.
pub fn preset(name: &str) -> Result<TransformerModel, InputError> {
    match PRESETS.iter().find(|e| e.name == name) {
        Some(entry) => Ok(build(entry)),
        None => {
            let expected = format!("one of {}; got `{name}`", preset_names().join(", "));
            Err(InputError::new("preset", "name", expected))
        }
    }
}

fn build(entry: &Entry) -> TransformerModel {
    let [layers, hidden, heads, kv_heads, ffn_hidden, vocab, seq_len] = entry.dims;
    let llama = matches!(entry.family, Family::Llama);
    TransformerModel {
        name: entry.name.to_string(),
        layers,
        hidden,
        heads,
        kv_heads,
        ffn_hidden,
        ffn_kind: if llama { FfnKind::Swiglu } else { FfnKind::Gelu },
        norm: if llama { NormKind::RmsNorm } else { NormKind::LayerNorm },
        linear_biases: !llama,
        position_embedding: if llama {
            PositionEmbedding::Rotary
        } else {
            PositionEmbedding::Learned
        },
        vocab,
        seq_len,
        tied_embeddings: matches!(entry.family, Family::Gpt),
        head_dim: entry.extra.head_dim,
        qk_norm: entry.extra.qk_norm,
        moe: entry.extra.moe,
        mla: entry.extra.mla,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn billions(name: &str) -> f64 {
        preset(name).unwrap().total_params() as f64 / 1e9
    }

    /// SC21 Table 1 gives billions to one decimal, so each count must round to the figure:
    /// within 0.05B. This is tighter than 1% from 7.5B up; for 1.7B (1.652B) and 3.6B (3.562B)
    /// a 1% band would fail only because of the table's rounding.
    #[test]
    fn sc21_counts_round_to_table_1() {
        let table = [
            ("1.7b", 1.7),
            ("3.6b", 3.6),
            ("7.5b", 7.5),
            ("18.4b", 18.4),
            ("39.1b", 39.1),
            ("76.1b", 76.1),
            ("145.6b", 145.6),
            ("310.1b", 310.1),
            ("529.6b", 529.6),
            ("1008b", 1008.0),
        ];
        for (suffix, published) in table {
            let ours = billions(&format!("megatron-gpt-{suffix}"));
            assert!((ours - published).abs() <= 0.05, "{suffix}: {ours} vs {published}");
        }
    }

    /// The README's labels are nominal (16B, 32B, ...) and its FFN width is not stated; with
    /// the assumed shape every count is within 3.5% of its label (the worst, 1.7B, is 1.754B).
    #[test]
    fn megatron_core_counts_near_labels() {
        let labels = [1.7, 7.1, 16.0, 32.0, 70.0, 119.0, 177.0, 314.0, 462.0];
        let names = preset_names();
        let mcore = names.iter().filter(|n| n.starts_with("megatron-core-gpt-"));
        for (name, label) in mcore.zip(labels) {
            let ours = billions(name);
            assert!((ours / label - 1.0).abs() < 0.035, "{name}: {ours} vs {label}");
        }
        assert_eq!(preset("megatron-core-gpt-177b").unwrap().total_params(), 177_233_092_608);
    }

    #[test]
    fn names_are_unique_and_all_build() {
        let names = preset_names();
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "duplicate {name}");
            assert_eq!(preset(name).unwrap().name, *name);
        }
    }

    #[test]
    fn moe_presets_have_their_parts() {
        let m = preset("deepseek-v3").unwrap();
        assert_eq!((m.moe_layers(), m.is_moe_layer(2), m.is_moe_layer(3)), (58, false, true));
        assert_eq!(m.mla.map(|a| a.q_lora_rank + a.kv_lora_rank), Some(2048));
        let q = preset("qwen3-235b-a22b").unwrap();
        assert_eq!((q.head_dim(), q.q_dim(), q.kv_dim(), q.qk_norm), (128, 8192, 512, true));
        assert_eq!(q.moe.map(|e| (e.experts, e.top_k, e.shared_experts)), Some((128, 8, 0)));
        let x = preset("mixtral-8x7b").unwrap();
        assert_eq!((x.moe_layers(), x.head_dim(), x.kv_dim()), (32, 128, 1024));
    }

    /// Every other preset is dense, with `head_dim = hidden / heads` and no query/key norm.
    #[test]
    fn other_presets_have_no_optional_parts() {
        let optional = ["mixtral-8x7b", "qwen3-235b-a22b", "deepseek-v3"];
        for name in preset_names().into_iter().filter(|n| !optional.contains(n)) {
            let m = preset(name).unwrap();
            let parts = (m.head_dim, m.qk_norm, m.moe, m.mla);
            assert_eq!(parts, (None, false, None, None), "{name}");
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = preset("llama4").unwrap_err();
        assert_eq!((err.origin.as_str(), err.field.as_str()), ("preset", "name"));
        assert!(err.expected.starts_with("one of gpt3-175b, llama2-7b,"), "{}", err.expected);
        assert!(err.expected.ends_with("megatron-core-gpt-462b; got `llama4`"));
    }
}
