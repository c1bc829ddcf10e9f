//! The simulated step as a timeline for people: Perfetto / Chrome trace-event JSON.
//!
//! A [`StepTrace`] keeps the step's graph and the engine's timeline. [`StepTrace::write_json`]
//! writes them in the Trace Event Format (loadable in ui.perfetto.dev and chrome://tracing): one
//! process per simulated GPU (a pipeline stage's representative, or every GPU in per-rank mode),
//! one thread (track) per stream of that GPU that ran a task (compute, tp, cp, ep, pp, dp, mem),
//! and one complete event (`"ph":"X"`) per task. Times are written in microseconds with three
//! decimals, which is exact for integer nanoseconds. An event takes about 200 bytes, so a trace
//! is roughly `200 × simulated_tasks` bytes (the default scenario: 228,872 tasks, 46 MB); the
//! graph is bounded by [`crate::run::MAX_TASKS`].

use crate::breakdown::{rank_of, PART_NAMES};
use crate::run::Mode;
use astrolabe_engine::{Graph, StreamId, Timeline};
use std::io::{self, Write};

#[path = "trace_label.rs"]
mod label;

pub use label::{readable_name, LabelParts};

/// The step's graph and timeline, for the trace and timeline charts.
#[derive(Debug, Clone)]
pub struct StepTrace {
    graph: Graph,
    timeline: Timeline,
    mode: Mode,
}

/// One task as the trace shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceTask<'a> {
    /// The stream it ran on.
    pub stream: StreamId,
    /// The task's label in the graph (`s2 F mb3 L17`).
    pub label: &'a str,
    /// The breakdown part it counts toward (`compute`, `tp_comm`, …, `memory`).
    pub category: &'static str,
    /// When it started, ns from the start of the step graph.
    pub start_ns: u64,
    /// When it ended, ns.
    pub end_ns: u64,
}

/// A stream that ran at least one task: a track of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// The stream.
    pub stream: StreamId,
    /// The GPU it belongs to, for people (`stage 2`, or `stage 2 · dp 0 · tp 1` per rank).
    pub gpu: String,
    /// The kind of stream (`compute`, `tp`, `cp`, `ep`, `pp`, `dp`, `mem`).
    pub kind: String,
    /// Index of its GPU among the tracks' GPUs, in stream order.
    pub gpu_index: usize,
    /// The tasks that ran on it, by start time (then task id).
    pub tasks: Vec<usize>,
}

/// Order of the stream kinds within one GPU; unknown kinds come after, in stream order.
const KIND_ORDER: [&str; 7] = ["compute", "tp", "cp", "ep", "pp", "dp", "mem"];

impl StepTrace {
    /// A trace of `graph` as the engine ran it (`timeline` has one span per task of `graph`).
    pub fn new(graph: Graph, timeline: Timeline, mode: Mode) -> Self {
        StepTrace { graph, timeline, mode }
    }

    /// When the last task ended: the step graph's makespan, ns.
    pub fn makespan_ns(&self) -> u64 {
        self.timeline.makespan.0
    }

    /// Whether the step was simulated per rank or one GPU per stage.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Number of tasks (events) in the trace.
    pub fn task_count(&self) -> usize {
        self.timeline.spans.len()
    }

