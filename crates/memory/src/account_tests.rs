//! Hand-computed accounts of published models, the checks' errors, and invariants.

use super::*;
use crate::inputs::Schedule::{self, GPipe, Interleaved1F1B, OneFOneB};
use astrolabe_model::{preset, FfnKind, NormKind, PositionEmbedding, Recompute, TransformerModel};

/// Bytes per GB (SI), for the capacities below.
const GB: u64 = 1_000_000_000;

pub(super) fn plan(tp: u64, pp: u64, dp: u64, zero_stage: u8, grad_bytes: u64) -> MemoryInputs {
    MemoryInputs {
        tp,
        pp,
        dp,
        cp: 1,
        ep: 1,
        expert_tp: tp,
        expert_dp: 1,
        virtual_stages: 1,
        micro_batch: 1,
        num_micro_batches: 64,
        schedule: OneFOneB,
        first_stage_layers: None,
        last_stage_layers: None,
        sequence_parallel: false,
        recompute: Recompute::Full,
        zero_stage,
        reshard_after_forward: true,
        weight_bytes_per_param: 2,
        grad_bytes_per_param: grad_bytes,
        framework_reserve_bytes: 0,
        comm_buffer_bytes: 0,
    }
}

fn gpt3_plan() -> MemoryInputs {
    let mut inputs = plan(8, 16, 8, 1, 4);
    inputs.sequence_parallel = true;
    inputs.recompute = Recompute::Selective;
    inputs
}

/// GPT-3 175B, tp 8, pp 16, dp 8, distributed optimizer with fp32 gradients (Megatron-LM's
/// 6 + 12/8 = 7.5 B/param), SP, selective recomputation, b = 1, 1F1B.
///
/// One layer is 12h² + 13h = 1,812,099,072 params, of which 6h = 73,728 (four LayerNorm vectors
/// and the two row-parallel biases) are replicated: (1,812,099,072 − 73,728)/8 + 73,728 =
/// 226,576,896 per GPU, ×6 layers = 1,359,461,376 (middle stages). Stage 0 adds ceil(50257/8) =
/// 6,283 rows of the word embedding, 6,283·12,288 = 77,205,504, and the replicated positions
/// 2048·12288 = 25,165,824: 1,461,832,704. Stage 15 adds the final LayerNorm (24,576) and the
/// tied embedding copy (77,205,504): 1,436,691,456.
///
/// Activations (Korthikanti Table 2, SP + selective): 34sbh/t = 106,954,752 per layer; stage 0
/// keeps 16 micro-batches: 16·6·106,954,752 + 16·sbh/t (3,145,728, embedding dropout mask) =
/// 10,317,987,840; stage 15 keeps 1: 6·106,954,752 + 4sbh/t + 4s·6283 = 641,728,512 +
/// 64,053,248 = 705,781,760.
#[test]
fn gpt3_175b_tp8_pp16_dp8_zero1() {
    let model = preset("gpt3-175b").unwrap();
    let report = account(&model, &gpt3_plan(), 80 * GB).unwrap();
    let row = |s: &StageMemory| {
        let state = [s.params, s.weights_bytes, s.gradients_bytes, s.optimizer_bytes];
        (state, s.activations_bytes, s.in_flight_micro_batches, s.total_bytes)
    };
    let [first, middle, last] = [0, 1, 15].map(|i| row(&report.stages[i]));
    let first_state = [1_461_832_704, 2_923_665_408, 5_847_330_816, 2_192_749_056];
    assert_eq!(first, (first_state, 10_317_987_840, 16, 21_281_733_120));
    let middle_state = [1_359_461_376, 2_718_922_752, 5_437_845_504, 2_039_192_064];
    assert_eq!(middle, (middle_state, 9_625_927_680, 15, 19_821_888_000));
    let last_state = [1_436_691_456, 2_873_382_912, 5_746_765_824, 2_155_037_184];
    assert_eq!(last, (last_state, 705_781_760, 1, 11_480_967_680));
    assert_eq!((report.worst_stage, report.peak_bytes, report.fits), (0, 21_281_733_120, true));
    // 7.5 B/param in the middle: 6 B/param whole, 12/8 B/param sharded.
    assert_eq!(middle_state[1] + middle_state[2] + middle_state[3], 1_359_461_376 * 15 / 2);
}

