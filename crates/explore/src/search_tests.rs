use super::*;
use astrolabe_sim::{no_cluster_files, parse_scenario};

fn llama8b() -> Scenario {
    let text = include_str!("../../../examples/llama3-8b-8xh100.toml");
    parse_scenario(text, "8b.toml", &no_cluster_files).unwrap()
}

/// 2 × 2 × 3 × 2 × 2 × 2 × 2 = 192 candidates of which about 60 are simulated: small enough
/// for a debug build.
fn small_space(s: &Scenario) -> Space {
    let mut space = Space::for_scenario(s);
    space.tp = vec![1, 8];
    space.pp = vec![1, 2, 4];
    space.cp = vec![1, 2];
    space.micro_batch = vec![1, 2];
    space.zero_stage = vec![1, 3];
    space
}

/// One search shared by the tests (each search simulates dozens of steps).
fn found() -> &'static (Scenario, SearchResult, usize) {
    static FOUND: std::sync::OnceLock<(Scenario, SearchResult, usize)> = std::sync::OnceLock::new();
    FOUND.get_or_init(|| {
        let s = llama8b();
        let ticks = std::sync::atomic::AtomicUsize::new(0);
        let result = search(&s, &small_space(&s), Objective::Time, 5, &|| {
            ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        (s, result, ticks.into_inner())
    })
}

#[test]
fn the_best_plan_is_never_worse_than_any_plan_simulated() {
    let (_, found, _) = found();
    let best = found.best[0].summary.step_time_s;
    let mut times = Vec::new();
    for e in &found.all {
        if let Outcome::Simulated(summary) = &e.outcome {
            assert!(best <= summary.step_time_s, "{} beats the best", e.candidate.label());
            times.push(summary.step_time_s);
        }
    }
    assert!(times.len() > 10, "only {} plans simulated", times.len());
    assert_eq!(found.simulated, times.len());
    // The listed plans come in order.
    for pair in found.best.windows(2) {
        assert!(pair[0].summary.step_time_s <= pair[1].summary.step_time_s);
    }
    assert_eq!(found.best.len(), 5);
}

#[test]
fn every_candidate_is_accounted_for_once() {
    let (s, found, ticks) = found();
    let space = small_space(s);
    let invalid: usize = found.invalid_by_field.values().sum();
    assert_eq!(invalid + found.does_not_fit + found.simulated, found.candidates);
    assert_eq!(*ticks, found.candidates);
    assert_eq!(found.candidates, space.candidates(&s.model).len());
    // 8 GPUs cannot hold tp·cp·pp = 8·2·4 = 64: refused by the plan's own check on tp.
    assert!(found.invalid_by_field.contains_key("plan.tp"), "{:?}", found.invalid_by_field);
    // Some plans need more than 80 GB (no model parallelism, no recomputation, ZeRO-1).
    let (_, closest) = found.closest_to_fitting.clone().unwrap();
    assert!(closest > found.hbm_bytes);
}

#[test]
fn a_plan_the_search_simulates_matches_simulate_on_the_same_plan() {
    let (s, found, _) = found();
    let best = &found.best[0];
    let mut tables = s.tables.clone();
    tables.plan = best.candidate.plan_table(&s.tables.plan);
    let again =
        astrolabe_sim::resolve_scenario(s.model.clone(), s.cluster.clone(), tables, "x").unwrap();
    let r = astrolabe_sim::simulate(&again, astrolabe_sim::Mode::Representative).unwrap();
    assert_eq!(r.step_time_s, best.summary.step_time_s);
}

#[test]
fn searches_are_deterministic() {
    let (s, first, _) = found();
    let mut space = small_space(s);
    space.tp = vec![8];
    let again = search(s, &space, Objective::Time, 5, &|| {});
    let twice = search(s, &space, Objective::Time, 5, &|| {});
    assert_eq!(format!("{again:?}"), format!("{twice:?}"));
    // The tp8 plans of the first search end as they end here.
    let tp8: Vec<_> = first.all.iter().filter(|e| e.candidate.tp == 8).collect();
    assert_eq!(format!("{tp8:?}"), format!("{:?}", again.all.iter().collect::<Vec<_>>()));
}

/// Mixtral 8x7B on two DGX H100 nodes at TP 2, PP 1, full recomputation, ZeRO-1: EP 1 to 8 with
/// the experts split like the MLP or folded (expert TP 1). 4 × 2 = 8 candidates, all valid
/// (dp = 8 takes EP up to 8 within DP; folded, EP · 1 divides the 16 ranks of the stage): each
/// is simulated or too large. The best plan is folded (no expert-TP all-gather)
/// and its step time is `simulate`'s on the same plan.
#[test]
fn a_mixture_of_experts_search_tries_folded_experts() {
    let text = "[model]\npreset = \"mixtral-8x7b\"\n[cluster]\npreset = \"dgx-h100-basepod\"\n\
                nodes = 2\n[plan]\ntp = 2\nglobal_batch = 16\nrecompute = \"full\"\n";
    let s = parse_scenario(text, "mixtral.toml", &no_cluster_files).unwrap();
    let mut space = Space::for_scenario(&s);
    (space.tp, space.cp, space.pp, space.virtual_stages) = (vec![2], vec![1], vec![1], vec![1]);
    (space.micro_batch, space.recompute) = (vec![1], vec![astrolabe_model::Recompute::Full]);
    space.zero_stage = vec![1];
    assert_eq!(space.ep, [1, 2, 4, 8]);
    let found = search(&s, &space, Objective::Time, 3, &|| {});
    assert_eq!(found.candidates, 8);
    assert_eq!(found.simulated + found.does_not_fit, 8, "{:?}", found.invalid_by_field);
    let best = &found.best[0];
    assert_eq!(best.candidate.expert_tp, 1, "{}", best.candidate.label());
    let mut tables = s.tables.clone();
    tables.plan = best.candidate.plan_table(&s.tables.plan);
    let again = astrolabe_sim::resolve_scenario(s.model.clone(), s.cluster.clone(), tables, "x");
    let r = astrolabe_sim::simulate(&again.unwrap(), astrolabe_sim::Mode::Representative);
    assert_eq!(r.unwrap().step_time_s, best.summary.step_time_s);
}
