//! Parameter counts, part by part, with the biases and norms the model's fields say it has.
//!
//! Per layer: attention `Wq` (h·q_dim), `Wk` and `Wv` (h·kv_dim each, grouped-query attention),
//! `Wo` (q_dim·h), with `q_dim = heads × head_dim` (`h` unless `head_dim` is given); the MLP's 2
//! or 3 `h × ffn_hidden` matrices; two norms, plus `2·head_dim` for Qwen3's query/key norms.
//! Biases are counted when `linear_biases` is set: one per output element of every projection
//! (`q_dim + 2·kv_dim` on QKV, `h` on the attention output, `ffn_hidden` per up or gate matrix,
//! `h` on the down matrix). LayerNorm has a weight and a bias (`2h`), RMSNorm a weight (`h`).
//! Outside the layers: token embedding `V·h`, learned positions `s·h`, a final norm, and the
//! output head `V·h` unless tied. For GPT (biases, LayerNorm, learned positions, tied) this is
//! Narayanan et al. 2021's `P = 12lh²(1 + 13/(12h) + (V + s)/(12lh))` plus `2h` for the final
//! LayerNorm.
//!
//! Multi-head latent attention (DeepSeek-V2 §2.1) replaces the four projections by five:
//! query down `h × q_lora` and up `q_lora × heads·(nope + rope)` (or one `h × heads·(nope + rope)`
//! when `q_lora_rank` is 0), key/value down `h × (kv_lora + rope)` and up
//! `kv_lora × heads·(nope + v)`, output `heads·v × h`; plus a norm over each latent.
//!
//! A mixture-of-experts layer replaces the dense MLP by a router (`h × experts`, no bias),
//! `experts` routed experts and `shared_experts` shared ones, each an MLP of
//! `expert_ffn_hidden`. Its active parameters count only `top_k` routed experts. DeepSeek-V3's
//! per-expert score-correction bias (`experts` values per layer, set by a rule rather than by
//! gradients) is not counted: there is no field saying a model has one, and counting it for
//! every MoE model would break Mixtral's exact published count.

use crate::model::{Mla, PositionEmbedding, TransformerModel};

impl TransformerModel {
    /// Token embedding plus, for learned positions, the `seq_len × hidden` table.
    pub fn embedding_params(&self) -> u64 {
        let positions = match self.position_embedding {
            PositionEmbedding::Learned => self.seq_len * self.hidden,
            PositionEmbedding::Rotary => 0,
        };
        self.vocab * self.hidden + positions
    }

    /// `(input width, output width)` of each attention projection of one layer, in execution
    /// order: `Wq, Wk, Wv, Wo` for grouped-query attention; for multi-head latent attention the
    /// query down and up projections (one query projection when `q_lora_rank` is 0), the
    /// key/value down and up projections, and the output projection.
    pub fn attention_projections(&self) -> Vec<(u64, u64)> {
        match self.mla {
            Some(mla) => self.mla_projections(&mla),
            None => {
                let (h, q, kv) = (self.hidden, self.q_dim(), self.kv_dim());
                vec![(h, q), (h, kv), (h, kv), (q, h)]
            }
        }
    }

    fn mla_projections(&self, mla: &Mla) -> Vec<(u64, u64)> {
        let (h, heads, rope) = (self.hidden, self.heads, mla.qk_rope_head_dim);
        let query = heads * (mla.qk_nope_head_dim + rope);
        let mut shapes = match mla.q_lora_rank {
            0 => vec![(h, query)],
            rank => vec![(h, rank), (rank, query)],
        };
        let kv_rank = mla.kv_lora_rank;
        let kv_up = heads * (mla.qk_nope_head_dim + mla.v_head_dim);
        shapes.extend([(h, kv_rank + rope), (kv_rank, kv_up), (heads * mla.v_head_dim, h)]);
        shapes
    }

    /// Weights of the attention projections of one layer (no biases, no norms): the count the
    /// projection FLOPs follow.
    pub fn attention_matrix_params_per_layer(&self) -> u64 {
        self.attention_projections().iter().map(|&(input, output)| input * output).sum()
    }

    /// Attention of one layer: the projections, their biases if any, and for multi-head latent
    /// attention the norms over the query and key/value latents.
    pub fn attention_params_per_layer(&self) -> u64 {
        let shapes = self.attention_projections();
        let biases: u64 = if self.linear_biases { shapes.iter().map(|s| s.1).sum() } else { 0 };
        let latent_norms = self.mla.map_or(0, |mla| {
            self.norm.params(mla.q_lora_rank) + self.norm.params(mla.kv_lora_rank)
        });
        self.attention_matrix_params_per_layer() + biases + latent_norms
    }

