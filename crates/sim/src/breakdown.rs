//! Where one GPU's step time goes, read off the engine's timeline so that the parts add up to
//! the step time exactly (in integer nanoseconds).
//!
//! Every instant of `[0, step end)` is given to one part: computing if a compute task of the GPU
//! runs, else the optimizer if it runs, else exposed TP, CP, EP, PP or DP communication (in that
//! order) if one of the GPU's collectives runs, else a memory stall if an offload transfer runs; an instant when the GPU does nothing is pipeline bubble
//! before its last task ends and "other" after (waiting for slower stages to finish the step).
//! The fixed per-step overhead follows the step graph and is added by the caller.

use astrolabe_engine::{Category, Graph, StreamId, Timeline};
use serde::Serialize;

/// The parts of the step time, in nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BreakdownNs {
    /// Forward and backward computation, recomputation included.
    pub compute: u64,
    /// TP communication while no computation runs.
    pub exposed_tp_comm: u64,
    /// Context-parallel exchanges while no computation runs.
    pub exposed_cp_comm: u64,
    /// Expert-parallel token dispatch and combine while no computation runs.
    pub exposed_ep_comm: u64,
    /// Pipeline sends while no computation runs.
    pub exposed_pp_comm: u64,
    /// DP communication while no computation runs.
    pub exposed_dp_comm: u64,
    /// Offload transfers to and from a memory tier (and a CPU optimizer step) while nothing
    /// else of the GPU runs.
    pub memory_stall: u64,
    /// Idle before the GPU's last task ends.
    pub pipeline_bubble: u64,
    /// The optimizer step.
    pub optimizer: u64,
    /// Idle after the GPU's last task, until the step ends.
    pub other: u64,
    /// The fixed per-step host overhead, after the step graph (the compute model's
    /// `step_overhead_s`).
    pub step_overhead: u64,
}

impl BreakdownNs {
    /// The sum of the parts.
    pub fn total(&self) -> u64 {
        self.compute
            + self.exposed_tp_comm
            + self.exposed_cp_comm
            + self.exposed_ep_comm
            + self.exposed_pp_comm
            + self.exposed_dp_comm
            + self.memory_stall
            + self.pipeline_bubble
            + self.optimizer
            + self.other
            + self.step_overhead
    }

    /// Compute plus optimizer: the work that cannot hide behind anything.
    pub fn busy(&self) -> u64 {
        self.compute + self.optimizer
    }
}

/// The parts of the step time, in seconds (the JSON `breakdown` object).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Breakdown {
    /// Forward and backward computation, recomputation included.
    pub compute_s: f64,
    /// TP communication not hidden behind computation.
    pub exposed_tp_comm_s: f64,
    /// Context-parallel key/value exchanges not hidden behind computation.
    pub exposed_cp_comm_s: f64,
    /// Expert-parallel all-to-alls (token dispatch and combine) not hidden behind computation.
    pub exposed_ep_comm_s: f64,
    /// Pipeline sends not hidden behind computation.
    pub exposed_pp_comm_s: f64,
    /// DP communication not hidden behind computation.
    pub exposed_dp_comm_s: f64,
    /// Offload: time the GPU waits on transfers to or from a memory tier, or on an optimizer
    /// step run by the CPU, with nothing else to do.
    pub memory_stall_s: f64,
    /// Idle time inside the GPU's part of the step.
    pub pipeline_bubble_s: f64,
    /// The optimizer step.
    pub optimizer_s: f64,
    /// Waiting for other stages after the GPU's last task.
    pub other_s: f64,
    /// Fixed host work of every step (logging, loss and norm reductions, data loading) that the
    /// step graph does not model; a calibrated constant of the compute model.
    pub step_overhead_s: f64,
}

impl From<BreakdownNs> for Breakdown {
    fn from(b: BreakdownNs) -> Self {
        let s = |ns: u64| ns as f64 * 1e-9;
        Breakdown {
            compute_s: s(b.compute),
            exposed_tp_comm_s: s(b.exposed_tp_comm),
            exposed_cp_comm_s: s(b.exposed_cp_comm),
            exposed_ep_comm_s: s(b.exposed_ep_comm),
            exposed_pp_comm_s: s(b.exposed_pp_comm),
            exposed_dp_comm_s: s(b.exposed_dp_comm),
            memory_stall_s: s(b.memory_stall),
            pipeline_bubble_s: s(b.pipeline_bubble),
            optimizer_s: s(b.optimizer),
            other_s: s(b.other),
            step_overhead_s: s(b.step_overhead),
        }
    }
}

/// Names of the parts a task's time counts toward, highest priority first when several run at
/// once (the trace's event categories).
pub const PART_NAMES: [&str; 8] =
    ["compute", "optimizer", "tp_comm", "cp_comm", "ep_comm", "pp_comm", "dp_comm", "memory"];

/// Priority of a task's part when several run at once (lower wins), the index of its name in
/// [`PART_NAMES`]: by its engine category, except that a task on a memory stream (named
/// `…/mem`: offload transfers and a CPU optimizer step, which the engine files under DP) is a
/// memory stall, counted last.
pub(crate) fn rank_of(category: Category, stream_name: &str) -> usize {
    if stream_name.ends_with("/mem") {
        return 7;
    }
    match category {
        Category::Compute => 0,
        Category::Optimizer => 1,
        Category::TpComm => 2,
        Category::CpComm => 3,
        Category::EpComm => 4,
        Category::PpComm => 5,
        Category::DpComm => 6,
    }
}