/// Llama 3 8B (8,030,261,248 params) on 8 GPUs, tp 1, pp 1, dp 8, bf16 weights and gradients,
/// full recomputation, b = 1, s = 8192, h = 4096, V = 128,256.
///
/// Without ZeRO: 16 B/param (Rajbhandari et al. 2020, 2 + 2 + K=12) = 128,484,179,968 B of state
/// alone, over 80 GB. Activations: 32 layers × 2sbh = 2,147,483,648, embedding mask sbh =
/// 33,554,432, output 4sbh + 4sV = 4,336,910,336: 6,517,948,416. With ZeRO-1: 2 + 2 + 12/8 =
/// 5.5 B/param = 44,166,436,864 B, total 50,684,385,280: fits.
#[test]
fn llama3_8b_dp8_fits_only_with_zero1() {
    let model = preset("llama3-8b").unwrap();
    let plain = account(&model, &plan(1, 1, 8, 0, 2), 80 * GB).unwrap();
    let stage = &plain.stages[0];
    assert_eq!(stage.params, 8_030_261_248);
    let state = stage.weights_bytes + stage.gradients_bytes + stage.optimizer_bytes;
    assert_eq!(state, 128_484_179_968);
    assert_eq!(stage.activations_bytes, 6_517_948_416);
    assert_eq!((plain.peak_bytes, plain.fits), (135_002_128_384, false));

    let zero1 = account(&model, &plan(1, 1, 8, 1, 2), 80 * GB).unwrap();
    assert_eq!(zero1.stages[0].optimizer_bytes, 12_045_391_872);
    assert_eq!((zero1.peak_bytes, zero1.fits), (50_684_385_280, true));

    // Keeping 36sbh per layer (selective) adds 32·34sbh = 36,507,222,016 B: out of memory again.
    let selective = MemoryInputs { recompute: Recompute::Selective, ..plan(1, 1, 8, 1, 2) };
    let report = account(&model, &selective, 80 * GB).unwrap();
    assert_eq!((report.peak_bytes, report.fits), (87_191_607_296, false));
}

#[test]
fn zero_stages_shard_optimizer_then_gradients_then_weights() {
    let model = preset("llama3-8b").unwrap();
    let p = 8_030_261_248;
    let cases = [(0, [2 * p, 2 * p, 12 * p]), (1, [2 * p, 2 * p, 12 * p / 8])];
    let more = [(2, [2 * p, 2 * p / 8, 12 * p / 8]), (3, [2 * p / 8, 2 * p / 8, 12 * p / 8])];
    for (zero_stage, expected) in cases.into_iter().chain(more) {
        let s = &account(&model, &plan(1, 1, 8, zero_stage, 2), 0).unwrap().stages[0];
        let got = [s.weights_bytes, s.gradients_bytes, s.optimizer_bytes];
        assert_eq!(got, expected, "zero_stage {zero_stage}");
    }
}

fn in_flight_of(schedule: Schedule, pp: u64, v: u64, m: u64) -> Vec<u64> {
    let model = preset("llama2-7b").unwrap();
    let inputs =
        MemoryInputs { schedule, virtual_stages: v, num_micro_batches: m, ..plan(1, pp, 1, 0, 2) };
    let report = account(&model, &inputs, 0).unwrap();
    report.stages.iter().map(|s| s.in_flight_micro_batches).collect()
}

#[test]
fn in_flight_counts_per_schedule() {
    assert_eq!(in_flight_of(OneFOneB, 4, 1, 8), [4, 3, 2, 1]);
    assert_eq!(in_flight_of(GPipe, 4, 1, 8), [8, 8, 8, 8]);
    assert_eq!(in_flight_of(Interleaved1F1B, 4, 2, 8), [11, 9, 7, 5]);
}

