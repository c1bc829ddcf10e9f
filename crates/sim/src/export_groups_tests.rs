//! The export of context- and expert-parallel plans: node counts, peers, groups and bytes
//! worked by hand, and the step time of the exported graph.

use super::super::{export, Export, Work};
use crate::rank_layout::tests::{cp_plan, EP_PLAN};
use crate::rank_layout::Comm;
use crate::{no_cluster_files, parse_scenario, simulate, Mode};
use astrolabe_collective::CollectiveOp;

fn exported(text: &str) -> Export {
    let sc = parse_scenario(text, "t.toml", &no_cluster_files).unwrap();
    let e = export(&sc).unwrap();
    // The export's graph is per-rank mode's: the same step.
    let per_rank = simulate(&sc, Mode::PerRank).unwrap();
    assert_eq!(e.step_ns as f64 * 1e-9, per_rank.step_time_s);
    e
}

/// Collective nodes of `rank` as (operation, bytes, communicator).
fn collectives(e: &Export, rank: usize) -> Vec<(CollectiveOp, u64, Comm)> {
    let nodes = e.rank_nodes(rank).unwrap();
    nodes
        .iter()
        .filter_map(|n| match n.work {
            Work::Collective { op, size_bytes, comm, .. } => Some((op, size_bytes, comm)),
            _ => None,
        })
        .collect()
}

fn count(list: &[(CollectiveOp, u64, Comm)], item: (CollectiveOp, u64, Comm)) -> usize {
    list.iter().filter(|&&c| c == item).count()
}

/// One CP rank's keys and values of a layer on its TP rank: 1 sequence × 2,048 / 2 tokens ×
/// (keys + values) × 1,024 / 2 values × 2 bytes = 2,097,152 bytes.
const KV_SHARE_BYTES: u64 = 2_097_152;

#[test]
fn a_ring_exchange_is_sends_to_the_next_cp_rank_and_receives_from_the_previous() {
    let e = exported(&cp_plan("ring"));
    // Network: the node's 8 GPUs split as TP 2, CP 2, DP 2.
    let names: Vec<&str> = e.dims.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["nvlink4-nvswitch/tp", "nvlink4-nvswitch/cp", "nvlink4-nvswitch/dp"]);
    let (mut sends, mut recvs) = (Vec::new(), Vec::new());
    for rank in 0..8 {
        // CP 2: the next and the previous CP rank are the same, 2 ranks away (cp stride 2).
        let peer = rank ^ 2;
        let nodes = e.rank_nodes(rank).unwrap();
        for n in &nodes {
            match n.work {
                Work::Send { dst, tag, size_bytes } => {
                    assert_eq!((dst, size_bytes), (peer, KV_SHARE_BYTES), "{}", n.name);
                    sends.push((rank, dst, tag));
                }
                Work::Recv { src, tag, size_bytes } => {
                    assert_eq!((src, size_bytes), (peer, KV_SHARE_BYTES), "{}", n.name);
                    recvs.push((src, rank, tag));
                }
                _ => {}
            }
        }
        // No pipeline: every send is a ring step. 4 layers × 2 micro-batches × (1 forward
        // step + 2 backward steps) = 24 sends and as many receives.
        let n_sends = nodes.iter().filter(|n| matches!(n.work, Work::Send { .. })).count();
        let n_recvs = nodes.iter().filter(|n| matches!(n.work, Work::Recv { .. })).count();
        assert_eq!((n_sends, n_recvs), (24, 24), "rank {rank}");
    }
    sends.sort_unstable();
    recvs.sort_unstable();
    assert_eq!(sends, recvs, "every send has its receive, tag for tag");
}

