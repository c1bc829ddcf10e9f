//! Stacked columns: categories × series, with a legend and an optional reference line (such
//! as a memory capacity).

use crate::axis::Axis;
use crate::svg::{chart, check_name, check_value, fixed, legend, line, palette_class, rect, text};
use crate::{ChartError, Svg};

/// One series: a value per category.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// One value per category, in the chart's unit (finite, ≥ 0).
    pub values: Vec<f64>,
}

/// A horizontal line across the plot at `value`, labeled.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceLine {
    /// What it is (`HBM capacity`).
    pub label: String,
    /// Where it is, in the chart's unit (finite, ≥ 0).
    pub value: f64,
}

/// A stacked column chart.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedBars<'a> {
    /// Element id (letters, digits, `-`, `_`).
    pub id: &'a str,
    /// Accessible title (the SVG `<title>`).
    pub title: &'a str,
    /// Unit of the values (`GB`), printed on the axis and in every tooltip.
    pub unit: &'a str,
    /// Decimals of the printed values.
    pub decimals: usize,
    /// The columns, left to right.
    pub categories: &'a [String],
    /// The stacked parts, bottom to top.
    pub series: &'a [Series],
    /// An optional reference line.
    pub reference: Option<ReferenceLine>,
}

const WIDTH: f64 = 720.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 28.0;
const PLOT_H: f64 = 240.0;

/// The columns as SVG: a y axis in the unit, one column per category with its series stacked
/// bottom to top (palette colors in series order), totals above the columns when there is
/// room, the reference line dashed, the legend below.
pub fn stacked_bars(c: &StackedBars) -> Result<Svg, ChartError> {
    check(c)?;
    let n = c.categories.len();
    let totals: Vec<f64> =
        (0..n).map(|i| c.series.iter().map(|s| s.values[i]).sum::<f64>()).collect();
    let top =
        totals.iter().copied().chain(c.reference.as_ref().map(|r| r.value)).fold(0.0, f64::max);
    let axis = Axis::linear(0.0, top);
    let plot_w = WIDTH - LEFT - RIGHT;
    let y = |v: f64| TOP + PLOT_H * (1.0 - axis.fraction(v));
    let mut body = y_axis(&axis, c.unit, plot_w, &y);
    let slot = if n > 0 { plot_w / n as f64 } else { plot_w };
    let bar_w = (slot * 0.7).min(64.0);
    let label_every = ((n as f64 * 48.0 / plot_w).ceil() as usize).max(1);
    for (i, category) in c.categories.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        let mut acc = 0.0;
        for (j, s) in c.series.iter().enumerate() {
            let v = s.values[i];
            let tip = format!("{category} · {}: {} {}", s.name, fixed(v, c.decimals), c.unit);
            let (y0, y1) = (y(acc + v), y(acc));
            body.push_str(&rect(cx - bar_w / 2.0, y0, bar_w, y1 - y0, &palette_class(j), &tip));
            acc += v;
        }
        if slot >= 48.0 {
            body.push_str(&text(cx, y(acc) - 4.0, "middle", "value", &fixed(acc, c.decimals)));
        }
        if i % label_every == 0 {
            body.push_str(&text(cx, TOP + PLOT_H + 16.0, "middle", "label", category));
        }
    }
    if let Some(r) = &c.reference {
        let ry = y(r.value);
        body.push_str(&line(LEFT, ry, LEFT + plot_w, ry, "ref"));
        let label = format!("{}: {} {}", r.label, fixed(r.value, c.decimals), c.unit);
        body.push_str(&text(LEFT + plot_w, ry - 4.0, "end", "ref-label", &label));
    }
    let entries: Vec<(String, String)> =
        c.series.iter().enumerate().map(|(j, s)| (palette_class(j), s.name.clone())).collect();
    let legend_y = TOP + PLOT_H + 30.0;
    let (markup, legend_h) = legend(&entries, LEFT, legend_y, plot_w);
    body.push_str(&markup);
    Ok(chart(c.id, c.title, WIDTH, legend_y + legend_h + 4.0, &body))
}

/// The y axis: grid lines and tick labels, the unit above it.
fn y_axis(axis: &Axis, unit: &str, plot_w: f64, y: &dyn Fn(f64) -> f64) -> String {
    let mut out = text(LEFT - 8.0, TOP - 12.0, "end", "axis-label", unit);
    for (v, label) in &axis.ticks {
        out.push_str(&line(LEFT, y(*v), LEFT + plot_w, y(*v), "grid"));
        out.push_str(&text(LEFT - 6.0, y(*v) + 4.0, "end", "tick", label));
    }
    out.push_str(&line(LEFT, TOP, LEFT, TOP + PLOT_H, "axis"));
    out
}

/// Refuses data the chart cannot draw.
fn check(c: &StackedBars) -> Result<(), ChartError> {
    check_name(c.id, "id", c.id)?;
    for s in c.series {
        if s.values.len() != c.categories.len() {
            let problem = format!(
                "series `{}` has {} values: expected one per category ({})",
                s.name,
                s.values.len(),
                c.categories.len()
            );
            return Err(ChartError::new(c.id, problem));
        }
        for (v, category) in s.values.iter().zip(c.categories) {
            check_value(c.id, &format!("series `{}` at `{category}`", s.name), *v)?;
        }
    }
    if let Some(r) = &c.reference {
        check_value(c.id, &format!("reference `{}`", r.label), r.value)?;
    }
    Ok(())
}