/// Llama 2 7B (32 layers), p = 4, v = 2, m = 64: interleaving multiplies the first stage's layer
/// activations by 1 + 3/8 (Korthikanti et al. 2022): 11 chunks of 4 layers against 4
/// micro-batches of 8; its first chunk keeps the embedding's for 2p = 8 micro-batches.
#[test]
fn interleaving_costs_the_first_stage_one_plus_p_minus_1_over_pv() {
    let model = preset("llama2-7b").unwrap();
    let layer = layer_activation_bytes(&model, 1, 1, false, Recompute::Full).unwrap();
    let embedding = embedding_activation_bytes(&model, 1, 1, false).unwrap();
    let base = plan(1, 4, 1, 0, 2);
    let interleaved = MemoryInputs { schedule: Interleaved1F1B, virtual_stages: 2, ..base.clone() };
    let acts = |inputs: &MemoryInputs, i: usize| {
        account(&model, inputs, 0).unwrap().stages[i].activations_bytes
    };
    assert_eq!(acts(&base, 0), 4 * 8 * layer + 4 * embedding);
    assert_eq!(acts(&interleaved, 0), 11 * 4 * layer + 8 * embedding);
    // Stage 1 has no embedding or output: pure layer activations.
    assert_eq!((acts(&base, 1), acts(&interleaved, 1)), (3 * 8 * layer, 9 * 4 * layer));
}

#[test]
fn reserve_and_buffers_are_added_per_gpu() {
    let model = preset("llama3-8b").unwrap();
    let bare = account(&model, &plan(1, 1, 8, 1, 2), 0).unwrap();
    let mut inputs = plan(1, 1, 8, 1, 2);
    (inputs.framework_reserve_bytes, inputs.comm_buffer_bytes) = (3 * GB, GB);
    let padded = account(&model, &inputs, 0).unwrap();
    assert_eq!(padded.peak_bytes, bare.peak_bytes + 4 * GB);
    assert!(!padded.fits);
}

/// A Llama-shaped toy: 14 layers of h = 64 (4 heads, no GQA), SwiGLU of 256, RMSNorm, no
/// biases, rotary positions, V = 1000 untied, s = 128.
///
/// One layer: attention 2h² + 2h·kv_dim = 16,384, MLP 3·64·256 = 49,152, norms 2h = 128:
/// 65,664 params. Word embedding and output head V·h = 64,000 each, final norm 64. Per micro-batch
/// (b = 1, full recomputation): a layer keeps 2sbh = 16,384 B, the embedding's dropout mask
/// sbh = 8,192 B, the output layer 4sbh + 4sV = 32,768 + 512,000 = 544,768 B.
pub(super) fn toy() -> TransformerModel {
    TransformerModel {
        name: "toy".to_string(),
        layers: 14,
        hidden: 64,
        heads: 4,
        kv_heads: 4,
        ffn_hidden: 256,
        ffn_kind: FfnKind::Swiglu,
        norm: NormKind::RmsNorm,
        linear_biases: false,
        position_embedding: PositionEmbedding::Rotary,
        vocab: 1000,
        seq_len: 128,
        tied_embeddings: false,
        head_dim: None,
        qk_norm: false,
        moe: None,
        mla: None,
    }
}

