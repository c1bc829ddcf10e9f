//! Transport parameters: what fraction of a link's line rate flows reach, and a fixed cost per
//! message.
//!
//! Efficiencies come from the hardware catalog (`crates/hardware/src/fabric.rs`), which measured
//! them on public nccl-tests runs (`shared/data/validation/dev.json`): InfiniBand NDR 47 of
//! 50 GB/s per NIC (0.94), HDR 24 of 25 (0.96), RoCEv2 over 400 GbE 40 of 50 (0.80), NVLink 4
//! rings 370 of 450 GB/s. Using the catalog keeps the flow model and the analytical one on the
//! same numbers.
//!
//! The per-message overhead is zero by default: the catalog's hop latency already includes the
//! endpoint software (fabric.rs: about 1 µs per InfiniBand hop, the order of published MPI
//! ping-pong latencies; 1.5 µs for RoCEv2). NCCL's own cost model charges more per ring step
//! (src/graph/tuning.cc, table `hwLat`, Ring/Simple: 6.6 µs over the network and 5.7 µs over
//! NVLink in the 2.x releases that carry those entries); set `message_overhead_ns` to such a
//! figure to include protocol synchronisation.

use astrolabe_core::InputError;
use astrolabe_hardware::fabric::Fabric as CatalogFabric;
use serde::Serialize;

/// How endpoints drive a class of links.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transport {
    /// A label (`ib-ndr`, `roce-400`, `nvlink4-nvswitch`).
    pub name: String,
    /// Fraction of line rate flows reach, in (0, 1].
    pub efficiency: f64,
    /// Fixed time added to every message that crosses a link of this transport, in ns.
    pub message_overhead_ns: u64,
}

impl Transport {
    /// Full line rate, no overhead: for tests and for hand-made fabrics.
    pub fn ideal() -> Transport {
        Transport { name: "ideal".into(), efficiency: 1.0, message_overhead_ns: 0 }
    }

    /// The transport of a catalog fabric: its measured efficiency, no extra overhead.
    pub fn from_catalog(fabric: &CatalogFabric) -> Transport {
        Transport {
            name: fabric.name.to_string(),
            efficiency: fabric.efficiency,
            message_overhead_ns: 0,
        }
    }

    /// Checks the efficiency; `origin` names the fabric.
    pub fn validate(&self, origin: &str) -> Result<(), InputError> {
        if !(self.efficiency > 0.0 && self.efficiency <= 1.0) {
            let expected = format!("a fraction in (0, 1], got {}", self.efficiency);
            return Err(InputError::new(origin, format!("{}.efficiency", self.name), expected));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use astrolabe_hardware::fabric::find;

    #[test]
    fn catalog_efficiencies_separate_infiniband_from_roce() {
        let ib = Transport::from_catalog(&find("ib-ndr", "t").unwrap());
        let roce = Transport::from_catalog(&find("roce-400", "t").unwrap());
        assert_eq!(ib.efficiency, 0.94);
        assert_eq!(roce.efficiency, 0.80);
        assert_eq!(ib.message_overhead_ns, 0);
    }

    #[test]
    fn efficiency_out_of_range_is_rejected() {
        let t = Transport { name: "x".into(), efficiency: 1.5, message_overhead_ns: 0 };
        assert_eq!(t.validate("f").unwrap_err().field, "x.efficiency");
    }
}
