//! `astrolabe validate`: every published run of a dataset beside its prediction (the work is
//! `astrolabe_validate::validate`; this module reads the file and prints).

use super::dataset::{self, DEFAULT_DATASET};
use anyhow::{anyhow, Result};
use astrolabe_validate::summary::Stats;
use astrolabe_validate::{scenario_of, validate, Compared, Validation};
use std::fmt::Write;

/// Arguments of `astrolabe validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset in the schema of shared/data/validation/dev.json.
    #[arg(long, default_value = DEFAULT_DATASET)]
    pub dataset: String,
    /// Print JSON for programs (keys `entries`, `skipped`, `summary`).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print Markdown tables (what docs/validation.md is made from).
    #[arg(long)]
    pub markdown: bool,
    /// Print the scenario TOML built for the training entry with this id, and exit.
    #[arg(long, value_name = "ID", conflicts_with_all = ["json", "markdown"])]
    pub scenario: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let data = dataset::read(&args.dataset)?;
    if let Some(id) = &args.scenario {
        let built = scenario_of(&data, &args.dataset, id).map_err(|s| anyhow!("{id}: {}", s.0))?;
        println!("# Built by `astrolabe validate` from entry `{id}` of {}.", args.dataset);
        for a in &built.assumptions {
            println!("# assumed {} = {} ({})", a.field, a.value, a.rule);
        }
        print!("{}", built.toml);
        return Ok(());
    }
    let v = validate(&data, &args.dataset)?;
    if args.json {
        let mut json = serde_json::to_value(&v)?;
        json["dataset"] = args.dataset.clone().into();
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else if args.markdown {
        print!("{}", markdown(&v));
    } else {
        print!("{}", text(&v, &args.dataset));
    }
    Ok(())
}

/// A figure with about four significant digits.
fn num(x: f64) -> String {
    match x.abs() {
        a if a >= 1000.0 => format!("{x:.0}"),
        a if a >= 100.0 => format!("{x:.1}"),
        a if a >= 10.0 => format!("{x:.2}"),
        a if a >= 1.0 => format!("{x:.3}"),
        _ => format!("{x:.4}"),
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// `field=value, …` without the `plan.` prefix.
fn assumed(c: &Compared) -> String {
    let items: Vec<String> = c
        .assumptions
        .iter()
        .map(|a| format!("{}={}", a.field.trim_start_matches("plan."), a.value))
        .collect();
    items.join(", ")
}

fn summary_rows(v: &Validation) -> Vec<(String, &Stats)> {
    let mut rows = vec![("overall".to_string(), &v.summary.overall)];
    rows.extend(v.summary.by_kind.iter().map(|g| (format!("kind: {}", g.name), &g.stats)));
    rows.extend(v.summary.by_source.iter().map(|g| (format!("source: {}", g.name), &g.stats)));
    rows
}

fn text(v: &Validation, dataset: &str) -> String {
    let mut out = String::new();
    let (n, skipped) = (v.entries.len(), v.skipped.len());
    let _ = writeln!(out, "{dataset}: {n} entries compared, {skipped} skipped\n");
    let _ = writeln!(
        out,
        "{:<46} {:<24} {:>10} {:>10} {:>8}",
        "entry", "metric", "measured", "predicted", "error"
    );
    for c in &v.entries {
        let p = &c.primary;
        let _ = writeln!(
            out,
            "{:<46} {:<24} {:>10} {:>10} {:>+7.1}%",
            c.id,
            p.metric,
            num(p.measured),
            num(p.predicted),
            p.error * 100.0
        );
        if !c.assumptions.is_empty() {
            let _ = writeln!(out, "    assumed: {}", assumed(c));
        }
    }
    let _ = writeln!(out, "\nskipped:");
    for s in &v.skipped {
        let _ = writeln!(out, "  {}: {}", s.id, s.reason);
    }
    let _ = writeln!(out, "\n|error| of the primary figure: median, 90th percentile, count");
    for (name, s) in summary_rows(v) {
        let (m, p) = (pct(s.median_abs_error), pct(s.p90_abs_error));
        let _ = writeln!(out, "  {m:>7} {p:>7} {:>4}  {name}", s.count);
    }
    out
}

fn markdown(v: &Validation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Primary figure per entry\n");
    let _ = writeln!(out, "| entry | metric | measured | predicted | error | fits |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---|");
    for c in &v.entries {
        let p = &c.primary;
        let fits = c.fits_in_memory.map_or("", |f| if f { "yes" } else { "no" });
        let (m, pr, e) = (num(p.measured), num(p.predicted), p.error * 100.0);
        let _ = writeln!(out, "| {} | {} | {m} | {pr} | {e:+.1}% | {fits} |", c.id, p.metric);
    }
    let _ = writeln!(out, "\n### Summary of |error| (primary figures)\n");
    let _ = writeln!(out, "| group | entries | median | p90 |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for (name, s) in summary_rows(v) {
        let (m, p) = (pct(s.median_abs_error), pct(s.p90_abs_error));
        let _ = writeln!(out, "| {name} | {} | {m} | {p} |", s.count);
    }
    let _ = writeln!(out, "\n### Other figures of the same entries\n");
    let _ = writeln!(out, "| entry | metric | from | measured | predicted | error |");
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|");
    for c in &v.entries {
        for o in &c.others {
            let (m, pr, e) = (num(o.measured), num(o.predicted), o.error * 100.0);
            let _ =
                writeln!(out, "| {} | {} | {} | {m} | {pr} | {e:+.1}% |", c.id, o.metric, o.key);
        }
    }
    let _ = writeln!(out, "\n### Values filled in by the rules\n");
    let _ = writeln!(out, "| entry | assumed |");
    let _ = writeln!(out, "|---|---|");
    for c in v.entries.iter().filter(|c| !c.assumptions.is_empty()) {
        let _ = writeln!(out, "| {} | {} |", c.id, assumed(c));
    }
    let _ = writeln!(out, "\n### Skipped entries\n");
    let _ = writeln!(out, "| entry | reason |");
    let _ = writeln!(out, "|---|---|");
    for s in &v.skipped {
        let _ = writeln!(out, "| {} | {} |", s.id, s.reason.replace('|', "\\|"));
    }
    out
}
