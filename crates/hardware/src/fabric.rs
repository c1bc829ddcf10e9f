//! Interconnect fabrics: line rate per GPU, hop latency, and the achievable fraction of it.
//!
//! Efficiencies and the pipeline fill are calibrated, not assumed; see docs/collectives.md for the
//! procedure. In short, from `shared/data/validation/dev.json`:
//! - NVLink ring efficiency = ring bus bandwidth / line rate: 370 / 450 on H100
//!   (`nccl-h100-nvls-vs-ring-maintainer`), 230 / 300 on A100 (`nccl-a100-intranode-maintainer`).
//! - NVLS efficiency 0.624 and pipeline fill 11.25 µs: minimax fit of the phase formula to the
//!   15-point 8×H100 all-reduce sweep (`nccl-dgxh100-1node-allreduce-sample`, 1 MiB–16 GiB), with
//!   the hop latency fixed at 500 ns so that an 8-byte all-reduce costs ≈ 13 µs as measured there.
//! - InfiniBand efficiency = per-NIC bus bandwidth / line rate: 47 / 50 for NDR
//!   (`nccl-h100-2node-ndr-per-nic-maintainer`, 46–48 GB/s), 24 / 25 for HDR
//!   (`nccl-dgxa100-multinode-allreduce-maintainer`: 192 GB/s over 8 NICs; `nccl-a800-…`: 24 GB/s).
//! - RoCEv2 efficiency 40 / 50: 320 GB/s bus bandwidth over 8 × 400 GbE beyond 2 nodes
//!   (`nccl-h100-roce-4node-user`).
//!
//! Fabrics without such a measurement reuse the closest measured one, and say so.

use astrolabe_core::{Bandwidth, InputError};
use astrolabe_network::{Dimension, DimensionKind, InNetworkReduction};
use serde::Serialize;

/// A fabric: the properties a network dimension takes from its hardware.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fabric {
    /// Catalog name (`ib-ndr`).
    pub name: &'static str,
    /// One line for `astrolabe presets`.
    pub description: &'static str,
    /// Wiring.
    pub kind: DimensionKind,
    /// Line rate per GPU per direction.
    pub bandwidth: Bandwidth,
    /// Per-hop latency, in nanoseconds.
    pub latency_ns: f64,
    /// Achievable fraction of line rate for ring and direct algorithms.
    pub efficiency: f64,
    /// Per-chunk pipelining overhead, in nanoseconds.
    pub pipeline_fill_ns: f64,
    /// Efficiency of in-network reduction, where the switches can reduce.
    pub in_network_reduction: Option<f64>,
}

impl Fabric {
    /// A network dimension of `size` ranks on this fabric.
    pub fn dimension(&self, size: usize) -> Dimension {
        Dimension {
            name: self.name.to_string(),
            kind: self.kind,
            size,
            bandwidth: self.bandwidth,
            latency_ns: self.latency_ns,
            efficiency: self.efficiency,
            pipeline_fill_ns: self.pipeline_fill_ns,
            oversubscription: 1.0,
            in_network_reduction: self
                .in_network_reduction
                .map(|efficiency| InNetworkReduction { efficiency }),
        }
    }
}

/// NVLink hop latency: fitted with the fill below (see the module docs).
const NVLINK_HOP_NS: f64 = 500.0;
/// Pipeline fill fitted on the 8×H100 sweep; reused for every fabric (no other sweep in dev.json).
const FILL_NS: f64 = 11_250.0;
/// NVLS efficiency fitted on the 8×H100 sweep: 281 GB/s of 450 GB/s.
const NVLS_EFFICIENCY: f64 = 0.624;
/// Network hop latency (NIC, switch and software) for InfiniBand; assumed: about 1 µs one way per
/// hop, the order of published MPI ping-pong latencies on HDR/NDR, so 2 µs through one switch.
const IB_HOP_NS: f64 = 1_000.0;
/// RoCEv2 and cloud fabrics: assumed 1.5× InfiniBand's hop latency (no public figure in hand).
const ETH_HOP_NS: f64 = 1_500.0;
/// RoCEv2 efficiency: 320 GB/s bus bandwidth over 8 × 50 GB/s (`nccl-h100-roce-4node-user`).
const ROCE_EFFICIENCY: f64 = 0.80;

fn fabric(
    name: &'static str,
    description: &'static str,
    gb_per_s: f64,
    latency_ns: f64,
    efficiency: f64,
    in_network_reduction: Option<f64>,
) -> Fabric {
    Fabric {
        name,
        description,
        kind: DimensionKind::Switch,
        bandwidth: Bandwidth::from_gb_per_s(gb_per_s),
        latency_ns,
        efficiency,
        pipeline_fill_ns: FILL_NS,
        in_network_reduction,
    }
}

