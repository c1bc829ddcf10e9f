use super::*;
use crate::scenario::{no_cluster_files, parse_scenario, DEFAULT_SCENARIO};
use crate::Scenario;

/// `params` dense parameters on the GPU, no experts.
fn dense(params: u64) -> StageParams {
    StageParams { dense: params, expert: 0 }
}

fn default_scenario() -> Scenario {
    parse_scenario(DEFAULT_SCENARIO, "default", &no_cluster_files).unwrap()
}

fn uses(priced: &Priced, purpose: Purpose) -> Vec<(CollectiveOp, u64, u32, usize)> {
    priced
        .collectives
        .iter()
        .filter(|c| c.purpose == purpose)
        .map(|c| (c.result.op, c.result.size_bytes, c.repeats, c.result.ranks))
        .collect()
}

#[test]
fn sequence_parallel_tp_is_two_gathers_and_two_scatters_of_the_layer_output() {
    let sc = default_scenario();
    let p = price(&sc.model, &sc.cluster, &sc.plan, &sc.compute, dense(1), None, "t").unwrap();
    // b·s·h·2 = 1 × 4096 × 12288 × 2 bytes.
    let bsh2 = 100_663_296;
    let expected =
        vec![(CollectiveOp::AllGather, bsh2, 2, 8), (CollectiveOp::ReduceScatter, bsh2, 2, 8)];
    assert_eq!(uses(&p, Purpose::TpForward), expected);
    assert_eq!(uses(&p, Purpose::TpBackward), expected);
    // The pipeline send carries the sequence-parallel shard: bsh2 / 8, between 2 ranks.
    assert_eq!(uses(&p, Purpose::PpSend), vec![(CollectiveOp::SendRecv, bsh2 / 8, 1, 2)]);
}

#[test]
fn without_sequence_parallel_tp_is_two_all_reduces_and_full_recompute_repeats_them() {
    let mut sc = default_scenario();
    sc.plan.sequence_parallel = false;
    sc.plan.recompute = Recompute::Full;
    let p = price(&sc.model, &sc.cluster, &sc.plan, &sc.compute, dense(1), None, "t").unwrap();
    let bsh2 = 100_663_296;
    assert_eq!(uses(&p, Purpose::TpForward), vec![(CollectiveOp::AllReduce, bsh2, 2, 8)]);
    assert_eq!(uses(&p, Purpose::TpBackward), vec![(CollectiveOp::AllReduce, bsh2, 4, 8)]);
    assert_eq!(uses(&p, Purpose::PpSend), vec![(CollectiveOp::SendRecv, bsh2, 1, 2)]);
}

#[test]
fn distributed_optimizer_scatters_fp32_gradients_and_gathers_bf16_weights() {
    let sc = default_scenario();
    let p = price(&sc.model, &sc.cluster, &sc.plan, &sc.compute, dense(1), None, "t").unwrap();
    // One 177B layer on a TP rank: (12h² + 13h − 6h)/8 + 6h with h = 12288 (6h replicated:
    // two LayerNorms' weight and bias, two row-parallel biases) = 226,576,896 parameters.
    let params = 226_576_896;
    assert_eq!(
        uses(&p, Purpose::DpGradients),
        vec![(CollectiveOp::ReduceScatter, params * 4, 1, 2)]
    );
    assert_eq!(uses(&p, Purpose::DpParamGather), vec![(CollectiveOp::AllGather, params * 2, 1, 2)]);
    // Word embedding shard: 131072 / 8 × 12288 parameters at 4 bytes.
    let embedding = 131_072 / 8 * 12_288 * 4;
    let expected = vec![(CollectiveOp::ReduceScatter, embedding, 1, 2)];
    assert_eq!(uses(&p, Purpose::DpEmbeddingGradients), expected);
}

