//! `astrolabe astra`: runs ASTRA-sim inputs unchanged (Chakra traces, system JSON, network YAML,
//! remote-memory JSON, communicator groups), or with `--check` every case of a reference file.

use anyhow::{Context, Result};
use astrolabe_astra::{self as astra, AstraReport, Backend, Case, Config};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Arguments of `astrolabe astra`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Trace prefix: the files are `<PREFIX>.<rank>.et`.
    #[arg(long, required_unless_present = "check")]
    pub workload: Option<PathBuf>,
    /// ASTRA-sim system JSON.
    #[arg(long, required_unless_present = "check")]
    pub system: Option<PathBuf>,
    /// ASTRA-sim network YAML.
    #[arg(long, required_unless_present = "check")]
    pub network: Option<PathBuf>,
    /// ASTRA-sim remote-memory JSON (default: no remote memory).
    #[arg(long)]
    pub remote_memory: Option<PathBuf>,
    /// Communicator groups JSON (`{"name": [ranks]}`), named by `pg_name` in the traces.
    #[arg(long)]
    pub comm_group: Option<PathBuf>,
    /// Analytical network backend.
    #[arg(long, value_enum, default_value = "congestion-unaware")]
    pub backend: BackendArg,
    /// Run every case of a reference file (shared/data/astra-sim/expected.json) and compare.
    #[arg(long, conflicts_with_all = ["workload", "system", "network", "remote_memory", "comm_group"])]
    pub check: Option<PathBuf>,
    /// With `--check`: a Markdown table (what docs/astra-sim.md is made from).
    #[arg(long, requires = "check", conflicts_with = "json")]
    pub markdown: bool,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
}

/// `--backend` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BackendArg {
    /// Full bandwidth for every message.
    CongestionUnaware,
    /// Store and forward per link; 1-D networks only.
    CongestionAware,
}

/// Paths of one run; relative paths inside the system file resolve against `base`.
struct Files<'a> {
    workload: &'a Path,
    system: &'a Path,
    network: &'a Path,
    remote_memory: Option<&'a Path>,
    comm_group: Option<&'a Path>,
    base: &'a Path,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    if let Some(path) = &args.check {
        return check(path, args);
    }
    let (Some(workload), Some(system), Some(network)) =
        (&args.workload, &args.system, &args.network)
    else {
        anyhow::bail!("--workload, --system and --network are required");
    };
    let files = Files {
        workload,
        system,
        network,
        remote_memory: args.remote_memory.as_deref(),
        comm_group: args.comm_group.as_deref(),
        base: Path::new("."),
    };
    let backend = match args.backend {
        BackendArg::CongestionUnaware => Backend::CongestionUnaware,
        BackendArg::CongestionAware => Backend::CongestionAware,
    };
    let (config, warnings, report) = simulate(&files, backend)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if args.json {
        let v = json!({ "workload": workload, "ranks": report.ranks, "max_finish_ns": report.max_finish_ns, "min_finish_ns": report.min_finish_ns, "backend": report.backend, "config": config, "warnings": warnings });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("{:>6} {:>14} {:>16}", "rank", "finish_ns", "exposed_comm_ns");
    for r in &report.ranks {
        println!("{:>6} {:>14} {:>16}", r.rank, r.finish_ns, r.exposed_comm_ns);
    }
    let (max, min) = (report.max_finish_ns, report.min_finish_ns);
    println!("max finish {max} ns, min finish {min} ns ({} backend)", report.backend.name());
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))
}

fn simulate(files: &Files, backend: Backend) -> Result<(Config, Vec<String>, AstraReport)> {
    let origin = |p: &Path| p.display().to_string();
    let (system, warnings) = astra::parse_system(&read(files.system)?, &origin(files.system))?;
    let network = astra::parse_network(&read(files.network)?, &origin(files.network))?;
    let remote_memory = match files.remote_memory {
        Some(p) => {
            let memory = astra::parse_remote_memory(&read(p)?, &origin(p))?;
            memory.check_npus(network.npus(), &origin(p))?;
            memory
        }
        None => astra::RemoteMemory::None,
    };
    let comm_groups = match files.comm_group {
        Some(p) => Some(astra::parse_comm_groups(&read(p)?, &origin(p))?),
        None => None,
    };
    let custom = match &system.custom_all_reduce {
        Some(prefix) => Some(astra::load_traces(&files.base.join(prefix))?),
        None => None,
    };
    let config =
        Config { system, system_origin: origin(files.system), network, remote_memory, comm_groups };
    let workload = astra::load_traces(files.workload)?;
    let report =
        astra::simulate(&config, &workload, custom.as_deref(), backend, &origin(files.workload))?;
    Ok((config, warnings, report))
}

/// One compared case.
#[derive(serde::Serialize)]
struct Row {
    id: String,
    backend: Backend,
    expected_max_ns: u64,
    astrolabe_max_ns: Option<u64>,
    error: Option<f64>,
    failure: Option<String>,
}

fn check_case(case: &Case, base: &Path) -> Row {
    let p = |s: &str| base.join(s);
    let (workload, system, network) = (p(&case.workload), p(&case.system), p(&case.network));
    let remote_memory = case.remote_memory.as_deref().map(p);
    let comm_group = case.comm_group.as_deref().map(p);
    let files = Files {
        workload: &workload,
        system: &system,
        network: &network,
        remote_memory: remote_memory.as_deref(),
        comm_group: comm_group.as_deref(),
        base,
    };
    let result = simulate(&files, case.backend);
    let (max, failure) = match result {
        Ok((_, _, r)) => (Some(r.max_finish_ns), None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    let error = max.map(|m| astra::relative_error(m, case.expected_max_ns));
    Row {
        id: case.id.clone(),
        backend: case.backend,
        expected_max_ns: case.expected_max_ns,
        astrolabe_max_ns: max,
        error,
        failure,
    }
}

fn check(path: &Path, args: &Args) -> Result<()> {
    let cases = astra::parse_cases(&read(path)?, &path.display().to_string())?;
    let base = path.parent().unwrap_or(Path::new("."));
    let rows: Vec<Row> = cases.iter().map(|c| check_case(c, base)).collect();
    let within = rows.iter().filter(|r| r.error.is_some_and(|e| e.abs() <= 0.01)).count();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "cases": rows, "within_1pct": within }))?
        );
        return Ok(());
    }
    let backend = |b: Backend| b.name();
    if args.markdown {
        println!("| case | backend | ASTRA-sim max finish (ns) | Astrolabe (ns) | error |");
        println!("|---|---|---:|---:|---:|");
    }
    for r in &rows {
        let got = r.astrolabe_max_ns.map_or("-".to_string(), |m| m.to_string());
        let err = r.error.map_or_else(
            || format!("failed: {}", r.failure.as_deref().unwrap_or("")),
            |e| format!("{:+.3}%", e * 100.0),
        );
        if args.markdown {
            println!(
                "| {} | {} | {} | {} | {} |",
                r.id,
                backend(r.backend),
                r.expected_max_ns,
                got,
                err
            );
        } else {
            println!(
                "{:<34} {:<8} {:>10} {:>10} {}",
                r.id,
                backend(r.backend),
                r.expected_max_ns,
                got,
                err
            );
        }
    }
    println!("\n{within} of {} cases within 1%.", rows.len());
    Ok(())
}