/// The toy over 4 stages as [2, 5, 5, 2] (14 is no multiple of 4), tp = dp = 1, bf16 weights
/// and gradients, no ZeRO, 1F1B with m = 8 (stages keep 4, 3, 2, 1 micro-batches).
///
/// Stage 0: 2·65,664 + 64,000 = 195,328 params: weights and gradients 390,656 B each, optimizer
/// 12 B/param = 2,343,936 B; activations 4·2·16,384 + 4·8,192 = 163,840 B; total 3,289,088.
/// Stage 1: 5·65,664 = 328,320 params: 656,640 B twice, 3,939,840 B; activations 3·5·16,384 =
/// 245,760 B; total 5,498,880. Stage 2: as stage 1 but 2·5·16,384 = 163,840 B: 5,416,960.
/// Stage 3: 2·65,664 + 64 + 64,000 = 195,392 params: 390,784 B twice, 2,344,704 B; activations
/// 2·16,384 + 544,768 = 577,536 B; total 3,703,808.
#[test]
fn uneven_first_and_last_stages() {
    let inputs = MemoryInputs {
        num_micro_batches: 8,
        first_stage_layers: Some(2),
        last_stage_layers: Some(2),
        ..plan(1, 4, 1, 0, 2)
    };
    let report = account(&toy(), &inputs, 0).unwrap();
    let rows: Vec<_> = report
        .stages
        .iter()
        .map(|s| (s.layers, s.params, s.weights_bytes, s.activations_bytes, s.total_bytes))
        .collect();
    assert_eq!(
        rows,
        [
            (2, 195_328, 390_656, 163_840, 3_289_088),
            (5, 328_320, 656_640, 245_760, 5_498_880),
            (5, 328_320, 656_640, 163_840, 5_416_960),
            (2, 195_392, 390_784, 577_536, 3_703_808),
        ]
    );
    assert_eq!(report.stages[0].optimizer_bytes, 2_343_936);
    assert_eq!((report.worst_stage, report.peak_bytes), (1, 5_498_880));
}

/// The toy interleaved over 2 stages × 2 chunks as [2, 5, 5, 2] by virtual stage: stage 0 holds
/// chunks of 2 and 5 layers, stage 1 of 5 and 2, 7 layers each. Held chunk-micro-batches are
/// counted at the largest chunk, 5 layers: stage 0 keeps 2·1 + 2 + 1 = 5 of them and the
/// embedding's for 2p = 4 micro-batches, 5·5·16,384 + 4·8,192 = 442,368 B; stage 1 keeps 3 and
/// the output layer's for 1, 3·5·16,384 + 544,768 = 790,528 B.
#[test]
fn uneven_interleaved_counts_the_largest_chunk() {
    let inputs = MemoryInputs {
        schedule: Interleaved1F1B,
        virtual_stages: 2,
        num_micro_batches: 8,
        first_stage_layers: Some(2),
        last_stage_layers: Some(2),
        ..plan(1, 2, 1, 0, 2)
    };
    let report = account(&toy(), &inputs, 0).unwrap();
    let rows: Vec<_> = report
        .stages
        .iter()
        .map(|s| (s.layers, s.in_flight_micro_batches, s.activations_bytes))
        .collect();
    assert_eq!(rows, [(7, 5, 442_368), (7, 3, 790_528)]);
}

/// Llama 3 405B, tp 8, pp 16 as Meta trained it (7, 14 × 8, 7 layers). One layer is
/// 2h² + 2h·kv_dim + 3h·f + 2h = 536,870,912 + 33,554,432 + 2,617,245,696 + 32,768 =
/// 3,187,703,808 params, of which the 32,768 norm weights are replicated: (3,187,703,808 −
/// 32,768)/8 + 32,768 = 398,491,648 per GPU. The word embedding and the output head are
/// ceil(128,256/8)·16,384 = 262,668,288 each. Stage 0: 7 layers + embedding = 3,052,109,824;
/// middle: 8 layers = 3,187,933,184; stage 15: 7 layers + final norm 16,384 + head =
/// 3,052,126,208.
#[test]
fn llama3_405b_seven_layers_on_the_first_and_last_stages() {
    let model = preset("llama3-405b").unwrap();
    let inputs = MemoryInputs {
        first_stage_layers: Some(7),
        last_stage_layers: Some(7),
        ..plan(8, 16, 8, 1, 4)
    };
    let report = account(&model, &inputs, 80 * GB).unwrap();
    let [first, middle, last] =
        [0, 1, 15].map(|i| (report.stages[i].layers, report.stages[i].params));
    assert_eq!(first, (7, 3_052_109_824));
    assert_eq!(middle, (8, 3_187_933_184));
    assert_eq!(last, (7, 3_052_126_208));
    // Without the split, 126 layers do not go over 16 stages.
    let even = MemoryInputs { first_stage_layers: None, last_stage_layers: None, ..inputs };
    let err = account(&model, &even, 80 * GB).unwrap_err().to_string();
    assert_eq!(err, "parallel plan: `pp`: a divisor of the model's layers (126), got 16");
}

