//! `astrolabe case-study network|memory`: the documented case studies (docs/case-studies/),
//! generated rather than typed; the memory study is in `case_study_memory.rs`.
//!
//! One training job, Llama 3 405B with the plan of Llama 3's pre-training (TP 8, PP 16 with two
//! chunks per stage, ZeRO-1, full recomputation, 2,048 sequences of 8,192 tokens per step), on
//! 1,024 to 16,384 H100: data parallelism grows from 8 to 128 while the batch stays, so each
//! replica has fewer micro-batches and the same gradient traffic. The fabric is a two-tier
//! fat-tree (leaves of 32 NICs, a node's GPUs under one leaf, 32 spines) on InfiniBand NDR at
//! 1:1, 1:2, 1:4 and 1:7 leaf oversubscription, and non-blocking on RoCEv2 800 GbE; each is run
//! under the congestion-aware model, and the analytical model gives the baseline.

use anyhow::Result;
use astrolabe_sim::{no_cluster_files, parse_scenario, simulate, Mode, SimReport};
use std::fmt::Write;

/// Arguments of `astrolabe case-study`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The study: `network` or `memory`.
    #[arg(value_parser = ["network", "memory"])]
    pub study: String,
}

/// Job sizes, in GPUs.
const SIZES: [usize; 5] = [1_024, 2_048, 4_096, 8_192, 16_384];

/// A fabric variant: label, scale-out catalog fabric, leaf oversubscription (None: analytical).
const FABRICS: [(&str, &str, Option<f64>); 6] = [
    ("analytical (no contention)", "ib-ndr", None),
    ("IB NDR, non-blocking", "ib-ndr", Some(1.0)),
    ("IB NDR, 1:2", "ib-ndr", Some(2.0)),
    ("IB NDR, 1:4", "ib-ndr", Some(4.0)),
    ("IB NDR, 1:7", "ib-ndr", Some(7.0)),
    ("RoCEv2 800 GbE, non-blocking", "roce-800", Some(1.0)),
];

/// The job's scenario on `gpus` GPUs and one fabric variant.
fn scenario_text(gpus: usize, scale_out: &str, oversubscription: Option<f64>) -> String {
    let nodes = gpus / 8;
    let cluster = if scale_out == "roce-800" { "h100-roce-800" } else { "dgx-h100-superpod" };
    let mut text = format!(
        r#"name = "llama3-405b-{gpus}"
[model]
preset = "llama3-405b"
[cluster]
preset = "{cluster}"
nodes = {nodes}
[plan]
tp = 8
pp = 16
virtual_stages = 2
first_stage_layers = 3
last_stage_layers = 3
global_batch = 2048
zero_stage = 1
recompute = "full"
"#
    );
    if let Some(ratio) = oversubscription {
        let _ = write!(
            text,
            r#"[network]
model = "congestion-aware"
[network.fabric]
name = "fat-tree-1:{ratio}"
nodes = {nodes}
gpus_per_node = 8
scale_up = "nvlink4-nvswitch"
[network.fabric.scale_out]
fabric = "{scale_out}"
tiers = [{{ group = 32, oversubscription = {ratio:.1} }}, {{ group = 0, switches = 32 }}]
"#
        );
    }
    text
}

/// Runs the study and prints its markdown.
pub fn run(args: &Args) -> Result<()> {
    if args.study == "memory" {
        return super::case_study_memory::run();
    }
    let mut reports: Vec<Vec<SimReport>> = Vec::new();
    for (label, out, ratio) in FABRICS {
        let mut row = Vec::new();
        for gpus in SIZES {
            let text = scenario_text(gpus, out, ratio);
            let origin = format!("case study: {label}, {gpus} GPUs");
            let sc = parse_scenario(&text, &origin, &no_cluster_files)?;
            row.push(simulate(&sc, Mode::Representative)?);
        }
        reports.push(row);
    }
    print!("{}", markdown(&reports));
    Ok(())
}

fn markdown(reports: &[Vec<SimReport>]) -> String {
    let mut out = String::new();
    let sizes: Vec<String> = SIZES.iter().map(|g| format!("{g} GPUs")).collect();
    let head = |out: &mut String, first: &str| {
        let _ = writeln!(out, "| {first} | {} |", sizes.join(" | "));
        let _ = writeln!(out, "|---|{}", "---:|".repeat(SIZES.len()));
    };
    let _ = writeln!(out, "### MFU\n");
    head(&mut out, "fabric");
    for ((label, ..), row) in FABRICS.iter().zip(reports) {
        let cells: Vec<String> = row.iter().map(|r| format!("{:.1}%", r.mfu * 100.0)).collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n### Exposed data- and pipeline-parallel communication per step (s)\n");
    head(&mut out, "fabric");
    for ((label, ..), row) in FABRICS.iter().zip(reports) {
        let cells: Vec<String> = row
            .iter()
            .map(|r| {
                format!("{:.3}", r.breakdown.exposed_dp_comm_s + r.breakdown.exposed_pp_comm_s)
            })
            .collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    }
    let _ = writeln!(out, "\n### Where MFU falls\n");
    let _ = writeln!(out, "| fabric | MFU at 1,024 GPUs | MFU at 16,384 GPUs | first size 5% (relative) below 1,024 GPUs |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    for ((label, ..), row) in FABRICS.iter().zip(reports) {
        let base = row[0].mfu;
        let fall = SIZES.iter().zip(row).find(|(_, r)| r.mfu < 0.95 * base);
        let at = fall.map_or("none up to 16,384".to_string(), |(g, _)| format!("{g} GPUs"));
        let last = row[row.len() - 1].mfu;
        let _ = writeln!(out, "| {label} | {:.1}% | {:.1}% | {at} |", base * 100.0, last * 100.0);
    }
    let _ = writeln!(out, "\n### Hottest link class per step at 16,384 GPUs\n");
    let _ = writeln!(out, "| fabric | class | utilization | TB per step |");
    let _ = writeln!(out, "|---|---|---:|---:|");
    for ((label, ..), row) in FABRICS.iter().zip(reports) {
        let Some(links) = &row[row.len() - 1].network.links else { continue };
        let classes = links.classes.iter().filter(|c| c.class.label() != "nvlink");
        if let Some(c) = classes.max_by(|a, b| a.utilization.total_cmp(&b.utilization)) {
            let _ = writeln!(
                out,
                "| {label} | {} | {:.1}% | {:.1} |",
                c.class.label(),
                c.utilization * 100.0,
                c.bytes as f64 / 1e12
            );
        }
    }
    out
}
