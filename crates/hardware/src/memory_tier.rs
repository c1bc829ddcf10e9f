//! Memory tiers beyond a GPU's HBM: host DRAM over PCIe or NVLink-C2C, CXL expansion and pools.
//!
//! A tier is described by one *instance* (one host's DRAM, one superchip's LPDDR5X, one pool
//! device) and the GPUs that share it: its capacity, each GPU's link to it, and the instance's
//! total bandwidth, which caps the GPUs when they all move data at once. Bandwidths are per
//! direction and achievable where a measurement exists (the comment says which); SI units
//! (GB = 1e9 bytes), capacities as the vendor states them.
//!
//! A user describes their own tier in TOML with the same fields:
//!
//! ```toml
//! name = "my-host"
//! kind = "host-pcie"            # host-pcie | host-c2c | cxl-expansion | pool
//! capacity_bytes = 1000000000000
//! gpus_sharing = 8
//! per_gpu_bytes_per_s = 53e9
//! aggregate_bytes_per_s = 400e9
//! latency_ns = 1000
//! ```

use astrolabe_core::{check_count, InputError};
use serde::{Deserialize, Serialize};

/// Largest accepted number of GPUs sharing one instance of a tier (65,536).
pub const MAX_GPUS_SHARING: u64 = 1 << 16;

/// How GPUs reach a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TierKind {
    /// Host DRAM behind the CPU, reached over each GPU's PCIe link (DGX/HGX x86 hosts).
    HostPcie,
    /// CPU memory behind a coherent chip-to-chip link (NVLink-C2C on Grace superchips).
    HostC2c,
    /// A CXL Type-3 memory expander in the node, reached through the host.
    CxlExpansion,
    /// Memory pooled across several nodes (a multi-headed CXL device or a memory appliance).
    Pool,
}

/// One instance of a memory tier and the GPUs that share it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryTier {
    /// Catalog or user name (`dgx-h100-host`).
    pub name: String,
    /// How GPUs reach it.
    pub kind: TierKind,
    /// Capacity of one instance, in bytes.
    pub capacity_bytes: u64,
    /// GPUs sharing one instance: 8 for a DGX host, 1 for GH200, a group of nodes for a pool.
    pub gpus_sharing: u32,
    /// One GPU's link to the tier, per direction, achievable.
    pub per_gpu_bytes_per_s: f64,
    /// The instance's total bandwidth (its DRAM, or its ports), shared by `gpus_sharing` GPUs.
    pub aggregate_bytes_per_s: f64,
    /// Latency of one access from a GPU, in nanoseconds.
    pub latency_ns: f64,
}

impl MemoryTier {
    /// Checks every figure; errors name `origin` and the field as `{path}.{field}`.
    pub fn validate(&self, origin: &str, path: &str) -> Result<(), InputError> {
        let err = |field: &str, expected: String| {
            Err(InputError::new(origin, format!("{path}.{field}"), expected))
        };
        if self.name.trim().is_empty() {
            return err("name", "a non-empty name".into());
        }
        if self.capacity_bytes == 0 {
            return err("capacity_bytes", "a positive capacity, got 0".into());
        }
        let field = format!("{path}.gpus_sharing");
        check_count(origin, &field, u64::from(self.gpus_sharing), MAX_GPUS_SHARING)?;
        let figures = [
            ("per_gpu_bytes_per_s", self.per_gpu_bytes_per_s),
            ("aggregate_bytes_per_s", self.aggregate_bytes_per_s),
            ("latency_ns", self.latency_ns),
        ];
        for (field, value) in figures {
            if !(value.is_finite() && value > 0.0) {
                return err(field, format!("a positive finite number, got {value}"));
            }
        }
        if self.aggregate_bytes_per_s < self.per_gpu_bytes_per_s {
            return err(
                "aggregate_bytes_per_s",
                format!(
                    "at least per_gpu_bytes_per_s ({}), got {}",
                    self.per_gpu_bytes_per_s, self.aggregate_bytes_per_s
                ),
            );
        }
        Ok(())
    }

