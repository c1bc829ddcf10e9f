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
}

/// One pass of one micro-batch through one model chunk of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Forward (true) or backward.
    pub forward: bool,
    /// Model chunk on this stage (0 without interleaving).
    pub chunk: usize,
    /// Micro-batch index.
    pub micro_batch: usize,
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
    let total = micro_batches * chunks;
    let fwd = |k: usize| {
        let group = k / stages;
        Pass {
            forward: true,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn show(order: &[Pass]) -> String {
        let s: Vec<String> = order
            .iter()
            .map(|p| format!("{}{}{}", if p.forward { 'F' } else { 'B' }, p.chunk, p.micro_batch))
            .collect();
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
