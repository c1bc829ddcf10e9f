//! DualPipe-style bidirectional pipeline orders (DeepSeek-AI 2024, "DeepSeek-V3 Technical
//! Report", arXiv 2412.19437, §3.2.1, Figure 5, Table 2).
//!
//! The model is cut into `p` stages (`p` even). Stage `s` of the pipeline holds two chunks:
//! chunk 0 is model stage `s` of the *forward direction*, whose micro-batches enter at stage 0
//! and leave at stage `p − 1`; chunk 1 is model stage `p − 1 − s` of the *reverse direction*,
//! whose micro-batches enter at stage `p − 1`. Every GPU therefore holds two model stages' worth
//! of parameters (two copies of the model over the pipeline, Table 2's "2×"). Micro-batches
//! `0 .. m/2` run in the forward direction, `m/2 .. m` in the reverse one. Each pass carries its
//! direction as its [`Pass::chunk`]. Backwards are split as in zero bubble: an input-gradient
//! pass B, sent on at once, and a weight-gradient pass W that fills idle time.
//!
//! The orders are derived, not drawn: a greedy run in unit time (F, B and W one unit each,
//! sends free). Whenever a stage is free it runs the first that is possible of:
//! 1. a forward, first of the direction in which the stage sits in the later half of the
//!    pipeline (stage `s < p/2` prefers the reverse direction, where it is position
//!    `p − 1 − s`), then of the other; allowed while fewer micro-batches of that direction await
//!    their B than 1F1B's warm-up at that position (`p − position`, so `(p − s) + (s + 1) =
//!    p + 1` over both directions) and fewer than `p + 1` await their W on the stage (Table 2's
//!    activation memory of `PP + 1` micro-batches);
//! 2. a B whose gradient has arrived, same preference;
//! 3. the oldest pending W;
//! 4. else it waits.
//!
//! Compute passes stay serial on a stage's compute stream: DeepSeek overlaps the
//! *communication* of one chunk (all-to-all, pipeline sends) with the computation of the other,
//! not two computations, so a forward and a backward "executed together" take F + B here, and
//! their pipeline sends already run beside the other chunk's compute on the pipeline stream.
//! With unit passes the run reaches `3m + p/2 − 1`: the middle stages wait `p/2 − 1` units for
//! their first input (from either end) and the W passes fill every later gap; a test checks it.
//!
//! The step graph takes its orders from the same run with each stage's own pass times
//! ([`dualpipe_orders_timed`], [`dualpipe_pass_times`]): with a W much shorter than a B (full
//! recomputation, exposed all-to-alls) the unit-time orders leave stages waiting where they
//! expected a W to take as long as a B.

use crate::pipeline::{StepCosts, StepShape};
use crate::schedule::Pass;
use std::collections::VecDeque;

/// The model stage (position in its direction's pipeline) that `chunk` of `stage` holds.
pub fn dualpipe_model_stage(stage: usize, chunk: usize, stages: usize) -> usize {
    if chunk == 0 {
        stage
    } else {
        stages - 1 - stage
    }
}

/// The direction (chunk) of micro-batch `micro_batch` of `micro_batches`: the first half enters
/// at stage 0 (0), the second at stage `p − 1` (1).
pub fn dualpipe_direction(micro_batch: usize, micro_batches: usize) -> usize {
    usize::from(micro_batch >= micro_batches / 2)
}

/// Where a greedy run stands on one stage.
#[derive(Clone, Default)]
struct StageState {
    /// Next forward and next B of each direction, as an index within the direction.
    next_f: [usize; 2],
    next_b: [usize; 2],
    /// Micro-batches of each direction past their forward and before their B.
    before_b: [usize; 2],
    /// Micro-batches past their forward and before their W (both directions).
    before_w: usize,
    /// B done, W not yet: (direction, micro-batch), oldest first.
    pending_w: VecDeque<(usize, usize)>,
}

/// How long one stage's passes of one direction take, for deriving the order: forward, input
/// gradient (B) and weight gradient (W), in any unit (a zero counts as one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassTimes {
    /// A forward pass.
    pub forward: u64,
    /// An input-gradient pass (B).
    pub backward: u64,
    /// A weight-gradient pass (W).
    pub weight: u64,
}

impl PassTimes {
    /// Equal passes: the unit-time run.
    pub const UNIT: PassTimes = PassTimes { forward: 1, backward: 1, weight: 1 };

    fn of(&self, pass: &Pass) -> u64 {
        let t = match (pass.forward, pass.weight) {
            (true, _) => self.forward,
            (false, false) => self.backward,
            (false, true) => self.weight,
        };
        t.max(1)
    }
}

