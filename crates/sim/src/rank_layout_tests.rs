//! Per-rank mode with context and expert parallelism: the groups the placement gives, the
//! rendezvous of their collectives, and agreement with representative mode.

use super::*;
use crate::run::{step_inputs, StepInputs};
use crate::scenario::{no_cluster_files, parse_scenario, Scenario};
use crate::{simulate, Mode};
use astrolabe_engine::Graph;
use astrolabe_workload::{build_step, RankMode};
use std::collections::{BTreeMap, BTreeSet};

fn scenario(text: &str) -> Scenario {
    parse_scenario(text, "t.toml", &no_cluster_files).unwrap()
}

/// Llama 3 8B cut to 4 layers at 2,048 tokens on one 8-GPU node: TP 2, CP 2, DP 2 (2
/// micro-batches per replica), the distributed optimizer; `cp_comm` ring or all_gather.
pub(crate) fn cp_plan(cp_comm: &str) -> String {
    format!(
        "[model]\npreset = \"llama3-8b\"\nlayers = 4\nseq_len = 2048\n[cluster]\n\
         preset = \"dgx-h100-basepod\"\nnodes = 1\n[plan]\ntp = 2\ncp = 2\n\
         cp_comm = \"{cp_comm}\"\nglobal_batch = 4\nzero_stage = 1\n"
    )
}

/// Mixtral 8x7B cut to 2 layers at 1,024 tokens on one 8-GPU node: TP 2, DP 4 of which EP 2
/// (4 experts per rank), 2 micro-batches per replica, the distributed optimizer.
pub(crate) const EP_PLAN: &str = "[model]\npreset = \"mixtral-8x7b\"\nlayers = 2\n\
     seq_len = 1024\n[cluster]\npreset = \"dgx-h100-basepod\"\nnodes = 1\n[plan]\ntp = 2\n\
     ep = 2\nglobal_batch = 8\nzero_stage = 1\n";

/// The per-rank step graph of `sc` and the GPU owning each stream.
fn per_rank(sc: &Scenario) -> (Graph, Vec<usize>) {
    let StepInputs { mut priced, shape, .. } = step_inputs(sc).unwrap();
    let ranks = Ranks::of(&sc.plan);
    split_moe(&ranks, &priced.collectives, &mut priced.costs);
    let step = build_step(&shape, &priced.costs, RankMode::PerRank(&ranks.layout));
    let gpu = step.stream_ranks.iter().map(|&(s, i)| ranks.rank(s, i)).collect();
    (step.graph, gpu)
}

/// For tasks whose label ends with `suffix`: the count per GPU, and the GPUs of each
/// rendezvous.
fn meetings(g: &Graph, gpu: &[usize], suffix: &str) -> (Vec<usize>, BTreeSet<Vec<usize>>) {
    let mut count = vec![0; gpu.iter().max().map_or(0, |m| m + 1)];
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for t in g.tasks.iter().filter(|t| t.label.ends_with(suffix)) {
        count[gpu[t.stream]] += 1;
        let r = t.rendezvous.expect("a collective of a group of several ranks meets");
        groups.entry(r).or_default().push(gpu[t.stream]);
    }
    let groups = groups.into_values().map(|mut v| {
        v.sort_unstable();
        v
    });
    (count, groups.collect())
}

#[test]
fn groups_follow_the_megatron_placement() {
    // TP 2, CP 2, DP 2 in tp-cp-ep-dp-pp order: strides 1, 2, 4. GPU 5 is tp 1, cp 0, dp 1.
    let ranks = Ranks::of(&scenario(&cp_plan("ring")).plan);
    assert_eq!(ranks.members(5, Comm::Tp), vec![4, 5]);
    assert_eq!(ranks.members(5, Comm::Cp), vec![5, 7]);
    assert_eq!(ranks.members(5, Comm::Data), vec![1, 3, 5, 7]);
    let names: Vec<&str> = ranks.layout.ranks().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names[..3], ["dp0/cp0/tp0", "dp0/cp0/tp1", "dp0/cp1/tp0"]);
    // TP 2, EP 2, DP 4 (2 positions): strides 1, 2, 4. GPU 5 is tp 1, ep 0, dp 1.
    let ranks = Ranks::of(&scenario(EP_PLAN).plan);
    assert_eq!(ranks.members(5, Comm::Ep), vec![5, 7]);
    assert_eq!(ranks.members(5, Comm::ExpertData), vec![1, 5]);
    assert_eq!(ranks.members(5, Comm::Data), vec![1, 3, 5, 7]);
    assert!(ranks.layout.splits_expert_reduction());
}

