//! Builds a [`Fabric`] from a [`FabricSpec`], and shorthand constructors for common shapes.
//!
//! Line rates, hop latencies and efficiencies come from the hardware catalog. Between a child
//! (an endpoint or a group of switches) and its parent group, every child switch is linked to
//! every parent switch; the child's uplink bandwidth (its downlink bandwidth divided by its
//! tier's oversubscription) is split evenly over those links. One such link stands for the
//! parallel cables between two switches (a bundle): flows on it share its whole capacity, which
//! assumes traffic spreads evenly over the cables of a bundle.

use crate::graph::{CableSpec, Fabric, LinkClass, NodeId};
use crate::spec::{FabricSpec, ScaleOutSpec, TierSpec};
use crate::transport::Transport;
use astrolabe_core::InputError;
use astrolabe_hardware::fabric::find as find_catalog;

/// Names of switch tiers, leaves first.
const TIER_NAMES: [&str; 3] = ["leaf", "spine", "core"];
/// Class of the links from each tier's children up to it.
const TIER_CLASSES: [LinkClass; 3] = [LinkClass::Nic, LinkClass::LeafUplink, LinkClass::Spine];

/// A child of a switch group: its switches (or its GPU) and its total uplink bandwidth.
struct Child {
    nodes: Vec<NodeId>,
    up_bytes_per_s: f64,
}

impl FabricSpec {
    /// Builds the fabric graph after checking the description.
    pub fn build(&self) -> Result<Fabric, InputError> {
        self.validate(&self.name)?;
        let mut fabric = Fabric::new(&self.name);
        for _ in 0..self.gpus() {
            fabric.add_gpu()?;
        }
        if let Some(name) = &self.scale_up {
            add_scale_up(&mut fabric, self, name)?;
        }
        if let Some(so) = &self.scale_out {
            add_scale_out(&mut fabric, self, so)?;
        }
        Ok(fabric)
    }

    /// One NVSwitch domain of `gpus` GPUs on catalog fabric `scale_up`.
    pub fn nvswitch(gpus: usize, scale_up: &str) -> FabricSpec {
        FabricSpec {
            name: format!("nvswitch-{gpus}"),
            nodes: 1,
            gpus_per_node: gpus,
            scale_up: Some(scale_up.into()),
            scale_out: None,
        }
    }

    /// Nodes with an NVSwitch domain each, one NIC per GPU on rail leaves of `nodes_per_leaf`
    /// nodes, leaves joined by `spines` spines; `oversubscription` at the leaf uplinks.
    pub fn rail_optimized(
        nodes: usize,
        gpus_per_node: usize,
        scale_up: &str,
        scale_out: &str,
        nodes_per_leaf: usize,
        spines: usize,
        oversubscription: f64,
    ) -> FabricSpec {
        let tiers =
            vec![TierSpec::new(nodes_per_leaf, 1, oversubscription), TierSpec::new(0, spines, 1.0)];
        FabricSpec {
            name: format!("rail-{nodes}x{gpus_per_node}"),
            nodes,
            gpus_per_node,
            scale_up: Some(scale_up.into()),
            scale_out: Some(ScaleOutSpec { fabric: scale_out.into(), rail_optimized: true, tiers }),
        }
    }

    /// A two- or three-tier fat-tree (`tiers`, leaves first) over nodes whose GPUs share an
    /// optional NVSwitch domain; a node's GPUs sit under the same leaf.
    pub fn fat_tree(
        nodes: usize,
        gpus_per_node: usize,
        scale_up: Option<&str>,
        scale_out: &str,
        tiers: Vec<TierSpec>,
    ) -> FabricSpec {
        FabricSpec {
            name: format!("fat-tree-{}x{gpus_per_node}", nodes),
            nodes,
            gpus_per_node,
            scale_up: scale_up.map(str::to_string),
            scale_out: Some(ScaleOutSpec {
                fabric: scale_out.into(),
                rail_optimized: false,
                tiers,
            }),
        }
    }

    /// GB200 NVL72-like racks: 72 GPUs per NVLink 5 domain, one NIC per GPU on `scale_out`,
    /// leaves of `gpus_per_leaf` NICs joined by `spines` spines without oversubscription.
    pub fn nvl72(racks: usize, scale_out: &str, gpus_per_leaf: usize, spines: usize) -> FabricSpec {
        let tiers = vec![TierSpec::new(gpus_per_leaf, 1, 1.0), TierSpec::new(0, spines, 1.0)];
        FabricSpec {
            name: format!("nvl72-{racks}"),
            nodes: racks,
            gpus_per_node: 72,
            scale_up: Some("nvlink5-nvswitch".into()),
            scale_out: Some(ScaleOutSpec {
                fabric: scale_out.into(),
                rail_optimized: false,
                tiers,
            }),
        }
    }
}

fn add_scale_up(fabric: &mut Fabric, spec: &FabricSpec, name: &str) -> Result<(), InputError> {
    if spec.gpus_per_node < 2 {
        return Ok(());
    }
    let cat = find_catalog(name, &format!("{}: scale_up", spec.name))?;
    let transport = fabric.add_transport(Transport::from_catalog(&cat))?;
    let cable = CableSpec {
        capacity_bytes_per_s: cat.bandwidth.bytes_per_s,
        latency_ns: cat.latency_ns.round() as u64,
        class: LinkClass::Nvlink,
        transport,
    };
    for node in 0..spec.nodes {
        let switch = fabric.add_switch(format!("nvswitch{node}"))?;
        for local in 0..spec.gpus_per_node {
            let gpu = fabric.gpus[node * spec.gpus_per_node + local];
            fabric.add_cable(gpu, switch, cable)?;
        }
    }
    Ok(())
}

