//! One network dimension and its validation.

use astrolabe_core::{Bandwidth, InputError};
use serde::{Deserialize, Serialize};

/// How the ranks of one dimension are wired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DimensionKind {
    /// Each rank linked to its two neighbours (a bidirectional ring).
    Ring,
    /// Every rank linked directly to every other; the per-GPU bandwidth is split over the links.
    FullyConnected,
    /// Every rank attached to a switch (NVSwitch, an InfiniBand or Ethernet tier).
    Switch,
}

impl DimensionKind {
    /// Hops a message takes between two distinct ranks `distance` positions apart.
    pub fn hops(self, size: usize, distance: usize) -> usize {
        match self {
            DimensionKind::Ring => distance.min(size - distance),
            DimensionKind::FullyConnected => 1,
            DimensionKind::Switch => 2,
        }
    }
}

/// Reduction done inside the switches (NVLink SHARP / NVLS, InfiniBand SHARP).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InNetworkReduction {
    /// Achievable fraction of the line rate for data that goes up to the switch and back.
    pub efficiency: f64,
}

/// One dimension of a topology. Bandwidth is per GPU and per direction, at line rate; what a
/// collective can reach is `bandwidth × efficiency`, further divided by `oversubscription`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dimension {
    /// A short label for reports (`nvlink`, `ib-ndr`).
    pub name: String,
    /// Wiring of the dimension.
    pub kind: DimensionKind,
    /// Number of ranks along this dimension.
    pub size: usize,
    /// Line-rate bandwidth per GPU per direction.
    pub bandwidth: Bandwidth,
    /// Latency of one hop of one message (link + switch + endpoint software), in nanoseconds.
    pub latency_ns: f64,
    /// Fraction of line rate that ring/direct protocols achieve at large sizes (0, 1].
    pub efficiency: f64,
    /// Per-chunk pipelining overhead in nanoseconds: the reason bandwidth ramps up with size.
    pub pipeline_fill_ns: f64,
    /// Bandwidth divisor for traffic that leaves this tier (1 = non-blocking); switches only.
    pub oversubscription: f64,
    /// In-network reduction, when the switches of this dimension can reduce; switches only.
    pub in_network_reduction: Option<InNetworkReduction>,
}

impl Dimension {
    /// The bandwidth a ring or direct algorithm reaches on this dimension at large sizes.
    pub fn achievable_bandwidth(&self) -> Bandwidth {
        self.bandwidth.scaled(self.efficiency / self.oversubscription)
    }

    /// Checks every field; `origin` and `path` name where the dimension came from.
    pub fn validate(&self, origin: &str, path: &str) -> Result<(), InputError> {
        let err = |field: &str, expected: String| {
            Err(InputError::new(origin, format!("{path}.{field}"), expected))
        };
        if self.size == 0 {
            return err("size", "at least 1 rank".into());
        }
        let bw = self.bandwidth.bytes_per_s;
        if !(bw.is_finite() && bw > 0.0) {
            return err("bandwidth", format!("a positive bandwidth, got {} GB/s", bw / 1e9));
        }
        if !(self.latency_ns.is_finite() && self.latency_ns >= 0.0) {
            return err("latency_ns", format!("a non-negative latency, got {}", self.latency_ns));
        }
        if !(self.efficiency > 0.0 && self.efficiency <= 1.0) {
            return err("efficiency", format!("a fraction in (0, 1], got {}", self.efficiency));
        }
        if !(self.pipeline_fill_ns.is_finite() && self.pipeline_fill_ns >= 0.0) {
            return err(
                "pipeline_fill_ns",
                format!("a non-negative time, got {}", self.pipeline_fill_ns),
            );
        }
        if !(self.oversubscription.is_finite() && self.oversubscription >= 1.0) {
            return err(
                "oversubscription",
                format!("a ratio ≥ 1 (1 = non-blocking), got {}", self.oversubscription),
            );
        }
        if self.kind != DimensionKind::Switch {
            if self.oversubscription != 1.0 {
                return err(
                    "oversubscription",
                    "only a switch dimension can be oversubscribed".into(),
                );
            }
            if self.in_network_reduction.is_some() {
                return err(
                    "in_network_reduction",
                    "only a switch dimension can reduce in the network".into(),
                );
            }
        }
        if let Some(inr) = self.in_network_reduction {
            if !(inr.efficiency > 0.0 && inr.efficiency <= 1.0) {
                return err(
                    "in_network_reduction.efficiency",
                    format!("a fraction in (0, 1], got {}", inr.efficiency),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A plain switch dimension for tests: 100 GB/s, 1 µs, efficiency 1.
    pub fn switch(size: usize) -> Dimension {
        Dimension {
            name: "test".into(),
            kind: DimensionKind::Switch,
            size,
            bandwidth: Bandwidth::from_gb_per_s(100.0),
            latency_ns: 1000.0,
            efficiency: 1.0,
            pipeline_fill_ns: 0.0,
            oversubscription: 1.0,
            in_network_reduction: None,
        }
    }

    #[test]
    fn hops_by_kind() {
        assert_eq!(DimensionKind::Ring.hops(8, 1), 1);
        assert_eq!(DimensionKind::Ring.hops(8, 5), 3);
        assert_eq!(DimensionKind::FullyConnected.hops(8, 5), 1);
        assert_eq!(DimensionKind::Switch.hops(8, 5), 2);
    }

    #[test]
    fn achievable_bandwidth_applies_efficiency_and_oversubscription() {
        let mut d = switch(4);
        d.efficiency = 0.9;
        d.oversubscription = 2.0;
        assert_eq!(d.achievable_bandwidth().gb_per_s(), 45.0);
    }

    #[test]
    fn rejects_each_bad_field() {
        type Mutation = fn(&mut Dimension);
        let cases: Vec<(Mutation, &str)> = vec![
            (|d| d.size = 0, "dims[0].size"),
            (|d| d.bandwidth = Bandwidth::from_gb_per_s(0.0), "dims[0].bandwidth"),
            (|d| d.bandwidth = Bandwidth::from_gb_per_s(-5.0), "dims[0].bandwidth"),
            (|d| d.latency_ns = -1.0, "dims[0].latency_ns"),
            (|d| d.efficiency = 1.5, "dims[0].efficiency"),
            (|d| d.oversubscription = 0.5, "dims[0].oversubscription"),
            (
                |d| {
                    d.kind = DimensionKind::Ring;
                    d.in_network_reduction = Some(InNetworkReduction { efficiency: 0.5 });
                },
                "dims[0].in_network_reduction",
            ),
        ];
        for (mutate, field) in cases {
            let mut d = switch(4);
            mutate(&mut d);
            let e = d.validate("c.toml", "dims[0]").unwrap_err();
            assert_eq!(e.field, field);
            assert_eq!(e.origin, "c.toml");
        }
    }
}