/// DualPipe orders of every stage of `stages` (even, at least 2) with `micro_batches` (even, at
/// least 2; checked by the caller's plan validation), by the greedy unit-time run described in
/// the module documentation.
pub fn dualpipe_orders(stages: usize, micro_batches: usize) -> Vec<Vec<Pass>> {
    let unit = vec![[PassTimes::UNIT; 2]; stages];
    dualpipe_orders_timed(stages, micro_batches, &unit)
        .expect("the unit-time DualPipe run cannot stall (a test covers many p and m)")
}

/// As [`dualpipe_orders`], but the greedy run gives each pass its time from `times` (by stage,
/// then direction) instead of one unit, so that the orders fit passes of unequal length (a
/// short W, a long B with recomputation or all-to-alls): whenever a stage is free it takes the
/// first possible pass by the same rules, at the time it is free. Equal times give the
/// unit-time orders. `None` if the run stalls (no stage can proceed and none is busy).
pub fn dualpipe_orders_timed(
    stages: usize,
    micro_batches: usize,
    times: &[[PassTimes; 2]],
) -> Option<Vec<Vec<Pass>>> {
    let (p, m) = (stages, micro_batches);
    debug_assert!(p >= 2 && p % 2 == 0 && m >= 2 && m % 2 == 0, "p = {p}, m = {m}");
    debug_assert_eq!(times.len(), p, "pass times of every stage");
    let never = u64::MAX;
    // End times by (stage, micro-batch); micro-batch indices are global.
    let mut ends = Ends { f: vec![vec![never; m]; p], b: vec![vec![never; m]; p] };
    let mut state = vec![StageState::default(); p];
    let mut orders: Vec<Vec<Pass>> = vec![Vec::with_capacity(3 * m); p];
    // When each stage is next free (or, asleep, next looks again), and the end times of all
    // passes placed: what can change a stage's choice.
    let mut free = vec![0u64; p];
    let mut asleep = vec![false; p];
    let mut changes = std::collections::BTreeSet::new();
    // The earliest free stage with passes left (ties: the lower stage, as the unit-time run).
    while let Some(s) = (0..p).filter(|&s| orders[s].len() < 3 * m).min_by_key(|&s| (free[s], s)) {
        let t = free[s];
        if t == never {
            return None;
        }
        let Some(pass) = next_pass(&mut state[s], (s, p, m), t, &ends) else {
            // Nothing possible: look again when the next pass anywhere ends (one placed later
            // wakes it, see below).
            free[s] = changes.range(t + 1..).next().copied().unwrap_or(never);
            asleep[s] = true;
            continue;
        };
        asleep[s] = false;
        let end = t + times[s][pass.chunk].of(&pass);
        if pass.forward {
            ends.f[s][pass.micro_batch] = end;
        } else if !pass.weight {
            ends.b[s][pass.micro_batch] = end;
        }
        changes.insert(end);
        free[s] = end;
        for w in (0..p).filter(|&w| asleep[w]) {
            free[w] = free[w].min(end);
        }
        orders[s].push(pass);
    }
    Some(orders)
}

/// What each stage's passes of each direction take on its compute stream and in the
/// communication that the pass's next layer waits for (exposed TP, CP and EP), for
/// [`dualpipe_orders_timed`]; `layer_start` holds the prefix sums of the shape's layout. Sends
/// are left out, as in the unit-time run.
pub fn dualpipe_pass_times(
    shape: &StepShape,
    costs: &StepCosts,
    layer_start: &[usize],
) -> Vec<[PassTimes; 2]> {
    let last = shape.vstages() - 1;
    let c = costs;
    let of = |s: usize, d: usize| {
        let v = shape.vstage(s, d);
        let mut t = PassTimes { forward: 0, backward: 0, weight: 0 };
        for layer in layer_start[v]..layer_start[v + 1] {
            let wgrad = c.wgrad_ns(layer);
            t.forward += c.layer_ns(layer, true) + c.ep_ns(layer, true) + c.cp_fwd_ns + c.tp_fwd_ns;
            t.backward += c.layer_ns(layer, false).saturating_sub(wgrad)
                + c.ep_ns(layer, false)
                + c.cp_bwd_ns
                + c.tp_bwd_ns;
            t.weight += wgrad;
        }
        t.forward += if v == 0 { c.first_fwd_ns } else { 0 };
        if v == last {
            t.forward += c.last_fwd_ns;
            t.backward += c.last_bwd_ns;
        }
        t
    };
    (0..shape.stages).map(|s| [of(s, 0), of(s, 1)]).collect()
}

