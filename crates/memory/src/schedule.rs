//! How many micro-batches' activations a pipeline stage keeps at its peak.
//!
//! Counts follow the warm-up lengths of Megatron-LM's schedules (Narayanan et al. 2021 §2.2):
//! a stage's peak comes after its warm-up forwards plus the first steady-state forward.
//!
//! - **GPipe**: every forward runs before any backward, so each stage keeps all `m`.
//! - **Zero bubble** (ZB-H1): until its W, at most `p` on every stage.
//! - **DualPipe**: both directions together, until their W, at most `p + 1` on every stage
//!   (DeepSeek-AI 2024, arXiv 2412.19437, Table 2), 1F1B's `p − s` of the forward direction
//!   plus `s + 1` of the reverse one. Counted whole: an upper bound, as for zero bubble.
//! - **1F1B**: stage `i` (0-based) of `p` runs `p − i − 1` warm-up forwards, so it keeps
//!   `min(p − i, m)`: `p` on the first stage, 1 on the last.
//! - **Interleaved 1F1B** with `v` chunks of `L/(p·v)` layers each: stage `i` runs
//!   `2(p − i − 1) + (v − 1)·p` warm-up chunk-forwards, so it keeps `min(2(p − i − 1) + (v − 1)·p
//!   + 1, m·v)` chunk-micro-batches. On the first stage that is `(v + 1)·p − 1` chunks of
//!   `L/(p·v)` layers: `L·(1 + (p − 1)/(p·v))` layers' worth, which is Korthikanti et al. 2022's
//!   statement that interleaving multiplies the first stage's activation memory by
//!   `1 + (p − 1)/(p·v)` (with 1F1B it holds `p` micro-batches of `L/p` layers: `L` layers).
//!
//! The input embedding lives in the first chunk of stage 0 and the output layer in the last
//! chunk of stage `p − 1`, so their activations are counted for the micro-batches *those chunks*
//! hold. Without interleaving that is the stage's count. With it, chunks run in groups of `p`
//! micro-batches; at the first stage's peak its first chunk holds two groups (`2p`, the second
//! group's last forward coming with the next steady-state step, which frees a last-chunk
//! micro-batch), and the last stage's last chunk runs each micro-batch's backward right after
//! its forward, so it holds 1 (or all `m` when the stage never leaves warm-up, `m·v` chunks).

use crate::inputs::Schedule;

/// Activations a stage keeps at its peak, in micro-batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InFlight {
    /// Micro-batches (chunk-micro-batches when interleaved) whose layer activations are kept.
    pub chunks: u64,
    /// Micro-batches whose input-embedding activations are kept (counted on stage 0 only).
    pub first_chunk: u64,
    /// Micro-batches whose output-layer activations are kept (counted on the last stage only).
    pub last_chunk: u64,
}

/// Micro-batches in flight on stage `stage` of `pp` with `v` chunks and `m` micro-batches.
/// Assumes inputs checked by [`crate::MemoryInputs::validate`] (`stage < pp`, all at least 1).
pub fn in_flight(schedule: Schedule, pp: u64, v: u64, m: u64, stage: u64) -> InFlight {
    let chunks = match schedule {
        Schedule::GPipe => m,
        Schedule::OneFOneB => (pp - stage).min(m),
        // A micro-batch holds its activations until its W: up to `pp` on every stage (whole,
        // an upper bound: a pending W needs only the inputs of the weight GEMMs).
        Schedule::ZeroBubble => pp.min(m),
        Schedule::Interleaved1F1B => (2 * (pp - stage - 1) + (v - 1) * pp + 1).min(m * v),
        // Both directions together: until their W, at most `pp + 1` (Table 2 of arXiv
        // 2412.19437; the greedy order's bound, see `astrolabe_workload::dualpipe`).
        Schedule::DualPipe => (pp + 1).min(m),
    };
    if schedule == Schedule::DualPipe {
        // Embedding and output activations belong to one direction each: at most `m/2`.
        let ends = chunks.min(m / 2);
        return InFlight { chunks, first_chunk: ends, last_chunk: ends };
    }
    if schedule != Schedule::Interleaved1F1B {
        return InFlight { chunks, first_chunk: chunks, last_chunk: chunks };
    }
    let all_warm_up = chunks == m * v;
    InFlight { chunks, first_chunk: (2 * pp).min(m), last_chunk: if all_warm_up { m } else { 1 } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Schedule::{GPipe, Interleaved1F1B, OneFOneB};

    fn chunks(schedule: Schedule, pp: u64, v: u64, m: u64) -> Vec<u64> {
        (0..pp).map(|i| in_flight(schedule, pp, v, m, i).chunks).collect()
    }

    #[test]
    fn gpipe_and_1f1b_counts() {
        assert_eq!(chunks(GPipe, 4, 1, 8), [8, 8, 8, 8]);
        assert_eq!(chunks(OneFOneB, 4, 1, 8), [4, 3, 2, 1]);
        // Fewer micro-batches than stages: no stage can hold more than m.
        assert_eq!(chunks(OneFOneB, 4, 1, 2), [2, 2, 2, 1]);
        // Zero bubble: up to p micro-batches await their weight gradient on every stage.
        assert_eq!(chunks(Schedule::ZeroBubble, 4, 1, 8), [4, 4, 4, 4]);
        assert_eq!(chunks(Schedule::ZeroBubble, 4, 1, 2), [2, 2, 2, 2]);
        // DualPipe: p + 1 = 5 on every stage, or all m; the ends' embedding and output
        // activations of one direction, at most m/2 = 3 of 6.
        assert_eq!(chunks(Schedule::DualPipe, 4, 1, 8), [5, 5, 5, 5]);
        assert_eq!(chunks(Schedule::DualPipe, 4, 1, 2), [2, 2, 2, 2]);
        let end = in_flight(Schedule::DualPipe, 4, 1, 6, 0);
        assert_eq!((end.chunks, end.first_chunk, end.last_chunk), (5, 3, 3));
    }

    /// p = 4, v = 2, m = 8: stage i keeps 2(3 − i) + 4 + 1 chunks; the first stage's 11 chunks
    /// of L/8 layers are L·11/8 = L·(1 + 3/8), Korthikanti's factor.
    #[test]
    fn interleaved_counts_and_korthikanti_factor() {
        assert_eq!(chunks(Interleaved1F1B, 4, 2, 8), [11, 9, 7, 5]);
        for (p, v) in [(2, 2), (4, 2), (8, 3), (16, 4)] {
            let first = in_flight(Interleaved1F1B, p, v, 64, 0).chunks;
            // first / (p·v) layers-of-L == 1 + (p − 1)/(p·v), i.e. first == p·v + p − 1.
            assert_eq!(first, p * v + p - 1, "p={p} v={v}");
        }
    }

    #[test]
    fn interleaved_embedding_and_output_counts() {
        let first = in_flight(Interleaved1F1B, 4, 2, 8, 0);
        assert_eq!((first.first_chunk, first.last_chunk), (8, 1));
        // m = 2 < p: every stage stays in warm-up and holds all m·v chunks.
        let last = in_flight(Interleaved1F1B, 4, 2, 2, 3);
        assert_eq!((last.chunks, last.last_chunk), (4, 2));
    }
}
