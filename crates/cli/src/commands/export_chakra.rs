//! `astrolabe export-chakra`: writes one training step of a scenario as Chakra traces, one per
//! rank, with an ASTRA-sim system JSON and network YAML beside them, so that ASTRA-sim and
//! `astrolabe astra` can run the same workload. What the nodes mean: `astrolabe_sim::export`.

use anyhow::{Context, Result};
use astrolabe_chakra::{
    rank_path, Attr, CollectiveCommType, GlobalMetadata, Node, NodeType, TraceWriter,
};
use astrolabe_collective::CollectiveOp;
use astrolabe_network::DimensionKind;
use astrolabe_sim::export::{export, Export, ExportDim, ExportNode, Work};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Chakra schema version written in each file's metadata.
const CHAKRA_VERSION: &str = "0.0.4";
/// Bytes in ASTRA-sim's network GB.
const ASTRA_GB_BYTES: f64 = (1u64 << 30) as f64;

/// Arguments of `astrolabe export-chakra`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario TOML file.
    pub scenario: String,
    /// Output prefix: writes `<PREFIX>.<rank>.et`, `<PREFIX>.system.json` and
    /// `<PREFIX>.network.yml` (folders are created).
    #[arg(long)]
    pub out: PathBuf,
    /// Print a JSON summary for programs.
    #[arg(long)]
    pub json: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let scenario = super::simulate::load(Some(&args.scenario))?;
    let exported = export(&scenario)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let network = sibling(&args.out, "network.yml");
    let system = sibling(&args.out, "system.json");
    write(&network, &network_yaml(&exported, &scenario.name))?;
    write(&system, &system_json(&exported))?;
    let mut nodes = 0u64;
    for rank in 0..exported.ranks {
        nodes += write_rank(&exported, rank, &rank_path(&args.out, rank))? as u64;
    }
    let (out, net, sys) = (args.out.display(), network.display(), system.display());
    if args.json {
        let summary = json!({
            "scenario": scenario.name,
            "ranks": exported.ranks,
            "nodes": nodes,
            "workload": out.to_string(),
            "network": net.to_string(),
            "system": sys.to_string(),
            "dimensions": exported.dims.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
            "astrolabe_step_ns": exported.step_ns,
            "astrolabe_graph_ns": exported.graph_ns,
        });
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("wrote {} traces ({nodes} nodes) to {out}.<rank>.et", exported.ranks);
        println!("network {net}, system {sys}");
        println!(
            "Astrolabe's step: {:.3} ms ({:.3} ms without the fixed step overhead)",
            exported.step_ns as f64 * 1e-6,
            exported.graph_ns as f64 * 1e-6
        );
        println!("run it: astrolabe astra --workload {out} --system {sys} --network {net}");
    }
    Ok(())
}

