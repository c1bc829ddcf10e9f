//! Self-contained HTML pages with inline SVG charts, for reports people open in a browser.
//!
//! A [`Page`] is a title and [`Section`]s in order; [`Page::to_html`] gives one HTML document
//! with its style and script inline, which needs no network to view (a content security policy
//! forbids loading anything). Charts are SVG markup ([`Svg`]) made by [`bar_chart`],
//! [`stacked_bars`], [`line_chart`] and [`gantt`]; each is `<svg class="chart" id="…">` with a
//! `<title>`. Every text is escaped, and every number is printed with a fixed number of
//! decimals, so the same input gives the same bytes. Colors come from the page's palette:
//! series `i` uses the class `s{i mod 10}` ([`palette_class`]).
//!
//! This crate knows nothing of simulation and does no file IO: callers hand it numbers and
//! labels and write the string where they like.

mod axis;
mod bar;
mod gantt;
mod line;
mod page;
mod stacked;
mod svg;

pub use bar::{bar_chart, Bar, BarChart};
pub use gantt::{gantt, Gantt, GanttRow, GanttSpan, LegendEntry};
pub use line::{line_chart, LineChart, LineSeries};
pub use page::{Page, Section};
pub use stacked::{stacked_bars, ReferenceLine, Series, StackedBars};
pub use svg::{escape, palette_class, Svg, PALETTE_SIZE};

/// Data a chart cannot draw.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chart `{chart}`: {problem}")]
pub struct ChartError {
    /// The chart's id.
    pub chart: String,
    /// What is wrong, and what was expected.
    pub problem: String,
}

impl ChartError {
    pub(crate) fn new(chart: &str, problem: impl Into<String>) -> Self {
        ChartError { chart: chart.to_string(), problem: problem.into() }
    }
}

#[cfg(test)]
mod tests;
