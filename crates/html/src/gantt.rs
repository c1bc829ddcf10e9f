//! A Gantt chart: rows of spans on a shared time axis (a pipeline's streams).

use crate::axis::Axis;
use crate::svg::{chart, check_name, legend, line, rect, text};
use crate::{ChartError, Svg};

/// One span of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct GanttSpan {
    /// Start, in the chart's unit (finite, ≥ 0).
    pub start: f64,
    /// End, in the chart's unit (≥ start).
    pub end: f64,
    /// Its color class (a palette class such as `s0`, or one the page styles).
    pub class: String,
    /// Its tooltip.
    pub title: String,
}

/// One row: a label and its spans.
#[derive(Debug, Clone, PartialEq)]
pub struct GanttRow {
    /// The row's label (left of it).
    pub label: String,
    /// Its spans, in any order.
    pub spans: Vec<GanttSpan>,
}

/// One legend entry: a color class and what it means.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    /// The color class.
    pub class: String,
    /// What it means.
    pub label: String,
}

/// A Gantt chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Gantt<'a> {
    /// Element id (letters, digits, `-`, `_`).
    pub id: &'a str,
    /// Accessible title (the SVG `<title>`).
    pub title: &'a str,
    /// Unit of the time axis (`ms`).
    pub unit: &'a str,
    /// The rows, top to bottom.
    pub rows: &'a [GanttRow],
    /// The legend.
    pub legend: &'a [LegendEntry],
}

const WIDTH: f64 = 960.0;
const LABEL_W: f64 = 150.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 30.0;
const ROW_H: f64 = 16.0;

/// The rows as SVG: a time axis from 0 to the last end (ticks above the rows, the unit at its
/// left), one band per row with its spans (at least a hairline wide, so none vanishes), the
/// legend below.
pub fn gantt(c: &Gantt) -> Result<Svg, ChartError> {
    check(c)?;
    let end = c.rows.iter().flat_map(|r| &r.spans).map(|s| s.end).fold(0.0, f64::max);
    let axis = Axis::linear(0.0, end);
    let plot_w = WIDTH - LABEL_W - RIGHT;
    let x = |t: f64| LABEL_W + plot_w * axis.fraction(t);
    let bottom = TOP + ROW_H * c.rows.len() as f64;
    let mut body = text(LABEL_W - 8.0, TOP - 10.0, "end", "axis-label", c.unit);
    for (v, label) in &axis.ticks {
        body.push_str(&line(x(*v), TOP - 4.0, x(*v), bottom, "grid"));
        body.push_str(&text(x(*v), TOP - 10.0, "middle", "tick", label));
    }
    for (i, row) in c.rows.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        body.push_str(&text(LABEL_W - 8.0, y + ROW_H - 4.0, "end", "label", &row.label));
        for s in &row.spans {
            let w = (x(s.end) - x(s.start)).max(0.5);
            body.push_str(&rect(x(s.start), y + 1.0, w, ROW_H - 2.0, &s.class, &s.title));
        }
    }
    let entries: Vec<(String, String)> =
        c.legend.iter().map(|e| (e.class.clone(), e.label.clone())).collect();
    let (markup, legend_h) = legend(&entries, LABEL_W, bottom + 10.0, plot_w);
    body.push_str(&markup);
    Ok(chart(c.id, c.title, WIDTH, bottom + 10.0 + legend_h + 4.0, &body))
}

/// Refuses spans the chart cannot draw.
fn check(c: &Gantt) -> Result<(), ChartError> {
    check_name(c.id, "id", c.id)?;
    for e in c.legend {
        check_name(c.id, "legend class", &e.class)?;
    }
    for row in c.rows {
        for s in &row.spans {
            check_name(c.id, "span class", &s.class)?;
            if !(s.start.is_finite() && s.end.is_finite() && 0.0 <= s.start && s.start <= s.end) {
                let problem = format!(
                    "span `{}` of row `{}` runs from {} to {}: expected 0 ≤ start ≤ end, finite",
                    s.title, row.label, s.start, s.end
                );
                return Err(ChartError::new(c.id, problem));
            }
        }
    }
    Ok(())
}
