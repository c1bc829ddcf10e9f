//! `astrolabe nccl-check`: collective predictions against the nccl-tests figures of a dataset
//! (the cases and the comparison live in `astrolabe_validate::collective`).

use super::dataset::{self, DEFAULT_DATASET};
use anyhow::{anyhow, Result};
use astrolabe_validate::collective::{self, CollectiveRow as Row};
use serde_json::Value;

/// Arguments of `astrolabe nccl-check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset in the schema of shared/data/validation/dev.json.
    #[arg(long, default_value = DEFAULT_DATASET)]
    pub dataset: String,
    /// Print a Markdown table (what docs/collectives.md is made from).
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
}

/// Runs every case whose entry is in the dataset; the rest are reported as skipped.
pub fn check(dataset_path: &str) -> Result<(Vec<Row>, Vec<String>)> {
    let data = dataset::read(dataset_path)?;
    let entries = data
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("{dataset_path}: `entries`: expected an array"))?;
    let (rows, skipped) = collective::check(entries, dataset_path);
    Ok((rows, skipped.into_iter().map(|(id, reason)| format!("{id}: {reason}")).collect()))
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
