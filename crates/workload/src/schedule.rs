//! Pipeline schedules: the order of forward and backward passes on each stage.

use serde::Serialize;

/// A pipeline schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// All forwards, then all backwards (Huang et al. 2019).
    Gpipe,
    /// One forward, one backward in steady state (PipeDream-flush; Narayanan et al. 2021).
    OneFOneB,
    /// 1F1B over `v` model chunks per stage (Narayanan et al. 2021, §2.2).
    Interleaved1F1B,
    /// Zero bubble, ZB-H1 style (Qi et al. 2024, arXiv 2401.10241): backward split into input
    /// gradient (B) and weight gradient (W) passes, W deferred to fill idle time; one chunk.
    ZeroBubble,
    /// DualPipe-style bidirectional pipeline (DeepSeek-AI 2024, arXiv 2412.19437, §3.2.1):
    /// two chunks per stage, model stage `s` (chunk 0, micro-batches entering at stage 0) and
    /// model stage `p − 1 − s` (chunk 1, micro-batches entering at stage `p − 1`), with the
    /// zero-bubble split of the backward; see [`crate::dualpipe`].
    DualPipe,
}

impl Schedule {
    /// Whether backwards are split into input-gradient (B) and weight-gradient (W) passes.
    pub fn splits_weight_gradients(self) -> bool {
        matches!(self, Schedule::ZeroBubble | Schedule::DualPipe)
    }
}

/// One pass of one micro-batch through one model chunk of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Forward (true) or backward.
    pub forward: bool,
    /// Zero bubble: the weight-gradient part of a backward (then `forward` is false).
    pub weight: bool,
    /// Model chunk on this stage (0 without interleaving); with DualPipe, the direction (see
    /// [`crate::dualpipe`]).
    pub chunk: usize,
    /// Micro-batch index.
    pub micro_batch: usize,
}

impl Pass {
    /// The pass's letter in labels: `F`, `B` or `W` (weight gradient).
    pub fn letter(&self) -> &'static str {
        match (self.forward, self.weight) {
            (true, _) => "F",
            (false, true) => "W",
            (false, false) => "B",
        }
    }
}

/// The order of passes on `stage` of `stages`, with `chunks` model chunks per stage and
/// `micro_batches` micro-batches. Interleaving needs `micro_batches` divisible by `stages`
/// (checked by the caller's plan validation).
pub fn stage_order(
    schedule: Schedule,
    stage: usize,
    stages: usize,
    chunks: usize,
    micro_batches: usize,
) -> Vec<Pass> {
    if schedule.splits_weight_gradients() {
        return stage_orders(schedule, stages, chunks, micro_batches).swap_remove(stage);
    }
    let total = micro_batches * chunks;
    let fwd = |k: usize| {
        let group = k / stages;
        Pass {
            forward: true,
            weight: false,
            chunk: group % chunks,
            micro_batch: (group / chunks) * stages + k % stages,
        }
    };
    let bwd = |k: usize| Pass { forward: false, chunk: chunks - 1 - fwd(k).chunk, ..fwd(k) };
    let warmup = match schedule {
        Schedule::Gpipe => total,
        Schedule::OneFOneB | Schedule::Interleaved1F1B if chunks == 1 => stages - stage - 1,
        _ => (stages - stage - 1) * 2 + (chunks - 1) * stages,
    }
    .min(total);
    let mut order: Vec<Pass> = (0..warmup).map(fwd).collect();
    for i in 0..total - warmup {
        order.push(fwd(warmup + i));
        order.push(bwd(i));
    }
    order.extend((total - warmup..total).map(bwd));
    order
}

/// The order of passes of every stage (see [`stage_order`]); the zero-bubble and DualPipe orders
/// come from one run for all stages.
pub fn stage_orders(
    schedule: Schedule,
    stages: usize,
    chunks: usize,
    micro_batches: usize,
) -> Vec<Vec<Pass>> {
    match schedule {
        Schedule::ZeroBubble => return zero_bubble_orders(stages, micro_batches),
        Schedule::DualPipe => return crate::dualpipe::dualpipe_orders(stages, micro_batches),
        _ => {}
    }
    (0..stages).map(|s| stage_order(schedule, s, stages, chunks, micro_batches)).collect()
}

