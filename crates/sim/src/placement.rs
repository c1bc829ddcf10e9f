//! Where each parallel rank sits on the network, and the communicator groups that follow.
//!
//! Ranks are numbered in mixed radix over the parallel axes, innermost first; Megatron-LM's
//! default order is tensor, context, expert, data, pipeline: `tp-cp-ep-dp-pp`. The expert axis
//! is carved out of the data-parallel replicas (`ep` divides `dp`), so the `dp` axis of the order
//! has `dp / ep` positions; an order without `cp` or `ep` (the older `tp-dp-pp`) is valid while
//! that axis has size 1. Rank `r` runs on
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
    /// Context parallel (the sequence split).
    Cp,
    /// Expert parallel (a split of the data-parallel replicas).
    Ep,
    /// Data parallel.
    Dp,
    /// Pipeline parallel.
    Pp,
}

impl Axis {
    /// Parses an order such as `tp-cp-ep-dp-pp` (innermost first): `tp`, `dp` and `pp` exactly
    /// once, `cp` and `ep` at most once (an axis left out must have size 1).
    pub fn parse_order(text: &str) -> Result<Vec<Axis>, String> {
        let expected = || {
            format!(
                "a permutation of tp, dp and pp, optionally with cp and ep, joined by `-`, \
                 got `{text}`"
            )
        };
        let axes = text
            .split('-')
            .map(|part| Axis::parse(part.trim()).ok_or_else(expected))
            .collect::<Result<Vec<_>, _>>()?;
        let distinct: BTreeSet<_> = axes.iter().collect();
        let required = [Axis::Tp, Axis::Dp, Axis::Pp].iter().all(|a| distinct.contains(a));
        if distinct.len() != axes.len() || !required {
            return Err(expected());
        }
        Ok(axes)
    }

    fn parse(text: &str) -> Option<Axis> {
        match text {
            "tp" => Some(Axis::Tp),
            "cp" => Some(Axis::Cp),
            "ep" => Some(Axis::Ep),
            "dp" => Some(Axis::Dp),
            "pp" => Some(Axis::Pp),
            _ => None,
        }
    }

    /// The lower-case name used in plan keys (`cp`).
    pub fn key(self) -> &'static str {
        match self {
            Axis::Tp => "tp",
            Axis::Cp => "cp",
            Axis::Ep => "ep",
            Axis::Dp => "dp",
            Axis::Pp => "pp",
        }
    }
}

/// Sizes of the parallel axes and their order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    order: Vec<(Axis, usize)>,
}

impl Placement {
    /// `order` innermost first; sizes of tp, dp and pp (context and expert parallel of size 1).
    pub fn new(order: &[Axis], tp: usize, dp: usize, pp: usize) -> Placement {
        Placement::with_sizes(order, &[(Axis::Tp, tp), (Axis::Dp, dp), (Axis::Pp, pp)])
    }

