//! What-if comparisons: the base scenario and each variant simulated (or each searched for its
//! best plan), with speed-up, MFU, time to train and cost against the base.

use crate::search::{search, Objective};
use crate::space::Space;
use crate::summary::Summary;
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
    /// Tokens per second over the base's.
    pub speedup: f64,
    /// Days to train the run's tokens.
    pub days_to_train: f64,
}

/// Simulates `base` and every variant; with `search`, each runs the best plan a search of its
/// own space finds instead of the scenario's plan. An error names the variant.
pub fn compare(
    base: &Scenario,
    variants: &[Variant],
    search_by: Option<Objective>,
    run_tokens: f64,
) -> Result<Vec<CompareRow>, InputError> {
    let mut rows = Vec::with_capacity(variants.len() + 1);
    let (plan, first) = run(base, search_by)?;
    rows.push(row("base".into(), plan, first.clone(), &first, run_tokens));
    for v in variants {
        let scenario = v.apply(base, &format!("--vary {}", v.label()))?;
        let (plan, summary) = run(&scenario, search_by)?;
        rows.push(row(v.label(), plan, summary, &first, run_tokens));
    }
    Ok(rows)
}

fn row(label: String, plan: String, summary: Summary, base: &Summary, tokens: f64) -> CompareRow {
    CompareRow {
        label,
        plan,
        speedup: summary.tokens_per_s / base.tokens_per_s,
        days_to_train: tokens / summary.tokens_per_s / 86_400.0,
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
        return Ok((format!("{} dp{}", best.label, best.summary.dp), best.summary));
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
    let p = &r.plan;
    let plan = format!("tp{} cp{} pp{} dp{} mb{} ×{}", p.tp, p.cp, p.pp, p.dp, p.micro_batch, p.micro_batches);
    Ok((plan, Summary::of(&r)))
}