/// The built-in fabrics, in catalog order.
pub fn catalog() -> Vec<Fabric> {
    vec![
        // NVLink 3 + NVSwitch gen2 (DGX A100): 12 links × 25 GB/s per direction = 300 GB/s
        // (A100 datasheet); no in-switch reduction before NVSwitch gen3. Ring efficiency 230/300.
        fabric("nvlink3-nvswitch", "NVLink 3 through NVSwitch (DGX/HGX A100), 300 GB/s per GPU per direction", 300.0, NVLINK_HOP_NS, 230.0 / 300.0, None),
        // H800's NVLink: 200 GB/s per direction (see accelerator.rs); NVSwitch gen3 with NVLS.
        // Efficiencies reuse the H100 ones (no H800 sweep in dev.json).
        fabric("nvlink4-nvswitch-h800", "NVLink 4 at 400 GB/s total (H800), NVSwitch gen3 with NVLS", 200.0, NVLINK_HOP_NS, 370.0 / 450.0, Some(NVLS_EFFICIENCY)),
        // NVLink 4 + NVSwitch gen3 (DGX/HGX H100, H200): 18 links, 900 GB/s total = 450 per
        // direction; NVLink SHARP from gen3 on (NVIDIA NVSwitch gen3 technical blog).
        fabric("nvlink4-nvswitch", "NVLink 4 through NVSwitch gen3 (DGX/HGX H100, H200), 450 GB/s per GPU per direction, NVLS", 450.0, NVLINK_HOP_NS, 370.0 / 450.0, Some(NVLS_EFFICIENCY)),
        // NVLink 5 (DGX B200, GB200 NVL72): 18 × 100 GB/s = 1,800 GB/s total = 900 per direction
        // (NVIDIA NVLink page); SHARP engines in every NVLink switch. Efficiencies reuse H100's.
        fabric("nvlink5-nvswitch", "NVLink 5 (DGX B200, GB200 NVL72), 900 GB/s per GPU per direction, NVLS", 900.0, NVLINK_HOP_NS, 370.0 / 450.0, Some(NVLS_EFFICIENCY)),
        // InfiniBand HDR, one 200 Gb/s ConnectX-6 per GPU (DGX A100: 8 compute HCAs).
        fabric("ib-hdr", "InfiniBand HDR 200 Gb/s, one NIC per GPU", 25.0, IB_HOP_NS, 0.96, None),
        // InfiniBand NDR, one 400 Gb/s ConnectX-7 per GPU (DGX H100 / B200: 8 compute HCAs).
        fabric("ib-ndr", "InfiniBand NDR 400 Gb/s, one NIC per GPU", 50.0, IB_HOP_NS, 0.94, None),
        // Same with SHARP in the Quantum-2 switches; its efficiency is not in dev.json, so the
        // plain NDR one is reused.
        fabric("ib-ndr-sharp", "InfiniBand NDR 400 Gb/s with SHARP in-network reduction", 50.0, IB_HOP_NS, 0.94, Some(0.94)),
        // InfiniBand XDR, 800 Gb/s ConnectX-8 per GPU (Quantum-X800); NDR's efficiency reused.
        fabric("ib-xdr", "InfiniBand XDR 800 Gb/s, one NIC per GPU", 100.0, IB_HOP_NS, 0.94, None),
        // RoCEv2 over 400 GbE (Spectrum-4 / ConnectX-7 in Ethernet mode).
        fabric("roce-400", "RoCEv2 400 GbE, one NIC per GPU", 50.0, ETH_HOP_NS, ROCE_EFFICIENCY, None),
        // RoCEv2 over 800 GbE (Spectrum-X SN5600, 64 × 800 GbE); RoCE 400 efficiency reused.
        fabric("roce-800", "RoCEv2 800 GbE, one NIC per GPU", 100.0, ETH_HOP_NS, ROCE_EFFICIENCY, None),
        // AWS p5: 3,200 Gb/s of EFA per 8 H100 = 400 Gb/s per GPU (AWS EC2 user guide, p5 EFA).
        // EFA efficiency not in dev.json: RoCE's reused.
        fabric("aws-efa-p5", "AWS EFA on p5, 3,200 Gb/s per 8 GPUs", 50.0, ETH_HOP_NS, ROCE_EFFICIENCY, None),
        // GCP A3 Mega: GPUDirect-TCPXO, 8 × 200 Gb/s GPU NICs (Google Cloud 'Networking and GPU
        // machines'; the per-GPU split is as documented for A3 Mega); RoCE's efficiency reused.
        fabric("gcp-tcpxo", "GCP A3 Mega GPUDirect-TCPXO, 200 Gb/s per GPU", 25.0, ETH_HOP_NS, ROCE_EFFICIENCY, None),
    ]
}

/// Looks a fabric up by catalog name (case-insensitive).
pub fn find(name: &str, origin: &str) -> Result<Fabric, InputError> {
    let wanted = name.trim().to_ascii_lowercase();
    catalog().into_iter().find(|f| f.name == wanted).ok_or_else(|| {
        let names: Vec<_> = catalog().iter().map(|f| f.name).collect();
        InputError::new(origin, name, format!("one of {}", names.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fabric_makes_a_valid_dimension() {
        for f in catalog() {
            f.dimension(8).validate("catalog", f.name).unwrap();
        }
    }

    #[test]
    fn nvlink4_reaches_the_published_ring_and_nvls_rates() {
        let d = find("nvlink4-nvswitch", "t").unwrap().dimension(8);
        assert!((d.achievable_bandwidth().gb_per_s() - 370.0).abs() < 1e-9);
        let nvls = d.in_network_reduction.unwrap().efficiency * 450.0;
        assert!((nvls - 280.8).abs() < 1e-9);
    }

    #[test]
    fn unknown_fabric_lists_the_catalog() {
        let e = find("ethernet-9000", "c.toml").unwrap_err();
        assert!(e.expected.contains("ib-ndr"));
    }
}
