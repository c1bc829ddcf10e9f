//! A plain text table with right-aligned columns, for the exploration commands.

/// Bytes as gigabytes (1e9) with one decimal, no unit (the column header carries it).
pub fn gb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1e9)
}

/// Rows of cells under a header.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(header: &[&str]) -> Table {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    /// Appends a row (as many cells as columns).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table, columns padded to their widest cell; numbers right-aligned, text columns (any
    /// cell that does not read as a number) left-aligned.
    pub fn render(&self) -> String {
        let text: Vec<bool> = (0..self.header.len())
            .map(|c| {
                self.rows.iter().any(|r| {
                    r.get(c).is_some_and(|s| !s.is_empty() && s != "-" && s.parse::<f64>().is_err())
                })
            })
            .collect();
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                let cells = self.rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count()));
                cells.chain([self.header[c].chars().count()]).max().unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(c, (s, w))| {
                    let pad = " ".repeat(w - s.chars().count());
                    if text[c] {
                        format!("{s}{pad}")
                    } else {
                        format!("{pad}{s}")
                    }
                })
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut out = line(&self.header);
        for r in &self.rows {
            out.push_str(&line(r));
        }
        out
    }
}
