//! Simulates a scenario: memory, prices, the step graph, the engine, the report.

use crate::breakdown::{breakdowns, BreakdownNs};
use crate::costs::{ns, price, CollectiveUse, Priced, Purpose};
use crate::flow_pricing::FlowPricer;
use crate::network_choice::{fabric_for, NetworkModel};
use crate::offload_step::{apply_memory, times, Offload, OffloadReport, StageShape};
use crate::rank_layout::{check_experts, check_priced, split_moe, Ranks};
use crate::report::{CollectiveSummary, DimTraffic, NetworkReport, SimReport};
use crate::scenario::Scenario;
use crate::trace::StepTrace;
use astrolabe_core::InputError;
use astrolabe_engine::run;
use astrolabe_memory::params::layer_params_per_gpu;
use astrolabe_memory::params::StageParams;
use astrolabe_memory::{account, moe_layers_of_stage, Schedule as MemSchedule};
use astrolabe_model::activations::layer_activation_bytes;
use astrolabe_model::ops::context_shard;
use astrolabe_workload::{build_step, RankMode, Schedule, StepShape};
use serde::Serialize;

/// Whether to simulate one GPU per pipeline stage or every GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One representative GPU per stage; each collective costed for its whole group (fast).
    Representative,
    /// Every GPU of the job, collectives as rendezvous of their members.
    PerRank,
}

/// Simulates one training step of `scenario`.
pub fn simulate(scenario: &Scenario, mode: Mode) -> Result<SimReport, InputError> {
    simulate_traced(scenario, mode).map(|(report, _)| report)
}

/// Simulates one training step of `scenario` and keeps its graph and timeline.
pub fn simulate_traced(
    scenario: &Scenario,
    mode: Mode,
) -> Result<(SimReport, StepTrace), InputError> {
    let (model, cluster, plan) = (&scenario.model, &scenario.cluster, &scenario.plan);
    let origin = scenario.name.as_str();
    let compute = &scenario.compute;
    let StepInputs { memory, mut priced, layers, shape, network, offload } = step_inputs(scenario)?;
    let ranks = match mode {
        Mode::Representative => None,
        Mode::PerRank if scenario.offload.is_some() => {
            let expected = "representative mode with offload: per-rank mode does not place \
                            memory-tier transfers yet";
            return Err(InputError::new(origin, "offload", expected));
        }
        Mode::PerRank => {
            check_experts(plan, &scenario.model, origin)?;
            let ranks = Ranks::of(plan);
            check_priced(&ranks, &priced.collectives, origin)?;
            split_moe(&ranks, &priced.collectives, &mut priced.costs);
            Some(ranks)
        }
    };
    let rank_mode =
        ranks.as_ref().map_or(RankMode::Representative, |r| RankMode::PerRank(&r.layout));
    check_graph_size(&shape, rank_mode, origin)?;
    let step = build_step(&shape, &priced.costs, rank_mode);
    let timeline = run(&step.graph).map_err(|e| {
        InputError::new(origin, "plan", format!("a step graph that runs to completion ({e})"))
    })?;
    let graph_ns = timeline.makespan.0;
    let overhead_ns = ns(compute.step_overhead_s);
    let step_ns = graph_ns + overhead_ns;
    // Each stage's first simulated GPU owns its streams in the breakdown.
    let owner: Vec<Option<usize>> =
        step.stream_ranks.iter().map(|&(s, i)| (i == 0).then_some(s)).collect();
    let stages: Vec<BreakdownNs> =
        breakdowns(&step.graph, &timeline, &owner, shape.stages, graph_ns)
            .into_iter()
            .map(|b| BreakdownNs { step_overhead: overhead_ns, ..b })
            .collect();
    let critical =
        (0..stages.len()).fold(
            0,
            |best, s| {
                if stages[s].busy() > stages[best].busy() {
                    s
                } else {
                    best
                }
            },
        );
    let counts = use_counts(&shape, critical, &layers, model);
    let traffic = traffic(cluster.topology.dims(), &priced.collectives, &counts);
    let links = network.as_ref().map(|pricer| {
        let uses: Vec<(&[u64], u64)> = priced
            .collectives
            .iter()
            .filter_map(|u| {
                let count = counts.iter().find(|(p, _)| *p == u.purpose).map_or(0, |(_, n)| *n);
                let bytes = u.link_bytes.as_deref()?;
                Some((bytes.as_slice(), count * u64::from(u.repeats)))
            })
            .collect();
        pricer.step_links(&uses, step_ns)
    });
    let step_s = step_ns as f64 * 1e-9;
    let gpus = plan.gpus() as f64;
    let tokens = (plan.global_batch * model.seq_len) as f64;
    let peak = cluster.gpu.peak(plan.precision)?.flop_per_s;
    let utilization =
        |flops_per_token: u64| flops_per_token as f64 * tokens / (step_s * gpus * peak);
    let report = SimReport {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        mode,
        step_time_s: step_s,
        tokens_per_step: plan.global_batch * model.seq_len,
        tokens_per_s: tokens / step_s,
        tokens_per_s_per_gpu: tokens / step_s / gpus,
        mfu: utilization(model.model_flops_per_token()),
        hfu: utilization(model.hardware_flops_per_token(plan.recompute)),
        model_flops_per_token: model.model_flops_per_token(),
        peak_flop_per_s: peak,
        memory_peak_bytes: memory.peak_bytes,
        fits_in_memory: memory.fits,
        breakdown: stages[critical].into(),
        breakdown_stage: critical,
        stage_breakdowns: stages.iter().map(|&b| b.into()).collect(),
        traffic,
        network: NetworkReport { model: scenario.network.model, links },
        memory_traffic_bytes: offload
            .as_ref()
            .map(|(r, bytes)| (r.tier.clone(), *bytes))
            .into_iter()
            .collect(),
        offload: offload.map(|(r, _)| r),
        collectives: priced.collectives.iter().map(CollectiveSummary::from).collect(),
        simulated_tasks: step.graph.tasks.len(),
        simulated_gpus: step.compute_streams.iter().map(Vec::len).sum(),
        model: model.clone(),
        cluster: cluster.clone(),
        plan: plan.clone(),
        compute: *compute,
        memory,
        reference: None,
        cost: crate::cost_step::cost_report(scenario, step_s, plan.global_batch * model.seq_len)?,
    };
    Ok((report, StepTrace::new(step.graph, timeline, mode)))
}

