//! The pipeline timeline of a step as a Gantt chart: one row per stream of each simulated GPU,
//! spans colored by breakdown category. Big steps are thinned: runs of tiny tasks (shorter
//! than a thousandth of the step) merge into one span, and past [`MAX_SPANS`] only the
//! earliest spans are drawn; the page says so.

use anyhow::Result;
use astrolabe_html::{gantt, palette_class, Gantt, GanttRow, GanttSpan, LegendEntry, Section};
use astrolabe_sim::breakdown::PART_NAMES;
use astrolabe_sim::trace::{readable_name, LabelParts};
use astrolabe_sim::StepTrace;

/// Most spans drawn (about 120 bytes of HTML each).
const MAX_SPANS: usize = 20_000;
/// The timeline's resolution: tiny spans are those shorter than `makespan / RESOLUTION`.
const RESOLUTION: u64 = 1000;

/// A span to draw: one task, or a cluster of tiny tasks with their busy time per category.
struct Run {
    start_ns: u64,
    end_ns: u64,
    /// Busy ns per category (indices of `PART_NAMES`).
    busy_ns: [u64; PART_NAMES.len()],
    tasks: usize,
    /// The task's readable name, for a run of one task longer than tiny.
    label: Option<String>,
}

impl Run {
    /// The category that kept the run busiest (the first on ties).
    fn category(&self) -> usize {
        let most = self.busy_ns.iter().copied().max().unwrap_or(0);
        self.busy_ns.iter().position(|&b| b == most).unwrap_or(0)
    }
}

/// The timeline section of `trace`.
pub fn section(trace: &StepTrace) -> Result<Section> {
    let makespan = trace.makespan_ns();
    let tiny_ns = makespan / RESOLUTION;
    let tracks = trace.tracks();
    let mut rows: Vec<(String, Vec<Run>)> = tracks
        .iter()
        .map(|t| (format!("{} {}", t.gpu, t.kind), merged(trace, &t.tasks, tiny_ns)))
        .collect();
    let drawn: usize = rows.iter().map(|r| r.1.len()).sum();
    let cutoff = cutoff_ns(&rows);
    if let Some(c) = cutoff {
        for (_, runs) in &mut rows {
            runs.retain(|r| r.start_ns < c);
        }
    }
    let (unit, per_unit) = if makespan >= 1_000_000_000 { ("s", 1e9) } else { ("ms", 1e6) };
    let mut used = [false; PART_NAMES.len()];
    let rows: Vec<GanttRow> = rows
        .into_iter()
        .map(|(label, runs)| GanttRow {
            label,
            spans: runs
                .iter()
                .map(|r| {
                    used[r.category()] = true;
                    span(r, unit, per_unit)
                })
                .collect(),
        })
        .collect();
    let legend: Vec<LegendEntry> = (0..PART_NAMES.len())
        .filter(|&i| used[i])
        .map(|i| LegendEntry { class: palette_class(i), label: PART_NAMES[i].to_string() })
        .collect();
    let title = format!("Pipeline timeline of one step, {unit}");
    let chart = Gantt { id: "timeline", title: &title, unit, rows: &rows, legend: &legend };
    let mut note = format!(
        "{} tasks on {} tracks, drawn as {drawn} spans: on each track, tasks shorter than \
         {:.3} µs (1/{RESOLUTION} of the step) that follow each other by less than that are \
         drawn as one span, colored by the category that kept it busiest (its tooltip lists \
         them).",
        trace.task_count(),
        tracks.len(),
        tiny_ns as f64 / 1e3
    );
    if let Some(c) = cutoff {
        note.push_str(&format!(
            " Only the first {MAX_SPANS} spans are drawn: those starting before {:.3} {unit}.",
            c as f64 / per_unit
        ));
    }
    note.push_str(" Every task: `astrolabe simulate --trace FILE`, opened in ui.perfetto.dev.");
    Ok(Section::new(&format!("Pipeline timeline ({unit})")).paragraph(&note).chart(gantt(&chart)?))
}

/// The tasks of one track (by start) as runs: a task at least `tiny_ns` long is a run of its
/// own; shorter ones that follow each other by less than `tiny_ns` form one run.
fn merged(trace: &StepTrace, tasks: &[usize], tiny_ns: u64) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for &id in tasks {
        let t = trace.task(id);
        let category = PART_NAMES.iter().position(|c| *c == t.category).unwrap_or(0);
        let dur = t.end_ns - t.start_ns;
        let tiny = dur < tiny_ns;
        if let Some(r) = runs.last_mut().filter(|r| tiny && r.label.is_none()) {
            if t.start_ns.saturating_sub(r.end_ns) < tiny_ns {
                (r.end_ns, r.tasks) = (r.end_ns.max(t.end_ns), r.tasks + 1);
                r.busy_ns[category] += dur;
                continue;
            }
        }
        let mut busy_ns = [0; PART_NAMES.len()];
        busy_ns[category] = dur;
        let label = (!tiny).then(|| readable_name(&LabelParts::parse(t.label), t.label));
        runs.push(Run { start_ns: t.start_ns, end_ns: t.end_ns, busy_ns, tasks: 1, label });
    }
    runs
}

/// The start before which the first [`MAX_SPANS`] spans lie, if there are more.
fn cutoff_ns(rows: &[(String, Vec<Run>)]) -> Option<u64> {
    let mut starts: Vec<u64> = rows.iter().flat_map(|r| r.1.iter().map(|s| s.start_ns)).collect();
    if starts.len() <= MAX_SPANS {
        return None;
    }
    starts.sort_unstable();
    Some(starts[MAX_SPANS])
}

/// The Gantt span of `r`, in `unit` (`per_unit` ns each), with its tooltip.
fn span(r: &Run, unit: &str, per_unit: f64) -> GanttSpan {
    let (start, end) = (r.start_ns as f64 / per_unit, r.end_ns as f64 / per_unit);
    let what = match &r.label {
        Some(label) => format!("{label} ({})", PART_NAMES[r.category()]),
        None => {
            let busy: Vec<String> = (0..PART_NAMES.len())
                .filter(|&i| r.busy_ns[i] > 0)
                .map(|i| format!("{} {:.3} µs", PART_NAMES[i], r.busy_ns[i] as f64 / 1e3))
                .collect();
            format!("{} short tasks (busy: {})", r.tasks, busy.join(", "))
        }
    };
    GanttSpan {
        start,
        end,
        class: palette_class(r.category()),
        title: format!("{what}: {start:.6}–{end:.6} {unit}"),
    }
}
