//! `astrolabe case-study memory`: docs/case-studies/memory.md's tables, simulated.
//!
//! Llama 3 70B does not fit on one DGX H100 (8 GPUs) with plain tensor parallelism. The study
//! trains the same 16-sequence step (a) on more H100, (b) on the same 8 with ZeRO-Offload to
//! the host's DRAM, (c) on the same 8 with a memory pool of growing bandwidth, and (d) on 8
//! GB200 with their LPDDR5X behind NVLink-C2C.

use anyhow::Result;
use astrolabe_sim::{no_cluster_files, parse_scenario, simulate, Mode, SimReport};
use std::fmt::Write;

const PLAN: &str =
    "micro_batch = 1\nglobal_batch = 16\nprecision = \"bf16\"\nrecompute = \"full\"\n";
const OFFLOAD: &str = "optimizer_state = true\nmaster_weights = true\ngradients = true\n\
                       optimizer_on_cpu = true\n";

/// A pool of `aggregate_gb_per_s` shared by the node's 8 GPUs (each GPU's link 64 GB/s, a
/// PCIe Gen5 x16 line rate; 2 µs latency, 8 TB); assumed figures that the study varies.
fn pool(aggregate_gb_per_s: u32) -> String {
    format!(
        "memory_tiers = [{{ name = \"pool-{aggregate_gb_per_s}\", kind = \"pool\", \
         capacity_bytes = 8000000000000, gpus_sharing = 8, per_gpu_bytes_per_s = 64e9, \
         aggregate_bytes_per_s = {aggregate_gb_per_s}e9, latency_ns = 2000.0 }}]"
    )
}

/// (label, cluster table body, plan keys, offload table body or "").
fn variants() -> Vec<(String, String, String, String)> {
    let h100 = |nodes: u32, tiers: &str| {
        format!("preset = \"dgx-h100-basepod\"\nnodes = {nodes}\n{tiers}\n")
    };
    let mut out = vec![
        ("8 H100, TP 8 (no offload)".into(), h100(1, ""), "tp = 8\n".into(), String::new()),
        ("(a) 32 H100, TP 8 PP 4".into(), h100(4, ""), "tp = 8\npp = 4\n".into(), String::new()),
        (
            "(a) 64 H100, TP 8 PP 4 DP 2, ZeRO-1".into(),
            h100(8, ""),
            "tp = 8\npp = 4\nzero_stage = 1\n".into(),
            String::new(),
        ),
        (
            "(b) 8 H100, ZeRO-Offload to host DRAM".into(),
            h100(1, "memory_tiers = [\"dgx-h100-host\"]"),
            "tp = 8\n".into(),
            format!("tier = \"dgx-h100-host\"\n{OFFLOAD}"),
        ),
    ];
    for gb in [128, 256, 512, 1024] {
        out.push((
            format!("(c) 8 H100, ZeRO-Offload to a pool of {gb} GB/s"),
            h100(1, &pool(gb)),
            "tp = 8\n".into(),
            format!("tier = \"pool-{gb}\"\n{OFFLOAD}"),
        ));
    }
    let gb200 = |tiers: &str| {
        format!(
            "gpu = \"gb200\"\n{tiers}\n[[cluster.network]]\nfabric = \"nvlink5-nvswitch\"\nsize = 8\n"
        )
    };
    out.push((
        "(d) 8 GB200, TP 8 (no offload)".into(),
        gb200(""),
        "tp = 8\n".into(),
        String::new(),
    ));
    out.push((
        "(d) 8 GB200, ZeRO-Offload to Grace LPDDR5X".into(),
        gb200("memory_tiers = [\"gb200-lpddr5x\"]"),
        "tp = 8\n".into(),
        format!("tier = \"gb200-lpddr5x\"\n{OFFLOAD}"),
    ));
    out
}

/// Runs the study and prints its markdown.
pub fn run() -> Result<()> {
    let mut out = String::from(
        "| setup | GPUs | step (s) | MFU | memory stall (s) | HBM per GPU (GB) | fits | tier per GPU (GB) | tier traffic per GPU per step (GB) | GPU-hours per step |\n\
         |---|---:|---:|---:|---:|---:|---|---:|---:|---:|\n",
    );
    for (label, cluster, plan, offload) in variants() {
        let mut text =
            format!("[model]\npreset = \"llama3-70b\"\n[cluster]\n{cluster}[plan]\n{plan}{PLAN}");
        if !offload.is_empty() {
            let _ = write!(text, "[offload]\n{offload}");
        }
        let sc = parse_scenario(&text, &format!("case study: {label}"), &no_cluster_files)?;
        row(&mut out, &label, &simulate(&sc, Mode::Representative)?);
    }
    print!("{out}");
    Ok(())
}

fn row(out: &mut String, label: &str, r: &SimReport) {
    let gpus = r.plan.gpus();
    let tier = r
        .offload
        .as_ref()
        .map_or("–".into(), |o| format!("{:.1}", o.tier_used_per_gpu_bytes as f64 / 1e9));
    let traffic: u64 = r.memory_traffic_bytes.values().sum();
    let _ = writeln!(
        out,
        "| {label} | {gpus} | {:.2} | {:.1}% | {:.2} | {:.1} | {} | {tier} | {:.1} | {:.4} |",
        r.step_time_s,
        r.mfu * 100.0,
        r.breakdown.memory_stall_s,
        r.memory_peak_bytes as f64 / 1e9,
        if r.fits_in_memory { "yes" } else { "no" },
        traffic as f64 / 1e9,
        r.step_time_s * gpus as f64 / 3600.0
    );
}
