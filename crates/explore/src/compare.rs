//! What-if comparisons: the base scenario and each variant simulated (or each searched for its
//! best plan), with speed-up, MFU, time to train and cost against the base.

use crate::search::{search, Objective};
use crate::space::Space;
use crate::summary::{plan_label, Summary};
use crate::variant::Variant;
use astrolabe_core::InputError;
use astrolabe_sim::{simulate, Mode, Scenario};
use serde::Serialize;

/// One row of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareRow {
    /// `base` or the variant's changes as written.
    pub label: String,
    /// The plan run (`tp8 cp1 pp4 dp2 mb1 …`).
    pub plan: String,
    /// Its figures.
    pub summary: Summary,
    /// Tokens of the training run priced (the base's).
    pub run_tokens: u64,
    /// Tokens per second over the base's.
    pub speedup: f64,
    /// Days to train the run's tokens.
    pub days_to_train: f64,
    /// Dollars of that run at the variant's speed and rate.
    pub run_usd: f64,
    /// The run's dollars over the base's, minus 1 (−0.2: 20% cheaper).
    pub run_cost_change: f64,
    /// Added dollars per hour of the whole cluster for each percent of speed-up; `None` when
    /// the variant is not faster or costs no more per hour.
    pub usd_per_hour_per_speedup_point: Option<f64>,
}

/// Simulates `base` and every variant; with `search`, each runs the best plan a search of its
/// own space finds instead of the scenario's plan. An error names the variant.
pub fn compare(
    base: &Scenario,
    variants: &[Variant],
    search_by: Option<Objective>,
) -> Result<Vec<CompareRow>, InputError> {
    let mut rows = Vec::with_capacity(variants.len() + 1);
    let (plan, first) = run(base, search_by)?;
    rows.push(row("base".into(), plan, first.clone(), &first));
    for v in variants {
        let scenario = v.apply(base, &format!("--vary {}", v.label()))?;
        let (plan, summary) = run(&scenario, search_by)?;
        rows.push(row(v.label(), plan, summary, &first));
    }
    Ok(rows)
}

/// A row against `base`: the run is the base's tokens, timed and priced at the variant's rate.
fn row(label: String, plan: String, summary: Summary, base: &Summary) -> CompareRow {
    let tokens = base.run_tokens as f64;
    let speedup = summary.tokens_per_s / base.tokens_per_s;
    let run_usd = |s: &Summary| s.usd_per_hour * tokens / s.tokens_per_s / 3_600.0;
    let days = tokens / summary.tokens_per_s / 86_400.0;
    let extra_usd_per_hour = summary.usd_per_hour - base.usd_per_hour;
    let per_point = (speedup > 1.0 && extra_usd_per_hour > 0.0)
        .then(|| extra_usd_per_hour / ((speedup - 1.0) * 100.0));
    CompareRow {
        label,
        plan,
        run_tokens: base.run_tokens,
        speedup,
        days_to_train: days,
        run_usd: run_usd(&summary),
        run_cost_change: run_usd(&summary) / run_usd(base) - 1.0,
        usd_per_hour_per_speedup_point: per_point,
        summary,
    }
}

/// The scenario's own plan, or its best plan by `objective`.
fn run(s: &Scenario, search_by: Option<Objective>) -> Result<(String, Summary), InputError> {
    if let Some(objective) = search_by {
        let found = search(s, &Space::for_scenario(s), objective, 1, &|| {});
        let best = found.best.into_iter().next().ok_or_else(|| {
            let expected = format!(
                "a plan that fits: none of the {} candidates does ({} too large for {:.1} GB)",
                found.candidates,
                found.does_not_fit,
                found.hbm_bytes as f64 / 1e9
            );
            InputError::new(&s.name, "plan", expected)
        })?;
        return Ok((best.plan(), best.summary));
    }
    let r = simulate(s, Mode::Representative)?;
    if !r.fits_in_memory {
        let expected = format!(
            "a plan that fits in {:.1} GB per GPU; this one needs {:.1} GB (try --search)",
            r.cluster.gpu.hbm_bytes as f64 / 1e9,
            r.memory_peak_bytes as f64 / 1e9
        );
        return Err(InputError::new(&s.name, "memory", expected));
    }
    Ok((plan_label(&r.plan), Summary::of(&r)))
}
