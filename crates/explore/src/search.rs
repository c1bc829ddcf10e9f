//! `search`: every candidate plan of a [`Space`] resolved against the scenario (invalid ones
//! refused with the plan's own checks), memory accounted first (plans that do not fit dropped
//! before their step is built), the rest simulated in parallel, and ranked by an objective.

use crate::space::{Candidate, Space};
use crate::summary::Summary;
use crate::variant::resize;
use astrolabe_core::InputError;
use astrolabe_memory::account;
use astrolabe_sim::{resolve_scenario, simulate, Mode, Scenario};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the search minimizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Step time (for a fixed batch: time to train).
    Time,
    /// Dollars per token (differs from time only when the GPU count or the rate differs).
    Cost,
}

impl Objective {
    /// Reads `time` or `cost`; `origin` names the flag.
    pub fn parse(text: &str, origin: &str) -> Result<Objective, InputError> {
        match text {
            "time" => Ok(Objective::Time),
            "cost" => Ok(Objective::Cost),
            other => Err(InputError::new(origin, other, "time or cost")),
        }
    }

    /// The figure minimized for `s`.
    pub fn score(self, s: &Summary) -> f64 {
        match self {
            Objective::Time => s.step_time_s,
            Objective::Cost => s.usd_per_million_tokens,
        }
    }
}

/// How one candidate ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Refused by the plan's checks: the field and what it expected.
    Invalid {
        /// The field (`plan.global_batch`).
        field: String,
        /// What it expected.
        expected: String,
    },
    /// Valid, but the fullest GPU needs more memory than it has.
    DoesNotFit {
        /// What the fullest GPU needs, bytes.
        needed_bytes: u64,
    },
    /// Simulated.
    Simulated(Box<Summary>),
}

/// One candidate and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluated {
    /// The plan's keys.
    pub candidate: Candidate,
    /// Refused, too large, or simulated.
    pub outcome: Outcome,
}

/// The result of a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// The scenario searched.
    pub scenario: String,
    /// GPUs of the cluster searched (the largest size when several were).
    pub gpus: usize,
    /// The objective.
    pub objective: Objective,
    /// Candidates tried.
    pub candidates: usize,
    /// Candidates refused by the plan's checks, counted by the field that refused them.
    pub invalid_by_field: BTreeMap<String, usize>,
    /// For each such field, what the first candidate it refused was told.
    pub invalid_example: BTreeMap<String, String>,
    /// Valid candidates whose fullest GPU does not fit in memory.
    pub does_not_fit: usize,
    /// The smallest memory need among those, bytes, and the plan.
    pub closest_to_fitting: Option<(String, u64)>,
    /// HBM per GPU, bytes.
    pub hbm_bytes: u64,
    /// Candidates simulated.
    pub simulated: usize,
    /// The best simulated plans, best first (at most `top`).
    pub best: Vec<Ranked>,
    /// Every candidate and its outcome, in enumeration order.
    #[serde(skip)]
    pub all: Vec<Evaluated>,
}

/// A simulated plan in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// 1 for the best.
    pub rank: usize,
    /// The plan's keys.
    pub candidate: Candidate,
    /// `tp8 cp1 pp16 v2 mb1 full z1`.
    pub label: String,
    /// Its figures.
    pub summary: Summary,
}

impl Ranked {
    /// The plan's label with the data-parallel degree it got: `tp8 … z1 dp32`.
    pub fn plan(&self) -> String {
        format!("{} dp{}", self.label, self.summary.dp)
    }
}

/// Searches `space` on `base`; `top` plans are kept; `tick` is called once per candidate
/// (for a progress bar), from any thread.
pub fn search(
    base: &Scenario,
    space: &Space,
    objective: Objective,
    top: usize,
    tick: &(dyn Fn() + Sync),
) -> SearchResult {
    let all = evaluate_all(base, &space.candidates(&base.model), tick);
    summarize(base, objective, top, all)
}