#[test]
fn an_all_gather_exchange_is_collectives_over_the_cp_group() {
    let e = exported(&cp_plan("all_gather"));
    assert_eq!(e.involved_dims(Comm::Cp), vec![false, true, false]);
    assert_eq!(e.involved_dims(Comm::Data), vec![false, true, true]);
    assert_eq!(e.group_members(5, Comm::Cp), vec![5, 7]);
    assert_eq!(e.group_members(5, Comm::Data), vec![1, 3, 5, 7]);
    // Per layer and micro-batch: an all-gather of both CP ranks' shares (4,194,304 bytes, each
    // rank's input 2,097,152 for ASTRA-sim) forward, a reduce-scatter of as much backward;
    // 4 layers × 2 micro-batches = 8 of each on every rank.
    let whole = 2 * KV_SHARE_BYTES;
    for rank in 0..8 {
        let c = collectives(&e, rank);
        assert_eq!(count(&c, (CollectiveOp::AllGather, whole, Comm::Cp)), 8, "rank {rank}");
        assert_eq!(count(&c, (CollectiveOp::ReduceScatter, whole, Comm::Cp)), 8, "rank {rank}");
    }
    let gather = Work::Collective {
        op: CollectiveOp::AllGather,
        size_bytes: whole,
        comm: Comm::Cp,
        members: 2,
    };
    assert_eq!(gather.astra_comm_size_bytes(), Some(KV_SHARE_BYTES));
}

/// Mixtral 8x7B, 2 MoE layers, TP 2, EP 2, DP 4, 2 micro-batches per replica, ZeRO-1:
/// - all-to-alls: each TP rank routes its 512 of the sequence's 1,024 tokens × top-2 = 1,024
///   token copies × 4,096 values × 2 bytes = 8,388,608 bytes; 2 forward (dispatch, combine) and
///   2 backward per layer and micro-batch: 2 × 2 × 4 = 16 per rank, over the EP pair;
/// - expert tensor parallelism (= TP 2): the 2,048 copies the pair's experts receive
///   (16,777,216 bytes) all-gathered over the TP pair after the dispatch and reduce-scattered
///   before the combine, once each per pass: 2 × 2 × 2 = 8 of each per rank;
/// - the dense part of a layer on a TP rank: attention (4,096 × 4,096 × 2 + 4,096 × 1,024 × 2)
///   / 2 = 20,971,520, the router 4,096 × 8 = 32,768 and two norms 8,192: 21,012,480
///   parameters, whose fp32 gradients (84,049,920 bytes) are reduce-scattered over the 4 data
///   ranks and whose bf16 weights (42,024,960 bytes) are all-gathered there;
/// - the experts of a rank: 8 / 2 = 4 of 3 × 4,096 × 14,336 = 176,160,768 parameters, half on
///   each TP rank: 352,321,536 parameters, 1,409,286,144 bytes of gradients reduce-scattered
///   and 704,643,072 bytes of weights gathered over the expert-data pair, once per layer.
#[test]
fn expert_parallel_exports_all_to_alls_and_expert_gradients_over_their_groups() {
    let e = exported(EP_PLAN);
    let names: Vec<&str> = e.dims.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["nvlink4-nvswitch/tp", "nvlink4-nvswitch/ep", "nvlink4-nvswitch/dp"]);
    assert_eq!(e.group_members(5, Comm::Ep), vec![5, 7]);
    assert_eq!(e.group_members(5, Comm::ExpertData), vec![1, 5]);
    assert_eq!(e.group_members(5, Comm::Data), vec![1, 3, 5, 7]);
    use CollectiveOp::{AllGather, AllToAll, ReduceScatter};
    for rank in 0..8 {
        let c = collectives(&e, rank);
        assert_eq!(count(&c, (AllToAll, 8_388_608, Comm::Ep)), 16, "rank {rank}");
        assert_eq!(count(&c, (AllGather, 16_777_216, Comm::Tp)), 8);
        assert_eq!(count(&c, (ReduceScatter, 16_777_216, Comm::Tp)), 8);
        assert_eq!(count(&c, (ReduceScatter, 84_049_920, Comm::Data)), 2);
        assert_eq!(count(&c, (AllGather, 42_024_960, Comm::Data)), 2);
        assert_eq!(count(&c, (ReduceScatter, 1_409_286_144, Comm::ExpertData)), 2);
        assert_eq!(count(&c, (AllGather, 704_643_072, Comm::ExpertData)), 2);
    }
}

#[test]
fn hybrid_sharding_is_refused_naming_the_field() {
    let text = cp_plan("ring").replace("zero_stage = 1", "zero_stage = 3\nshard_group = 2");
    let sc = parse_scenario(&text, "h.toml", &no_cluster_files).unwrap();
    let err = export(&sc).unwrap_err();
    assert_eq!((err.origin.as_str(), err.field.as_str()), ("h.toml", "plan.shard_group"));
    assert!(err.expected.contains("dp·cp (4)") && err.expected.contains("got 2"), "{err}");
}
