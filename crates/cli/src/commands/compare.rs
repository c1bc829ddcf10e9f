//! `astrolabe compare`: what-if variants of a scenario (another GPU, more bandwidth, FP8, a
//! bigger cluster, other plan keys) against the base: speed-up, MFU, time to train and cost.

use crate::commands::simulate::{load, write_page};
use crate::commands::table::Table;
use anyhow::Result;
use astrolabe_explore::compare::{compare, CompareRow};
use astrolabe_explore::search::Objective;
use astrolabe_explore::variant::KEYS;
use astrolabe_explore::Variant;
use astrolabe_html::{bar_chart, Bar, BarChart, Page, Section};
use std::fmt::Write as _;

/// Arguments of `astrolabe compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The base scenario TOML file; without it, the built-in default.
    pub scenario: Option<String>,
    /// A variant: `key=value` changes, comma-separated (repeat the flag for more variants).
    #[arg(long = "vary", value_name = "CHANGES", required = true, help = format!("A variant: comma-separated changes, one of {KEYS}; repeat for more variants"))]
    pub vary: Vec<String>,
    /// Search each variant's best plan (by step time) instead of keeping the scenario's plan.
    #[arg(long)]
    pub search: bool,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
    /// Also write the comparison as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let base = load(args.scenario.as_deref())?;
    let variants =
        args.vary.iter().map(|v| Variant::parse(v, "--vary")).collect::<Result<Vec<_>, _>>()?;
    let rows = compare(&base, &variants, args.search.then_some(Objective::Time))?;
    let run_tokens = base_run_tokens(&rows);
    if let Some(path) = &args.html {
        let mut page = Page::new(&format!("What if: {}", base.name));
        page.push(section(&rows)?);
        write_page(path, &page)?;
    }
    if args.json {
        let json =
            serde_json::json!({ "scenario": base.name, "run_tokens": run_tokens, "rows": rows });
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", render(&base.name, run_tokens, &rows));
    }
    Ok(())
}

fn base_run_tokens(rows: &[CompareRow]) -> u64 {
    rows.first().map_or(0, |r| r.run_tokens)
}

/// The text report: one row per variant.
pub fn render(name: &str, run_tokens: u64, rows: &[CompareRow]) -> String {
    let mut out = format!(
        "What if: {name} (a training run of {:.1} billion tokens; prices in docs/cost.md)\n\n",
        run_tokens as f64 / 1e9
    );
    let mut t = Table::new(&[
        "variant",
        "plan",
        "GPUs",
        "step s",
        "speed-up ×",
        "MFU %",
        "days to train",
        "$/hour",
        "run $M",
        "run cost %",
        "extra $/h per +1% speed",
        "run MWh",
    ]);
    for r in rows {
        let s = &r.summary;
        t.row(vec![
            r.label.clone(),
            r.plan.clone(),
            s.gpus.to_string(),
            format!("{:.3}", s.step_time_s),
            format!("{:.3}", r.speedup),
            format!("{:.1}", s.mfu * 100.0),
            format!("{:.1}", r.days_to_train),
            format!("{:.0}", s.usd_per_hour),
            format!("{:.2}", r.run_usd / 1e6),
            format!("{:+.1}", r.run_cost_change * 100.0),
            r.usd_per_hour_per_speedup_point.map_or("-".into(), |v| format!("{v:.1}")),
            format!("{:.0}", s.run_energy_mwh),
        ]);
    }
    out.push_str(&t.render());
    let _ = writeln!(
        out,
        "\nspeed-up: tokens per second over the base's; run cost %: the run's dollars against the \
         base's; extra $/h per +1% speed: added dollars per hour of the cluster for each percent \
         of speed-up (- when the variant is not faster or not dearer)."
    );
    out
}

/// The comparison as a page section: speed-up and run cost per variant.
pub fn section(rows: &[CompareRow]) -> Result<Section> {
    let speed: Vec<Bar> =
        rows.iter().map(|r| Bar { label: r.label.clone(), value: r.speedup }).collect();
    let cost: Vec<Bar> =
        rows.iter().map(|r| Bar { label: r.label.clone(), value: r.run_usd / 1e6 }).collect();
    let speed = bar_chart(&BarChart {
        id: "compare-speedup",
        title: "Speed-up against the base",
        unit: "×",
        decimals: 3,
        bars: &speed,
    })?;
    let cost = bar_chart(&BarChart {
        id: "compare-cost",
        title: "Cost of the training run",
        unit: "M USD",
        decimals: 2,
        bars: &cost,
    })?;
    Ok(Section::new("What if").chart(speed).chart(cost))
}