/// Searches `space` on `base` resized to each of `sizes` GPUs (`None`: its own size) and
/// ranks every simulated plan together: with the cost objective, the cheapest size wins.
pub fn search_sizes(
    base: &Scenario,
    sizes: Option<&[usize]>,
    space: &Space,
    objective: Objective,
    top: usize,
    tick: &(dyn Fn() + Sync),
) -> Result<SearchResult, InputError> {
    let Some(sizes) = sizes else {
        return Ok(search(base, space, objective, top, tick));
    };
    let mut all = Vec::new();
    for &gpus in sizes {
        let name = format!("{} @ {gpus} GPUs", base.name);
        let mut sized = base.clone();
        sized.cluster = resize(&base.cluster, gpus, "--gpus")?;
        sized.name = name;
        all.extend(evaluate_all(&sized, &space.candidates(&base.model), tick));
    }
    let mut result = summarize(base, objective, top, all);
    result.gpus = sizes.iter().copied().max().unwrap_or(0);
    Ok(result)
}

/// Every candidate evaluated in parallel, in enumeration order; `tick` once per candidate.
fn evaluate_all(
    base: &Scenario,
    candidates: &[Candidate],
    tick: &(dyn Fn() + Sync),
) -> Vec<Evaluated> {
    candidates
        .par_iter()
        .map(|c| {
            let outcome = evaluate(base, c);
            tick();
            Evaluated { candidate: *c, outcome }
        })
        .collect()
}

/// Resolves, accounts and (if it fits) simulates one candidate.
pub fn evaluate(base: &Scenario, c: &Candidate) -> Outcome {
    let mut tables = base.tables.clone();
    tables.plan = c.plan_table(&base.tables.plan);
    let invalid = |e: InputError| Outcome::Invalid { field: e.field, expected: e.expected };
    let scenario =
        match resolve_scenario(base.model.clone(), base.cluster.clone(), tables, &base.name) {
            Ok(s) => s,
            Err(e) => return invalid(e),
        };
    if scenario.offload.is_none() {
        // Offload changes what stays in HBM; without it the account decides before the step
        // is built, which is most of the saving on large models.
        let inputs = scenario.plan.memory_inputs();
        match account(&scenario.model, &inputs, scenario.cluster.gpu.hbm_bytes) {
            Ok(m) if !m.fits => return Outcome::DoesNotFit { needed_bytes: m.peak_bytes },
            Ok(_) => {}
            Err(e) => return invalid(e),
        }
    }
    match simulate(&scenario, Mode::Representative) {
        Ok(r) if !r.fits_in_memory => Outcome::DoesNotFit { needed_bytes: r.memory_peak_bytes },
        Ok(r) => Outcome::Simulated(Box::new(Summary::of(&r))),
        Err(e) => invalid(e),
    }
}

fn summarize(
    base: &Scenario,
    objective: Objective,
    top: usize,
    all: Vec<Evaluated>,
) -> SearchResult {
    let mut invalid_by_field = BTreeMap::new();
    let mut invalid_example = BTreeMap::new();
    let mut does_not_fit = 0;
    let mut closest: Option<(String, u64)> = None;
    let mut simulated: Vec<(usize, &Summary)> = Vec::new();
    for (i, e) in all.iter().enumerate() {
        match &e.outcome {
            Outcome::Invalid { field, expected } => {
                *invalid_by_field.entry(field.clone()).or_insert(0) += 1;
                invalid_example
                    .entry(field.clone())
                    .or_insert_with(|| format!("{}: {expected}", e.candidate.label()));
            }
            Outcome::DoesNotFit { needed_bytes } => {
                does_not_fit += 1;
                if closest.as_ref().is_none_or(|(_, b)| needed_bytes < b) {
                    closest = Some((e.candidate.label(), *needed_bytes));
                }
            }
            Outcome::Simulated(s) => simulated.push((i, s)),
        }
    }
    // Best first; ties keep enumeration order, so the ranking is deterministic.
    simulated
        .sort_by(|a, b| objective.score(a.1).total_cmp(&objective.score(b.1)).then(a.0.cmp(&b.0)));
    let best = simulated
        .iter()
        .take(top)
        .enumerate()
        .map(|(rank, (i, s))| Ranked {
            rank: rank + 1,
            candidate: all[*i].candidate,
            label: all[*i].candidate.label(),
            summary: (*s).clone(),
        })
        .collect();
    SearchResult {
        scenario: base.name.clone(),
        gpus: base.cluster.gpus(),
        objective,
        candidates: all.len(),
        invalid_by_field,
        invalid_example,
        does_not_fit,
        closest_to_fitting: closest,
        hbm_bytes: base.cluster.gpu.hbm_bytes,
        simulated: simulated.len(),
        best,
        all,
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