    /// `order` innermost first; `sizes` of the axes (an axis not listed has size 1). The `dp`
    /// axis takes `dp / ep` positions, the expert axis carving the rest out of the replicas.
    pub fn with_sizes(order: &[Axis], sizes: &[(Axis, usize)]) -> Placement {
        let size = |a: Axis| sizes.iter().find(|(b, _)| *b == a).map_or(1, |&(_, n)| n.max(1));
        let positions = |a: Axis| match a {
            Axis::Dp => size(Axis::Dp) / size(Axis::Ep),
            other => size(other),
        };
        Placement { order: order.iter().map(|&a| (a, positions(a))).collect() }
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

impl Placement {
    /// The group of rank 0 spanning every position of each of `axes` (the data-parallel
    /// gradient group over `dp` and `cp`, say), as extents on `topology`. Members are listed
    /// with the first axis innermost.
    pub fn group_over(
        &self,
        topology: &Topology,
        axes: &[Axis],
        origin: &str,
    ) -> Result<Group, InputError> {
        group_of(topology, &self.ranks_over(axes), origin)
    }

    /// Ranks of the group of rank 0 over `axes`.
    pub fn ranks_over(&self, axes: &[Axis]) -> Vec<usize> {
        self.ranks_of(0, axes)
    }

    /// Position of `rank` along `axis` (0 for an axis of size 1).
    pub fn coordinate(&self, rank: usize, axis: Axis) -> usize {
        (rank / self.stride(axis)) % self.size(axis)
    }

    /// The first member of `rank`'s group over `axes`: `rank` at position 0 along each of them.
    pub fn leader(&self, rank: usize, axes: &[Axis]) -> usize {
        axes.iter().fold(rank, |r, &a| r - self.coordinate(rank, a) * self.stride(a))
    }

    /// Ranks of `rank`'s group over `axes` (those that differ from it only along them), first
    /// axis innermost, from the group's leader on.
    pub fn ranks_of(&self, rank: usize, axes: &[Axis]) -> Vec<usize> {
        let mut ranks = vec![self.leader(rank, axes)];
        for &axis in axes {
            let (stride, size) = (self.stride(axis), self.size(axis));
            ranks = (0..size).flat_map(|i| ranks.iter().map(move |r| r + i * stride)).collect();
        }
        ranks
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
        assert!(Axis::parse_order("tp-cp-cp-dp-pp").is_err());
        let megatron = Axis::parse_order("tp-cp-ep-dp-pp").unwrap();
        assert_eq!(megatron, vec![Axis::Tp, Axis::Cp, Axis::Ep, Axis::Dp, Axis::Pp]);
        assert_eq!(Axis::parse_order("pp-tp-dp").unwrap(), vec![Axis::Pp, Axis::Tp, Axis::Dp]);
    }

    #[test]
    fn context_parallel_sits_between_tp_and_dp() {
        // TP 4, CP 2, DP 3 (ep 1), PP 2 in Megatron order: strides 1, 4, 8, 24.
        let order = Axis::parse_order("tp-cp-ep-dp-pp").unwrap();
        let sizes = [(Axis::Tp, 4), (Axis::Cp, 2), (Axis::Dp, 3), (Axis::Pp, 2)];
        let p = Placement::with_sizes(&order, &sizes);
        let strides = [Axis::Tp, Axis::Cp, Axis::Ep, Axis::Dp, Axis::Pp].map(|a| p.stride(a));
        assert_eq!(strides, [1, 4, 8, 8, 24]);
        // The gradient group over dp × cp: ranks 0, 4, 8, 12, 16, 20.
        assert_eq!(p.ranks_over(&[Axis::Cp, Axis::Dp]), vec![0, 4, 8, 12, 16, 20]);
        let g = p.group_over(&basepod(), &[Axis::Cp, Axis::Dp], "t").unwrap();
        assert_eq!(g.extents(), &[2, 3]);
    }

    #[test]
    fn any_rank_finds_its_group_through_its_leader() {
        // TP 2, CP 2, DP 2, PP 2 in Megatron order: strides 1, 2, 4, 8. Rank 13 = tp 1, cp 0,
        // dp 1, pp 1; its data-parallel group over cp × dp is 9, 11, 13, 15, led by 9.
        let order = Axis::parse_order("tp-cp-ep-dp-pp").unwrap();
        let sizes = [(Axis::Tp, 2), (Axis::Cp, 2), (Axis::Dp, 2), (Axis::Pp, 2)];
        let p = Placement::with_sizes(&order, &sizes);
        let coords = [Axis::Tp, Axis::Cp, Axis::Dp, Axis::Pp].map(|a| p.coordinate(13, a));
        assert_eq!(coords, [1, 0, 1, 1]);
        assert_eq!(p.leader(13, &[Axis::Cp, Axis::Dp]), 9);
        assert_eq!(p.ranks_of(13, &[Axis::Cp, Axis::Dp]), vec![9, 11, 13, 15]);
        assert_eq!(p.ranks_of(13, &[Axis::Cp]), vec![13, 15]);
        assert_eq!(p.ranks_of(13, &[Axis::Ep]), vec![13]);
    }

    #[test]
    fn expert_parallel_splits_the_data_parallel_replicas() {
        // DP 8 with EP 4: the ep axis takes 4 positions, dp the remaining 2.
        let order = Axis::parse_order("tp-cp-ep-dp-pp").unwrap();
        let p = Placement::with_sizes(&order, &[(Axis::Tp, 2), (Axis::Ep, 4), (Axis::Dp, 8)]);
        assert_eq!((p.size(Axis::Ep), p.size(Axis::Dp)), (4, 2));
        assert_eq!((p.stride(Axis::Ep), p.stride(Axis::Dp), p.stride(Axis::Pp)), (2, 8, 16));
    }
}
