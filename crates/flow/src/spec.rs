//! A short description of a fabric, serde-readable from TOML, and its checks.
//!
//! A cluster is `nodes` × `gpus_per_node` GPUs. Inside a node the GPUs may share an NVSwitch
//! domain (`scale_up`, a catalog fabric such as `nvlink4-nvswitch`; a GB200 NVL72 rack is a
//! 72-GPU node). Between nodes, one NIC per GPU joins a tree of switch tiers (`scale_out`):
//! tier 0 groups endpoints under leaves, tier 1 groups leaves under spines, tier 2 groups spine
//! groups under cores. Each tier says how many children one group holds, how many parallel
//! switches the group has (the ECMP width) and the oversubscription of its uplinks. With
//! `rail_optimized`, GPU r of every node sits on the rail-r leaf of its block of nodes.
//!
//! ```toml
//! name = "my-cluster"
//! nodes = 128
//! gpus_per_node = 8
//! scale_up = "nvlink4-nvswitch"
//!
//! [scale_out]
//! fabric = "ib-ndr"
//! rail_optimized = true
//! tiers = [
//!   { group = 32, oversubscription = 1.0 },  # 32 nodes per rail leaf
//!   { group = 0, switches = 16 },            # 16 spines join every leaf
//! ]
//! ```

use astrolabe_core::InputError;
use serde::{Deserialize, Serialize};

/// Most GPUs a described fabric may hold.
pub const MAX_GPUS: usize = 1 << 20;
/// Most switch tiers above the endpoints (leaf, spine, core).
pub const MAX_TIERS: usize = 3;

/// A fabric description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FabricSpec {
    /// A name for reports.
    #[serde(default = "custom")]
    pub name: String,
    /// Number of nodes (servers, or racks for an NVL72-style domain).
    pub nodes: usize,
    /// GPUs per node.
    pub gpus_per_node: usize,
    /// Catalog fabric of the NVSwitch domain inside each node, if any.
    #[serde(default)]
    pub scale_up: Option<String>,
    /// The network between nodes, if any.
    #[serde(default)]
    pub scale_out: Option<ScaleOutSpec>,
}

/// The scale-out network: one NIC per GPU and a tree of switch tiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleOutSpec {
    /// Catalog fabric of the NICs and switches (`ib-ndr`, `roce-400`, …): line rate per GPU,
    /// hop latency and efficiency.
    pub fabric: String,
    /// GPU r of each node on the rail-r leaf (true), or a node's GPUs on one leaf (false).
    #[serde(default)]
    pub rail_optimized: bool,
    /// Switch tiers, leaves first (one to three).
    pub tiers: Vec<TierSpec>,
}

/// One switch tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Children per group: endpoints per leaf (nodes per rail leaf when rail-optimized), leaves
    /// per spine group, …; 0 = all of them (the top tier must join everything).
    pub group: usize,
    /// Parallel switches per group, each linked to every child (the ECMP width). Leaves: 1.
    #[serde(default = "one")]
    pub switches: usize,
    /// Downlink : uplink bandwidth of this tier's switches (1 = non-blocking, 7 = 1:7). The
    /// top tier has no uplinks and must keep 1.
    #[serde(default = "one_f64")]
    pub oversubscription: f64,
}

fn custom() -> String {
    "custom".into()
}
fn one() -> usize {
    1
}
fn one_f64() -> f64 {
    1.0
}

impl TierSpec {
    /// A tier of `group` children, `switches` wide, with the given oversubscription.
    pub fn new(group: usize, switches: usize, oversubscription: f64) -> TierSpec {
        TierSpec { group, switches, oversubscription }
    }
}

impl FabricSpec {
    /// Parses a description from TOML text; `origin` names where it came from.
    pub fn from_toml(text: &str, origin: &str) -> Result<FabricSpec, InputError> {
        let spec: FabricSpec = toml::from_str(text).map_err(|e| {
            let span = e.span().map(|s| format!("bytes {}..{}", s.start, s.end));
            InputError::new(origin, span.unwrap_or_else(|| "fabric".into()), e.message())
        })?;
        spec.validate(origin)?;
        Ok(spec)
    }

    /// Total GPUs.
    pub fn gpus(&self) -> usize {
        self.nodes.saturating_mul(self.gpus_per_node)
    }