/// End times of the forwards and Bs placed so far, by (stage, micro-batch).
struct Ends {
    f: Vec<Vec<u64>>,
    b: Vec<Vec<u64>>,
}

/// The pass stage `s` of `p` (with `m` micro-batches) takes at time `t` by the rules of the
/// module documentation, its state updated; `None` if none is possible.
fn next_pass(
    st: &mut StageState,
    (s, p, m): (usize, usize, usize),
    t: u64,
    ends: &Ends,
) -> Option<Pass> {
    let half = m / 2;
    let preferred = usize::from(s < p / 2);
    let directions = [preferred, 1 - preferred];
    let forward = directions.into_iter().find(|&d| {
        let (i, k) = (st.next_f[d], dualpipe_model_stage(s, d, p));
        let upstream = if d == 0 { s.wrapping_sub(1) } else { s + 1 };
        let room = st.before_b[d] < p - k && st.before_w < p + 1;
        i < half && room && (k == 0 || ends.f[upstream][i + d * half] <= t)
    });
    let backward = directions.into_iter().find(|&d| {
        let (i, k) = (st.next_b[d], dualpipe_model_stage(s, d, p));
        let downstream = if d == 0 { s + 1 } else { s.wrapping_sub(1) };
        let mb = i + d * half;
        i < half && ends.f[s][mb] <= t && (k == p - 1 || ends.b[downstream][mb] <= t)
    });
    if let Some(d) = forward {
        let mb = st.next_f[d] + d * half;
        st.next_f[d] += 1;
        st.before_b[d] += 1;
        st.before_w += 1;
        Some(Pass { forward: true, weight: false, chunk: d, micro_batch: mb })
    } else if let Some(d) = backward {
        let mb = st.next_b[d] + d * half;
        st.next_b[d] += 1;
        st.before_b[d] -= 1;
        st.pending_w.push_back((d, mb));
        Some(Pass { forward: false, weight: false, chunk: d, micro_batch: mb })
    } else {
        let (d, mb) = st.pending_w.pop_front()?;
        st.before_w -= 1;
        Some(Pass { forward: false, weight: true, chunk: d, micro_batch: mb })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(order: &[Pass]) -> String {
        let s: Vec<String> =
            order.iter().map(|p| format!("{}{}", p.letter(), p.micro_batch)).collect();
        s.join(" ")
    }

    /// p = 2, m = 4 (micro-batches 0, 1 forward, 2, 3 reverse), worked by hand. Stage 0 is
    /// position 0 of the forward direction (up to 2 micro-batches before their B) and position 1
    /// of the reverse one (up to 1), and prefers the reverse one; stage 1 mirrors it. At most
    /// p + 1 = 3 micro-batches await their W on a stage.
    /// - t = 0: stage 0 runs F0 (F2 has not arrived), stage 1 runs F2; t = 1: F2 and F0;
    /// - t = 2: F3 would be a second reverse micro-batch before its B on stage 0: it runs F1;
    ///   stage 1 runs F3;
    /// - t = 3: each stage is last for one micro-batch: B2 on stage 0, B0 on stage 1;
    /// - t = 4: F3 has room in its direction but F0, F2, F1 await their W (3): stage 0 runs B0,
    ///   whose gradient arrived at 4; stage 1 runs B2;
    /// - t = 5: nothing has arrived: W2 and W0; t = 6: F3 and F1; t = 7: B3 and B1; t = 8: B1
    ///   and B3; t = 9 to 11: the last W.
    ///
    /// Every stage is busy from 0 to 12 = 3m: no bubble (p/2 − 1 = 0).
    #[test]
    fn two_stages_have_no_bubble() {
        let orders = dualpipe_orders(2, 4);
        let shown: Vec<String> = orders.iter().map(|o| show(o)).collect();
        assert_eq!(
            shown,
            ["F0 F2 F1 B2 B0 W2 F3 B3 B1 W0 W3 W1", "F2 F0 F3 B0 B2 W0 F1 B1 B3 W2 W1 W3",]
        );
    }

    #[test]
    fn directions_and_model_stages() {
        assert_eq!(dualpipe_direction(3, 8), 0);
        assert_eq!(dualpipe_direction(4, 8), 1);
        // Stage 1 of 4 holds model stage 1 (forward) and 2 (reverse).
        assert_eq!(dualpipe_model_stage(1, 0, 4), 1);
        assert_eq!(dualpipe_model_stage(1, 1, 4), 2);
    }
}