/// The breakdown of the GPU whose streams are `streams`, over a step ending at `step_end_ns`.
pub fn breakdown(
    graph: &Graph,
    timeline: &Timeline,
    streams: &[StreamId],
    step_end_ns: u64,
) -> BreakdownNs {
    let owner: Vec<Option<usize>> =
        (0..graph.streams.len()).map(|s| streams.contains(&s).then_some(0)).collect();
    breakdowns(graph, timeline, &owner, 1, step_end_ns).remove(0)
}

/// The breakdowns of `gpus` GPUs at once, `owner[stream]` naming the GPU a stream belongs to
/// (or none): one pass over the tasks, which a step of many stages needs.
pub fn breakdowns(
    graph: &Graph,
    timeline: &Timeline,
    owner: &[Option<usize>],
    gpus: usize,
    step_end_ns: u64,
) -> Vec<BreakdownNs> {
    // (time, +1 start / -1 end, category rank) per GPU.
    let mut events: Vec<Vec<(u64, i64, usize)>> = vec![Vec::new(); gpus];
    let mut last_end = vec![0; gpus];
    for (task, span) in graph.tasks.iter().zip(&timeline.spans) {
        let Some(gpu) = owner[task.stream] else { continue };
        if span.end.0 <= span.start.0 {
            continue;
        }
        let r = rank_of(task.category, &graph.streams[task.stream]);
        events[gpu].push((span.start.0, 1, r));
        events[gpu].push((span.end.0, -1, r));
        last_end[gpu] = last_end[gpu].max(span.end.0);
    }
    events.into_iter().zip(last_end).map(|(e, last)| sweep(e, last, step_end_ns)).collect()
}

/// Walks one GPU's start and end events, giving each moment to its highest-priority part.
fn sweep(mut events: Vec<(u64, i64, usize)>, last_end: u64, step_end_ns: u64) -> BreakdownNs {
    events.sort_unstable();
    let mut active = [0i64; 8];
    let mut out = BreakdownNs::default();
    let mut now = 0;
    let mut i = 0;
    while now < step_end_ns {
        while i < events.len() && events[i].0 <= now {
            active[events[i].2] += events[i].1;
            i += 1;
        }
        let next = events.get(i).map_or(step_end_ns, |e| e.0.min(step_end_ns));
        let slot = match active.iter().position(|&n| n > 0) {
            Some(0) => &mut out.compute,
            Some(1) => &mut out.optimizer,
            Some(2) => &mut out.exposed_tp_comm,
            Some(3) => &mut out.exposed_cp_comm,
            Some(4) => &mut out.exposed_ep_comm,
            Some(5) => &mut out.exposed_pp_comm,
            Some(6) => &mut out.exposed_dp_comm,
            Some(_) => &mut out.memory_stall,
            None if now < last_end => &mut out.pipeline_bubble,
            None => &mut out.other,
        };
        *slot += next - now;
        now = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use astrolabe_engine::run;

    #[test]
    fn parts_are_assigned_by_priority_and_add_up() {
        let mut g = Graph::default();
        let (c, tp, dp) = (g.add_stream("c"), g.add_stream("tp"), g.add_stream("dp"));
        let other = g.add_stream("other-gpu");
        // compute 0..100; tp 0..150 (50 exposed); dp 150..170 after tp; other GPU ends at 300.
        let a = g.push("a", c, 100, vec![], Category::Compute);
        let t = g.push("t", tp, 150, vec![], Category::TpComm);
        let d = g.push("d", dp, 20, vec![t], Category::DpComm);
        let late = g.push("late", other, 250, vec![], Category::Compute);
        g.push("opt", c, 30, vec![a, d, late], Category::Optimizer);
        let tl = run(&g).unwrap();
        let b = breakdown(&g, &tl, &[c, tp, dp], tl.makespan.0);
        // optimizer waits for the other GPU's 250 ns task: 170..250 idle → bubble, 250..280 opt.
        let expected = BreakdownNs {
            compute: 100,
            exposed_tp_comm: 50,
            exposed_dp_comm: 20,
            pipeline_bubble: 80,
            optimizer: 30,
            other: 0,
            exposed_pp_comm: 0,
            exposed_cp_comm: 0,
            exposed_ep_comm: 0,
            memory_stall: 0,
            step_overhead: 0,
        };
        assert_eq!(b, expected);
        assert_eq!(b.total(), 280);
        let only_first = breakdown(&g, &tl, &[other], tl.makespan.0);
        assert_eq!((only_first.compute, only_first.other), (250, 30));
    }

    /// CP and EP communication are told apart by their engine category, whatever their stream
    /// is called; only a memory stream is known by its name. Compute 0..100; a CP exchange
    /// 100..130 and an EP all-to-all 100..160 after it (CP outranks EP: 30 each); a DP task
    /// 0..200 (exposed 160..200: 40); an offload transfer (DP category, `…/mem` stream)
    /// 200..250: a memory stall of 50.
    #[test]
    fn cp_and_ep_are_read_from_their_categories() {
        let mut g = Graph::default();
        let names = ["gpu/compute", "gpu/x", "gpu/y", "gpu/dp", "gpu/mem"];
        let [c, x, y, dp, mem] = names.map(|n| g.add_stream(n));
        let a = g.push("a", c, 100, vec![], Category::Compute);
        g.push("cp", x, 30, vec![a], Category::CpComm);
        g.push("ep", y, 60, vec![a], Category::EpComm);
        let d = g.push("d", dp, 200, vec![], Category::DpComm);
        g.push("store", mem, 50, vec![d], Category::DpComm);
        let tl = run(&g).unwrap();
        let b = breakdown(&g, &tl, &[c, x, y, dp, mem], tl.makespan.0);
        let parts = [b.compute, b.exposed_cp_comm, b.exposed_ep_comm, b.exposed_dp_comm];
        assert_eq!(parts, [100, 30, 30, 40]);
        assert_eq!((b.memory_stall, b.total()), (50, 250));
    }
}
