//! `[network]` of a scenario: which network model prices the step's collectives and, for the
//! congestion-aware one, the explicit fabric they run on.
//!
//! ```toml
//! [network]
//! model = "congestion-aware"   # or "analytical" (the default)
//! fabric = "llama3-24k-roce"   # a fabric preset (resized to the cluster's nodes), or a table:
//! # [network.fabric]           # an astrolabe_flow::FabricSpec (tiers, oversubscription, rails)
//! ```
//!
//! Without `fabric`, the congestion-aware model derives one from the cluster: the fabric preset
//! of the same name where there is one (`dgx-h100-superpod`, `dgx-a100-superpod`,
//! `gb200-nvl72`), else the cluster's scale-up domain with one NIC per GPU on rail-optimized,
//! non-blocking leaves of 32 nodes under one spine layer (the DGX SuperPOD scalable unit). A
//! derived fabric reads line rates from the hardware catalog, so a cluster whose network
//! dimensions differ from the catalog entries of their names must describe its fabric.

use astrolabe_core::InputError;
use astrolabe_flow::{presets, FabricSpec};
use astrolabe_hardware::{fabric, Cluster};
use astrolabe_network::DimensionKind;
use serde::{Deserialize, Serialize};

/// How collectives are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkModel {
    /// Closed-form per-dimension costs; every collective has the links to itself.
    #[default]
    Analytical,
    /// Flows on an explicit fabric sharing links max-min fairly (`astrolabe_flow`).
    CongestionAware,
}

impl NetworkModel {
    /// Names accepted by `--network-model` and `network.model`.
    pub const NAMES: [&'static str; 2] = ["analytical", "congestion-aware"];

    /// Parses a model name; `origin` and `field` name where it came from.
    pub fn parse(text: &str, origin: &str, field: &str) -> Result<NetworkModel, InputError> {
        match text.trim() {
            "analytical" => Ok(NetworkModel::Analytical),
            "congestion-aware" => Ok(NetworkModel::CongestionAware),
            other => {
                let expected = format!("one of {}, got {other:?}", NetworkModel::NAMES.join(", "));
                Err(InputError::new(origin, field, expected))
            }
        }
    }

    /// The name, as parsed.
    pub fn key(self) -> &'static str {
        match self {
            NetworkModel::Analytical => "analytical",
            NetworkModel::CongestionAware => "congestion-aware",
        }
    }
}

/// The scenario's network choice, resolved against its cluster.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetworkChoice {
    /// The model.
    pub model: NetworkModel,
    /// The fabric the scenario gave (preset resized, or a table); `None`: derived on use.
    pub fabric: Option<FabricSpec>,
}

/// `[network]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NetworkFile {
    model: Option<String>,
    fabric: Option<toml::Value>,
}

impl NetworkFile {
    /// Checks the table against `cluster`.
    pub(crate) fn resolve(
        self,
        cluster: &Cluster,
        origin: &str,
    ) -> Result<NetworkChoice, InputError> {
        let model = match &self.model {
            Some(text) => NetworkModel::parse(text, origin, "network.model")?,
            None => NetworkModel::Analytical,
        };
        let fabric = match self.fabric {
            None => None,
            Some(value) => Some(fabric_of_value(value, cluster, origin)?),
        };
        if fabric.is_some() && model == NetworkModel::Analytical {
            let expected = "model = \"congestion-aware\" beside a fabric (the analytical model \
                            reads the cluster's network, not a fabric)";
            return Err(InputError::new(origin, "network.model", expected));
        }
        Ok(NetworkChoice { model, fabric })
    }
}

fn fabric_of_value(
    value: toml::Value,
    cluster: &Cluster,
    origin: &str,
) -> Result<FabricSpec, InputError> {
    let field = "network.fabric";
    let spec = match value {
        toml::Value::String(name) => {
            let mut spec = presets::preset(&name, None)
                .map_err(|e| InputError::new(origin, field, e.expected))?;
            spec.nodes = cluster.gpus().div_ceil(spec.gpus_per_node);
            spec
        }
        toml::Value::Table(table) => table.try_into().map_err(|e: toml::de::Error| {
            InputError::new(origin, field, format!("a fabric description ({})", e.message()))
        })?,
        _ => {
            let expected = "a fabric preset name in quotes or a [network.fabric] table";
            return Err(InputError::new(origin, field, expected));
        }
    };
    check_against_cluster(&spec, cluster, origin)?;
    Ok(spec)
}