#[test]
fn plain_data_parallel_all_reduces_and_gathers_nothing() {
    let mut sc = default_scenario();
    sc.plan.zero_stage = 0;
    let p = price(&sc.model, &sc.cluster, &sc.plan, &sc.compute, dense(1), None, "t").unwrap();
    assert_eq!(uses(&p, Purpose::DpGradients)[0].0, CollectiveOp::AllReduce);
    assert!(uses(&p, Purpose::DpParamGather).is_empty());
    assert_eq!(p.costs.gather_layer_ns, 0);
}

#[test]
fn backward_is_twice_forward_plus_flash_and_recomputation() {
    let mut sc = default_scenario();
    let compute = ComputeModel::for_gpu(&sc.cluster.gpu);
    sc.plan.flash_attention = false;
    sc.plan.recompute = Recompute::Full;
    let t = LayerTimes::of(&sc.model, &sc.cluster, &sc.plan, &compute).unwrap();
    assert_eq!(t.backward_s, 3.0 * t.forward_s);
    sc.plan.recompute = Recompute::None;
    let t = LayerTimes::of(&sc.model, &sc.cluster, &sc.plan, &compute).unwrap();
    assert_eq!(t.backward_s, 2.0 * t.forward_s);
    sc.plan.flash_attention = true;
    let flash = LayerTimes::of(&sc.model, &sc.cluster, &sc.plan, &compute).unwrap();
    // Flash drops the softmax and dropout passes, so its forward is shorter, its backward more
    // than twice its forward.
    assert!(flash.forward_s < t.forward_s);
    assert!(flash.backward_s > 2.0 * flash.forward_s);
}

#[test]
fn optimizer_sweeps_the_dp_share_with_the_distributed_optimizer() {
    let sc = default_scenario();
    let gpu = &sc.cluster.gpu;
    let compute = ComputeModel::for_gpu(gpu);
    let p =
        price(&sc.model, &sc.cluster, &sc.plan, &sc.compute, dense(1_000_000), None, "t").unwrap();
    let expected = compute.optimizer_step_time_s(500_000, ADAM_BYTES_PER_PARAM, gpu);
    assert_eq!(p.costs.optimizer_ns, ns(expected));
}

#[test]
fn seconds_round_to_the_nearest_nanosecond() {
    assert_eq!(ns(1.5e-9), 2);
    assert_eq!(ns(1.4e-9), 1);
    assert_eq!(ns(2.0), 2_000_000_000);
}

/// With TP overlap on, `tp_overlap_fraction` of each layer's TP communication moves beside the
/// layer and the rest stays after it; the two parts add up to the communication (to the
/// rounding of each to whole ns). With a fraction of 0.25, the serial part is 3× the beside one.
#[test]
fn tp_overlap_splits_each_layers_communication_by_the_fitted_share() {
    let mut sc = default_scenario();
    let whole =
        price(&sc.model, &sc.cluster, &sc.plan, &sc.compute, dense(1), None, "t").unwrap().costs;
    assert_eq!((whole.tp_fwd_beside_ns, whole.tp_bwd_beside_ns), (0, 0), "overlap off");
    sc.plan.overlap_tp_comm = true;
    sc.compute.tp_overlap_fraction = 0.25;
    let split =
        price(&sc.model, &sc.cluster, &sc.plan, &sc.compute, dense(1), None, "t").unwrap().costs;
    let total = split.tp_fwd_ns + split.tp_fwd_beside_ns;
    assert!(total.abs_diff(whole.tp_fwd_ns) <= 1, "{total} vs {}", whole.tp_fwd_ns);
    // Each part is rounded to whole ns on its own: 3 × beside is within 3 ns of serial.
    assert!(split.tp_fwd_ns.abs_diff(3 * split.tp_fwd_beside_ns) <= 3, "{split:?}");
    assert!(split.tp_bwd_ns.abs_diff(3 * split.tp_bwd_beside_ns) <= 3, "{split:?}");
    assert!(split.tp_fwd_beside_ns > 1000, "a real share moved: {split:?}");
}