fn rejected(inputs: MemoryInputs) -> String {
    let model = preset("gpt3-175b").unwrap();
    account(&model, &inputs, 80 * GB).unwrap_err().to_string()
}

#[test]
fn impossible_plans_name_the_field() {
    let pp = rejected(plan(8, 5, 8, 1, 2));
    assert_eq!(pp, "parallel plan: `pp`: a divisor of the model's layers (96), got 5");
    let tp = rejected(plan(7, 16, 8, 1, 2));
    assert!(tp.starts_with("parallel plan: `tp`: a divisor of the model's heads"), "{tp}");
    let zero = rejected(plan(8, 16, 8, 4, 2));
    assert_eq!(zero, "parallel plan: `zero_stage`: 0, 1, 2 or 3, got 4");
    let gpipe_v = rejected(MemoryInputs { virtual_stages: 2, ..plan(8, 16, 8, 1, 2) });
    assert!(gpipe_v.starts_with("parallel plan: `virtual_stages`: 1 unless"), "{gpipe_v}");
    let odd_v =
        MemoryInputs { schedule: Interleaved1F1B, virtual_stages: 4, ..plan(8, 16, 8, 1, 2) };
    assert!(rejected(odd_v).contains("layers per stage (6)"));
    assert!(rejected(MemoryInputs { dp: 0, ..plan(8, 16, 8, 1, 2) }).contains("`dp`"));
}

/// GPT-3 175B as in `gpt3_175b_tp8_pp16_dp8_zero1` (tp 8, pp 16, dp 8, ZeRO-1, fp32 gradients,
/// SP, selective, m = 64) under DualPipe. Stage 0 holds model stages 0 and 15: 1,461,832,704 +
/// 1,436,691,456 = 2,898,524,160 parameters (embedding and tied head copy both), so weights
/// 5,797,048,320, gradients 11,594,096,640, optimizer 12/8 = 4,347,786,240. A middle stage
/// holds two middle model stages: 2·1,359,461,376 = 2,718,922,752 (twice 1F1B's).
/// Activations: p + 1 = 17 micro-batches of one 6-layer chunk, 17·6·106,954,752 =
/// 10,909,384,704; stage 0 adds 17 embedding masks (17·3,145,728 = 53,477,376) and 17 outputs
/// (17·64,053,248 = 1,088,905,216): 12,051,767,296. Stage 0's total: 33,790,698,496.
#[test]
fn dualpipe_holds_two_model_stages_and_pp_plus_one_micro_batches() {
    let model = preset("gpt3-175b").unwrap();
    let inputs = MemoryInputs { schedule: Schedule::DualPipe, ..gpt3_plan() };
    let report = account(&model, &inputs, 80 * GB).unwrap();
    let first = &report.stages[0];
    let state = [first.params, first.weights_bytes, first.gradients_bytes, first.optimizer_bytes];
    assert_eq!(state, [2_898_524_160, 5_797_048_320, 11_594_096_640, 4_347_786_240]);
    assert_eq!((first.layers, first.in_flight_micro_batches), (12, 17));
    assert_eq!((first.activations_bytes, first.total_bytes), (12_051_767_296, 33_790_698_496));
    let middle = &report.stages[1];
    assert_eq!((middle.params, middle.activations_bytes), (2_718_922_752, 10_909_384_704));
    // The last stage mirrors the first.
    assert_eq!(report.stages[15].total_bytes, first.total_bytes);
    // An odd pipeline or micro-batch count has no mirror pairing.
    let odd = MemoryInputs { pp: 3, ..inputs.clone() };
    assert_eq!(account(&model, &odd, 0).unwrap_err().field, "pp");
    let odd = MemoryInputs { num_micro_batches: 63, ..inputs };
    assert_eq!(account(&model, &odd, 0).unwrap_err().field, "num_micro_batches");
}