    /// Each sharing GPU's even share of the capacity, in bytes (rounded down).
    pub fn capacity_per_gpu_bytes(&self) -> u64 {
        self.capacity_bytes / u64::from(self.gpus_sharing.max(1))
    }

    /// What one GPU gets when every sharing GPU moves data at once: its link, or its even
    /// share of the aggregate if that is smaller.
    pub fn all_busy_per_gpu_bytes_per_s(&self) -> f64 {
        let share = self.aggregate_bytes_per_s / f64::from(self.gpus_sharing.max(1));
        self.per_gpu_bytes_per_s.min(share)
    }
}

/// PCIe Gen5 x16 as a GPU achieves it: 52.8 GB/s device-to-host per GPU measured by nvbandwidth
/// on an 8×H100 node (NVIDIA/nvbandwidth issue #24), 84 % of the 63.0 GB/s line rate
/// (32 GT/s × 16 lanes × 128/130 / 8).
const PCIE5_X16_BYTES_PER_S: f64 = 53e9;
/// GPU to host DRAM over PCIe: assumed 1 µs, the order of a PCIe round trip through the root
/// complex (no public measurement in hand).
const PCIE_HOST_NS: f64 = 1_000.0;
/// GPU to Grace LPDDR5X over NVLink-C2C: assumed 800 ns (on-package link, but the access still
/// crosses the CPU's fabric; no public measurement in hand).
const C2C_HOST_NS: f64 = 800.0;
/// One Grace's LPDDR5X: 480 GB (GH200 480 GB variant; GB200 superchip "up to 480 GB").
const GRACE_LPDDR5X_BYTES: u64 = 480_000_000_000;
/// Its bandwidth: up to 512 GB/s per Grace as NVIDIA lists it for GB200, consistent with the
/// GB200 NVL72 specifications' 18.4 TB/s over 36 Grace CPUs (511 GB/s). NVIDIA's "Grace
/// Hopper Superchip Architecture In-Depth" blog (2022) gives up to 546 GB/s for GH200; the
/// lower figure is taken for both.
const GRACE_LPDDR5X_BYTES_PER_S: f64 = 512e9;

fn tier(
    name: &str,
    kind: TierKind,
    capacity_bytes: u64,
    gpus_sharing: u32,
    (per_gpu_bytes_per_s, aggregate_bytes_per_s): (f64, f64),
    latency_ns: f64,
) -> MemoryTier {
    MemoryTier {
        name: name.into(),
        kind,
        capacity_bytes,
        gpus_sharing,
        per_gpu_bytes_per_s,
        aggregate_bytes_per_s,
        latency_ns,
    }
}