#[test]
fn context_parallel_per_rank_agrees_with_representative() {
    for comm in ["ring", "all_gather"] {
        let sc = scenario(&cp_plan(comm));
        let rep = simulate(&sc, Mode::Representative).unwrap();
        let all = simulate(&sc, Mode::PerRank).unwrap();
        assert_eq!(all.simulated_gpus, 8);
        assert_eq!(rep.step_time_s, all.step_time_s, "{comm}");
        assert_eq!(rep.breakdown, all.breakdown, "{comm}");
        assert!(all.breakdown.exposed_cp_comm_s > 0.0, "{comm}");
        // 4 layers × 2 micro-batches × (forward + backward) = 16 CP tasks on every GPU, each
        // meeting the other CP rank: GPUs {0, 2}, {1, 3}, {4, 6}, {5, 7}.
        let (g, gpu) = per_rank(&sc);
        let (count, groups) = meetings(&g, &gpu, " cp");
        assert_eq!(count, vec![16; 8]);
        let pairs: BTreeSet<Vec<usize>> =
            [[0, 2], [1, 3], [4, 6], [5, 7]].iter().map(|p| p.to_vec()).collect();
        assert_eq!(groups, pairs);
        // Each layer's gradient reduce-scatter (4) and the embedding and head's (1) meet the
        // dp × cp group of the GPU: {0, 2, 4, 6} or {1, 3, 5, 7}.
        let mut data: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for t in g.tasks.iter().filter(|t| t.label.contains("grad reduce")) {
            data.entry(t.rendezvous.unwrap()).or_default().push(gpu[t.stream]);
        }
        let mut sets: Vec<Vec<usize>> = data.into_values().collect();
        sets.iter_mut().for_each(|v| v.sort_unstable());
        assert_eq!(sets.iter().filter(|v| **v == [0, 2, 4, 6]).count(), 5);
        assert_eq!(sets.iter().filter(|v| **v == [1, 3, 5, 7]).count(), 5);
        assert_eq!(sets.len(), 10);
    }
}

#[test]
fn a_fully_hidden_ring_still_meets() {
    // The same at 8,192 tokens: each ring step's transfer hides behind a block of attention,
    // so the CP tasks take 0 ns, and they are still there (16 per GPU) for the rendezvous and
    // the export.
    let sc = scenario(&cp_plan("ring").replace("seq_len = 2048", "seq_len = 8192"));
    let priced = step_inputs(&sc).unwrap().priced;
    assert_eq!((priced.costs.cp_fwd_ns, priced.costs.cp_bwd_ns), (0, 0));
    let (g, gpu) = per_rank(&sc);
    assert_eq!(meetings(&g, &gpu, " cp").0, vec![16; 8]);
    let rep = simulate(&sc, Mode::Representative).unwrap();
    assert_eq!(rep.step_time_s, simulate(&sc, Mode::PerRank).unwrap().step_time_s);
    assert_eq!(rep.breakdown.exposed_cp_comm_s, 0.0);
}

#[test]
fn expert_parallel_per_rank_agrees_with_representative() {
    let sc = scenario(EP_PLAN);
    let rep = simulate(&sc, Mode::Representative).unwrap();
    let all = simulate(&sc, Mode::PerRank).unwrap();
    assert_eq!(all.simulated_gpus, 8);
    assert_eq!(rep.step_time_s, all.step_time_s);
    assert_eq!(rep.breakdown, all.breakdown);
    assert!(all.breakdown.exposed_ep_comm_s > 0.0);
    let (g, gpu) = per_rank(&sc);
    // 2 MoE layers × 2 micro-batches × (forward + backward) = 8 EP tasks per GPU, each meeting
    // the EP group: {0, 2}, {1, 3}, {4, 6}, {5, 7}.
    let (count, groups) = meetings(&g, &gpu, " ep");
    assert_eq!(count, vec![8; 8]);
    let pairs: BTreeSet<Vec<usize>> =
        [[0, 2], [1, 3], [4, 6], [5, 7]].iter().map(|p| p.to_vec()).collect();
    assert_eq!(groups, pairs);
    // The experts' gradients (one reduction per MoE layer) meet the expert-data group:
    // {0, 4}, {1, 5}, {2, 6}, {3, 7}, twice (2 layers).
    let experts: Vec<_> =
        g.tasks.iter().filter(|t| t.label.contains("expert grad reduce")).collect();
    assert_eq!(experts.len(), 8 * 2);
    let mut met: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for t in experts {
        met.entry(t.rendezvous.unwrap()).or_default().push(gpu[t.stream]);
    }
    let mut sets: Vec<Vec<usize>> = met.into_values().collect();
    sets.iter_mut().for_each(|v| v.sort_unstable());
    sets.sort();
    let expected = [[0, 4], [0, 4], [1, 5], [1, 5], [2, 6], [2, 6], [3, 7], [3, 7]];
    assert_eq!(sets, expected.iter().map(|p| p.to_vec()).collect::<Vec<_>>());
}

#[test]
fn a_layout_priced_over_other_groups_is_refused() {
    let sc = scenario(EP_PLAN);
    let mut priced = step_inputs(&sc).unwrap().priced;
    let ranks = Ranks::of(&sc.plan);
    check_priced(&ranks, &priced.collectives, "t.toml").unwrap();
    // An expert layout whose all-to-alls span 4 ranks where the placement gives 2.
    let a2a = priced.collectives.iter_mut().find(|u| u.purpose == Purpose::EpForward).unwrap();
    a2a.result.ranks = 4;
    let err = check_priced(&ranks, &priced.collectives, "t.toml").unwrap_err();
    assert_eq!((err.origin.as_str(), err.field.as_str()), ("t.toml", "plan"));
    assert!(err.expected.contains("EpForward") && err.expected.contains("[2]"), "{err}");
}
