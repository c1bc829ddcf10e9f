//! Lines over an x axis, linear or base-2 logarithmic (scaling curves: MFU against GPUs).

use crate::axis::Axis;
use crate::svg::{chart, check_name, coord, escape, fixed, legend, line, palette_class, text};
use crate::{ChartError, Svg};

/// One line: points in x order as given.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSeries {
    /// Its name in the legend.
    pub name: String,
    /// (x, y) points, finite; x > 0 on a log2 axis.
    pub points: Vec<(f64, f64)>,
}

/// A line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart<'a> {
    /// Element id (letters, digits, `-`, `_`).
    pub id: &'a str,
    /// Accessible title (the SVG `<title>`).
    pub title: &'a str,
    /// The x axis' label, with its unit (`GPUs`).
    pub x_label: &'a str,
    /// The y axis' label, with its unit (`MFU %`).
    pub y_label: &'a str,
    /// Base-2 logarithmic x axis (ticks at powers of two).
    pub log2_x: bool,
    /// The lines, in legend order.
    pub series: &'a [LineSeries],
}

const WIDTH: f64 = 720.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 28.0;
const PLOT_H: f64 = 240.0;

/// The lines as SVG: axes with tick labels and their labels, one polyline per series in its
/// palette color with a marker (and tooltip) per point, the legend below. The y axis starts at
/// 0 unless a value is negative.
pub fn line_chart(c: &LineChart) -> Result<Svg, ChartError> {
    check(c)?;
    let points = || c.series.iter().flat_map(|s| s.points.iter().copied());
    let (x_lo, x_hi) = points()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (x, _)| (lo.min(x), hi.max(x)));
    let y_lo = points().map(|p| p.1).fold(0.0, f64::min);
    let y_hi = points().map(|p| p.1).fold(0.0, f64::max);
    let x_axis = match (c.log2_x, x_lo <= x_hi) {
        (_, false) => Axis::linear(0.0, 1.0),
        (true, true) => Axis::log2(x_lo, x_hi),
        (false, true) => Axis::linear(x_lo, x_hi),
    };
    let y_axis = Axis::linear(y_lo, y_hi);
    let plot_w = WIDTH - LEFT - RIGHT;
    let px = |x: f64| LEFT + plot_w * x_axis.fraction(x);
    let py = |y: f64| TOP + PLOT_H * (1.0 - y_axis.fraction(y));
    let mut body = text(LEFT - 8.0, TOP - 12.0, "start", "axis-label", c.y_label);
    for (v, label) in &y_axis.ticks {
        body.push_str(&line(LEFT, py(*v), LEFT + plot_w, py(*v), "grid"));
        body.push_str(&text(LEFT - 6.0, py(*v) + 4.0, "end", "tick", label));
    }
    for (v, label) in &x_axis.ticks {
        body.push_str(&line(px(*v), TOP + PLOT_H, px(*v), TOP + PLOT_H + 4.0, "axis"));
        body.push_str(&text(px(*v), TOP + PLOT_H + 16.0, "middle", "tick", label));
    }
    body.push_str(&line(LEFT, TOP, LEFT, TOP + PLOT_H, "axis"));
    body.push_str(&line(LEFT, TOP + PLOT_H, LEFT + plot_w, TOP + PLOT_H, "axis"));
    let x_title_y = TOP + PLOT_H + 34.0;
    body.push_str(&text(LEFT + plot_w / 2.0, x_title_y, "middle", "axis-label", c.x_label));
    for (j, s) in c.series.iter().enumerate() {
        let class = palette_class(j);
        let coords: Vec<String> =
            s.points.iter().map(|&(x, y)| format!("{},{}", coord(px(x)), coord(py(y)))).collect();
        body.push_str(&format!(
            "<polyline class=\"line {class}\" points=\"{}\"/>\n",
            coords.join(" ")
        ));
        for &(x, y) in &s.points {
            let tip = format!("{}: {} = {}, {} = {}", s.name, c.x_label, num(x), c.y_label, num(y));
            body.push_str(&format!(
                "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"3\"><title>{}</title></circle>\n",
                coord(px(x)),
                coord(py(y)),
                escape(&tip)
            ));
        }
    }
    let entries: Vec<(String, String)> =
        c.series.iter().enumerate().map(|(j, s)| (palette_class(j), s.name.clone())).collect();
    let legend_y = x_title_y + 14.0;
    let (markup, legend_h) = legend(&entries, LEFT, legend_y, plot_w);
    body.push_str(&markup);
    Ok(chart(c.id, c.title, WIDTH, legend_y + legend_h + 4.0, &body))
}

/// A tooltip number: four decimals at most, trailing zeros dropped.
fn num(x: f64) -> String {
    let text = fixed(x, 4);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Refuses points the chart cannot draw.
fn check(c: &LineChart) -> Result<(), ChartError> {
    check_name(c.id, "id", c.id)?;
    for s in c.series {
        for &(x, y) in &s.points {
            if !x.is_finite() || !y.is_finite() || (c.log2_x && x <= 0.0) {
                let expected = if c.log2_x { "finite, x > 0 (log2 axis)" } else { "finite" };
                let problem =
                    format!("series `{}` has the point ({x}, {y}): expected {expected}", s.name);
                return Err(ChartError::new(c.id, problem));
            }
        }
    }
    Ok(())
}
