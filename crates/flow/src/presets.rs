//! Fabric presets mirroring the hardware catalog's cluster presets, plus two published clusters.
//!
//! Switch counts that a source does not give are derived from the switch radix so that the leaf
//! uplinks match the stated oversubscription: with `d` downlink ports per leaf and `L` leaves,
//! a non-blocking spine layer needs `L × d / radix` spine switches. When a preset is resized
//! (`nodes`), the spine count is kept (it is the ECMP width; capacities follow the leaves).

use crate::spec::{FabricSpec, ScaleOutSpec, TierSpec};
use astrolabe_core::InputError;

/// Names of the presets, in listing order.
pub const PRESETS: [&str; 5] =
    ["dgx-h100-superpod", "dgx-a100-superpod", "gb200-nvl72", "llama3-24k-roce", "sakuraone"];

/// The preset `name`, with `nodes` nodes (racks for `gb200-nvl72`) if given.
pub fn preset(name: &str, nodes: Option<usize>) -> Result<FabricSpec, InputError> {
    let wanted = name.trim().to_ascii_lowercase();
    let mut spec = match wanted.as_str() {
        "dgx-h100-superpod" => dgx_h100_superpod(),
        "dgx-a100-superpod" => dgx_a100_superpod(),
        "gb200-nvl72" => gb200_nvl72(),
        "llama3-24k-roce" => llama3_24k_roce(),
        "sakuraone" => sakuraone(),
        _ => {
            let expected = format!("a fabric preset: {}", PRESETS.join(", "));
            return Err(InputError::new("--fabric", name, expected));
        }
    };
    if let Some(n) = nodes {
        spec.nodes = n;
    }
    spec.validate(&spec.name)?;
    Ok(spec)
}

fn rail(name: &str, nodes: usize, up: &str, out: &str, tiers: Vec<TierSpec>) -> FabricSpec {
    FabricSpec {
        name: name.into(),
        nodes,
        gpus_per_node: 8,
        scale_up: Some(up.into()),
        scale_out: Some(ScaleOutSpec { fabric: out.into(), rail_optimized: true, tiers }),
    }
}

/// DGX H100 SuperPOD, as the catalog's `dgx-h100-superpod` preset: 127 nodes of 8 H100 on
/// NVLink 4, 8 NDR rails. One leaf per rail per scalable unit of 32 nodes (NVIDIA DGX SuperPOD
/// reference architecture RA-11333-001); leaves are 64-port Quantum-2 QM9700 switches (NVIDIA
/// QM9700 datasheet: 64 × 400 Gb/s), 32 down and 32 up, so 1:1. Spines derived: 4 units × 8
/// rails = 32 leaves × 32 uplinks / 64 ports = 16.
fn dgx_h100_superpod() -> FabricSpec {
    let tiers = vec![TierSpec::new(32, 1, 1.0), TierSpec::new(0, 16, 1.0)];
    rail("dgx-h100-superpod", 127, "nvlink4-nvswitch", "ib-ndr", tiers)
}

/// DGX A100 SuperPOD, as the catalog's `dgx-a100-superpod`: 140 nodes in 7 scalable units of
/// 20 (NVIDIA RA-09950-001), 8 HDR rails. Leaves are 40-port QM8790 HDR switches (NVIDIA
/// datasheet: 40 × 200 Gb/s), 20 down and 20 up. Spines derived: 7 × 8 = 56 leaves × 20 / 40 =
/// 28. The published design adds a core layer above the spines; this two-tier version keeps
/// the same non-blocking bisection.
fn dgx_a100_superpod() -> FabricSpec {
    let tiers = vec![TierSpec::new(20, 1, 1.0), TierSpec::new(0, 28, 1.0)];
    rail("dgx-a100-superpod", 140, "nvlink3-nvswitch", "ib-hdr", tiers)
}

/// GB200 NVL72 racks, as the catalog's `gb200-nvl72`: 8 racks of 72 GPUs on NVLink 5, one NDR
/// NIC per GPU (DGX GB200 SuperPOD scalable unit). Leaves of 32 NICs on 64-port QM9700
/// switches, 1:1; spines derived: 576 / 32 = 18 leaves × 32 / 64 = 9. Assumed: the NICs of a
/// rack fill leaves in GPU order (the reference design's exact cabling is not modelled).
fn gb200_nvl72() -> FabricSpec {
    let mut spec = FabricSpec::nvl72(8, "ib-ndr", 32, 9);
    spec.name = "gb200-nvl72".into();
    spec
}

/// Meta's 24K-GPU RoCE cluster that trained Llama 3 405B (Llama 3 paper, arXiv 2407.21783,
/// §3.3.1): 8-GPU Grand Teton servers on NVLink, 400 Gb/s RoCE per GPU; a rack of 16 GPUs (two
/// servers) under one top-of-rack switch; 192 racks form a pod of 3,072 GPUs with full
/// bisection; 8 pods are joined by aggregation switches at 1:7 oversubscription. The widths of
/// the cluster-switch and aggregation layers (16 each) are assumed: the paper does not give
/// them, and they only set the ECMP fan-out.
fn llama3_24k_roce() -> FabricSpec {
    let tiers =
        vec![TierSpec::new(16, 1, 1.0), TierSpec::new(192, 16, 7.0), TierSpec::new(0, 16, 1.0)];
    FabricSpec {
        name: "llama3-24k-roce".into(),
        nodes: 3_072,
        gpus_per_node: 8,
        scale_up: Some("nvlink4-nvswitch".into()),
        scale_out: Some(ScaleOutSpec { fabric: "roce-400".into(), rail_optimized: false, tiers }),
    }
}

/// SAKURAONE-like (arXiv 2507.02124): 100 nodes of 8 H100, rail-optimized 800 GbE leaf-spine
/// with RoCEv2, as the catalog's `h100-roce-800`. Assumed: 64-port 800 GbE leaves (Spectrum-4
/// SN5600 class, 64 × 800 GbE per its datasheet) split 32 down / 32 up; spines derived: 4 blocks
/// × 8 rails = 32 leaves × 32 / 64 = 16.
fn sakuraone() -> FabricSpec {
    let tiers = vec![TierSpec::new(32, 1, 1.0), TierSpec::new(0, 16, 1.0)];
    rail("sakuraone", 100, "nvlink4-nvswitch", "roce-800", tiers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_builds_with_its_gpu_count() {
        let gpus = [1016, 1120, 576, 24_576, 800];
        for (name, want) in PRESETS.iter().zip(gpus) {
            let f = preset(name, None).unwrap().build().unwrap();
            assert_eq!(f.gpu_count(), want, "{name}");
        }
        assert_eq!(preset("dgx-h100-superpod", Some(2)).unwrap().gpus(), 16);
    }

    #[test]
    fn presets_round_trip_through_toml() {
        for name in PRESETS {
            let spec = preset(name, None).unwrap();
            let text = toml::to_string(&spec).unwrap();
            assert_eq!(FabricSpec::from_toml(&text, name).unwrap(), spec, "{text}");
        }
    }

    #[test]
    fn unknown_preset_lists_the_names() {
        let e = preset("dgx-z", None).unwrap_err();
        assert!(e.expected.contains("llama3-24k-roce"), "{e}");
    }
}
