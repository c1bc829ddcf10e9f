//! `astrolabe collective`: one collective, or an nccl-tests-like size sweep.

use crate::cluster_arg::{describe_network, load_cluster};
use anyhow::Result;
use astrolabe_collective::{
    simulate, Algorithm, CollectiveOp, CollectiveOptions, CollectiveResult, Composition,
};
use astrolabe_core::units::{format_size_bytes, parse_size_bytes};
use astrolabe_hardware::Cluster;
use astrolabe_network::Group;
use serde::Serialize;

/// Arguments of `astrolabe collective`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Cluster preset name or path to a cluster TOML file.
    #[arg(long, default_value = "dgx-h100-basepod")]
    pub cluster: String,
    /// Resize a preset's outermost dimension (nodes or racks).
    #[arg(long)]
    pub nodes: Option<usize>,
    /// GPUs in the group: the first N ranks, filling inner dimensions first.
    #[arg(long, default_value_t = 8)]
    pub gpus: usize,
    /// all-reduce, reduce-scatter, all-gather, all-to-all, broadcast, reduce, send-recv.
    #[arg(long, default_value = "all-reduce")]
    pub op: String,
    /// Buffer per rank, nccl-tests convention (e.g. 8, 1MiB, 16GiB, 1.5GB).
    #[arg(long, default_value = "16GiB")]
    pub size: String,
    /// Algorithm: one for all dimensions or a comma list, one per dimension
    /// (auto, ring, direct, halving-doubling, double-binary-tree, in-network).
    #[arg(long, default_value = "auto")]
    pub algorithm: String,
    /// auto, hierarchical or flat.
    #[arg(long, default_value = "auto")]
    pub composition: String,
    /// Pieces to pipeline hierarchical phases in.
    #[arg(long, default_value_t = 4)]
    pub chunks: usize,
    /// Sweep sizes from 8 B to --size, doubling, like nccl-tests -b 8 -e SIZE -f 2.
    #[arg(long)]
    pub sweep: bool,
    /// Print JSON for programs.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    cluster: &'a str,
    gpu: &'a str,
    network: String,
    gpus: usize,
    options: &'a CollectiveOptions,
    #[serde(flatten)]
    result: &'a CollectiveResult,
}

#[derive(Serialize)]
struct SweepReport<'a> {
    cluster: &'a str,
    gpu: &'a str,
    network: String,
    gpus: usize,
    options: &'a CollectiveOptions,
    results: &'a [CollectiveResult],
}

/// Validated inputs of one collective run.
pub struct Request {
    /// The cluster.
    pub cluster: Cluster,
    /// The participating ranks.
    pub group: Group,
    /// The operation.
    pub op: CollectiveOp,
    /// Largest (or only) size in bytes.
    pub size_bytes: u64,
    /// Algorithm choices.
    pub options: CollectiveOptions,
}

/// Turns raw arguments into a validated request (the second stage of argument parsing).
pub fn request(args: &Args) -> Result<Request> {
    let cluster = load_cluster(&args.cluster, args.nodes)?;
    let group = Group::leading(&cluster.topology, args.gpus, "--gpus")?;
    let op = CollectiveOp::parse(&args.op, "--op")?;
    let size_bytes = parse_size_bytes(&args.size, "--size")?;
    let algorithms = args
        .algorithm
        .split(',')
        .map(|a| Algorithm::parse(a, "--algorithm"))
        .collect::<Result<Vec<_>, _>>()?;
    let composition = Composition::parse(&args.composition, "--composition")?;
    let options = CollectiveOptions { algorithms, composition, chunks: args.chunks };
    Ok(Request { cluster, group, op, size_bytes, options })
}

/// Sizes of a sweep: 8 B doubling up to `max` (and `max` itself).
pub fn sweep_sizes(max: u64) -> Vec<u64> {
    let mut sizes: Vec<u64> =
        std::iter::successors(Some(8u64), |s| s.checked_mul(2)).take_while(|s| *s <= max).collect();
    if sizes.last() != Some(&max) && max > 0 {
        sizes.push(max);
    }
    sizes
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let req = request(args)?;
    let sizes = if args.sweep { sweep_sizes(req.size_bytes) } else { vec![req.size_bytes] };
    let results = sizes
        .iter()
        .map(|s| simulate(&req.cluster.topology, &req.group, req.op, *s, &req.options))
        .collect::<Result<Vec<_>, _>>()?;
    let network = describe_network(&req.cluster);
    let gpus = req.group.size();
    if args.json {
        let text = if args.sweep {
            let r = SweepReport {
                cluster: &req.cluster.name,
                gpu: &req.cluster.gpu.name,
                network,
                gpus,
                options: &req.options,
                results: &results,
            };
            serde_json::to_string_pretty(&r)?
        } else {
            let r = Report {
                cluster: &req.cluster.name,
                gpu: &req.cluster.gpu.name,
                network,
                gpus,
                options: &req.options,
                result: &results[0],
            };
            serde_json::to_string_pretty(&r)?
        };
        println!("{text}");
        return Ok(());
    }
    println!(
        "{} on {gpus} GPUs of {} ({}; {network})",
        req.op, req.cluster.name, req.cluster.gpu.name
    );
    if args.sweep {
        print_sweep(&results);
    } else {
        print_single(&results[0]);
    }
    Ok(())
}

fn print_single(r: &CollectiveResult) {
    println!("  size          {} ({} bytes)", format_size_bytes(r.size_bytes), r.size_bytes);
    println!("  time_us       {:.2}", r.time_s * 1e6);
    println!("  algbw_gbps    {:.2}", r.algbw_gbps);
    println!("  busbw_gbps    {:.2}", r.busbw_gbps);
    println!("  composition   {:?}, {} chunk(s)", r.composition, r.chunks);
    for (i, p) in r.phases.iter().enumerate() {
        println!(
            "  phase {}       {} over {} ({} ranks), {}: {:.3} GB on the wire per rank, {:.2} us alone",
            i + 1,
            p.op,
            p.dims.join("+"),
            p.ranks,
            p.algorithm,
            p.wire_bytes / 1e9,
            p.time_s * 1e6
        );
    }
}

fn print_sweep(results: &[CollectiveResult]) {
    println!(
        "  {:>12} {:>12} {:>12} {:>12}  algorithms",
        "size_bytes", "time_us", "algbw_gbps", "busbw_gbps"
    );
    for r in results {
        let algs: Vec<String> = r.phases.iter().map(|p| p.algorithm.to_string()).collect();
        println!(
            "  {:>12} {:>12.2} {:>12.2} {:>12.2}  {:?}: {}",
            r.size_bytes,
            r.time_s * 1e6,
            r.algbw_gbps,
            r.busbw_gbps,
            r.composition,
            algs.join(", ")
        );
    }
}
