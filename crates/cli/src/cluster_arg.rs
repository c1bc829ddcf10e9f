//! Resolving `--cluster`: a preset name or a path to a cluster TOML file.

use anyhow::{Context, Result};
use astrolabe_hardware::{cluster::find_preset, parse_cluster_toml, Cluster};
use std::path::Path;

/// Loads the cluster named by `spec`; `nodes` resizes a preset's outermost dimension.
pub fn load_cluster(spec: &str, nodes: Option<usize>) -> Result<Cluster> {
    if spec.ends_with(".toml") || Path::new(spec).is_file() {
        if nodes.is_some() {
            anyhow::bail!("--nodes: resizes a preset; in a cluster file, set the last network dimension's size");
        }
        let text = std::fs::read_to_string(spec)
            .with_context(|| format!("{spec}: cannot read the cluster file"))?;
        return Ok(parse_cluster_toml(&text, spec)?);
    }
    Ok(find_preset(spec, "--cluster")?.build(nodes)?)
}

/// A one-line description of a cluster's network: `nvlink4-nvswitch 8 × ib-ndr 12`.
pub fn describe_network(cluster: &Cluster) -> String {
    let dims: Vec<String> =
        cluster.topology.dims().iter().map(|d| format!("{} {}", d.name, d.size)).collect();
    dims.join(" × ")
}