/// `<prefix>.<suffix>`.
fn sibling(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(format!(".{suffix}"));
    PathBuf::from(name)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes one rank's trace; returns its node count.
fn write_rank(exported: &Export, rank: usize, path: &Path) -> Result<usize> {
    let nodes = exported.rank_nodes(rank)?;
    let metadata = GlobalMetadata { version: CHAKRA_VERSION.into(), attr: vec![] };
    let mut writer = TraceWriter::create(path, &metadata)?;
    for (id, node) in nodes.iter().enumerate() {
        writer.write_node(&chakra_node(exported, id as u64, node)?)?;
    }
    writer.finish()?;
    Ok(nodes.len())
}

/// The Chakra node of `node`, with the attributes ASTRA-sim reads.
fn chakra_node(exported: &Export, id: u64, node: &ExportNode) -> Result<Node> {
    let node_type = match node.work {
        Work::Compute { .. } => NodeType::Comp,
        Work::Collective { .. } => NodeType::CommColl,
        Work::Send { .. } => NodeType::CommSend,
        Work::Recv { .. } => NodeType::CommRecv,
    };
    let mut out = Node::new(id, node.name.clone(), node_type);
    out.data_deps = node.deps.iter().map(|&d| d as u64).collect();
    match node.work {
        Work::Compute { duration_ns } => out.duration_micros = (duration_ns + 500) / 1000,
        Work::Collective { op, comm, .. } => {
            let size = node.work.astra_comm_size_bytes().unwrap_or(0);
            out.attr.push(Attr::comm_type(comm_type(op, &node.name)?));
            out.attr.push(Attr::u64("comm_size", size));
            out.attr.push(Attr::bool_list("involved_dim", exported.involved_dims(comm)));
        }
        Work::Send { dst, tag, size_bytes } => p2p(&mut out, "comm_dst", dst, tag, size_bytes),
        Work::Recv { src, tag, size_bytes } => p2p(&mut out, "comm_src", src, tag, size_bytes),
    }
    Ok(out)
}

/// A send's or receive's peer (`comm_dst` or `comm_src`), tag and size.
fn p2p(out: &mut Node, peer_key: &str, peer: usize, tag: u64, size_bytes: u64) {
    out.attr.push(Attr::u64(peer_key, peer as u64));
    out.attr.push(Attr::u64("comm_tag", tag));
    out.attr.push(Attr::u64("comm_size", size_bytes));
}

fn comm_type(op: CollectiveOp, name: &str) -> Result<CollectiveCommType> {
    Ok(match op {
        CollectiveOp::AllReduce => CollectiveCommType::AllReduce,
        CollectiveOp::ReduceScatter => CollectiveCommType::ReduceScatter,
        CollectiveOp::AllGather => CollectiveCommType::AllGather,
        CollectiveOp::AllToAll => CollectiveCommType::AllToAll,
        other => anyhow::bail!("node `{name}`: {other:?} has no Chakra export yet"),
    })
}

/// ASTRA-sim's network YAML: bandwidth in GB/s of 2^30 bytes, latency in ns per hop.
fn network_yaml(exported: &Export, scenario: &str) -> String {
    let list = |f: &dyn Fn(&ExportDim) -> String| {
        exported.dims.iter().map(f).collect::<Vec<_>>().join(", ")
    };
    let kind = |d: &ExportDim| match d.kind {
        DimensionKind::Ring => "Ring".to_string(),
        DimensionKind::FullyConnected => "FullyConnected".to_string(),
        DimensionKind::Switch => "Switch".to_string(),
    };
    format!(
        "# Written by astrolabe export-chakra from scenario `{scenario}`.\n\
         # Dimensions (one per parallel axis of each physical dimension): {}\n\
         topology: [ {} ]\n\
         npus_count: [ {} ]\n\
         bandwidth: [ {} ]  # GB/s, GB = 2^30 bytes\n\
         latency: [ {} ]  # ns per hop\n",
        list(&|d| d.name.clone()),
        list(&kind),
        list(&|d| d.npus.to_string()),
        list(&|d| format!("{:.3}", d.bandwidth_bytes_per_s / ASTRA_GB_BYTES)),
        list(&|d| format!("{:.1}", d.latency_ns)),
    )
}

/// ASTRA-sim's system JSON: ring on rings and switches, direct on fully connected dimensions;
/// endpoint delay 1 ns (the hop latency already holds the endpoint's); HBM as `local-mem-bw`.
fn system_json(exported: &Export) -> String {
    let algorithms: Vec<&str> = exported
        .dims
        .iter()
        .map(|d| if d.kind == DimensionKind::FullyConnected { "direct" } else { "ring" })
        .collect();
    let system = json!({
        "scheduling-policy": "LIFO",
        "endpoint-delay": 1,
        "active-chunks-per-dimension": 1,
        "preferred-dataset-splits": 4,
        "all-reduce-implementation": algorithms,
        "all-gather-implementation": algorithms,
        "reduce-scatter-implementation": algorithms,
        "all-to-all-implementation": algorithms,
        "collective-optimization": "localBWAware",
        "local-mem-bw": (exported.hbm_bytes_per_s / 1e9).round(),
        "boost-mode": 0,
        "roofline-enabled": 0,
        "peak-perf": (exported.peak_flop_per_s / 1e12).round(),
    });
    serde_json::to_string_pretty(&system).unwrap_or_default() + "\n"
}
