//! `astrolabe nccl-check`: collective predictions against the nccl-tests figures of a dataset.

use super::nccl_cases::{cases, Case, Figure};
use crate::cluster_arg::load_cluster;
use anyhow::{anyhow, Context, Result};
use astrolabe_collective::{simulate, Algorithm, CollectiveOp, CollectiveOptions, Composition};
use astrolabe_core::parse_size_bytes;
use astrolabe_hardware::{parse_cluster_toml, Cluster};
use astrolabe_network::{Group, Topology};
use serde::Serialize;
use serde_json::Value;

/// Arguments of `astrolabe nccl-check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset in the schema of shared/data/validation/dev.json.
    #[arg(long, default_value = "../shared/data/validation/dev.json")]
    pub dataset: String,
    /// Print a Markdown table (what docs/collectives.md is made from).
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
}

/// One compared figure.
#[derive(Debug, Serialize)]
pub struct Row {
    /// Dataset entry id.
    pub id: String,
    /// What was compared (metric pointer, GPUs, size, algorithm).
    pub case: String,
    /// Unit of `measured` and `predicted`.
    pub unit: &'static str,
    /// Measured figure as the source states it (a range stays a range).
    pub measured: String,
    /// Astrolabe's figure.
    pub predicted: f64,
    /// Signed relative error against the measured value (0 inside a stated range).
    pub error: f64,
}

/// Runs every case whose entry is in the dataset; the rest are reported as skipped.
pub fn check(dataset_path: &str) -> Result<(Vec<Row>, Vec<String>)> {
    let text = std::fs::read_to_string(dataset_path)
        .with_context(|| format!("{dataset_path}: cannot read the dataset"))?;
    let data: Value =
        serde_json::from_str(&text).with_context(|| format!("{dataset_path}: not valid JSON"))?;
    let entries = data
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("{dataset_path}: `entries`: expected an array"))?;
    let sweep = sweep_sizes(entries, dataset_path)?;
    let (mut rows, mut skipped) = (Vec::new(), Vec::new());
    for case in cases(&sweep) {
        let Some(entry) =
            entries.iter().find(|e| e.get("id").and_then(Value::as_str) == Some(case.entry))
        else {
            skipped.push(format!("{}: not in the dataset", case.entry));
            continue;
        };
        let Some(measured) = entry.get("metrics").and_then(|m| m.pointer(&case.pointer)) else {
            skipped.push(format!("{}: no metrics{}", case.entry, case.pointer));
            continue;
        };
        let (lo, hi) = parse_measured(measured).ok_or_else(|| {
            anyhow!(
                "{dataset_path}: `{}` metrics{}: expected a number or a range like 46-48",
                case.entry,
                case.pointer
            )
        })?;
        let predicted = predict(&case)?;
        let error = if predicted < lo {
            predicted / lo - 1.0
        } else if predicted > hi {
            predicted / hi - 1.0
        } else {
            0.0
        };
        rows.push(Row {
            id: case.entry.to_string(),
            case: describe(&case),
            unit: if case.figure == Figure::TimeUs { "us" } else { "GB/s" },
            measured: if lo == hi { format!("{lo}") } else { format!("{lo}-{hi}") },
            predicted,
            error,
        });
    }
    Ok((rows, skipped))
}

fn sweep_sizes(entries: &[Value], origin: &str) -> Result<Vec<(String, u64)>> {
    let sweep = entries
        .iter()
        .find(|e| {
            e.get("id").and_then(Value::as_str) == Some("nccl-dgxh100-1node-allreduce-sample")
        })
        .and_then(|e| e.pointer("/metrics/busbw_GBps_out_of_place"))
        .and_then(Value::as_object);
    let Some(sweep) = sweep else {
        return Ok(vec![]);
    };
    let mut sizes = sweep
        .keys()
        .map(|k| Ok((k.clone(), parse_size_bytes(k, origin)?)))
        .collect::<Result<Vec<_>>>()?;
    sizes.sort_by_key(|(_, bytes)| *bytes);
    Ok(sizes)
}

/// A number, or a leading range `a-b` in a string such as "46-48 (NDR …)".
fn parse_measured(v: &Value) -> Option<(f64, f64)> {
    if let Some(x) = v.as_f64() {
        return Some((x, x));
    }
    let text = v.as_str()?;
    let head: String =
        text.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
    let mut parts = head.split('-').map(str::parse::<f64>);
    let lo = parts.next()?.ok()?;
    let hi = match parts.next() {
        Some(p) => p.ok()?,
        None => lo,
    };
    Some((lo, hi))
}

fn cluster_for(case: &Case) -> Result<Cluster> {
    if !case.cluster.contains('\n') {
        return load_cluster(case.cluster, case.nodes);
    }
    let mut cluster = parse_cluster_toml(case.cluster, "nccl-check")?;
    if let Some(nodes) = case.nodes {
        let mut dims = cluster.topology.dims().to_vec();
        dims.last_mut().expect("a topology has a dimension").size = nodes;
        cluster.topology = Topology::new(dims, "nccl-check")?;
    }
    Ok(cluster)
}

fn predict(case: &Case) -> Result<f64> {
    let cluster = cluster_for(case)?;
    let group = Group::leading(&cluster.topology, case.gpus, "nccl-check")?;
    let options = CollectiveOptions {
        algorithms: vec![Algorithm::parse(case.algorithm, "nccl-check")?],
        composition: Composition::Auto,
        chunks: 4,
    };
    let r =
        simulate(&cluster.topology, &group, CollectiveOp::AllReduce, case.size_bytes, &options)?;
    Ok(match case.figure {
        Figure::Busbw => r.busbw_gbps,
        Figure::BusbwPerNic(nics) => r.busbw_gbps / nics as f64,
        Figure::Algbw => r.algbw_gbps,
        Figure::TimeUs => r.time_s * 1e6,
    })
}

fn describe(case: &Case) -> String {
    let cluster = case
        .cluster
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .map(|n| n.trim_matches('"'))
        .unwrap_or(case.cluster);
    format!(
        "{} all-reduce {} on {} GPUs of {}, {}",
        case.pointer.trim_start_matches('/'),
        astrolabe_core::units::format_size_bytes(case.size_bytes),
        case.gpus,
        cluster,
        case.algorithm
    )
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let (rows, skipped) = check(&args.dataset)?;
    let max_abs = rows.iter().map(|r| r.error.abs()).fold(0.0, f64::max);
    if args.json {
        let v = serde_json::json!({ "dataset": args.dataset, "rows": rows, "skipped": skipped, "max_abs_error": max_abs });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if args.markdown {
        println!("| entry | case | unit | measured | predicted | error |");
        println!("|---|---|---|---:|---:|---:|");
        for r in &rows {
            println!(
                "| {} | {} | {} | {} | {:.1} | {:+.1}% |",
                r.id,
                r.case,
                r.unit,
                r.measured,
                r.predicted,
                r.error * 100.0
            );
        }
        println!("\n{} comparisons; largest absolute error {:.1}%.", rows.len(), max_abs * 100.0);
    } else {
        println!("{:<44} {:>10} {:>10} {:>8}  case", "entry", "measured", "predicted", "error");
        for r in &rows {
            println!(
                "{:<44} {:>10} {:>10.1} {:>+7.1}%  {} ({})",
                r.id,
                r.measured,
                r.predicted,
                r.error * 100.0,
                r.case,
                r.unit
            );
        }
        println!("{} comparisons; largest absolute error {:.1}%", rows.len(), max_abs * 100.0);
    }
    for s in &skipped {
        println!("skipped: {s}");
    }
    Ok(())
}
