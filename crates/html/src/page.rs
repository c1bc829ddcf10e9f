//! A self-contained HTML page: a title, then sections of paragraphs, tables and charts.

use crate::svg::{escape, Svg};

/// One HTML document, its style and script inline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    title: String,
    sections: Vec<Section>,
}

/// A section of a page: a heading, then blocks in the order they were added.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    heading: String,
    blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
enum Block {
    Paragraph(String),
    Table { header: Vec<String>, rows: Vec<Vec<String>> },
    Chart(Svg),
}

/// The palette of the series classes `s0`–`s9` (fills; lines take the same color as stroke).
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;\
color:#222;padding:0 1em}h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}\
table{border-collapse:collapse}td,th{padding:2px 12px 2px 0;text-align:left}\
td.num{text-align:right}svg.chart{display:block;max-width:100%;height:auto;margin:0.5em 0}\
svg text{font-size:12px;fill:#222}svg .tick{fill:#555}svg .value{fill:#333}\
svg .axis{stroke:#444}svg .grid{stroke:#ddd}svg .ref{stroke:#c00;stroke-dasharray:6 4;\
stroke-width:1.5}svg .ref-label{fill:#c00}polyline.line{fill:none;stroke-width:2}";

/// Counts the charts the browser laid out with a non-zero size, after load, into the body's
/// `data-charts-rendered` attribute (a headless browser test reads it back).
const SCRIPT: &str = "window.addEventListener('load',function(){var n=0;\
document.querySelectorAll('svg.chart').forEach(function(s){var r=s.getBoundingClientRect();\
if(r.width>0&&r.height>0){n+=1;}});\
document.body.setAttribute('data-charts-rendered',String(n));});";

impl Page {
    /// An empty page titled `title`.
    pub fn new(title: &str) -> Self {
        Page { title: title.to_string(), sections: Vec::new() }
    }

    /// Appends `section` after the others.
    pub fn push(&mut self, section: Section) {
        self.sections.push(section);
    }

    /// The whole document. A content security policy forbids loading anything from elsewhere,
    /// so the page shows the same offline.
    pub fn to_html(&self) -> String {
        let title = escape(&self.title);
        let mut css = String::from(STYLE);
        for (i, color) in PALETTE.iter().enumerate() {
            css.push_str(&format!("svg .s{i}{{fill:{color}}}polyline.s{i}{{stroke:{color}}}"));
        }
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>{css}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
        );
        for s in &self.sections {
            s.write(&mut out);
        }
        out.push_str(&format!("<script>{SCRIPT}</script>\n</body>\n</html>\n"));
        out
    }
}

impl Section {
    /// An empty section headed `heading`.
    pub fn new(heading: &str) -> Self {
        Section { heading: heading.to_string(), blocks: Vec::new() }
    }

    /// Appends a paragraph of plain text (escaped).
    pub fn paragraph(mut self, text: &str) -> Self {
        self.blocks.push(Block::Paragraph(text.to_string()));
        self
    }

    /// Appends a table of plain text (escaped); cells that parse as numbers align right.
    pub fn table(mut self, header: &[&str], rows: Vec<Vec<String>>) -> Self {
        let header = header.iter().map(|h| h.to_string()).collect();
        self.blocks.push(Block::Table { header, rows });
        self
    }

    /// Appends a chart.
    pub fn chart(mut self, svg: Svg) -> Self {
        self.blocks.push(Block::Chart(svg));
        self
    }

    fn write(&self, out: &mut String) {
        out.push_str(&format!("<section>\n<h2>{}</h2>\n", escape(&self.heading)));
        for block in &self.blocks {
            match block {
                Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", escape(text))),
                Block::Chart(svg) => out.push_str(svg.as_str()),
                Block::Table { header, rows } => write_table(out, header, rows),
            }
        }
        out.push_str("</section>\n");
    }
}

fn write_table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    out.push_str("<table>\n<tr>");
    for h in header {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let class = if cell.parse::<f64>().is_ok() { " class=\"num\"" } else { "" };
            out.push_str(&format!("<td{class}>{}</td>", escape(cell)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}
