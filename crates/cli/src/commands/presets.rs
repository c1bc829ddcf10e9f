//! `astrolabe presets`: the hardware catalog.

use anyhow::Result;
use astrolabe_hardware::{accelerator, cluster, fabric, memory_tier, Precision};

/// Arguments of `astrolabe presets`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of tables.
    #[arg(long)]
    json: bool,
}

/// Prints accelerators, fabrics and cluster presets.
pub fn run(args: &Args) -> Result<()> {
    if args.json {
        let value = serde_json::json!({
            "accelerators": accelerator::catalog(),
            "fabrics": fabric::catalog(),
            "clusters": cluster::presets(),
            "memory_tiers": memory_tier::catalog(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("Accelerators (dense peak TFLOP/s; HBM GB and TB/s; NVLink GB/s per direction)");
    println!(
        "  {:<16} {:>8} {:>8} {:>8} {:>7} {:>8} {:>8}",
        "name", "bf16", "fp8", "fp4", "hbm_gb", "hbm_tb/s", "nvlink"
    );
    for a in accelerator::catalog() {
        let opt =
            |p| a.peak(p).map(|r| format!("{:.0}", r.tflop_per_s())).unwrap_or_else(|_| "-".into());
        println!(
            "  {:<16} {:>8} {:>8} {:>8} {:>7.0} {:>8.2} {:>8.0}",
            a.name,
            opt(Precision::Bf16),
            opt(Precision::Fp8),
            opt(Precision::Fp4),
            a.hbm_bytes as f64 / 1e9,
            a.hbm_bandwidth.gb_per_s() / 1e3,
            a.scaleup_bandwidth.gb_per_s()
        );
    }
    println!("\nFabrics (per GPU per direction)");
    println!(
        "  {:<22} {:>8} {:>10} {:>6} {:>6}  description",
        "name", "GB/s", "hop_ns", "eff", "inr"
    );
    for f in fabric::catalog() {
        let inr = f.in_network_reduction.map(|e| format!("{e:.3}")).unwrap_or_else(|| "-".into());
        println!(
            "  {:<22} {:>8.1} {:>10.0} {:>6.3} {:>6}  {}",
            f.name,
            f.bandwidth.gb_per_s(),
            f.latency_ns,
            f.efficiency,
            inr,
            f.description
        );
    }
    println!("\nClusters (resize the outermost dimension with --nodes)");
    for p in cluster::presets() {
        let gpus: usize = p.dims.iter().map(|d| d.1).product();
        println!("  {:<20} {:>6} GPUs  {}", p.name, gpus, p.description);
    }
    println!("\nMemory tiers for offload (per direction; list them in a cluster's memory_tiers)");
    println!(
        "  {:<16} {:<14} {:>9} {:>5} {:>12} {:>14} {:>7}",
        "name", "kind", "GB", "GPUs", "GB/s per GPU", "GB/s aggregate", "ns"
    );
    for t in memory_tier::catalog() {
        let kind = serde_json::to_value(t.kind)?.as_str().unwrap_or("?").to_string();
        println!(
            "  {:<16} {:<14} {:>9.0} {:>5} {:>12.1} {:>14.1} {:>7.0}",
            t.name,
            kind,
            t.capacity_bytes as f64 / 1e9,
            t.gpus_sharing,
            t.per_gpu_bytes_per_s / 1e9,
            t.aggregate_bytes_per_s / 1e9,
            t.latency_ns
        );
    }
    Ok(())
}
