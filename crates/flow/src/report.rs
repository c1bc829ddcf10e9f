//! Link-level outputs: bytes per link, utilization per link class, hottest links, bytes per tier.
//!
//! Utilization is bytes carried over what the links could carry at line rate during the span
//! of the run (first start to last arrival), so a class that is busy only part of the time
//! reads below its peak.

use crate::graph::{Fabric, LinkClass, LinkId};
use serde::Serialize;

/// Bytes every link carried during one run, and the run's span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkLoad {
    /// Bytes carried, indexed like [`Fabric::links`].
    pub bytes_per_link: Vec<u64>,
    /// Earliest flow start, in ns.
    pub start_ns: u64,
    /// Last arrival, in ns.
    pub end_ns: u64,
}

/// Load of one link class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassLoad {
    /// The class.
    pub class: LinkClass,
    /// Directed links of the class.
    pub links: usize,
    /// Bytes they carried.
    pub bytes: u64,
    /// Bytes over (their summed line rate × the run's span); 0 for an empty span.
    pub utilization: f64,
}

/// One of the busiest links.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotLink {
    /// Index into [`Fabric::links`].
    pub link: LinkId,
    /// `from → to` node names.
    pub name: String,
    /// The link's class.
    pub class: LinkClass,
    /// Bytes it carried.
    pub bytes: u64,
    /// Bytes over (line rate × the run's span).
    pub utilization: f64,
}

impl LinkLoad {
    /// Sum of bytes over all links (= Σ over flows of bytes × hops).
    pub fn total_bytes(&self) -> u64 {
        self.bytes_per_link.iter().sum()
    }

    /// The run's span in seconds.
    pub fn span_s(&self) -> f64 {
        self.end_ns.saturating_sub(self.start_ns) as f64 * 1e-9
    }

    fn utilization(&self, bytes: u64, capacity_bytes_per_s: f64) -> f64 {
        let possible = capacity_bytes_per_s * self.span_s();
        if possible > 0.0 {
            bytes as f64 / possible
        } else {
            0.0
        }
    }

    /// Load per link class, in tier order; classes the fabric lacks are left out.
    pub fn classes(&self, fabric: &Fabric) -> Vec<ClassLoad> {
        let mut out = Vec::new();
        for class in LinkClass::ALL {
            let (mut links, mut bytes, mut capacity) = (0, 0u64, 0.0);
            for (l, link) in fabric.links.iter().enumerate().filter(|(_, k)| k.class == class) {
                links += 1;
                bytes += self.bytes_per_link[l];
                capacity += link.capacity_bytes_per_s;
            }
            if links > 0 {
                let utilization = self.utilization(bytes, capacity);
                out.push(ClassLoad { class, links, bytes, utilization });
            }
        }
        out
    }

    /// Bytes carried per tier (0 NVLink, 1 NIC, 2 leaf uplinks, 3 spine uplinks).
    pub fn bytes_per_tier(&self, fabric: &Fabric) -> [u64; 4] {
        let mut tiers = [0u64; 4];
        for (l, link) in fabric.links.iter().enumerate() {
            tiers[link.class.tier()] += self.bytes_per_link[l];
        }
        tiers
    }

    /// The `n` links that carried the most bytes, busiest first (ties: lower link id first).
    pub fn hottest(&self, fabric: &Fabric, n: usize) -> Vec<HotLink> {
        let mut ids: Vec<usize> = (0..self.bytes_per_link.len()).collect();
        ids.sort_by_key(|&l| (std::cmp::Reverse(self.bytes_per_link[l]), l));
        ids.truncate(n);
        ids.into_iter()
            .map(|l| {
                let link = &fabric.links[l];
                let name = format!(
                    "{} → {}",
                    fabric.nodes[link.from as usize].name, fabric.nodes[link.to as usize].name
                );
                HotLink {
                    link: l as LinkId,
                    name,
                    class: link.class,
                    bytes: self.bytes_per_link[l],
                    utilization: self
                        .utilization(self.bytes_per_link[l], link.capacity_bytes_per_s),
                }
            })
            .collect()
    }
}
