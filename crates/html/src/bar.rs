//! Horizontal bars with labels and values (`compute  1.234 s`).

use crate::svg::{chart, check_name, check_value, fixed, palette_class, rect, text, Svg};
use crate::ChartError;

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What it measures (left of the bar).
    pub label: String,
    /// Its value, in the chart's unit (finite, ≥ 0).
    pub value: f64,
}

/// A horizontal bar chart.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart<'a> {
    /// Element id (letters, digits, `-`, `_`).
    pub id: &'a str,
    /// Accessible title (the SVG `<title>`).
    pub title: &'a str,
    /// Unit printed after every value (`s`, `GB`, `%`).
    pub unit: &'a str,
    /// Decimals of the printed values.
    pub decimals: usize,
    /// The bars, top to bottom.
    pub bars: &'a [Bar],
}

const WIDTH: f64 = 720.0;
const LABEL_W: f64 = 220.0;
const VALUE_W: f64 = 110.0;
const ROW_H: f64 = 22.0;

/// The bars as SVG: labels on the left, bars scaled to the largest value, values with unit on
/// the right. Each bar has its palette color in order.
pub fn bar_chart(c: &BarChart) -> Result<Svg, ChartError> {
    check_name(c.id, "id", c.id)?;
    for b in c.bars {
        check_value(c.id, &format!("bar `{}`", b.label), b.value)?;
    }
    let max = c.bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let area = WIDTH - LABEL_W - VALUE_W;
    let mut body = String::new();
    for (i, b) in c.bars.iter().enumerate() {
        let y = 8.0 + i as f64 * ROW_H;
        let w = if max > 0.0 { area * b.value / max } else { 0.0 };
        let value = format!("{} {}", fixed(b.value, c.decimals), c.unit);
        let tip = format!("{}: {value}", b.label);
        body.push_str(&text(LABEL_W - 8.0, y + 13.0, "end", "label", &b.label));
        body.push_str(&rect(LABEL_W, y + 2.0, w, ROW_H - 6.0, &palette_class(i), &tip));
        body.push_str(&text(LABEL_W + w + 6.0, y + 13.0, "start", "value", &value));
    }
    let height = 16.0 + c.bars.len() as f64 * ROW_H;
    Ok(chart(c.id, c.title, WIDTH, height, &body))
}
