//! Parameter counts, part by part, with the biases and norms the model's fields say it has.
//!
//! Per layer: attention `Wq` (h·h), `Wk` and `Wv` (h·kv_dim each, grouped-query attention),
//! `Wo` (h·h); the MLP's 2 or 3 `h × ffn_hidden` matrices; two norms. Biases are counted when
//! `linear_biases` is set: `h + 2·kv_dim` on QKV, `h` on the attention output, `ffn_hidden` per up
//! or gate matrix, `h` on the down matrix. LayerNorm has a weight and a bias (`2h`), RMSNorm a
//! weight (`h`). Outside the layers: token embedding `V·h`, learned positions `s·h`, a final norm,
//! and the output head `V·h` unless tied. For GPT (biases, LayerNorm, learned positions, tied)
//! this is Narayanan et al. 2021's `P = 12lh²(1 + 13/(12h) + (V + s)/(12lh))` plus `2h` for the
//! final LayerNorm.

use crate::model::{PositionEmbedding, TransformerModel};

impl TransformerModel {
    /// Token embedding plus, for learned positions, the `seq_len × hidden` table.
    pub fn embedding_params(&self) -> u64 {
        let positions = match self.position_embedding {
            PositionEmbedding::Learned => self.seq_len * self.hidden,
            PositionEmbedding::Rotary => 0,
        };
        self.vocab * self.hidden + positions
    }

    /// Attention projections of one layer (Q, K, V, output), biases included if any.
    pub fn attention_params_per_layer(&self) -> u64 {
        let (h, kv) = (self.hidden, self.kv_dim());
        let weights = 2 * h * h + 2 * h * kv;
        let biases = if self.linear_biases { 2 * h + 2 * kv } else { 0 };
        weights + biases
    }

    /// MLP of one layer, biases included if any.
    pub fn mlp_params_per_layer(&self) -> u64 {
        let (h, f, n) = (self.hidden, self.ffn_hidden, self.ffn_kind.matrices());
        let biases = if self.linear_biases { (n - 1) * f + h } else { 0 };
        n * h * f + biases
    }

    /// The two norms of one layer (before attention, before the MLP).
    pub fn norm_params_per_layer(&self) -> u64 {
        2 * self.norm.params(self.hidden)
    }

    /// All parameters of one transformer layer.
    pub fn layer_params(&self) -> u64 {
        self.attention_params_per_layer()
            + self.mlp_params_per_layer()
            + self.norm_params_per_layer()
    }

    /// The norm after the last layer.
    pub fn final_norm_params(&self) -> u64 {
        self.norm.params(self.hidden)
    }

    /// The output projection to the vocabulary: `vocab × hidden`, or 0 when tied to the
    /// embedding (then it is counted once, in [`Self::embedding_params`]).
    pub fn output_head_params(&self) -> u64 {
        if self.tied_embeddings {
            0
        } else {
            self.vocab * self.hidden
        }
    }

    /// Every parameter of the model, each shared matrix counted once.
    pub fn total_params(&self) -> u64 {
        self.embedding_params()
            + self.layers * self.layer_params()
            + self.final_norm_params()
            + self.output_head_params()
    }
}

#[cfg(test)]
mod tests {
    use crate::preset;

    fn total(name: &str) -> u64 {
        preset(name).unwrap().total_params()
    }

    // Published counts from the Hugging Face model cards / safetensors metadata of Meta's Llama 2
    // and Llama 3 (3.1 for 405B) checkpoints. The formula reproduces every one exactly.
    #[test]
    fn llama_counts_match_published_figures_exactly() {
        let cases = [
            ("llama2-7b", 6_738_415_616),
            ("llama2-13b", 13_015_864_320),
            ("llama2-70b", 68_976_648_192),
            ("llama3-8b", 8_030_261_248),
            ("llama3-70b", 70_553_706_496),
            ("llama3-405b", 405_853_388_800),
        ];
        for (name, expected) in cases {
            assert_eq!(total(name), expected, "{name}");
        }
    }

    // GPT-3 175B (Brown et al. 2020, Table 2.1): "175.0B". With learned positions, biases,
    // LayerNorms and tied embeddings the formula gives 174.6B: the paper rounds up.
    #[test]
    fn gpt3_175b() {
        let m = preset("gpt3-175b").unwrap();
        assert_eq!(m.layer_params(), 1_812_099_072); // 12h² + 13h
        assert_eq!(m.embedding_params(), 617_558_016 + 25_165_824); // V·h + s·h
        assert_eq!(m.total_params(), 174_604_259_328);
    }

    #[test]
    fn llama3_405b_by_part() {
        let m = preset("llama3-405b").unwrap();
        assert_eq!(m.attention_params_per_layer(), 570_425_344);
        assert_eq!(m.mlp_params_per_layer(), 2_617_245_696);
        assert_eq!(m.norm_params_per_layer(), 32_768);
        assert_eq!(m.embedding_params(), 2_101_346_304);
        assert_eq!(m.output_head_params(), 2_101_346_304);
        assert_eq!(m.final_norm_params(), 16_384);
    }

    #[test]
    fn gpt_matches_narayanan_closed_form() {
        // P = 12lh² + 13lh + (V + s)h, plus the final LayerNorm's 2h.
        let m = preset("megatron-gpt-145.6b").unwrap();
        let (l, h, v, s) = (m.layers, m.hidden, m.vocab, m.seq_len);
        let closed = 12 * l * h * h + 13 * l * h + (v + s) * h + 2 * h;
        assert_eq!(m.total_params(), closed);
    }

    #[test]
    fn untying_adds_one_vocab_matrix() {
        let mut m = preset("gpt3-175b").unwrap();
        let tied = m.total_params();
        m.tied_embeddings = false;
        assert_eq!(m.total_params() - tied, m.vocab * m.hidden);
    }
}
