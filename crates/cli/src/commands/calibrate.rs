//! `astrolabe calibrate`: fits the kernel efficiencies of each GPU generation to a dataset's
//! training entries and, with `--holdout`, measures how the fit carries to a publisher it did
//! not see (the work is `astrolabe_validate::fit`; this module reads the file and prints).

use super::dataset::{self, DEFAULT_DATASET};
use anyhow::Result;
use astrolabe_validate::fit::{
    fit, fit_reusing, overrides, publisher, start_overrides, GenerationFit, GRID_POINTS, ROUNDS,
    SWEEPS,
};
use astrolabe_validate::summary::{stats, Stats};
use astrolabe_validate::{validate_with, Overrides, Validation};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Arguments of `astrolabe calibrate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset in the schema of shared/data/validation/dev.json.
    #[arg(long, default_value = DEFAULT_DATASET)]
    pub dataset: String,
    /// Also refit once per publisher with its entries held out, and score them (slow: one fit
    /// per publisher).
    #[arg(long)]
    pub holdout: bool,
    /// Print JSON (keys `fits`, `holdout`).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print Markdown (what docs/calibration.md is made from).
    #[arg(long)]
    pub markdown: bool,
}

/// A publisher's training entries scored by a fit that saw them and by one that did not.
#[derive(Debug, Serialize)]
struct Holdout {
    publisher: String,
    in_sample: Stats,
    held_out: Stats,
}

/// The training entries' error statistics with the knobs at their start and at their fit.
#[derive(Debug, Serialize)]
struct BeforeAfter {
    start: Stats,
    fitted: Stats,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let data = dataset::read(&args.dataset)?;
    let fits = fit(&data, &args.dataset, None)?;
    let effect = BeforeAfter {
        start: training_stats(&data, &args.dataset, &start_overrides(&fits))?,
        fitted: training_stats(&data, &args.dataset, &overrides(&fits))?,
    };
    let holdouts = if args.holdout { holdout(&data, &args.dataset, &fits)? } else { Vec::new() };
    if args.json {
        let json = serde_json::json!({
            "dataset": args.dataset, "fits": fits, "training": effect, "holdout": holdouts
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else if args.markdown {
        print!("{}", markdown(&fits, &effect, &holdouts));
    } else {
        print!("{}", text(&fits, &effect, &holdouts, &args.dataset));
    }
    Ok(())
}

/// Median and p90 of the primary errors of every training entry, under `o`.
fn training_stats(data: &Value, origin: &str, o: &Overrides) -> Result<Stats> {
    let v = validate_with(data, origin, o)?;
    let errors: Vec<f64> =
        v.entries.iter().filter(|c| c.generation.is_some()).map(|c| c.primary.error).collect();
    Ok(stats(&errors))
}

/// Primary absolute errors of the training entries of `publisher_name` in `v`.
fn errors_of(v: &Validation, publisher_name: &str) -> Vec<f64> {
    v.entries
        .iter()
        .filter(|c| c.generation.is_some() && publisher(&c.source) == publisher_name)
        .map(|c| c.primary.error.abs())
        .collect()
}

fn holdout(data: &Value, origin: &str, fits: &[GenerationFit]) -> Result<Vec<Holdout>> {
    let in_sample = validate_with(data, origin, &overrides(fits))?;
    let publishers: BTreeSet<String> = in_sample
        .entries
        .iter()
        .filter(|c| c.generation.is_some())
        .map(|c| publisher(&c.source))
        .collect();
    let mut out = Vec::new();
    for p in publishers {
        let without = overrides(&fit_reusing(data, origin, Some(&p), fits)?);
        let held_out = validate_with(data, origin, &without)?;
        out.push(Holdout {
            in_sample: stats(&errors_of(&in_sample, &p)),
            held_out: stats(&errors_of(&held_out, &p)),
            publisher: p,
        });
    }
    Ok(out)
}

/// Median and p90 with and without the publisher, in percent: in, out, in, out.
fn holdout_pcts(h: &Holdout) -> [f64; 4] {
    [
        h.in_sample.median_abs_error,
        h.held_out.median_abs_error,
        h.in_sample.p90_abs_error,
        h.held_out.p90_abs_error,
    ]
    .map(|x| x * 100.0)
}

fn text(
    fits: &[GenerationFit],
    effect: &BeforeAfter,
    holdouts: &[Holdout],
    origin: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{origin}: kernel efficiencies fitted per GPU generation");
    let _ = writeln!(s, "objective: mean |ln(predicted / measured)| of the primary figures\n");
    for (name, st) in [("start", &effect.start), ("fitted", &effect.fitted)] {
        let _ = writeln!(
            s,
            "training entries, {name} constants: median {:.1}%, p90 {:.1}% ({} entries)",
            st.median_abs_error * 100.0,
            st.p90_abs_error * 100.0,
            st.count
        );
    }
    let _ = writeln!(s);
    for f in fits {
        let _ = writeln!(
            s,
            "{:?}: {} training entries, objective {:.4} -> {:.4} ({} validation runs)",
            f.generation,
            f.entries.len(),
            f.objective_before,
            f.objective_after,
            f.evaluations
        );
        for x in &f.fitted {
            let _ = writeln!(s, "  {:<22} {:>8} -> {}", x.knob.key, x.before, x.value);
        }
    }
    if !holdouts.is_empty() {
        let _ = writeln!(
            s,
            "\n{:<24} {:>8} {:>16} {:>16}",
            "held-out publisher", "entries", "median in/out", "p90 in/out"
        );
        for h in holdouts {
            let [mi, mo, pi, po] = holdout_pcts(h);
            let _ = writeln!(
                s,
                "{:<24} {:>8} {mi:>7.1}% {mo:>6.1}% {pi:>7.1}% {po:>6.1}%",
                h.publisher, h.held_out.count
            );
        }
    }
    s
}

fn markdown(fits: &[GenerationFit], effect: &BeforeAfter, holdouts: &[Holdout]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "| constants | training entries | median | p90 |");
    let _ = writeln!(s, "|---|---:|---:|---:|");
    for (name, st) in [("start (public figures)", &effect.start), ("fitted", &effect.fitted)] {
        let _ = writeln!(
            s,
            "| {name} | {} | {:.1}% | {:.1}% |",
            st.count,
            st.median_abs_error * 100.0,
            st.p90_abs_error * 100.0
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Search: coordinate descent, {SWEEPS} sweeps; per knob {ROUNDS} grids of {GRID_POINTS} values, each narrowed around the best.\n"
    );
    let _ = writeln!(
        s,
        "| generation | training entries | objective before | objective after | validation runs |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|");
    for f in fits {
        let _ = writeln!(
            s,
            "| {:?} | {} | {:.4} | {:.4} | {} |",
            f.generation,
            f.entries.len(),
            f.objective_before,
            f.objective_after,
            f.evaluations
        );
    }
    let _ = writeln!(s, "\n| generation | constant | range searched | before | fitted |");
    let _ = writeln!(s, "|---|---|---|---:|---:|");
    for f in fits {
        for x in &f.fitted {
            let k = x.knob;
            let _ = writeln!(
                s,
                "| {:?} | `{}` | {} – {} | {} | {} |",
                f.generation, k.key, k.lo, k.hi, x.before, x.value
            );
        }
    }
    if !holdouts.is_empty() {
        let _ = writeln!(s, "\n| held-out publisher | entries | median, fitted with it | median, held out | p90, fitted with it | p90, held out |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for h in holdouts {
            let [mi, mo, pi, po] = holdout_pcts(h);
            let _ = writeln!(
                s,
                "| {} | {} | {mi:.1}% | {mo:.1}% | {pi:.1}% | {po:.1}% |",
                h.publisher, h.held_out.count
            );
        }
    }
    s
}