/// ZB-H1-style orders of every stage, by a greedy run of the pipeline in unit time (forward,
/// input-gradient and weight-gradient passes each one unit, sends free): whenever a stage is
/// free it runs the next forward if its input has arrived, fewer than `stages − stage`
/// micro-batches await their B (1F1B's warm-up) and fewer than `stages` await their W (ZB-H1's
/// memory bound: every stage holds at most what 1F1B's first stage holds); else the next
/// backward (B) if its gradient has arrived; else its oldest pending W; else it waits. The
/// backward chain between stages then moves at the speed of B alone and the W passes fill the
/// time 1F1B leaves idle: with equal pass times the step is `3m + p − 1` units against 1F1B's
/// `3(m + p − 1)`, the bubble ZB-H1 reaches (Qi et al. 2024, §3.1).
pub fn zero_bubble_orders(stages: usize, micro_batches: usize) -> Vec<Vec<Pass>> {
    let (p, m) = (stages, micro_batches);
    let never = u64::MAX;
    let mut f_end = vec![vec![never; m]; p];
    let mut b_end = vec![vec![never; m]; p];
    let (mut next_f, mut next_b) = (vec![0usize; p], vec![0usize; p]);
    let mut pending: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); p];
    // Micro-batches past their forward and before their B (1F1B's count), and before their W.
    let (mut before_b, mut before_w) = (vec![0usize; p], vec![0usize; p]);
    let mut orders: Vec<Vec<Pass>> = vec![Vec::with_capacity(3 * m); p];
    let pass = |forward, weight, micro_batch| Pass { forward, weight, chunk: 0, micro_batch };
    let mut t = 0u64;
    while orders.iter().any(|o| o.len() < 3 * m) {
        for s in 0..p {
            let (f, b) = (next_f[s], next_b[s]);
            let b_ready = b < m && f_end[s][b] <= t && (s + 1 == p || b_end[s + 1][b] <= t);
            let room = before_b[s] < p - s && before_w[s] < p;
            let f_ready = f < m && room && (s == 0 || f_end[s - 1][f] <= t);
            if f_ready {
                f_end[s][f] = t + 1;
                next_f[s] += 1;
                before_b[s] += 1;
                before_w[s] += 1;
                orders[s].push(pass(true, false, f));
            } else if b_ready {
                b_end[s][b] = t + 1;
                next_b[s] += 1;
                before_b[s] -= 1;
                pending[s].push_back(b);
                orders[s].push(pass(false, false, b));
            } else if let Some(w) = pending[s].pop_front() {
                before_w[s] -= 1;
                orders[s].push(pass(false, true, w));
            }
        }
        t += 1;
    }
    orders
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(order: &[Pass]) -> String {
        let s: Vec<String> =
            order.iter().map(|p| format!("{}{}{}", p.letter(), p.chunk, p.micro_batch)).collect();
        s.join(" ")
    }

    #[test]
    fn one_f_one_b_warms_up_by_stage() {
        assert_eq!(
            show(&stage_order(Schedule::OneFOneB, 0, 4, 1, 4)),
            "F00 F01 F02 F03 B00 B01 B02 B03"
        );
        assert_eq!(
            show(&stage_order(Schedule::OneFOneB, 2, 4, 1, 4)),
            "F00 F01 B00 F02 B01 F03 B02 B03"
        );
        assert_eq!(
            show(&stage_order(Schedule::OneFOneB, 3, 4, 1, 4)),
            "F00 B00 F01 B01 F02 B02 F03 B03"
        );
    }

    #[test]
    fn zero_bubble_defers_weight_gradients_into_the_idle_time() {
        // 3 stages, 3 micro-batches, unit passes (worked through by hand in the order the
        // greedy takes its decisions).
        let orders = zero_bubble_orders(3, 3);
        // Stage 0 idles at t = 3, 4 waiting for B0 (p − 1 units), then never again; the last
        // stage defers its W passes to the end; every stage ends at t = 11 = 3m + p − 1.
        let shown: Vec<String> = orders.iter().map(|o| show(o)).collect();
        assert_eq!(
            shown,
            [
                "F00 F01 F02 B00 W00 B01 W01 B02 W02",
                "F00 F01 B00 F02 B01 W00 B02 W01 W02",
                "F00 B00 F01 B01 F02 B02 W00 W01 W02",
            ]
        );
        for order in &orders {
            assert_eq!(order.len(), 9);
        }
    }

    #[test]
    fn gpipe_runs_all_forwards_first() {
        assert_eq!(show(&stage_order(Schedule::Gpipe, 1, 2, 1, 3)), "F00 F01 F02 B00 B01 B02");
    }

    #[test]
    fn interleaved_cycles_chunks_in_groups_of_stages() {
        // 2 stages, 2 chunks, 4 micro-batches; stage 0 warms up with (2−0−1)·2 + (2−1)·2 = 4.
        let order = stage_order(Schedule::Interleaved1F1B, 0, 2, 2, 4);
        assert_eq!(show(&order), "F00 F01 F10 F11 F02 B10 F03 B11 F12 B00 F13 B01 B12 B13 B02 B03");
        assert_eq!(order.len(), 16);
    }
}