    /// An MLP of inner width `width`, biases included if any.
    fn mlp_params(&self, width: u64) -> u64 {
        let (h, n) = (self.hidden, self.ffn_kind.matrices());
        let biases = if self.linear_biases { (n - 1) * width + h } else { 0 };
        n * h * width + biases
    }

    /// The dense MLP of one layer (`ffn_hidden` wide), biases included if any.
    pub fn mlp_params_per_layer(&self) -> u64 {
        self.mlp_params(self.ffn_hidden)
    }

    /// The router of one MoE layer, `hidden × experts` (0 without `moe`).
    pub fn router_params_per_layer(&self) -> u64 {
        self.moe.map_or(0, |moe| self.hidden * moe.experts)
    }

    /// One routed expert, an MLP of `expert_ffn_hidden`, biases included if any (0 without
    /// `moe`).
    pub fn expert_params(&self) -> u64 {
        self.moe.map_or(0, |moe| self.mlp_params(moe.expert_ffn_hidden))
    }

    /// The shared experts of one MoE layer, `shared_experts` × one expert (0 without `moe`).
    pub fn shared_expert_params_per_layer(&self) -> u64 {
        self.moe.map_or(0, |moe| moe.shared_experts * self.expert_params())
    }

    /// The norms of one layer: before attention and before the MLP, plus the query and key
    /// norms (`head_dim` each) when `qk_norm` is set.
    pub fn norm_params_per_layer(&self) -> u64 {
        let qk = if self.qk_norm { 2 * self.norm.params(self.head_dim()) } else { 0 };
        2 * self.norm.params(self.hidden) + qk
    }

    /// All parameters of one dense transformer layer (attention, dense MLP, norms). For a
    /// mixture-of-experts model this is one of its first `dense_layers` layers.
    pub fn layer_params(&self) -> u64 {
        self.attention_params_per_layer()
            + self.mlp_params_per_layer()
            + self.norm_params_per_layer()
    }

    /// All parameters of one MoE layer: attention, router, every routed and shared expert,
    /// norms. Equals [`Self::layer_params`] for a model without `moe`.
    pub fn moe_layer_params(&self) -> u64 {
        self.moe.map_or(self.layer_params(), |moe| self.moe_layer_params_with(moe.experts))
    }

    /// An MoE layer counting `routed` of its routed experts.
    fn moe_layer_params_with(&self, routed: u64) -> u64 {
        self.attention_params_per_layer()
            + self.router_params_per_layer()
            + routed * self.expert_params()
            + self.shared_expert_params_per_layer()
            + self.norm_params_per_layer()
    }

    /// Parameters of layer `layer` (0-based): [`Self::moe_layer_params`] if it has routed
    /// experts, else [`Self::layer_params`].
    pub fn params_of_layer(&self, layer: u64) -> u64 {
        if self.is_moe_layer(layer) {
            self.moe_layer_params()
        } else {
            self.layer_params()
        }
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

    /// Parameters outside the layers: embeddings, final norm, output head.
    fn outside_layer_params(&self) -> u64 {
        self.embedding_params() + self.final_norm_params() + self.output_head_params()
    }

    /// Layers with a dense MLP (all of them without `moe`).
    fn dense_layer_count(&self) -> u64 {
        self.layers - self.moe_layers()
    }

    /// Every parameter of the model, each shared matrix counted once.
    pub fn total_params(&self) -> u64 {
        self.dense_layer_count() * self.layer_params()
            + self.moe_layers() * self.moe_layer_params()
            + self.outside_layer_params()
    }

    /// Parameters one token passes through: as [`Self::total_params`], but each MoE layer
    /// counts only `top_k` of its routed experts (the input embedding is counted whole, as
    /// Mistral AI count Mixtral's 12.9B).
    pub fn active_params(&self) -> u64 {
        let moe_layer = self.moe.map_or(0, |moe| self.moe_layer_params_with(moe.top_k));
        self.dense_layer_count() * self.layer_params()
            + self.moe_layers() * moe_layer
            + self.outside_layer_params()
    }
}

#[cfg(test)]
mod tests {
    use crate::preset;

