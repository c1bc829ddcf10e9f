//! `astrolabe scale`: MFU and throughput of a scenario against cluster size, and the size
//! where communication stops hiding behind computation.

use crate::commands::simulate::{load, write_page};
use crate::commands::table::{gb, Table};
use anyhow::Result;
use astrolabe_explore::scale::{knee, parse_sizes, scale, Batch, ScalePoint};
use astrolabe_explore::search::Objective;
use astrolabe_explore::Space;
use astrolabe_html::{line_chart, LineChart, LineSeries, Page, Section};
use std::fmt::Write as _;

/// Percentage points of exposed communication above the smallest size's that mark the knee.
pub const KNEE_POINTS: f64 = 5.0;

/// Arguments of `astrolabe scale`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario TOML file; without it, the built-in default.
    pub scenario: Option<String>,
    /// Cluster sizes: powers of two `A..B`, a list `a,b,c` or one count.
    #[arg(long, value_name = "SIZES")]
    pub gpus: String,
    /// `fixed`: the scenario's global batch at every size (strong scaling); `proportional`: the
    /// batch grows with the GPUs (weak scaling).
    #[arg(long, default_value = "fixed")]
    pub batch: String,
    /// Search the best plan at every size (by step time) instead of keeping the scenario's.
    #[arg(long)]
    pub search: bool,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
    /// Also write the curves as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let base = load(args.scenario.as_deref())?;
    let sizes = parse_sizes(&args.gpus, "--gpus")?;
    let batch = match args.batch.as_str() {
        "fixed" => Batch::Fixed,
        "proportional" => Batch::Proportional,
        other => anyhow::bail!("--batch: `{other}`: expected fixed or proportional"),
    };
    let space = Space::for_scenario(&base);
    let by = args.search.then_some((&space, Objective::Time));
    let curve = scale(&base, &sizes, batch, by);
    if let Some(path) = &args.html {
        let mut page = Page::new(&format!("Scaling: {}", base.name));
        page.push(section(&base.name, &curve)?);
        write_page(path, &page)?;
    }
    if args.json {
        let knee_gpus = knee(&curve, KNEE_POINTS);
        let json = serde_json::json!({ "scenario": base.name, "batch": batch, "points": curve,
            "knee_gpus": knee_gpus, "knee_points": KNEE_POINTS });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", render(&base.name, &curve));
    }
    Ok(())
}

/// The text report: one row per size, then the knee.
pub fn render(name: &str, curve: &[ScalePoint]) -> String {
    let mut out = format!("Scaling: {name}\n\n");
    let mut t = Table::new(&[
        "GPUs",
        "plan",
        "batch seq",
        "step s",
        "MFU %",
        "tokens/s",
        "tokens/s/GPU",
        "efficiency %",
        "exposed comm %",
        "memory GB",
        "$/M tokens",
    ]);
    for p in curve {
        let mut cells = vec![
            p.gpus.to_string(),
            p.plan.clone().unwrap_or_default(),
            p.global_batch.to_string(),
        ];
        match &p.summary {
            Some(s) => cells.extend([
                format!("{:.3}", s.step_time_s),
                format!("{:.1}", s.mfu * 100.0),
                format!("{:.0}", s.tokens_per_s),
                format!("{:.1}", s.tokens_per_s / s.gpus as f64),
                p.scaling_efficiency.map_or(String::new(), |e| format!("{:.1}", e * 100.0)),
                format!("{:.1}", s.exposed_comm_fraction * 100.0),
                gb(s.memory_peak_bytes),
                format!("{:.2}", s.usd_per_million_tokens),
            ]),
            None => cells.push(format!("not run: {}", p.why_not.clone().unwrap_or_default())),
        }
        t.row(cells);
    }
    out.push_str(&t.render());
    let _ = match knee(curve, KNEE_POINTS) {
        Some(g) => writeln!(
            out,
            "\nCommunication stops hiding at {g} GPUs: exposed communication is more than \
             {KNEE_POINTS} percentage points above the smallest size's."
        ),
        None => writeln!(
            out,
            "\nExposed communication stays within {KNEE_POINTS} percentage points of the \
             smallest size's over these sizes."
        ),
    };
    out
}

/// The curves as a page section: MFU and exposed communication against GPUs.
pub fn section(name: &str, curve: &[ScalePoint]) -> Result<Section> {
    let ran: Vec<(f64, &astrolabe_explore::Summary)> =
        curve.iter().filter_map(|p| p.summary.as_ref().map(|s| (p.gpus as f64, s))).collect();
    let series = vec![
        LineSeries {
            name: "MFU %".into(),
            points: ran.iter().map(|(g, s)| (*g, s.mfu * 100.0)).collect(),
        },
        LineSeries {
            name: "exposed communication % of the step".into(),
            points: ran.iter().map(|(g, s)| (*g, s.exposed_comm_fraction * 100.0)).collect(),
        },
    ];
    let chart = line_chart(&LineChart {
        id: "scale-mfu",
        title: "MFU and exposed communication against cluster size",
        x_label: "GPUs",
        y_label: "%",
        log2_x: true,
        series: &series,
    })?;
    let rows = render(name, curve);
    Ok(Section::new("Scaling curve").chart(chart).paragraph(rows.lines().last().unwrap_or("")))
}
