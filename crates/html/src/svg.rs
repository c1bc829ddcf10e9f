//! SVG markup shared by the charts: escaping, fixed-decimal numbers, the chart element.

use crate::ChartError;
use std::fmt;

/// Number of colors of the palette (classes `s0` to `s9`).
pub const PALETTE_SIZE: usize = 10;

/// The palette class of series `index` (`s0`, `s1`, …, wrapping after [`PALETTE_SIZE`]).
pub fn palette_class(index: usize) -> String {
    format!("s{}", index % PALETTE_SIZE)
}

/// SVG markup made by this crate's chart functions, safe to place in a page as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `x` with `decimals` decimals; never `-0`.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    let text = format!("{x:.decimals$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

/// A coordinate: two decimals, trailing zeros dropped (`12.5`, `3`).
pub(crate) fn coord(x: f64) -> String {
    let text = fixed(x, 2);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// Wraps `body` in the chart element: `<svg class="chart" id=…>` with its `<title>`.
pub(crate) fn chart(id: &str, title: &str, width: f64, height: f64, body: &str) -> Svg {
    let (id, w, h) = (escape(id), coord(width), coord(height));
    Svg(format!(
        "<svg class=\"chart\" id=\"{id}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         role=\"img\" aria-labelledby=\"{id}-title\">\n<title id=\"{id}-title\">{}</title>\n\
         {body}</svg>\n",
        escape(title)
    ))
}

/// `<text>` at (x, y) with an anchor (`start`, `middle`, `end`) and a class.
pub(crate) fn text(x: f64, y: f64, anchor: &str, class: &str, content: &str) -> String {
    format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" class=\"{class}\">{}</text>\n",
        coord(x),
        coord(y),
        escape(content)
    )
}

/// A `<rect>` with a class and a tooltip.
pub(crate) fn rect(x: f64, y: f64, w: f64, h: f64, class: &str, tip: &str) -> String {
    format!(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{}\"><title>{}</title></rect>\n",
        coord(x),
        coord(y),
        coord(w),
        coord(h),
        escape(class),
        escape(tip)
    )
}

/// A `<line>` with a class.
pub(crate) fn line(x1: f64, y1: f64, x2: f64, y2: f64, class: &str) -> String {
    format!(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{class}\"/>\n",
        coord(x1),
        coord(y1),
        coord(x2),
        coord(y2)
    )
}

/// Checks that a chart id or class is a plain name (letters, digits, `-`, `_`).
pub(crate) fn check_name(chart: &str, what: &str, name: &str) -> Result<(), ChartError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || !name.chars().all(plain) {
        let problem = format!("{what} `{name}`: expected letters, digits, `-` or `_`");
        return Err(ChartError::new(chart, problem));
    }
    Ok(())
}

/// Checks that `value` is finite and not negative.
pub(crate) fn check_value(chart: &str, what: &str, value: f64) -> Result<(), ChartError> {
    if !value.is_finite() || value < 0.0 {
        let problem = format!("{what} is {value}: expected a finite value ≥ 0");
        return Err(ChartError::new(chart, problem));
    }
    Ok(())
}

/// A legend: one swatch and label per entry, in a row from (x, y), wrapping at `width`.
/// Returns the markup and the height it takes.
pub(crate) fn legend(entries: &[(String, String)], x: f64, y: f64, width: f64) -> (String, f64) {
    let (mut out, mut cx, mut cy) = (String::new(), x, y);
    for (class, label) in entries {
        let w = 28.0 + 7.5 * label.chars().count() as f64;
        if cx > x && cx + w > x + width {
            (cx, cy) = (x, cy + 18.0);
        }
        out.push_str(&rect(cx, cy, 12.0, 12.0, class, label));
        out.push_str(&text(cx + 16.0, cy + 10.5, "start", "label", label));
        cx += w;
    }
    let height = if entries.is_empty() { 0.0 } else { cy - y + 18.0 };
    (out, height)
}