    /// Checks every field; `origin` names the file or preset.
    pub fn validate(&self, origin: &str) -> Result<(), InputError> {
        let err = |field: &str, expected: String| Err(InputError::new(origin, field, expected));
        if self.nodes == 0 || self.gpus_per_node == 0 {
            return err("nodes", "at least one node of at least one GPU".into());
        }
        if self.nodes.checked_mul(self.gpus_per_node).is_none_or(|g| g > MAX_GPUS) {
            return err(
                "nodes",
                format!(
                    "at most {MAX_GPUS} GPUs in all, got {} × {}",
                    self.nodes, self.gpus_per_node
                ),
            );
        }
        if self.gpus_per_node > 1 && self.scale_up.is_none() && self.scale_out.is_none() {
            return err("scale_up", "a scale-up or scale-out fabric to join a node's GPUs".into());
        }
        match &self.scale_out {
            None if self.nodes > 1 => {
                err("scale_out", "a scale-out network to join the nodes".into())
            }
            None => Ok(()),
            Some(so) => so.validate(origin),
        }
    }
}

impl ScaleOutSpec {
    fn validate(&self, origin: &str) -> Result<(), InputError> {
        let n = self.tiers.len();
        if n == 0 || n > MAX_TIERS {
            let expected = format!("one to {MAX_TIERS} tiers (leaf, spine, core), got {n}");
            return Err(InputError::new(origin, "scale_out.tiers", expected));
        }
        for (i, t) in self.tiers.iter().enumerate() {
            t.validate(origin, i, i + 1 == n)?;
        }
        Ok(())
    }
}

impl TierSpec {
    fn validate(&self, origin: &str, index: usize, top: bool) -> Result<(), InputError> {
        let field = |name: &str| format!("scale_out.tiers[{index}].{name}");
        if self.group == 0 && !top {
            return Err(InputError::new(
                origin,
                field("group"),
                "a positive group size (0 = all is for the top tier)",
            ));
        }
        if self.switches == 0 || (index == 0 && self.switches != 1) {
            let expected = if index == 0 { "1 (one leaf per group)" } else { "at least 1" };
            return Err(InputError::new(
                origin,
                field("switches"),
                format!("{expected}, got {}", self.switches),
            ));
        }
        let o = self.oversubscription;
        if !(o.is_finite() && o > 0.0) || (top && o != 1.0) {
            let expected = if top {
                "1 (the top tier has no uplinks)".to_string()
            } else {
                format!("a positive ratio, got {o}")
            };
            return Err(InputError::new(origin, field("oversubscription"), expected));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAIL: &str = r#"
        name = "r"
        nodes = 4
        gpus_per_node = 8
        scale_up = "nvlink4-nvswitch"
        [scale_out]
        fabric = "ib-ndr"
        rail_optimized = true
        tiers = [{ group = 2 }, { group = 0, switches = 2 }]
    "#;

    #[test]
    fn reads_toml_with_defaults() {
        let s = FabricSpec::from_toml(RAIL, "c.toml").unwrap();
        let so = s.scale_out.unwrap();
        assert_eq!(so.tiers[0], TierSpec::new(2, 1, 1.0));
        assert_eq!(so.tiers[1], TierSpec::new(0, 2, 1.0));
    }

    #[test]
    fn bad_descriptions_name_the_field() {
        let cases = [
            (RAIL.replace("nodes = 4", "nodes = 0"), "nodes"),
            (RAIL.replace("group = 2 }", "group = 0 }"), "scale_out.tiers[0].group"),
            (
                RAIL.replace("switches = 2", "switches = 2, oversubscription = 2.0"),
                "scale_out.tiers[1].oversubscription",
            ),
            (
                RAIL.replace("{ group = 2 }", "{ group = 2, switches = 3 }"),
                "scale_out.tiers[0].switches",
            ),
            (
                RAIL.replace("tiers = [", "tiers = [{ group = 1 }, { group = 1 }, "),
                "scale_out.tiers",
            ),
        ];
        for (text, field) in cases {
            let e = FabricSpec::from_toml(&text, "c.toml").unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert_eq!(e.origin, "c.toml");
        }
        let e = FabricSpec::from_toml("nodes = 1\ngpus_per_node = 1\ncolour = 3", "c.toml")
            .unwrap_err();
        assert!(e.expected.contains("colour"), "{e}");
    }
}
