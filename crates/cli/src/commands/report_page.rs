//! The page of one simulated step: summary, breakdown, time and memory per stage, timeline.

use super::timeline;
use anyhow::Result;
use astrolabe_html::{bar_chart, stacked_bars, Bar, BarChart, Page, ReferenceLine, Section};
use astrolabe_html::{Series, StackedBars};
use astrolabe_sim::breakdown::Breakdown;
use astrolabe_sim::{Mode, SimReport, StepTrace};

/// The page of `report`, its timeline drawn from `trace`, then the `extra` sections (a scaling
/// curve, a what-if comparison).
pub fn page(report: &SimReport, trace: &StepTrace, extra: Vec<Section>) -> Result<String> {
    let mut page = Page::new(&format!("Astrolabe: {}", report.scenario));
    page.push(summary(report));
    let bars: Vec<Bar> = breakdown_lines(&report.breakdown)
        .into_iter()
        .map(|(label, value)| Bar { label: format!("{label} (s)"), value })
        .collect();
    let title = format!("Step-time breakdown of stage {}, seconds", report.breakdown_stage);
    let chart = BarChart { id: "breakdown", title: &title, unit: "s", decimals: 3, bars: &bars };
    page.push(
        Section::new("Step-time breakdown (s)")
            .paragraph(&format!(
                "Where the step time of stage {}'s GPU goes (the stage with the most compute \
                 plus optimizer time); the lines add up to the step time of {:.3} s.",
                report.breakdown_stage, report.step_time_s
            ))
            .chart(bar_chart(&chart)?),
    );
    page.push(stage_times(report)?);
    page.push(memory(report)?);
    page.push(timeline::section(trace)?);
    for section in extra {
        page.push(section);
    }
    Ok(page.to_html())
}

/// Scenario, model, cluster, plan and the headline figures, each with its unit.
fn summary(r: &SimReport) -> Section {
    let p = &r.plan;
    let schedule = serde_json::to_value(p.schedule).map_or(String::new(), |v| v.to_string());
    let plan = format!(
        "tp {} · pp {} · dp {} · cp {} · ep {}; micro-batch {} sequence(s), global batch {} \
         sequences, schedule {}, ZeRO stage {}",
        p.tp,
        p.pp,
        p.dp,
        p.cp,
        p.ep,
        p.micro_batch,
        p.global_batch,
        schedule.trim_matches('"'),
        p.zero_stage
    );
    let gb = |bytes: u64| bytes as f64 / 1e9;
    let mode = match r.mode {
        Mode::Representative => "representative (one GPU per stage)",
        Mode::PerRank => "per rank",
    };
    let rows = [
        ("scenario", r.scenario.clone()),
        ("description", r.description.clone().unwrap_or_default()),
        ("model", format!("{} ({} layers)", r.model.name, r.model.layers)),
        ("cluster", format!("{} ({} GPUs of {})", r.cluster.name, p.gpus(), r.cluster.gpu.name)),
        ("plan", plan),
        ("simulation", format!("{mode}: {} GPUs, {} tasks", r.simulated_gpus, r.simulated_tasks)),
        ("step time (s)", format!("{:.3}", r.step_time_s)),
        ("throughput (tokens/s)", format!("{:.0}", r.tokens_per_s)),
        ("throughput per GPU (tokens/s)", format!("{:.1}", r.tokens_per_s_per_gpu)),
        ("MFU (%)", format!("{:.1}", r.mfu * 100.0)),
        ("HFU (%)", format!("{:.1}", r.hfu * 100.0)),
        ("memory peak (GB)", format!("{:.1}", gb(r.memory_peak_bytes))),
        ("HBM per GPU (GB)", format!("{:.1}", gb(r.memory.capacity_bytes))),
        ("fits in memory", if r.fits_in_memory { "yes" } else { "no" }.to_string()),
    ];
    let rows = rows
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| vec![k.to_string(), v])
        .collect();
    Section::new("Summary").table(&["what", "value"], rows)
}

/// The lines of a breakdown, in the text report's order, seconds.
fn breakdown_lines(b: &Breakdown) -> [(&'static str, f64); 11] {
    [
        ("compute", b.compute_s),
        ("exposed TP comm", b.exposed_tp_comm_s),
        ("exposed CP comm", b.exposed_cp_comm_s),
        ("exposed EP comm", b.exposed_ep_comm_s),
        ("exposed PP comm", b.exposed_pp_comm_s),
        ("exposed DP comm", b.exposed_dp_comm_s),
        ("memory stall", b.memory_stall_s),
        ("pipeline bubble", b.pipeline_bubble_s),
        ("optimizer", b.optimizer_s),
        ("other", b.other_s),
        ("step overhead", b.step_overhead_s),
    ]
}

/// Every stage's breakdown, stacked, seconds.
fn stage_times(r: &SimReport) -> Result<Section> {
    let categories: Vec<String> =
        (0..r.stage_breakdowns.len()).map(|s| format!("stage {s}")).collect();
    let series: Vec<Series> = (0..11)
        .map(|i| Series {
            name: breakdown_lines(&r.stage_breakdowns[0])[i].0.to_string(),
            values: r.stage_breakdowns.iter().map(|b| breakdown_lines(b)[i].1).collect(),
        })
        .collect();
    let chart = StackedBars {
        id: "stage-times",
        title: "Step time per pipeline stage, seconds",
        unit: "s",
        decimals: 3,
        categories: &categories,
        series: &series,
        reference: None,
    };
    Ok(Section::new("Time per pipeline stage (s)")
        .paragraph("Each stage's GPU over the whole step: every column adds up to the step time.")
        .chart(stacked_bars(&chart)?))
}

/// Memory per GPU of every stage, stacked, against the HBM capacity, GB.
fn memory(r: &SimReport) -> Result<Section> {
    let stages = &r.memory.stages;
    let categories: Vec<String> = stages.iter().map(|s| format!("stage {}", s.stage)).collect();
    let series = |name: &str, bytes: Vec<u64>| Series {
        name: name.to_string(),
        values: bytes.into_iter().map(|b| b as f64 / 1e9).collect(),
    };
    let series = vec![
        series("weights", stages.iter().map(|s| s.weights_bytes).collect()),
        series("gradients", stages.iter().map(|s| s.gradients_bytes).collect()),
        series("optimizer", stages.iter().map(|s| s.optimizer_bytes).collect()),
        series("activations", stages.iter().map(|s| s.activations_bytes).collect()),
        series(
            "other (gathered, buffers, reserve)",
            stages
                .iter()
                .map(|s| s.gathered_bytes + s.comm_buffers_bytes + s.reserve_bytes)
                .collect(),
        ),
    ];
    let reference = Some(ReferenceLine {
        label: "HBM capacity".into(),
        value: r.memory.capacity_bytes as f64 / 1e9,
    });
    let chart = StackedBars {
        id: "memory",
        title: "Memory per GPU of each pipeline stage, GB",
        unit: "GB",
        decimals: 1,
        categories: &categories,
        series: &series,
        reference,
    };
    let verdict = if r.memory.fits { "fits" } else { "does not fit" };
    Ok(Section::new("Memory per pipeline stage (GB)")
        .paragraph(&format!(
            "What one GPU of each stage holds in HBM; the fullest (stage {}, {:.1} GB) {verdict} \
             in {:.1} GB.",
            r.memory.worst_stage,
            r.memory_peak_bytes as f64 / 1e9,
            r.memory.capacity_bytes as f64 / 1e9
        ))
        .chart(stacked_bars(&chart)?))
}
