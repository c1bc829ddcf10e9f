//! `astrolabe report`: one simulated step as a self-contained HTML page (summary, breakdown,
//! time and memory per stage, the pipeline timeline).

use super::simulate::{check_fits, create, load_with, mode};
use anyhow::{Context, Result};
use astrolabe_explore::compare::compare;
use astrolabe_explore::scale::{parse_sizes, scale, Batch};
use astrolabe_explore::Variant;
use astrolabe_html::Section;
use astrolabe_sim::simulate_traced;
use std::io::Write;

#[path = "report_page.rs"]
mod page;
#[path = "report_timeline.rs"]
mod timeline;

/// Arguments of `astrolabe report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario TOML file; without it, the built-in default (GPT-3 175B on 96 H100).
    pub scenario: Option<String>,
    /// Write the page to this file (one HTML file; needs no network to view).
    #[arg(long, value_name = "FILE")]
    pub html: String,
    /// Simulate every GPU instead of one per pipeline stage (slower; same answer).
    #[arg(long)]
    pub per_rank: bool,
    /// Network model: `analytical` or `congestion-aware`; overrides the scenario's
    /// `network.model`.
    #[arg(long, value_name = "MODEL")]
    pub network_model: Option<String>,
    /// Add a scaling curve over these sizes (as `astrolabe scale --gpus`).
    #[arg(long, value_name = "SIZES")]
    pub scale: Option<String>,
    /// Add a what-if comparison with this variant (as `astrolabe compare --vary`; repeatable).
    #[arg(long = "vary", value_name = "CHANGES")]
    pub vary: Vec<String>,
}

/// The scaling and what-if sections the flags ask for.
fn extra_sections(args: &Args, scenario: &astrolabe_sim::Scenario) -> Result<Vec<Section>> {
    let mut out = Vec::new();
    if let Some(sizes) = &args.scale {
        let sizes = parse_sizes(sizes, "--scale")?;
        let curve = scale(scenario, &sizes, Batch::Fixed, None);
        out.push(super::scale::section(&scenario.name, &curve)?);
    }
    if !args.vary.is_empty() {
        let variants =
            args.vary.iter().map(|v| Variant::parse(v, "--vary")).collect::<Result<Vec<_>, _>>()?;
        out.push(super::compare::section(&compare(scenario, &variants, None)?)?);
    }
    Ok(out)
}

/// Runs the command. As `simulate` does, a plan that does not fit in memory is reported in
/// full (the page says so), then exits with an error (code 2) naming the memory.
pub fn run(args: &Args) -> Result<()> {
    // Created first: a path that cannot be written fails before the simulation.
    let mut out = create(&args.html, "--html")?;
    let result = load_with(args.scenario.as_deref(), args.network_model.as_deref())
        .and_then(|scenario| {
            let (report, trace) = simulate_traced(&scenario, mode(args.per_rank))?;
            Ok((report, trace, extra_sections(args, &scenario)?))
        })
        .and_then(|(report, trace, extra)| Ok((page::page(&report, &trace, extra)?, report)));
    let (html, report) = result.inspect_err(|_| {
        // Do not leave an empty page behind a failed simulation.
        let _ = std::fs::remove_file(&args.html);
    })?;
    out.write_all(html.as_bytes())
        .and_then(|()| out.flush())
        .with_context(|| format!("{}: `--html`: cannot write the page", args.html))?;
    eprintln!("report: {} bytes written to {}", html.len(), args.html);
    check_fits(&report)
}