/// What a step needs before its graph is built: the memory account, the prices, the layers
/// of each virtual stage and the step's shape.
pub(crate) struct StepInputs {
    pub memory: astrolabe_memory::MemoryReport,
    pub priced: Priced,
    pub layers: Vec<u64>,
    pub shape: StepShape,
    /// The congestion-aware model's fabric, when the scenario asks for it.
    pub network: Option<FlowPricer>,
    /// Offload: the tier's report and the bytes one GPU moves to and from it per step.
    pub offload: Option<(OffloadReport, u64)>,
}

/// Accounts memory, prices every piece and shapes the step of `scenario`.
pub(crate) fn step_inputs(scenario: &Scenario) -> Result<StepInputs, InputError> {
    let (model, cluster, plan) = (&scenario.model, &scenario.cluster, &scenario.plan);
    let origin = scenario.name.as_str();
    let inputs = plan.memory_inputs();
    let mut memory = account(model, &inputs, cluster.gpu.hbm_bytes)?;
    let most = memory.stages.iter().max_by_key(|s| s.params);
    let most_params = most.map_or(StageParams::default(), |s| StageParams {
        dense: s.params - s.expert_params,
        expert: s.expert_params,
    });
    let most_layers = most.map_or(0, |s| s.layers);
    let network = match scenario.network.model {
        NetworkModel::Analytical => None,
        NetworkModel::CongestionAware => {
            let spec = fabric_for(&scenario.network, cluster, origin)?;
            Some(FlowPricer::new(spec, plan.gpus() as usize, origin)?)
        }
    };
    let compute = &scenario.compute;
    let mut priced = price(model, cluster, plan, compute, most_params, network.as_ref(), origin)?;
    let offload = match &scenario.offload {
        Some(o) => {
            let most = (most_params.total(), most_layers);
            Some(offload(scenario, o, most, &mut memory, &mut priced)?)
        }
        None => None,
    };
    let layers = inputs.layers_per_virtual_stage(model.layers)?;
    let shape = StepShape {
        stages: plan.pp as usize,
        // DualPipe: two chunks (its directions) over one model stage each, `virtual_stages` 1.
        chunks: if plan.schedule == MemSchedule::DualPipe {
            2
        } else {
            plan.virtual_stages as usize
        },
        layers_per_vstage: layers.iter().map(|&l| l as usize).collect(),
        micro_batches: plan.micro_batches as usize,
        schedule: match plan.schedule {
            MemSchedule::GPipe => Schedule::Gpipe,
            MemSchedule::OneFOneB => Schedule::OneFOneB,
            MemSchedule::Interleaved1F1B => Schedule::Interleaved1F1B,
            MemSchedule::ZeroBubble => Schedule::ZeroBubble,
            MemSchedule::DualPipe => Schedule::DualPipe,
        },
        overlap_grad_reduce: plan.overlap_grad_reduce,
        param_gather: (1..=2).contains(&plan.zero_stage).then_some(plan.overlap_param_gather),
        gather_every_pass: plan.zero_stage >= 3,
        regather_for_backward: plan.zero_stage >= 3 && plan.reshard_after_forward,
        reduce_every_micro_batch: plan.zero_stage >= 2,
        context_exchanges: plan.cp > 1,
    };
    Ok(StepInputs { memory, priced, layers, shape, network, offload })
}

