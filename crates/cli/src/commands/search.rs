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
    /// Tensor-parallel degrees to try, e.g. `4,8` (default: powers of two up to the scale-up
    /// domain).
    #[arg(long, value_name = "LIST")]
    pub tp: Option<String>,
    /// Context-parallel degrees to try (default: powers of two down to 1,024 tokens per rank).
    #[arg(long, value_name = "LIST")]
    pub cp: Option<String>,
    /// Pipeline depths to try (default: powers of two and divisors of the layers, up to 64).
    #[arg(long, value_name = "LIST")]
    pub pp: Option<String>,
    /// Chunks per pipeline rank to try (default: 1,2,4).
    #[arg(long, value_name = "LIST")]
    pub virtual_stages: Option<String>,
    /// Micro-batch sizes to try (default: 1,2,4,8).
    #[arg(long, value_name = "LIST")]
    pub micro_batch: Option<String>,
    /// ZeRO stages to try (default: 0,1,2,3).
    #[arg(long, value_name = "LIST")]
    pub zero_stage: Option<String>,
    /// Expert-parallel degrees to try (default: powers of two dividing the experts).
    #[arg(long, value_name = "LIST")]
    pub ep: Option<String>,
    /// Expert tensor-parallel degrees to try (default for a mixture of experts: the plan's tp
    /// and 1, folded experts).
    #[arg(long, value_name = "LIST")]
    pub expert_tp: Option<String>,
}

/// The default space of `base` with the ranges the flags give.
fn space(args: &Args, base: &astrolabe_sim::Scenario) -> Result<Space> {
    let mut space = Space::for_scenario(base);
    let lists = [
        ("--tp", &args.tp, &mut space.tp),
        ("--cp", &args.cp, &mut space.cp),
        ("--pp", &args.pp, &mut space.pp),
        ("--virtual-stages", &args.virtual_stages, &mut space.virtual_stages),
        ("--micro-batch", &args.micro_batch, &mut space.micro_batch),
        ("--ep", &args.ep, &mut space.ep),
    ];
    for (flag, text, values) in lists {
        if let Some(text) = text {
            *values = list(text, flag)?;
        }
    }
    if let Some(text) = &args.expert_tp {
        space.expert_tp = list(text, "--expert-tp")?.into_iter().map(Some).collect();
    }
    if let Some(text) = &args.zero_stage {
        let stages = list(text, "--zero-stage")?;
        if let Some(bad) = stages.iter().find(|z| **z > 3) {
            anyhow::bail!("--zero-stage: `{bad}`: expected stages 0 to 3");
        }
        space.zero_stage = stages.into_iter().map(|z| z as u8).collect();
    }
    Ok(space)
}

/// `1,2,8`: whole numbers, at least one.
fn list(text: &str, flag: &str) -> Result<Vec<u64>> {
    text.split(',')
        .map(|t| {
            t.trim().parse::<u64>().ok().filter(|n| *n > 0 || flag == "--zero-stage").ok_or_else(
                || anyhow::anyhow!("{flag}: `{text}`: expected whole numbers separated by commas"),
            )
        })
        .collect()
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let base = load(args.scenario.as_deref())?;
    let objective = Objective::parse(&args.objective, "--objective")?;
    let sizes = args.gpus.as_deref().map(|g| parse_sizes(g, "--gpus")).transpose()?;
    let space = space(args, &base)?;
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
        anyhow::bail!(
            "{}: `plan`: no candidate plan fits and runs (see the counts above)",
            found.scenario
        );
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
    let _ = writeln!(
        out,
        "\nBest {} plans (seconds per step; exposed communication by axis):",
        r.best.len()
    );
    let mut t = Table::new(&[
        "#",
        "plan",
        "GPUs",
        "dp",
        "micro-batches",
        "step s",
        "MFU %",
        "$/M tokens",
        "memory GB",
        "compute s",
        "TP s",
        "CP s",
        "EP s",
        "PP s",
        "DP s",
        "bubble s",
        "optimizer s",
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
         recomputation (none, sel, full), z ZeRO stage, ep, zb zero-bubble or dualpipe schedule."
    );
    out
}
