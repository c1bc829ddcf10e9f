//! Context parallelism: what the ranks of a sequence exchange per layer, and how much of it the
//! attention hides.
//!
//! Each of `cp` ranks holds `s/cp` tokens of every sequence (two chunks of `s/2cp`, one from
//! each end, so that the causal mask leaves every rank the same work); its queries need the keys
//! and values of the whole sequence. One rank's share of them, on one TP rank, is
//! `b · s/cp · 2 · kv_dim/tp` elements at 2 bytes.
//!
//! - **Ring** (Megatron-Core's default; Liu et al. 2023, ring attention): `cp − 1` steps per
//!   layer, each sending the share to the next rank while the attention of the block already
//!   received runs. Forward: `cp − 1` sends of the share; backward: `2(cp − 1)` (the keys and
//!   values again, and their gradients). A step is exposed by what its transfer exceeds the
//!   attention of one block, `1/cp` of the layer's attention core.
//! - **All-gather** (Llama 3, Dubey et al. 2024 §3.3.2): the keys and values of the whole
//!   sequence (`cp` shares) all-gathered before the attention and their gradients
//!   reduce-scattered after it, nothing hidden.

use crate::costs::Purpose;
use crate::plan::{CpComm, Plan};
use astrolabe_collective::CollectiveOp;
use astrolabe_model::ops::ACTIVATION_BYTES;
use astrolabe_model::TransformerModel;

/// One kind of context-parallel transfer of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// Forward or backward.
    pub purpose: Purpose,
    /// Ranks taking part: 2 (neighbours of the ring) or `cp`.
    pub members: u64,
    /// The operation.
    pub op: CollectiveOp,
    /// Bytes per use (nccl-tests convention: the whole gathered buffer for an all-gather).
    pub bytes: u64,
    /// Uses per layer and micro-batch.
    pub repeats: u32,
}

/// Bytes of one context-parallel rank's keys and values of one layer on one TP rank.
pub fn kv_share_bytes(model: &TransformerModel, plan: &Plan) -> u64 {
    let tokens = plan.micro_batch * (model.seq_len / plan.cp.max(1));
    tokens * 2 * (model.kv_dim() / plan.tp.max(1)) * ACTIVATION_BYTES
}

/// The transfers of one layer and micro-batch; none without context parallelism.
pub fn exchanges(model: &TransformerModel, plan: &Plan) -> Vec<Exchange> {
    if plan.cp < 2 {
        return Vec::new();
    }
    let share = kv_share_bytes(model, plan);
    let steps = u32::try_from(plan.cp - 1).unwrap_or(u32::MAX);
    let exchange =
        |purpose, members, op, bytes, repeats| Exchange { purpose, members, op, bytes, repeats };
    match plan.cp_comm {
        CpComm::Ring => vec![
            exchange(Purpose::CpForward, 2, CollectiveOp::SendRecv, share, steps),
            exchange(Purpose::CpBackward, 2, CollectiveOp::SendRecv, share, 2 * steps),
        ],
        CpComm::AllGather => {
            let whole = share * plan.cp;
            vec![
                exchange(Purpose::CpForward, plan.cp, CollectiveOp::AllGather, whole, 1),
                exchange(Purpose::CpBackward, plan.cp, CollectiveOp::ReduceScatter, whole, 1),
            ]
        }
    }
}

/// The exposed seconds of one layer's context-parallel communication.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpExposed {
    /// Per forward.
    pub forward_s: f64,
    /// Per backward.
    pub backward_s: f64,
}

impl CpExposed {
    /// From the layer's forward attention core `core_s` and the communication of one forward
    /// (`forward_comm_s`) and backward (`backward_comm_s`). The backward's attention core is
    /// twice the forward's, plus half again with flash attention (which recomputes the scores).
    pub fn of(plan: &Plan, core_s: f64, forward_comm_s: f64, backward_comm_s: f64) -> CpExposed {
        if plan.cp < 2 || plan.cp_comm == CpComm::AllGather {
            return CpExposed { forward_s: forward_comm_s, backward_s: backward_comm_s };
        }
        let steps = (plan.cp - 1) as f64;
        let block_s = core_s / plan.cp as f64;
        let backward_block_s = block_s * if plan.flash_attention { 2.5 } else { 2.0 };
        let exposed = |comm_s: f64, block_s: f64| steps * (comm_s / steps - block_s).max(0.0);
        CpExposed {
            forward_s: exposed(forward_comm_s, block_s),
            backward_s: exposed(backward_comm_s, backward_block_s),
        }
    }
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