/// Applies `o` to the memory account and the prices; `most` (parameters, layers) is the stage
/// with the most parameters, which sets the transfer times as it sets the optimizer's. Returns
/// the report and the step's bytes.
fn offload(
    scenario: &Scenario,
    o: &Offload,
    most: (u64, u64),
    memory: &mut astrolabe_memory::MemoryReport,
    priced: &mut Priced,
) -> Result<(OffloadReport, u64), InputError> {
    let (model, plan, origin) = (&scenario.model, &scenario.plan, scenario.name.as_str());
    if model.moe.is_some() {
        let expected = "a dense model: offload of mixture-of-experts state is not modelled yet";
        return Err(InputError::new(origin, "offload", expected));
    }
    let report = apply_memory(memory, o, plan, origin)?;
    let shard = context_shard(model, plan.cp);
    let (b, t, sp) = (plan.micro_batch, plan.tp, plan.sequence_parallel);
    let shape = StageShape {
        stage_params: most.0,
        layer_params: layer_params_per_gpu(model, plan.tp),
        layers: most.1,
        layer_activation_bytes: layer_activation_bytes(&shard, b, t, sp, plan.recompute)?,
        micro_batches: plan.micro_batches,
    };
    let t = times(o, plan, &shape);
    priced.costs.memory = Some(t.costs);
    if priced.costs.gather_layer_ns > 0 {
        priced.costs.gather_layer_ns += t.fetch_per_gather_ns;
    }
    Ok((report, t.step_bytes))
}

/// Largest step graph simulated, in tasks (about 20 GB of memory at ~200 bytes a task).
pub const MAX_TASKS: u64 = 100_000_000;

/// Refuses a step whose graph would not fit in memory, before building it. The estimate counts
/// a compute and a TP task per layer and pass, which bounds the graph within a few percent.
pub(crate) fn check_graph_size(
    shape: &StepShape,
    mode: RankMode,
    origin: &str,
) -> Result<(), InputError> {
    let ranks = match mode {
        RankMode::Representative => 1,
        RankMode::PerRank(layout) => layout.ranks().len() as u64,
    };
    let layers: u64 = shape.layers_per_vstage.iter().map(|&l| l as u64).sum();
    let tasks =
        (shape.micro_batches as u64).saturating_mul(layers).saturating_mul(4).saturating_mul(ranks);
    if tasks > MAX_TASKS {
        let expected = format!(
            "a step of at most {MAX_TASKS} simulated tasks; this one needs about {tasks} \
             (fewer micro-batches per step, or representative mode)"
        );
        return Err(InputError::new(origin, "plan.global_batch", expected));
    }
    Ok(())
}