/// The toy with routed experts from layer 2 on (4 experts of 128, top-2, no shared expert), pp
/// 2, dp 2, ep 2, ZeRO-1, bf16 weights and gradients, selective recomputation, m = 8, DualPipe.
///
/// Parameters: a MoE layer is attention 16,384 + router 4·64 = 256 + norms 128 + 4 experts of
/// 3·64·128 = 24,576; per GPU its dense part 16,768 and 2 experts, 49,152. Model stage 0
/// (layers 0–6: 2 dense, 5 MoE, the embedding 64,000): dense 2·65,664 + 5·16,768 + 64,000 =
/// 279,168, experts 5·49,152 = 245,760. Model stage 1 (7 MoE, final norm 64, head 64,000):
/// dense 7·16,768 + 64,064 = 181,440, experts 344,064. Stage 0 holds both: dense 460,608,
/// experts 589,824, 1,050,432 in all; weights and gradients 2,100,864 B each; optimizer 12 B
/// over dp = 2 for the dense part (2,763,648) and over dp/ep = 1 for the experts (7,077,888):
/// 9,841,536.
///
/// Activations (selective, s = 128, h = 64): a dense layer 10sbh + 2sb(2q + 2kv + 3f) =
/// 81,920 + 262,144 = 344,064; a MoE layer the same but 3·128·top-2 = 768 wide inside the MLP
/// (as dense) plus 2sb(top_k·h + experts) = 33,792 of routing: 377,856. Model stage 0 keeps
/// 2·344,064 + 5·377,856 = 2,577,408 per micro-batch, model stage 1 7·377,856 = 2,644,992, the
/// heavier: 3 (p + 1) micro-batches of it, 7,934,976, plus 3 embedding masks (24,576) and 3
/// outputs (1,634,304): 9,593,856. Total 2·2,100,864 + 9,841,536 + 9,593,856 = 23,637,120.
#[test]
fn dualpipe_with_experts_holds_both_model_stages_and_the_heavier_activations() {
    let mut model = toy();
    model.moe = Some(astrolabe_model::Moe {
        experts: 4,
        top_k: 2,
        expert_ffn_hidden: 128,
        shared_experts: 0,
        dense_layers: 2,
    });
    let inputs = MemoryInputs {
        ep: 2,
        num_micro_batches: 8,
        recompute: Recompute::Selective,
        schedule: Schedule::DualPipe,
        ..plan(1, 2, 2, 1, 2)
    };
    let report = account(&model, &inputs, 80 * GB).unwrap();
    let first = &report.stages[0];
    assert_eq!((first.params, first.expert_params), (1_050_432, 589_824));
    let state = [first.weights_bytes, first.gradients_bytes, first.optimizer_bytes];
    assert_eq!(state, [2_100_864, 2_100_864, 9_841_536]);
    assert_eq!((first.layers, first.in_flight_micro_batches), (14, 3));
    assert_eq!((first.activations_bytes, first.total_bytes), (9_593_856, 23_637_120));
    assert_eq!(report.stages[1].total_bytes, first.total_bytes);
    // 1F1B on the same plan: each stage holds one model stage, which DualPipe's stages sum.
    let one = account(&model, &MemoryInputs { schedule: OneFOneB, ..inputs }, 80 * GB).unwrap();
    let experts: Vec<u64> = one.stages.iter().map(|s| s.expert_params).collect();
    assert_eq!(experts, [245_760, 344_064]);
    assert_eq!(one.stages[0].params + one.stages[1].params, first.params);
}
