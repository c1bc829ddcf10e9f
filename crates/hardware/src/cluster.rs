//! Clusters: an accelerator plus a network topology; the built-in presets.

use crate::accelerator::{self, Accelerator};
use crate::fabric;
use crate::memory_tier::MemoryTier;
use astrolabe_core::InputError;
use astrolabe_network::Topology;
use serde::Serialize;

/// A cluster: one kind of GPU on a multi-dimensional network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    /// Preset name or the `name` of a cluster file.
    pub name: String,
    /// The GPU of every rank.
    pub gpu: Accelerator,
    /// The network, innermost dimension first.
    pub topology: Topology,
    /// Memory beyond the GPUs' HBM that offload may use (host DRAM, CXL, a pool); none unless
    /// the cluster description lists them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub memory_tiers: Vec<MemoryTier>,
}

impl Cluster {
    /// Number of GPUs.
    pub fn gpus(&self) -> usize {
        self.topology.npus()
    }
}

/// A named cluster design whose outermost dimension (nodes, racks) can be resized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterPreset {
    /// Preset name (`dgx-h100-basepod`).
    pub name: &'static str,
    /// One line for `astrolabe presets`, with the source of its shape.
    pub description: &'static str,
    /// Catalog name of the GPU.
    pub gpu: &'static str,
    /// (fabric, size) per dimension, innermost first; the last size is the default unit count.
    pub dims: Vec<(&'static str, usize)>,
}

impl ClusterPreset {
    /// Builds the cluster, with `units` nodes (or racks) in the outermost dimension if given.
    pub fn build(&self, units: Option<usize>) -> Result<Cluster, InputError> {
        let mut dims = Vec::with_capacity(self.dims.len());
        for (i, (fabric_name, size)) in self.dims.iter().enumerate() {
            let size = match units {
                Some(n) if i + 1 == self.dims.len() => n,
                _ => *size,
            };
            dims.push(fabric::find(fabric_name, self.name)?.dimension(size));
        }
        Ok(Cluster {
            name: self.name.to_string(),
            gpu: accelerator::find(self.gpu, self.name)?,
            topology: Topology::new(dims, self.name)?,
            memory_tiers: Vec::new(),
        })
    }

    /// GPUs in one unit of the outermost dimension (a node, a rack).
    pub fn gpus_per_unit(&self) -> usize {
        self.dims[..self.dims.len() - 1].iter().map(|d| d.1).product()
    }
}

/// The built-in cluster presets.
pub fn presets() -> Vec<ClusterPreset> {
    vec![
        ClusterPreset {
            name: "dgx-a100-superpod",
            description: "DGX A100 SuperPOD-style: 8×A100-80GB per node on NVSwitch, 8×HDR 200 Gb/s rails; 140 nodes (7 scalable units of 20, NVIDIA RA-09950-001)",
            gpu: "a100-sxm-80gb",
            dims: vec![("nvlink3-nvswitch", 8), ("ib-hdr", 140)],
        },
        ClusterPreset {
            name: "dgx-h100-basepod",
            description: "DGX H100 nodes, 8×H100 on NVSwitch gen3, 8×NDR 400 Gb/s rails; 12 nodes = 96 GPUs (DGX BasePOD RA)",
            gpu: "h100-sxm",
            dims: vec![("nvlink4-nvswitch", 8), ("ib-ndr", 12)],
        },
        ClusterPreset {
            name: "dgx-h100-superpod",
            description: "DGX H100 SuperPOD: 127 nodes (4 scalable units of 32, NVIDIA RA-11333-001 table 7), NDR 400 Gb/s rails",
            gpu: "h100-sxm",
            dims: vec![("nvlink4-nvswitch", 8), ("ib-ndr", 127)],
        },
        ClusterPreset {
            name: "hgx-h200-ndr",
            description: "HGX H200 nodes, 8×H200 on NVSwitch gen3, 8×NDR 400 Gb/s; 32 nodes (one scalable unit)",
            gpu: "h200-sxm",
            dims: vec![("nvlink4-nvswitch", 8), ("ib-ndr", 32)],
        },
        ClusterPreset {
            name: "dgx-b200-superpod",
            description: "DGX B200 SuperPOD: 8×B200 per node on NVLink 5, 8×NDR 400 Gb/s; 128 nodes (4 scalable units of 32, NVIDIA B200 SuperPOD RA)",
            gpu: "b200",
            dims: vec![("nvlink5-nvswitch", 8), ("ib-ndr", 128)],
        },
        ClusterPreset {
            name: "gb200-nvl72",
            description: "GB200 NVL72 racks: 72 GPUs per NVLink 5 domain, one NDR 400 Gb/s NIC per GPU; 8 racks = 576 GPUs (DGX GB200 SuperPOD scalable unit)",
            gpu: "gb200",
            dims: vec![("nvlink5-nvswitch", 72), ("ib-ndr", 8)],
        },
        ClusterPreset {
            name: "h100-roce-800",
            description: "8×H100 nodes with one 800 GbE RoCEv2 NIC per GPU (SAKURAONE-like); 100 nodes",
            gpu: "h100-sxm",
            dims: vec![("nvlink4-nvswitch", 8), ("roce-800", 100)],
        },
        ClusterPreset {
            name: "aws-p5",
            description: "AWS p5.48xlarge: 8×H100, 3,200 Gb/s EFA per instance; 32 instances",
            gpu: "h100-sxm",
            dims: vec![("nvlink4-nvswitch", 8), ("aws-efa-p5", 32)],
        },
        ClusterPreset {
            name: "gcp-a3-mega",
            description: "GCP a3-megagpu-8g: 8×H100, GPUDirect-TCPXO 8×200 Gb/s; 32 VMs",
            gpu: "h100-sxm",
            dims: vec![("nvlink4-nvswitch", 8), ("gcp-tcpxo", 32)],
        },
        ClusterPreset {
            name: "h800-ib",
            description: "8×H800 nodes (NVLink 400 GB/s total) with 8×NDR 400 Gb/s, DeepSeek-V3-like; 256 nodes = 2,048 GPUs",
            gpu: "h800-sxm",
            dims: vec![("nvlink4-nvswitch-h800", 8), ("ib-ndr", 256)],
        },
    ]
}

/// Looks a preset up by name.
pub fn find_preset(name: &str, origin: &str) -> Result<ClusterPreset, InputError> {
    let wanted = name.trim().to_ascii_lowercase();
    presets().into_iter().find(|p| p.name == wanted).ok_or_else(|| {
        let names: Vec<_> = presets().iter().map(|p| p.name).collect();
        InputError::new(
            origin,
            name,
            format!("a cluster preset ({}) or a path to a .toml cluster file", names.join(", ")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_builds() {
        for p in presets() {
            let c = p.build(None).unwrap();
            assert_eq!(c.gpus(), p.dims.iter().map(|d| d.1).product::<usize>(), "{}", p.name);
        }
    }

    #[test]
    fn basepod_is_96_h100_and_resizes() {
        let p = find_preset("dgx-h100-basepod", "--cluster").unwrap();
        assert_eq!(p.build(None).unwrap().gpus(), 96);
        assert_eq!(p.build(Some(2048)).unwrap().gpus(), 16_384);
        assert_eq!(p.gpus_per_unit(), 8);
    }

    #[test]
    fn unknown_preset_is_a_clear_error() {
        let e = find_preset("dgx-z900", "--cluster").unwrap_err();
        assert_eq!(e.origin, "--cluster");
        assert!(e.expected.contains("dgx-h100-basepod"));
        assert!(find_preset("dgx-h100-basepod", "x").unwrap().build(Some(0)).is_err());
    }
}