/// A fabric must hold the cluster's GPUs with the same GPUs per node, so that ranks land on
/// the same nodes in both models.
fn check_against_cluster(
    spec: &FabricSpec,
    cluster: &Cluster,
    origin: &str,
) -> Result<(), InputError> {
    spec.validate(&format!("{origin} [network.fabric]"))?;
    let dims = cluster.topology.dims();
    let per_node = if dims.len() > 1 { dims[0].size } else { cluster.gpus() };
    if spec.gpus_per_node != per_node && dims.len() > 1 {
        let expected = format!(
            "{per_node} GPUs per node, as the cluster's innermost dimension, got {}",
            spec.gpus_per_node
        );
        return Err(InputError::new(origin, "network.fabric.gpus_per_node", expected));
    }
    if spec.gpus() < cluster.gpus() {
        let expected =
            format!("at least the cluster's {} GPUs, got {}", cluster.gpus(), spec.gpus());
        return Err(InputError::new(origin, "network.fabric.nodes", expected));
    }
    Ok(())
}

/// The fabric of `choice` for `cluster`: the given one, or one derived from the cluster.
pub fn fabric_for(
    choice: &NetworkChoice,
    cluster: &Cluster,
    origin: &str,
) -> Result<FabricSpec, InputError> {
    let field = "network.fabric";
    let dims = cluster.topology.dims();
    if let Some(d) = dims.iter().find(|d| d.oversubscription != 1.0) {
        let expected = format!(
            "a non-blocking cluster network under the congestion-aware model (dimension `{}` \
             has oversubscription {}): describe oversubscription per tier in [network.fabric]",
            d.name, d.oversubscription
        );
        return Err(InputError::new(origin, field, expected));
    }
    if let Some(spec) = &choice.fabric {
        return Ok(spec.clone());
    }
    for d in dims {
        let catalog = fabric::find(&d.name, origin).map(|f| f.dimension(d.size));
        if catalog.as_ref() != Ok(d) {
            let expected = format!(
                "a fabric description: the cluster's network dimension `{}` is not the catalog \
                 fabric of that name, so no fabric can be derived from it",
                d.name
            );
            return Err(InputError::new(origin, field, expected));
        }
    }
    let spec = match dims {
        [one] => FabricSpec::nvswitch(one.size, &one.name),
        [up, out] if up.kind == DimensionKind::Switch => {
            let nodes = out.size;
            if presets::PRESETS.contains(&cluster.name.as_str()) {
                presets::preset(&cluster.name, Some(nodes))?
            } else {
                derived_rail(nodes, up.size, &up.name, &out.name)
            }
        }
        _ => {
            let expected = format!(
                "a fabric description: a fabric is derived only for one scale-up switch \
                 domain and one scale-out network, and this cluster has {} dimensions",
                dims.len()
            );
            return Err(InputError::new(origin, field, expected));
        }
    };
    Ok(spec)
}

/// Nodes per rail leaf in a derived fabric: a DGX SuperPOD scalable unit (NVIDIA RA-11333-001).
pub const DERIVED_NODES_PER_LEAF: usize = 32;

/// A rail-optimized, non-blocking two-tier fabric: leaves of [`DERIVED_NODES_PER_LEAF`] nodes
/// per rail, spines as 64-port switches would need (`leaves × downlinks / 64`, at least one).
fn derived_rail(nodes: usize, gpus_per_node: usize, up: &str, out: &str) -> FabricSpec {
    let per_leaf = DERIVED_NODES_PER_LEAF.min(nodes);
    let leaves = nodes.div_ceil(per_leaf) * gpus_per_node;
    let spines = (leaves * per_leaf / 64).max(1);
    let mut spec = FabricSpec::rail_optimized(nodes, gpus_per_node, up, out, per_leaf, spines, 1.0);
    spec.name = format!("derived-rail-{nodes}x{gpus_per_node}");
    spec
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
