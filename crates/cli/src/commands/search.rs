//! `astrolabe search`: the best parallel plans of a scenario's model on its cluster.

use crate::commands::simulate::load;
use crate::commands::table::{gb, Table};
use crate::progress;
use anyhow::Result;
use astrolabe_explore::scale::parse_sizes;
use astrolabe_explore::search::{search_sizes, Objective, SearchResult};
use astrolabe_explore::Space;
use std::fmt::Write;

/// Arguments of `astrolabe search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario TOML file (its model, cluster and the plan keys not searched); without it, the
    /// built-in default.
    pub scenario: Option<String>,
    /// GPUs to search on: a count, a list `a,b` or powers of two `A..B` (default: the
    /// scenario's cluster). With several sizes every plan of every size is ranked together.
    #[arg(long, value_name = "N")]
    pub gpus: Option<String>,
    /// What to minimize: `time` (step time) or `cost` (dollars per token).
    #[arg(long, default_value = "time")]
    pub objective: String,
    /// How many of the best plans to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let base = load(args.scenario.as_deref())?;
    let objective = Objective::parse(&args.objective, "--objective")?;
    let sizes = args.gpus.as_deref().map(|g| parse_sizes(g, "--gpus")).transpose()?;
    let space = Space::for_scenario(&base);
    let per_size = space.candidates(&base.model).len() as u64;
    let bar = progress::bar(per_size * sizes.as_ref().map_or(1, |s| s.len() as u64), "plans");
    let found = search_sizes(&base, sizes.as_deref(), &space, objective, args.top, &|| bar.inc(1))?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        print!("{}", render(&found));
    }
    if found.best.is_empty() {
        anyhow::bail!("{}: `plan`: no candidate plan fits and runs (see the counts above)", found.scenario);
    }
    Ok(())
}

/// The text report: counts, why plans were dropped, the best plans with their breakdowns.
pub fn render(r: &SearchResult) -> String {
    let mut out = String::new();
    let objective = match r.objective {
        Objective::Time => "step time",
        Objective::Cost => "dollars per token",
    };
    let _ = writeln!(out, "Search: {} (up to {} GPUs), minimizing {objective}", r.scenario, r.gpus);
    let _ = writeln!(out, "\nCandidates       {:>8}", r.candidates);
    let invalid: usize = r.invalid_by_field.values().sum();
    let _ = writeln!(out, "Refused          {invalid:>8}  by the plan's checks:");
    for (field, n) in &r.invalid_by_field {
        let example = r.invalid_example.get(field).map(String::as_str).unwrap_or("");
        let _ = writeln!(out, "  {field:<22} {n:>8}  e.g. {example}");
    }
    let closest = match &r.closest_to_fitting {
        Some((plan, bytes)) => format!(" (closest: {plan} needs {} GB)", gb(*bytes)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "Do not fit       {:>8}  in {} GB of HBM per GPU{closest}",
        r.does_not_fit,
        gb(r.hbm_bytes)
    );
    let _ = writeln!(out, "Simulated        {:>8}", r.simulated);
    if r.best.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\nBest {} plans (seconds per step; exposed communication by axis):", r.best.len());
    let mut t = Table::new(&[
        "#", "plan", "GPUs", "dp", "micro-batches", "step s", "MFU %", "$/M tokens", "memory GB",
        "compute s", "TP s", "CP s", "EP s", "PP s", "DP s", "bubble s", "optimizer s",
    ]);
    for b in &r.best {
        let (s, d) = (&b.summary, &b.summary.breakdown);
        t.row(vec![
            b.rank.to_string(),
            b.label.clone(),
            s.gpus.to_string(),
            s.dp.to_string(),
            s.micro_batches.to_string(),
            format!("{:.3}", s.step_time_s),
            format!("{:.1}", s.mfu * 100.0),
            format!("{:.2}", s.usd_per_million_tokens),
            gb(s.memory_peak_bytes),
            format!("{:.3}", d.compute_s),
            format!("{:.3}", d.exposed_tp_comm_s),
            format!("{:.3}", d.exposed_cp_comm_s),
            format!("{:.3}", d.exposed_ep_comm_s),
            format!("{:.3}", d.exposed_pp_comm_s),
            format!("{:.3}", d.exposed_dp_comm_s),
            format!("{:.3}", d.pipeline_bubble_s),
            format!("{:.3}", d.optimizer_s),
        ]);
    }
    out.push_str(&t.render());
    let _ = writeln!(
        out,
        "\nPlan labels: tp/cp/pp degrees, v chunks per stage, mb sequences per micro-batch, \
         recomputation (none, sel, full), z ZeRO stage, ep, zb zero-bubble schedule."
    );
    out
}