    fn total(name: &str) -> u64 {
        preset(name).unwrap().total_params()
    }

    /// `count` in units of `unit`, rounded to the nearest.
    fn round_to(count: u64, unit: u64) -> u64 {
        (count + unit / 2) / unit
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

    /// For a dense model every new part is zero or equal to the dense one, and the attention
    /// projections are the four `h·h`, `h·kv_dim`, `h·kv_dim`, `h·h` matrices.
    #[test]
    fn dense_models_are_unchanged() {
        for name in crate::preset_names().into_iter().filter(|n| preset(n).unwrap().moe.is_none()) {
            let m = preset(name).unwrap();
            let (h, kv) = (m.hidden, m.kv_dim());
            assert_eq!(m.attention_projections(), [(h, h), (h, kv), (h, kv), (h, h)], "{name}");
            let parts = [m.router_params_per_layer(), m.expert_params()];
            assert_eq!(parts, [0, 0], "{name}");
            assert_eq!(m.shared_expert_params_per_layer(), 0, "{name}");
            assert_eq!(m.moe_layer_params(), m.layer_params(), "{name}");
            assert_eq!(m.params_of_layer(m.layers - 1), m.layer_params(), "{name}");
            assert_eq!(m.active_params(), m.total_params(), "{name}");
            let layers = m.layers * m.layer_params();
            let outside = m.embedding_params() + m.final_norm_params() + m.output_head_params();
            assert_eq!(m.total_params(), layers + outside, "{name}");
        }
    }

    /// Mixtral 8x7B: the released checkpoint's index gives `total_size` 93,405,585,408 bytes at
    /// bf16, 2 × 46,702,792,704. Per layer: attention 2·4096² + 2·4096·1024 = 41,943,040, router
    /// 4096·8 = 32,768, experts 8 × 3·4096·14,336 = 8 × 176,160,768, norms 2·4096: 1,451,270,144,
    /// × 32 = 46,440,644,608; plus embedding and head 2·32,000·4,096 = 262,144,000 and the final
    /// norm 4,096.
    #[test]
    fn mixtral_8x7b_matches_the_checkpoint_exactly() {
        let m = preset("mixtral-8x7b").unwrap();
        assert_eq!(m.attention_params_per_layer(), 41_943_040);
        assert_eq!(m.router_params_per_layer(), 32_768);
        assert_eq!(m.expert_params(), 176_160_768);
        assert_eq!(m.moe_layer_params(), 1_451_270_144);
        assert_eq!(m.total_params(), 46_702_792_704);
        // Active, 2 of 8 experts: 41,943,040 + 32,768 + 2 · 176,160,768 + 8,192 = 394,305,536
        // per layer, × 32, plus 262,148,096 outside the layers. Mistral AI: "12.9B".
        assert_eq!(m.active_params(), 12_879_925_248);
        assert_eq!(round_to(m.active_params(), 100_000_000), 129);
    }

    /// Qwen3-235B-A22B: "235B total, 22B activated" (model card). The bf16 checkpoint index's
    /// `total_size`, 470,187,269,120 bytes, is 2 × our count exactly. Per layer: attention
    /// `Wq` 4096·8192 + `Wk`, `Wv` 2 · 4096·512 + `Wo` 8192·4096 = 71,303,168 (q_dim = 64 · 128
    /// = 8192 ≠ hidden); norms 2·4096 + q/k norms 2·128 = 8,448; router 4096·128 = 524,288;
    /// experts 128 × 3·4096·1536 = 128 × 18,874,368 = 2,415,919,104. Per layer 2,487,755,008,
    /// × 94 = 233,848,970,752; plus 2 · 151,936 · 4,096 = 1,244,659,712 and 4,096.
    #[test]
    fn qwen3_235b_a22b_matches_the_checkpoint_exactly() {
        let m = preset("qwen3-235b-a22b").unwrap();
        assert_eq!(m.attention_params_per_layer(), 71_303_168);
        assert_eq!(m.norm_params_per_layer(), 8_448);
        assert_eq!(m.expert_params(), 18_874_368);
        assert_eq!(m.moe_layer_params(), 2_487_755_008);
        assert_eq!(m.total_params(), 235_093_634_560);
        assert_eq!(round_to(m.total_params(), 1_000_000_000), 235);
        // Active: 71,303,168 + 8,448 + 524,288 + 8 · 18,874,368 = 222,830,848 per layer, × 94,
        // plus 1,244,663,808 outside the layers: 22.19B.
        assert_eq!(m.active_params(), 22_190_763_520);
        assert_eq!(round_to(m.active_params(), 1_000_000_000), 22);
    }

    /// DeepSeek-V3 without its multi-token-prediction module: "671B total, 37B activated"
    /// (technical report). MLA per layer: q down 7168·1536 = 11,010,048, q norm 1,536, q up
    /// 1536 · 128·192 = 37,748,736, kv down 7168·576 = 4,128,768, kv norm 512, kv up
    /// 512 · 128·256 = 16,777,216, output 128·128 · 7168 = 117,440,512: 187,107,328. The 3 dense
    /// layers add the MLP 3·7168·18,432 = 396,361,728 and norms 14,336: 583,483,392. The 58 MoE
    /// layers add the router 7168·256 = 1,835,008, 257 experts (256 routed, 1 shared) of
    /// 3·7168·2048 = 44,040,192 and norms 14,336: 11,507,286,016. Outside the layers
    /// 2 · 129,280 · 7,168 = 1,853,358,080 and 7,168. Total 671,026,404,352. The checkpoint's
    /// main model has 58 × 256 = 14,848 more, the routers' score-correction biases, which we do
    /// not count (module docs).
    #[test]
    fn deepseek_v3_by_part_and_total() {
        let m = preset("deepseek-v3").unwrap();
        assert_eq!(m.attention_params_per_layer(), 187_107_328);
        assert_eq!(m.layer_params(), 583_483_392);
        assert_eq!(m.moe_layer_params(), 11_507_286_016);
        assert_eq!((m.params_of_layer(2), m.params_of_layer(3)), (583_483_392, 11_507_286_016));
        assert_eq!(m.total_params(), 671_026_404_352);
        assert_eq!(m.total_params() + 58 * 256, 671_026_419_200);
        assert_eq!(round_to(m.total_params(), 1_000_000_000), 671);
    }

    /// DeepSeek-V3 active: MoE layer 187,107,328 + 1,835,008 + 9 × 44,040,192 (8 routed, 1
    /// shared) + 14,336 = 585,318,400, × 58 = 33,948,467,200; dense layers 1,750,450,176;
    /// outside 1,853,365,248: 37.55B. The published "37B" truncates this; rounded, it matches
    /// the count without the input embedding (a lookup, no compute): 36.63B.
    #[test]
    fn deepseek_v3_active() {
        let m = preset("deepseek-v3").unwrap();
        assert_eq!(m.active_params(), 37_552_282_624);
        assert_eq!(m.active_params() / 1_000_000_000, 37);
        let without_input_embedding = m.active_params() - m.vocab * m.hidden;
        assert_eq!(without_input_embedding, 36_625_603_584);
        assert_eq!(round_to(without_input_embedding, 1_000_000_000), 37);
    }

    /// Without query compression (DeepSeek-V2-Lite: q_lora_rank 0) the query is one
    /// `h × heads·(nope + rope)` projection and there is no query norm; with linear biases every
    /// projection adds its output width.
    #[test]
    fn mla_without_query_compression_and_with_biases() {
        let mut m = preset("deepseek-v3").unwrap();
        m.mla.as_mut().unwrap().q_lora_rank = 0;
        let shapes = [(7168, 128 * 192), (7168, 576), (512, 128 * 256), (128 * 128, 7168)];
        assert_eq!(m.attention_projections(), shapes);
        let matrices: u64 = shapes.iter().map(|(i, o)| i * o).sum();
        assert_eq!(m.attention_params_per_layer(), matrices + 512);
        m.linear_biases = true;
        let biases = 128 * 192 + 576 + 128 * 256 + 7168;
        assert_eq!(m.attention_params_per_layer(), matrices + 512 + biases);
    }

    /// Grouped-query attention with biases and an explicit head width: `q_dim + 2·kv_dim` on
    /// QKV and `h` on the output.
    #[test]
    fn attention_biases_follow_q_dim() {
        let mut m = preset("qwen3-235b-a22b").unwrap();
        m.linear_biases = true;
        let (q, kv, h) = (8192, 512, 4096);
        assert_eq!(m.attention_params_per_layer(), 71_303_168 + q + 2 * kv + h);
        // Each expert gains its up and gate biases (1536 each) and the down bias (4096).
        assert_eq!(m.expert_params(), 18_874_368 + 2 * 1536 + 4096);
    }
}
