//! `astrolabe simulate`: one training step of a scenario (model × cluster × plan).

use crate::commands::dataset::{self, DEFAULT_DATASET};
use anyhow::{Context, Result};
use astrolabe_core::InputError;
use astrolabe_sim::{
    no_cluster_files, parse_scenario, simulate_traced, Mode, NetworkModel, Scenario, SimReport,
    StepTrace, DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME,
};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Arguments of `astrolabe simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario TOML file; without it, the built-in default (GPT-3 175B on 96 H100).
    pub scenario: Option<String>,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
    /// Simulate every GPU instead of one per pipeline stage (slower; same answer).
    #[arg(long)]
    pub per_rank: bool,
    /// Network model: `analytical` (closed-form, each collective alone) or `congestion-aware`
    /// (flows sharing an explicit fabric's links); overrides the scenario's `network.model`.
    #[arg(long, value_name = "MODEL")]
    pub network_model: Option<String>,
    /// Dataset of published runs for the scenario's `[reference]`.
    #[arg(long, default_value = DEFAULT_DATASET)]
    pub dataset: String,
    /// Also write the step's timeline as Perfetto / Chrome trace-event JSON to this file
    /// (about 200 bytes per simulated task).
    #[arg(long, value_name = "FILE")]
    pub trace: Option<String>,
}

/// Reads and checks the scenario the arguments name.
pub fn load(scenario: Option<&str>) -> Result<Scenario> {
    let Some(path) = scenario else {
        return Ok(parse_scenario(DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, &no_cluster_files)?);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{path}: cannot read the scenario file"))?;
    let dir = Path::new(path).parent().map(Path::to_path_buf).unwrap_or_default();
    let read = |file: &str| -> Result<String, InputError> {
        let full = dir.join(file);
        std::fs::read_to_string(&full).map_err(|e| {
            let expected = format!("a readable cluster file at {} ({e})", full.display());
            InputError::new(path, "cluster.file", expected)
        })
    };
    Ok(parse_scenario(&text, path, &read)?)
}

/// Reads the scenario the arguments name and applies `--network-model`, if given.
pub fn load_with(scenario: Option<&str>, network_model: Option<&str>) -> Result<Scenario> {
    let mut scenario = load(scenario)?;
    if let Some(text) = network_model {
        scenario.network.model = NetworkModel::parse(text, "--network-model", "--network-model")?;
    }
    Ok(scenario)
}

/// The simulation mode `--per-rank` asks for.
pub fn mode(per_rank: bool) -> Mode {
    if per_rank {
        Mode::PerRank
    } else {
        Mode::Representative
    }
}

/// Creates `path` for writing; `flag` names the option that gave it.
pub fn create(path: &str, flag: &str) -> Result<BufWriter<File>> {
    let file = File::create(path)
        .with_context(|| format!("{path}: `{flag}`: cannot create the file for writing"))?;
    Ok(BufWriter::new(file))
}

/// Writes the step's trace to `out`, created from `path` (named in errors).
fn write_trace(
    trace: &StepTrace,
    scenario: &str,
    mut out: BufWriter<File>,
    path: &str,
) -> Result<()> {
    trace
        .write_json(scenario, &mut out)
        .and_then(|()| out.flush())
        .with_context(|| format!("{path}: `--trace`: cannot write the trace"))?;
    eprintln!("trace: {} events written to {path}", trace.task_count());
    Ok(())
}

/// Simulates and attaches the published reference, if the scenario names one.
pub fn report(args: &Args) -> Result<(SimReport, StepTrace, Option<String>)> {
    let scenario = load_with(args.scenario.as_deref(), args.network_model.as_deref())?;
    let (mut report, trace) = simulate_traced(&scenario, mode(args.per_rank))?;
    let mut note = None;
    if let Some(id) = &scenario.reference {
        match dataset::reference(&args.dataset, id) {
            Ok(reference) => report.reference = Some(reference),
            // A missing dataset must not stop the simulation, but it is said, not hidden.
            Err(e) => note = Some(format!("published figure not shown: {e:#}")),
        }
    }
    Ok((report, trace, note))
}

/// Runs the command. A plan that does not fit in memory is reported in full, then exits with an
/// error (code 2) naming the memory.
pub fn run(args: &Args) -> Result<()> {
    // Created first: a path that cannot be written fails before a long simulation.
    let trace_out = args.trace.as_deref().map(|p| create(p, "--trace")).transpose()?;
    let (report, trace, note) = report(args).inspect_err(|_| {
        // Do not leave an empty trace behind a failed simulation.
        if let Some(path) = &args.trace {
            let _ = std::fs::remove_file(path);
        }
    })?;
    if let (Some(out), Some(path)) = (trace_out, &args.trace) {
        write_trace(&trace, &report.scenario, out, path)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    if let Some(note) = note {
        eprintln!("note: {note}");
    }
    check_fits(&report)
}

/// An error (exit code 2) naming the memory when the plan does not fit; the caller has shown
/// the report in full.
pub fn check_fits(report: &SimReport) -> Result<()> {
    if !report.fits_in_memory {
        anyhow::bail!(
            "{}: `memory`: a plan whose fullest GPU (stage {}) fits in {:.1} GB; it needs {:.1} GB \
             (see the memory table; try recompute, more tp or pp, or zero_stage)",
            report.scenario,
            report.memory.worst_stage,
            report.memory.capacity_bytes as f64 / 1e9,
            report.memory_peak_bytes as f64 / 1e9
        );
    }
    Ok(())
}

/// Writes `page` to `path`, the file an `--html` flag names.
pub fn write_page(path: &str, page: &astrolabe_html::Page) -> Result<()> {
    use std::io::Write as _;
    let mut out = create(path, "--html")?;
    out.write_all(page.to_html().as_bytes())
        .and_then(|()| out.flush())
        .with_context(|| format!("{path}: `--html`: cannot write the page"))
}