/// How many times one GPU of `stage` runs each kind of collective in a step.
fn use_counts(
    shape: &StepShape,
    stage: usize,
    layers: &[u64],
    model: &astrolabe_model::TransformerModel,
) -> Vec<(Purpose, u64)> {
    let vstages: Vec<usize> = (0..shape.chunks).map(|c| shape.vstage(stage, c)).collect();
    let stage_layers: u64 = vstages.iter().map(|&v| layers[v]).sum();
    let moe_layers = moe_layers_of_stage(model, layers, &vstages);
    let dense_layers = stage_layers - moe_layers;
    let last = shape.vstages() - 1;
    // Micro-batches through each chunk: all of them, or with DualPipe those of its direction.
    let dual = shape.schedule == Schedule::DualPipe;
    let m = shape.micro_batches as u64 / if dual { 2 } else { 1 };
    let sends = vstages.iter().map(|&v| u64::from(v != last) + u64::from(v != 0)).sum::<u64>();
    let edge = vstages.iter().filter(|&&v| v == 0 || v == last).count() as u64;
    let reduces = |layers: u64| if shape.reduce_every_micro_batch { layers * m } else { layers };
    let gathers = |layers: u64| {
        if shape.gather_every_pass {
            layers * m * (1 + u64::from(shape.regather_for_backward))
        } else {
            layers
        }
    };
    vec![
        (Purpose::TpForward, stage_layers * m),
        (Purpose::TpBackward, stage_layers * m),
        (Purpose::CpForward, stage_layers * m),
        (Purpose::CpBackward, stage_layers * m),
        (Purpose::PpSend, sends * m),
        (Purpose::DpGradients, reduces(dense_layers)),
        (Purpose::DpReplicaGradients, stage_layers),
        (Purpose::DpParamGather, gathers(dense_layers)),
        (Purpose::DpEmbeddingGradients, edge),
        (Purpose::MirrorGradients, if dual { dense_layers } else { 0 }),
        (Purpose::MirrorMoeGradients, if dual { moe_layers } else { 0 }),
        (Purpose::EpForward, moe_layers * m),
        (Purpose::EpBackward, moe_layers * m),
        (Purpose::ExpertTpForward, moe_layers * m),
        (Purpose::ExpertTpBackward, moe_layers * m),
        (Purpose::DpMoeGradients, reduces(moe_layers)),
        (Purpose::DpExpertGradients, reduces(moe_layers)),
        (Purpose::DpMoeParamGather, gathers(moe_layers)),
    ]
}

/// Bytes one GPU sends per step on each network dimension, by parallel axis. A phase that runs
/// over several dimensions at once (a flat ring) is counted on its outermost one, the dimension
/// whose links bound it.
fn traffic(
    dims: &[astrolabe_network::Dimension],
    uses: &[CollectiveUse],
    counts: &[(Purpose, u64)],
) -> Vec<DimTraffic> {
    let mut out: Vec<DimTraffic> = dims.iter().map(|d| DimTraffic::new(&d.name)).collect();
    for u in uses {
        let count = counts.iter().find(|(p, _)| *p == u.purpose).map_or(0, |(_, n)| *n);
        for phase in &u.result.phases {
            let Some(name) = phase.dims.last() else { continue };
            let Some(row) = out.iter_mut().find(|r| &r.dimension == name) else { continue };
            let bytes = (phase.wire_bytes * f64::from(u.repeats)).round() as u64 * count;
            row.add(u.purpose, bytes);
        }
    }
    out
}

#[cfg(test)]
#[path = "run_tests.rs"]
pub(crate) mod tests;

#[cfg(test)]
#[path = "split_tests.rs"]
mod split_tests;
