//! Where each parallel rank sits on the network, and the communicator groups that follow.
//!
//! Ranks are numbered in mixed radix over the parallel axes, innermost first; Megatron-LM's
//! default order is tensor, (context, expert,) data, pipeline: `tp-dp-pp` here. Rank `r` runs on
//! GPU `r` of the cluster, whose network coordinates the topology gives. A group's extent along
//! a network dimension is the number of distinct coordinates its members take there.

use astrolabe_core::InputError;
use astrolabe_network::{Group, Topology};
use serde::Serialize;
use std::collections::BTreeSet;

/// A parallel axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// Tensor parallel.
    Tp,
    /// Data parallel.
    Dp,
    /// Pipeline parallel.
    Pp,
}

impl Axis {
    /// Parses an order such as `tp-dp-pp` (innermost first); each axis exactly once.
    pub fn parse_order(text: &str) -> Result<Vec<Axis>, String> {
        let expected = || format!("a permutation of tp, dp and pp joined by `-`, got `{text}`");
        let axes = text
            .split('-')
            .map(|part| match part.trim() {
                "tp" => Ok(Axis::Tp),
                "dp" => Ok(Axis::Dp),
                "pp" => Ok(Axis::Pp),
                _ => Err(expected()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let distinct: BTreeSet<_> = axes.iter().collect();
        if axes.len() != 3 || distinct.len() != 3 {
            return Err(expected());
        }
        Ok(axes)
    }
}

/// Sizes of the parallel axes and their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    order: Vec<(Axis, usize)>,
}

impl Placement {
    /// `order` innermost first; sizes of tp, dp and pp.
    pub fn new(order: &[Axis], tp: usize, dp: usize, pp: usize) -> Placement {
        let size = |a: Axis| match a {
            Axis::Tp => tp,
            Axis::Dp => dp,
            Axis::Pp => pp,
        };
        Placement { order: order.iter().map(|&a| (a, size(a))).collect() }
    }

    /// Distance in ranks between neighbours along `axis`.
    pub fn stride(&self, axis: Axis) -> usize {
        let mut stride = 1;
        for &(a, size) in &self.order {
            if a == axis {
                return stride;
            }
            stride *= size;
        }
        stride
    }

    /// Size of `axis`.
    pub fn size(&self, axis: Axis) -> usize {
        self.order.iter().find(|(a, _)| *a == axis).map_or(1, |(_, s)| *s)
    }

    /// The group of rank 0 along `axis` (`members` of them; `members = 2` for a pipeline
    /// neighbour pair), as extents on `topology`.
    pub fn group(
        &self,
        topology: &Topology,
        axis: Axis,
        members: usize,
        origin: &str,
    ) -> Result<Group, InputError> {
        let stride = self.stride(axis);
        let ranks: Vec<usize> = (0..members).map(|i| i * stride).collect();
        group_of(topology, &ranks, origin)
    }
}

/// The smallest box of `topology` holding `ranks`; an error if the ranks do not fill it (a group
/// the per-dimension collective model cannot represent).
pub fn group_of(topology: &Topology, ranks: &[usize], origin: &str) -> Result<Group, InputError> {
    let dims = topology.dims().len();
    let mut seen: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); dims];
    for &r in ranks {
        for (d, c) in topology.coords(r).into_iter().enumerate() {
            seen[d].insert(c);
        }
    }
    let extents: Vec<usize> = seen.iter().map(BTreeSet::len).collect();
    let volume: usize = extents.iter().product();
    if volume != ranks.len() {
        let expected = format!(
            "a group of {} ranks that fills a box of the network; these span {extents:?} \
             per dimension (change `plan.placement` or the parallel sizes)",
            ranks.len()
        );
        return Err(InputError::new(origin, "plan.placement", expected));
    }
    Group::new(topology, extents, origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use astrolabe_hardware::cluster::find_preset;

    fn basepod() -> Topology {
        find_preset("dgx-h100-basepod", "test").unwrap().build(Some(12)).unwrap().topology
    }

    #[test]
    fn megatron_order_puts_tp_in_the_node_and_dp_before_pp() {
        let p = Placement::new(&Axis::parse_order("tp-dp-pp").unwrap(), 8, 2, 6);
        assert_eq!((p.stride(Axis::Tp), p.stride(Axis::Dp), p.stride(Axis::Pp)), (1, 8, 16));
        let topo = basepod();
        assert_eq!(p.group(&topo, Axis::Tp, 8, "t").unwrap().extents(), &[8, 1]);
        assert_eq!(p.group(&topo, Axis::Dp, 2, "t").unwrap().extents(), &[1, 2]);
        assert_eq!(p.group(&topo, Axis::Pp, 2, "t").unwrap().extents(), &[1, 2]);
    }

    #[test]
    fn small_tp_leaves_room_for_dp_inside_the_node() {
        // TP 2, DP 48: the DP group of rank 0 is ranks 0, 2, 4, ... 94: 4 per node × 12 nodes.
        let p = Placement::new(&Axis::parse_order("tp-dp-pp").unwrap(), 2, 48, 1);
        let g = p.group(&basepod(), Axis::Dp, 48, "t").unwrap();
        assert_eq!(g.extents(), &[4, 12]);
    }

    #[test]
    fn groups_that_are_not_boxes_are_refused() {
        // Ranks 0 and 12 on 8-GPU nodes: (0,0) and (4,1) span a 2×2 box holding 2 ranks.
        let err = group_of(&basepod(), &[0, 12], "f.toml").unwrap_err();
        assert_eq!(err.field, "plan.placement");
    }

    #[test]
    fn orders_must_be_permutations() {
        assert!(Axis::parse_order("tp-tp-pp").is_err());
        assert!(Axis::parse_order("tp-dp").is_err());
        assert!(Axis::parse_order("tp-cp-pp").is_err());
        assert_eq!(Axis::parse_order("pp-tp-dp").unwrap(), vec![Axis::Pp, Axis::Tp, Axis::Dp]);
    }
}