/// GPU ranks in leaf order: node-major, or for rails (block of nodes, rail, node in block).
fn endpoint_order(spec: &FabricSpec, so: &ScaleOutSpec) -> Vec<usize> {
    let gpn = spec.gpus_per_node;
    let mut ranks: Vec<usize> = (0..spec.gpus()).collect();
    if so.rail_optimized {
        let block = so.tiers[0].group.max(1);
        ranks.sort_by_key(|&g| (g / gpn / block, g % gpn, g / gpn % block));
    }
    ranks
}

fn add_scale_out(
    fabric: &mut Fabric,
    spec: &FabricSpec,
    so: &ScaleOutSpec,
) -> Result<(), InputError> {
    let cat = find_catalog(&so.fabric, &format!("{}: scale_out.fabric", spec.name))?;
    let transport = fabric.add_transport(Transport::from_catalog(&cat))?;
    let latency_ns = cat.latency_ns.round() as u64;
    let nic = cat.bandwidth.bytes_per_s;
    let mut children: Vec<Child> = endpoint_order(spec, so)
        .into_iter()
        .map(|rank| Child { nodes: vec![fabric.gpus[rank]], up_bytes_per_s: nic })
        .collect();
    for (i, tier) in so.tiers.iter().enumerate() {
        let cable = |capacity_bytes_per_s| CableSpec {
            capacity_bytes_per_s,
            latency_ns,
            class: TIER_CLASSES[i],
            transport,
        };
        let size = if tier.group == 0 { children.len() } else { tier.group };
        if i + 1 == so.tiers.len() && size < children.len() {
            let expected =
                format!("0 or at least {} so that the top tier joins everything", children.len());
            return Err(InputError::new(
                &spec.name,
                format!("scale_out.tiers[{i}].group"),
                expected,
            ));
        }
        let mut parents = Vec::with_capacity(children.len().div_ceil(size));
        for (k, chunk) in children.chunks(size).enumerate() {
            let mut switches = Vec::with_capacity(tier.switches);
            for s in 0..tier.switches {
                let name = if tier.switches == 1 {
                    format!("{}{k}", TIER_NAMES[i])
                } else {
                    format!("{}{k}.{s}", TIER_NAMES[i])
                };
                switches.push(fabric.add_switch(name)?);
            }
            let mut down = 0.0;
            for child in chunk {
                down += child.up_bytes_per_s;
                let per_link = child.up_bytes_per_s / (child.nodes.len() * switches.len()) as f64;
                for &c in &child.nodes {
                    for &p in &switches {
                        fabric.add_cable(c, p, cable(per_link))?;
                    }
                }
            }
            parents.push(Child { nodes: switches, up_bytes_per_s: down / tier.oversubscription });
        }
        children = parents;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::NodeKind;

    #[test]
    fn rail_leaves_hold_one_rail_of_a_block_of_nodes() {
        let f = FabricSpec::rail_optimized(4, 2, "nvlink4-nvswitch", "ib-ndr", 2, 2, 2.0)
            .build()
            .unwrap();
        // 8 GPUs, 4 NVSwitches, 4 leaves (2 blocks × 2 rails), 2 spines.
        assert_eq!(f.gpu_count(), 8);
        assert_eq!(f.nodes.iter().filter(|n| n.kind == NodeKind::Switch).count(), 10);
        let leaf_of = |rank: usize| {
            let g = f.gpus[rank];
            let l = f.out_links[g as usize]
                .iter()
                .find(|&&l| f.links[l as usize].class == LinkClass::Nic)
                .unwrap();
            f.nodes[f.links[*l as usize].to as usize].name.clone()
        };
        // rank = node * 2 + rail: GPU 0 of nodes 0 and 1 share leaf0; GPU 1 of node 0 is on leaf1.
        assert_eq!(leaf_of(0), "leaf0");
        assert_eq!(leaf_of(2), "leaf0");
        assert_eq!(leaf_of(1), "leaf1");
        assert_eq!(leaf_of(4), "leaf2");
        // Leaf uplinks: 2 NICs × 50 GB/s / oversubscription 2 / 2 spines = 25 GB/s each.
        let up = f.links.iter().find(|l| l.class == LinkClass::LeafUplink).unwrap();
        assert_eq!(up.capacity_bytes_per_s, 25e9);
    }

    #[test]
    fn top_tier_must_join_everything() {
        let spec = FabricSpec::fat_tree(
            4,
            1,
            None,
            "ib-ndr",
            vec![TierSpec::new(2, 1, 1.0), TierSpec::new(1, 1, 1.0)],
        );
        let e = spec.build().unwrap_err();
        assert_eq!(e.field, "scale_out.tiers[1].group");
        let e = FabricSpec::nvswitch(8, "nvlink9").build().unwrap_err();
        assert!(e.expected.contains("nvlink4-nvswitch"), "{e}");
    }
}