/// The built-in tiers, in catalog order.
pub fn catalog() -> Vec<MemoryTier> {
    vec![
        // DGX H100 datasheet: 2 TB of system memory (32 DDR5 RDIMMs; NVIDIA's MLPerf Inference
        // v4.1 system description lists 32 × 64 GB, taken as SI here as HBM is), two Xeon
        // Platinum 8480C. Each GPU reaches it over its own PCIe Gen5 x16 (53 GB/s achievable,
        // above). Aggregate: 2 sockets × 8 DDR5 channels × 8 B at 4,400 MT/s, Sapphire Rapids'
        // speed with two DIMMs per channel (4,800 with one; Intel ark for the 8480C) = 563.2
        // GB/s peak. Assumed: the PCIe switches' uplinks to the CPUs do not bind below that.
        tier(
            "dgx-h100-host",
            TierKind::HostPcie,
            2_000_000_000_000,
            8,
            (PCIE5_X16_BYTES_PER_S, 563.2e9),
            PCIE_HOST_NS,
        ),
        // GH200 (480 GB LPDDR5X variant, NVIDIA GH200 datasheet): one Hopper per Grace over
        // NVLink-C2C, 900 GB/s total = 450 per direction (NVIDIA). Achievable: 346 GB/s
        // host-to-device by copy engine measured with nvbandwidth on a GH200 480 GB
        // (NVIDIA/nvbandwidth issue #23). Aggregate: the LPDDR5X's 512 GB/s.
        tier(
            "gh200-lpddr5x",
            TierKind::HostC2c,
            GRACE_LPDDR5X_BYTES,
            1,
            (346e9, GRACE_LPDDR5X_BYTES_PER_S),
            C2C_HOST_NS,
        ),
        // GB200 superchip (NVIDIA GB200 NVL72 specifications): one Grace with up to 480 GB
        // LPDDR5X at up to 512 GB/s, two Blackwell GPUs, NVLink-C2C 900 GB/s total.
        // Assumed: the C2C's 450 GB/s per direction splits evenly between the two GPUs (225
        // each; no public per-GPU figure or measurement in hand).
        tier(
            "gb200-lpddr5x",
            TierKind::HostC2c,
            GRACE_LPDDR5X_BYTES,
            2,
            (225e9, GRACE_LPDDR5X_BYTES_PER_S),
            C2C_HOST_NS,
        ),
        // A CXL 2.0 Type-3 expansion per DGX-class node: four Micron CZ120 256 GB modules
        // (PCIe Gen5 x8 each, up to 36 GB/s measured with MLC at 2:1 read:write per module,
        // Micron's CZ120 announcement, Aug 2023) = 1,024 GB and 144 GB/s, as two x16 links'
        // worth of lanes. Assumed: the 8 GPUs reach it through the host at their PCIe rate,
        // and its latency is the host path plus ~100 ns for CXL (Li et al., "Pond",
        // ASPLOS 2023: 70–90 ns added over local DRAM by a directly attached CXL device).
        tier(
            "cxl-expansion",
            TierKind::CxlExpansion,
            1_024_000_000_000,
            8,
            (PCIE5_X16_BYTES_PER_S, 144e9),
            PCIE_HOST_NS + 100.0,
        ),
        // A pooled CXL memory shared by two DGX-class nodes (16 GPUs, 4 CPU sockets), in the
        // spirit of Pond's multi-headed pool over 8–16 sockets (Li et al., ASPLOS 2023). No
        // public product figures in hand: everything here is assumed. 4 TB; one PCIe Gen5 x16
        // CXL port per socket at the achievable x16 rate = 4 × 53 = 212 GB/s; each GPU at its
        // PCIe rate; latency the host path plus ~200 ns (Pond's pools add more than a direct
        // attach; switched designs more still).
        tier(
            "cxl-pool",
            TierKind::Pool,
            4_000_000_000_000,
            16,
            (PCIE5_X16_BYTES_PER_S, 4.0 * PCIE5_X16_BYTES_PER_S),
            PCIE_HOST_NS + 200.0,
        ),
    ]
}