    /// Task `id` as the trace shows it.
    pub fn task(&self, id: usize) -> TraceTask<'_> {
        let (t, span) = (&self.graph.tasks[id], &self.timeline.spans[id]);
        TraceTask {
            stream: t.stream,
            label: &t.label,
            category: PART_NAMES[rank_of(t.category, &self.graph.streams[t.stream])],
            start_ns: span.start.0,
            end_ns: span.end.0,
        }
    }

    /// The tracks, grouped by GPU in stream order, each GPU's in the order compute, tp, cp,
    /// ep, pp, dp, mem (other kinds after).
    pub fn tracks(&self) -> Vec<Track> {
        let mut per_stream: Vec<Vec<usize>> = vec![Vec::new(); self.graph.streams.len()];
        for (id, t) in self.graph.tasks.iter().enumerate().take(self.task_count()) {
            per_stream[t.stream].push(id);
        }
        let mut gpus: Vec<String> = Vec::new();
        let mut tracks = Vec::new();
        for (stream, mut tasks) in per_stream.into_iter().enumerate() {
            if tasks.is_empty() {
                continue;
            }
            tasks.sort_by_key(|&id| (self.timeline.spans[id].start, id));
            let name = &self.graph.streams[stream];
            let (rank, kind) = name.rsplit_once('/').unwrap_or(("", name));
            let gpu = gpu_name(rank, self.mode);
            let gpu_index = gpus.iter().position(|g| *g == gpu).unwrap_or_else(|| {
                gpus.push(gpu.clone());
                gpus.len() - 1
            });
            tracks.push(Track { stream, gpu, kind: kind.to_string(), gpu_index, tasks });
        }
        tracks.sort_by_key(|t| (t.gpu_index, kind_rank(&t.kind), t.stream));
        tracks
    }

    /// Writes the trace as Trace Event Format JSON, one event per line; `scenario` names the
    /// scenario in the trace's `otherData`.
    pub fn write_json(&self, scenario: &str, out: &mut impl Write) -> io::Result<()> {
        let tracks = self.tracks();
        let mode = match self.mode {
            Mode::Representative => "representative",
            Mode::PerRank => "per_rank",
        };
        writeln!(out, "{{\"displayTimeUnit\":\"ns\",")?;
        writeln!(
            out,
            "\"otherData\":{{\"scenario\":{},\"mode\":\"{mode}\",\"makespan_ns\":{},\"tasks\":{}}},",
            quote(scenario),
            self.makespan_ns(),
            self.task_count()
        )?;
        write!(out, "\"traceEvents\":[")?;
        let mut first = true;
        let mut line = |out: &mut dyn Write, event: String| -> io::Result<()> {
            let sep = if first { "\n" } else { ",\n" };
            first = false;
            write!(out, "{sep}{event}")
        };
        let mut named = usize::MAX;
        for (order, track) in tracks.iter().enumerate() {
            let (pid, tid) = (track.gpu_index + 1, track.stream + 1);
            if track.gpu_index != named {
                named = track.gpu_index;
                line(out, meta(pid, None, "process_name", "name", &quote(&track.gpu)))?;
                line(out, meta(pid, None, "process_sort_index", "sort_index", &pid.to_string()))?;
            }
            line(out, meta(pid, Some(tid), "thread_name", "name", &quote(&track.kind)))?;
            let index = order.to_string();
            line(out, meta(pid, Some(tid), "thread_sort_index", "sort_index", &index))?;
        }
        for track in &tracks {
            for &id in &track.tasks {
                line(out, self.complete_event(track.gpu_index + 1, track.stream + 1, id))?;
            }
        }
        writeln!(out, "\n]}}")
    }

    /// The trace as a string (see [`StepTrace::write_json`]).
    pub fn to_json(&self, scenario: &str) -> String {
        let mut out = Vec::new();
        self.write_json(scenario, &mut out).expect("writing to memory does not fail");
        String::from_utf8(out).expect("the writer writes UTF-8")
    }

    /// The complete (`X`) event of task `id`.
    fn complete_event(&self, pid: usize, tid: usize, id: usize) -> String {
        let t = self.task(id);
        let parts = LabelParts::parse(t.label);
        let dur_ns = t.end_ns - t.start_ns;
        let mut args = String::new();
        for (key, value) in
            [("stage", parts.stage), ("micro_batch", parts.micro_batch), ("layer", parts.layer)]
        {
            if let Some(v) = value {
                args.push_str(&format!("\"{key}\":{v},"));
            }
        }
        format!(
            "{{\"ph\":\"X\",\"pid\":{pid},\"tid\":{tid},\"ts\":{},\"dur\":{},\"name\":{},\
             \"cat\":\"{}\",\"args\":{{{args}\"duration_ns\":{dur_ns},\"label\":{}}}}}",
            micros(t.start_ns),
            micros(dur_ns),
            quote(&readable_name(&parts, t.label)),
            t.category,
            quote(t.label)
        )
    }
}

/// A metadata (`M`) event.
fn meta(pid: usize, tid: Option<usize>, name: &str, key: &str, value: &str) -> String {
    let tid = tid.map_or(String::new(), |t| format!("\"tid\":{t},"));
    format!(
        "{{\"ph\":\"M\",\"pid\":{pid},{tid}\"name\":\"{name}\",\"args\":{{\"{key}\":{value}}}}}"
    )
}

/// `ns` in microseconds with three decimals: exact.
pub(crate) fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// `text` as a JSON string literal.
fn quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

/// Position of a stream kind in [`KIND_ORDER`] (unknown kinds last).
fn kind_rank(kind: &str) -> usize {
    KIND_ORDER.iter().position(|k| *k == kind).unwrap_or(KIND_ORDER.len())
}

/// `stage2/dp0/tp1` as `stage 2 · dp 0 · tp 1`; in representative mode only the stage, since
/// its GPU stands for the whole stage.
fn gpu_name(rank: &str, mode: Mode) -> String {
    let parts: Vec<String> = rank
        .split('/')
        .filter(|p| !p.is_empty())
        .map(|p| match p.find(|c: char| c.is_ascii_digit()) {
            Some(i) if i > 0 => format!("{} {}", &p[..i], &p[i..]),
            _ => p.to_string(),
        })
        .collect();
    match mode {
        Mode::Representative => parts.into_iter().next().unwrap_or_default(),
        Mode::PerRank => parts.join(" · "),
    }
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
