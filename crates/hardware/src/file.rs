//! The cluster TOML format.
//!
//! ```toml
//! name = "my-cluster"
//! gpu = "h100-sxm"                # a catalog GPU
//!
//! [[network]]                     # innermost dimension first
//! fabric = "nvlink4-nvswitch"     # take everything from a catalog fabric...
//! size = 8
//!
//! [[network]]
//! name = "scale-out"              # ...or describe the dimension explicitly
//! kind = "switch"                 # ring | fully_connected | switch
//! size = 16
//! bandwidth_gbit_per_s = 400      # or bandwidth_gb_per_s (GB = 1e9 bytes), per GPU per direction
//! latency_ns = 1000
//! efficiency = 0.94
//! oversubscription = 2.0          # optional, switches only
//! ```
//!
//! A dimension with `fabric` may override any explicit field. A file may instead name a preset:
//! `preset = "dgx-h100-basepod"` with optional `nodes = 64`. Either may list the memory tiers
//! beyond HBM that offload can use: `memory_tiers = ["dgx-h100-host"]` (catalog names, see
//! [`crate::memory_tier`]) or tables of a tier's fields.

use crate::accelerator;
use crate::cluster::{find_preset, Cluster};
use crate::fabric;
use crate::memory_tier::{self, MemoryTier};
use astrolabe_core::{Bandwidth, InputError};
use astrolabe_network::{Dimension, DimensionKind, InNetworkReduction, Topology};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFile {
    name: Option<String>,
    preset: Option<String>,
    nodes: Option<usize>,
    gpu: Option<String>,
    #[serde(default)]
    network: Vec<DimensionFile>,
    #[serde(default)]
    memory_tiers: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DimensionFile {
    fabric: Option<String>,
    name: Option<String>,
    kind: Option<DimensionKind>,
    size: usize,
    bandwidth_gb_per_s: Option<f64>,
    bandwidth_gbit_per_s: Option<f64>,
    latency_ns: Option<f64>,
    efficiency: Option<f64>,
    pipeline_fill_ns: Option<f64>,
    oversubscription: Option<f64>,
    in_network_reduction_efficiency: Option<f64>,
}

/// Parses a cluster description; `origin` (the file path) prefixes every error.
pub fn parse_cluster_toml(text: &str, origin: &str) -> Result<Cluster, InputError> {
    let file: ClusterFile = toml::from_str(text).map_err(|e| {
        let field = e.span().map(|s| format!("bytes {}..{}", s.start, s.end)).unwrap_or_default();
        InputError::new(origin, field, e.message().to_string())
    })?;
    if let Some(preset) = &file.preset {
        if file.gpu.is_some() || !file.network.is_empty() {
            return Err(InputError::new(
                origin,
                "preset",
                "either a preset (with optional `nodes`) or `gpu` and `network`, not both",
            ));
        }
        let mut cluster = find_preset(preset, origin)?.build(file.nodes).map_err(|e| {
            InputError::new(origin, "nodes", format!("{} ({})", e.expected, e.field))
        })?;
        if let Some(name) = file.name {
            cluster.name = name;
        }
        cluster.memory_tiers = memory_tiers(file.memory_tiers, origin)?;
        return Ok(cluster);
    }
    if file.nodes.is_some() {
        return Err(InputError::new(
            origin,
            "nodes",
            "`nodes` goes with `preset`; give the last network dimension's size instead",
        ));
    }
    let gpu_name = file.gpu.ok_or_else(|| {
        InputError::new(origin, "gpu", "a catalog GPU name (see `astrolabe presets`)")
    })?;
    let gpu = accelerator::find(&gpu_name, origin)?;
    let dims = file
        .network
        .iter()
        .enumerate()
        .map(|(i, d)| dimension(d, origin, &format!("network[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let topology = Topology::new(dims, origin)?;
    let memory_tiers = memory_tiers(file.memory_tiers, origin)?;
    Ok(Cluster {
        name: file.name.unwrap_or_else(|| origin.to_string()),
        gpu,
        topology,
        memory_tiers,
    })
}

/// `memory_tiers`: catalog names or tables of [`MemoryTier`] fields; names must differ.
fn memory_tiers(values: Vec<toml::Value>, origin: &str) -> Result<Vec<MemoryTier>, InputError> {
    let mut tiers: Vec<MemoryTier> = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let path = format!("memory_tiers[{i}]");
        let tier = match value {
            toml::Value::String(name) => memory_tier::find(&name, origin)
                .map_err(|e| InputError::new(origin, &path, e.expected))?,
            toml::Value::Table(table) => {
                let tier: MemoryTier = table.try_into().map_err(|e: toml::de::Error| {
                    InputError::new(origin, &path, format!("a memory tier ({})", e.message()))
                })?;
                tier.validate(origin, &path)?;
                tier
            }
            _ => {
                let expected = "a catalog tier name in quotes or a table of tier fields";
                return Err(InputError::new(origin, path, expected));
            }
        };
        if tiers.iter().any(|t| t.name == tier.name) {
            let expected = format!("tier names that differ; `{}` appears twice", tier.name);
            return Err(InputError::new(origin, path, expected));
        }
        tiers.push(tier);
    }
    Ok(tiers)
}

fn dimension(d: &DimensionFile, origin: &str, path: &str) -> Result<Dimension, InputError> {
    let missing = |field: &str| {
        InputError::new(
            origin,
            format!("{path}.{field}"),
            "a value (or a `fabric` to take it from)",
        )
    };
    let base = d.fabric.as_deref().map(|f| fabric::find(f, origin)).transpose()?;
    if d.bandwidth_gb_per_s.is_some() && d.bandwidth_gbit_per_s.is_some() {
        return Err(InputError::new(
            origin,
            format!("{path}.bandwidth_gb_per_s"),
            "one of bandwidth_gb_per_s and bandwidth_gbit_per_s, not both",
        ));
    }
    let bandwidth = d
        .bandwidth_gb_per_s
        .map(Bandwidth::from_gb_per_s)
        .or(d.bandwidth_gbit_per_s.map(Bandwidth::from_gbit_per_s))
        .or(base.as_ref().map(|b| b.bandwidth))
        .ok_or_else(|| missing("bandwidth_gb_per_s"))?;
    let inr = match (d.in_network_reduction_efficiency, &base) {
        (Some(e), _) => Some(e),
        (None, Some(b)) => b.in_network_reduction,
        (None, None) => None,
    };
    let dim = Dimension {
        name: d
            .name
            .clone()
            .or(base.as_ref().map(|b| b.name.to_string()))
            .unwrap_or_else(|| format!("dim{}", &path[8..path.len() - 1])),
        kind: d.kind.or(base.as_ref().map(|b| b.kind)).ok_or_else(|| missing("kind"))?,
        size: d.size,
        bandwidth,
        latency_ns: d
            .latency_ns
            .or(base.as_ref().map(|b| b.latency_ns))
            .ok_or_else(|| missing("latency_ns"))?,
        efficiency: d.efficiency.or(base.as_ref().map(|b| b.efficiency)).unwrap_or(1.0),
        pipeline_fill_ns: d
            .pipeline_fill_ns
            .or(base.as_ref().map(|b| b.pipeline_fill_ns))
            .unwrap_or(0.0),
        oversubscription: d.oversubscription.unwrap_or(1.0),
        in_network_reduction: inr.map(|efficiency| InNetworkReduction { efficiency }),
    };
    dim.validate(origin, path)?;
    Ok(dim)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPLICIT: &str = r#"
name = "lab"
gpu = "h100-sxm"
[[network]]
fabric = "nvlink4-nvswitch"
size = 8
[[network]]
name = "scale-out"
kind = "switch"
size = 4
bandwidth_gbit_per_s = 400
latency_ns = 1000
efficiency = 0.9
oversubscription = 2.0
"#;

    #[test]
    fn reads_fabric_and_explicit_dimensions() {
        let c = parse_cluster_toml(EXPLICIT, "lab.toml").unwrap();
        assert_eq!(c.gpus(), 32);
        let out = &c.topology.dims()[1];
        assert_eq!(out.name, "scale-out");
        assert_eq!(out.achievable_bandwidth().gb_per_s(), 50.0 * 0.9 / 2.0);
        assert_eq!(out.pipeline_fill_ns, 0.0);
        assert!(c.topology.dims()[0].in_network_reduction.is_some());
    }

    #[test]
    fn reads_a_resized_preset() {
        let c = parse_cluster_toml("preset = \"dgx-h100-basepod\"\nnodes = 4\n", "p.toml").unwrap();
        assert_eq!(c.gpus(), 32);
    }

    #[test]
    fn bad_files_name_file_and_field() {
        let cases = [
            ("gpu = \"h100-sxm\"\n[[network]]\nkind = \"switch\"\nsize = 8\nlatency_ns = 1\n", "network[0].bandwidth_gb_per_s"),
            ("gpu = \"h100-sxm\"\n[[network]]\nfabric = \"ib-ndr\"\nsize = 8\nbandwidth_gb_per_s = -4\n", "network[0].bandwidth"),
            ("gpu = \"h100-sxm\"\n[[network]]\nfabric = \"ib-ndr\"\nsize = 0\n", "network[0].size"),
            ("gpu = \"h100-sxm\"\n", "network"),
            ("gpu = \"z1\"\n", "z1"),
            ("[[network]]\nfabric = \"ib-ndr\"\nsize = 2\n", "gpu"),
            ("preset = \"dgx-h100-basepod\"\ngpu = \"b200\"\n", "preset"),
            ("nodes = 3\ngpu = \"b200\"\n", "nodes"),
        ];
        for (text, field) in cases {
            let e = parse_cluster_toml(text, "c.toml").unwrap_err();
            assert_eq!(e.origin, "c.toml", "{text}");
            assert_eq!(e.field, field, "{text}");
        }
    }

    #[test]
    fn unknown_keys_are_rejected_not_ignored() {
        let e = parse_cluster_toml("gpu = \"h100-sxm\"\nbandwith = 3\n", "c.toml").unwrap_err();
        assert!(e.expected.contains("bandwith"), "{e}");
    }
}
