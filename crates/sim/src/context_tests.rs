use super::*;
use crate::scenario::{no_cluster_files, parse_scenario};

/// Llama 3 8B (s = 8192, kv_dim = 8 × 128 = 1024) on 8 H100, TP 1, CP 2 or 4.
fn plan(cp: u64, comm: &str) -> (TransformerModel, Plan) {
    let text = format!(
        "[model]\npreset = \"llama3-8b\"\n[cluster]\npreset = \"dgx-h100-basepod\"\nnodes = 1\n\
         [plan]\ncp = {cp}\ncp_comm = \"{comm}\"\nglobal_batch = {}\n",
        8 / cp
    );
    let sc = parse_scenario(&text, "t", &no_cluster_files).unwrap();
    (sc.model, sc.plan)
}

#[test]
fn ring_sends_each_share_cp_minus_one_times_forward_and_twice_that_backward() {
    // Share of CP 2: 4096 tokens × 2 (K, V) × 1024 × 2 bytes = 16,777,216.
    let (model, p) = plan(2, "ring");
    assert_eq!(kv_share_bytes(&model, &p), 16_777_216);
    let x = exchanges(&model, &p);
    assert_eq!(
        x[0],
        Exchange {
            purpose: Purpose::CpForward,
            members: 2,
            op: CollectiveOp::SendRecv,
            bytes: 16_777_216,
            repeats: 1
        }
    );
    assert_eq!((x[1].bytes, x[1].repeats), (16_777_216, 2));
    // CP 4: a share of 8,388,608 bytes, 3 steps forward, 6 backward: 25,165,824 bytes sent
    // per layer forward, 3/4 of the whole sequence's K and V (33,554,432).
    let (model, p) = plan(4, "ring");
    let x = exchanges(&model, &p);
    assert_eq!((x[0].bytes, x[0].repeats, x[1].repeats), (8_388_608, 3, 6));
}

#[test]
fn all_gather_moves_the_whole_sequence_keys_and_values() {
    let (model, p) = plan(4, "all_gather");
    let x = exchanges(&model, &p);
    let ops: Vec<_> = x.iter().map(|e| (e.op, e.members, e.bytes, e.repeats)).collect();
    assert_eq!(
        ops,
        vec![
            (CollectiveOp::AllGather, 4, 33_554_432, 1),
            (CollectiveOp::ReduceScatter, 4, 33_554_432, 1)
        ]
    );
}

#[test]
fn ring_steps_hide_behind_one_block_of_attention() {
    let (_, p) = plan(4, "ring");
    // 3 steps of 2 ms against blocks of 8/4 = 2 ms (forward: nothing exposed) and 5 ms
    // (backward, flash: 2.5 × 2 ms; 3 steps of 12/3 = 4 ms: nothing exposed).
    let hidden = CpExposed::of(&p, 0.008, 0.006, 0.012);
    assert_eq!(hidden, CpExposed { forward_s: 0.0, backward_s: 0.0 });
    // Slower links: 3 steps of 3 ms forward expose 3 × 1 ms; backward 3 × (8 − 5) ms.
    let exposed = CpExposed::of(&p, 0.008, 0.009, 0.024);
    assert!((exposed.forward_s - 0.003).abs() < 1e-12);
    assert!((exposed.backward_s - 0.009).abs() < 1e-12);
    let (_, gather) = plan(4, "all_gather");
    assert_eq!(CpExposed::of(&gather, 0.008, 0.009, 0.024).forward_s, 0.009);
}