/// Looks a tier up by catalog name (case-insensitive); an unknown name lists the catalog.
pub fn find(name: &str, origin: &str) -> Result<MemoryTier, InputError> {
    let wanted = name.trim().to_ascii_lowercase();
    catalog().into_iter().find(|t| t.name == wanted).ok_or_else(|| {
        let names: Vec<_> = catalog().into_iter().map(|t| t.name).collect();
        InputError::new(origin, name, format!("one of {}", names.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_validates() {
        for t in catalog() {
            t.validate("catalog", &t.name).unwrap();
        }
    }

    /// DGX H100: 2e12 B over 8 GPUs = 250 GB each; 563.2 GB/s / 8 = 70.4 GB/s > 53, so each
    /// GPU keeps its PCIe rate when all move at once. The pool: 212 / 16 = 13.25 GB/s each.
    #[test]
    fn shares_of_capacity_and_bandwidth() {
        let host = find("dgx-h100-host", "t").unwrap();
        assert_eq!(host.capacity_per_gpu_bytes(), 250_000_000_000);
        assert_eq!(host.all_busy_per_gpu_bytes_per_s(), 53e9);
        let pool = find("cxl-pool", "t").unwrap();
        assert_eq!(pool.all_busy_per_gpu_bytes_per_s(), 13.25e9);
    }

    #[test]
    fn find_is_case_insensitive_and_lists_names_on_error() {
        assert_eq!(find(" GH200-LPDDR5X ", "t").unwrap().gpus_sharing, 1);
        let e = find("optane", "tiers.toml").unwrap_err();
        assert_eq!(e.origin, "tiers.toml");
        assert_eq!(e.field, "optane");
        for t in catalog() {
            assert!(e.expected.contains(&t.name), "{} missing from {}", t.name, e.expected);
        }
    }

    #[test]
    fn a_user_tier_round_trips_through_toml() {
        let text = r#"
            name = "my-host"
            kind = "host-pcie"
            capacity_bytes = 1000000000000
            gpus_sharing = 8
            per_gpu_bytes_per_s = 53e9
            aggregate_bytes_per_s = 400e9
            latency_ns = 1000
        "#;
        let tier: MemoryTier = toml::from_str(text).unwrap();
        tier.validate("my.toml", "tier").unwrap();
        assert_eq!(tier.kind, TierKind::HostPcie);
        assert_eq!(tier.capacity_bytes, 1_000_000_000_000);
        let again: MemoryTier = toml::from_str(&toml::to_string(&tier).unwrap()).unwrap();
        assert_eq!(again, tier);
        let pool = find("cxl-pool", "t").unwrap();
        let written = toml::to_string(&pool).unwrap();
        assert!(written.contains("kind = \"pool\""), "{written}");
        assert_eq!(toml::from_str::<MemoryTier>(&written).unwrap(), pool);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = "name = \"x\"\nkind = \"pool\"\ncapacity_bytes = 1\ngpus_sharing = 1\n\
                    per_gpu_bytes_per_s = 1.0\naggregate_bytes_per_s = 1.0\nlatency_ns = 1.0\n\
                    bandwidth = 3\n";
        assert!(toml::from_str::<MemoryTier>(text).is_err());
    }

    #[test]
    fn validation_names_the_bad_field() {
        let good = find("dgx-h100-host", "t").unwrap();
        let check = |tier: MemoryTier| tier.validate("c.toml", "tiers[0]").unwrap_err();

        let e = check(MemoryTier { capacity_bytes: 0, ..good.clone() });
        assert_eq!(e.origin, "c.toml");
        assert_eq!(e.field, "tiers[0].capacity_bytes");

        let e = check(MemoryTier { per_gpu_bytes_per_s: -53e9, ..good.clone() });
        assert_eq!(e.field, "tiers[0].per_gpu_bytes_per_s");
        assert!(e.expected.contains("-53000000000"), "{}", e.expected);

        let e = check(MemoryTier { aggregate_bytes_per_s: f64::NAN, ..good.clone() });
        assert_eq!(e.field, "tiers[0].aggregate_bytes_per_s");
        let e = check(MemoryTier { latency_ns: 0.0, ..good.clone() });
        assert_eq!(e.field, "tiers[0].latency_ns");
        let e = check(MemoryTier { gpus_sharing: 0, ..good.clone() });
        assert_eq!(e.field, "tiers[0].gpus_sharing");
        let e = check(MemoryTier { name: " ".into(), ..good.clone() });
        assert_eq!(e.field, "tiers[0].name");
    }

    #[test]
    fn an_aggregate_below_one_gpus_link_is_refused() {
        let good = find("gh200-lpddr5x", "t").unwrap();
        let e = MemoryTier { aggregate_bytes_per_s: 300e9, ..good }
            .validate("c.toml", "tier")
            .unwrap_err();
        assert_eq!(e.field, "tier.aggregate_bytes_per_s");
        assert!(e.expected.contains("346000000000"), "{}", e.expected);
    }
}
