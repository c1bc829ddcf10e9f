//! The simulated ranks of a pipeline stage and the communicators they share.
//!
//! Every stage has the same ranks: rank `i` of a stage sends its activations to rank `i` of the
//! next stage. Which ranks meet in which collective is not decided here: the caller (the sim
//! crate, from its rank placement) gives each rank a group id per communicator, and ranks of a
//! stage with equal ids meet in the same rendezvous. Every group of a kind has as many members
//! as rank 0's (the parallel axes make them so).

/// The communicators of one rank, as group ids: ranks of a stage with the same id in a field
/// share that communicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RankGroups {
    /// Tensor parallel: TP collectives of every layer.
    pub tp: usize,
    /// Context parallel: each layer's key/value exchange.
    pub cp: usize,
    /// Expert parallel: the dispatch and combine all-to-alls of MoE layers.
    pub ep: usize,
    /// Data parallel with the context-parallel ranks (`dp · cp` ranks holding the same
    /// parameters): gradient reductions and parameter gathers of dense parameters.
    pub data: usize,
    /// Expert data parallel: the ranks holding the same routed experts, which reduce and gather
    /// them.
    pub expert_data: usize,
}

/// One simulated rank of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRank {
    /// Its name inside the stage (`dp0/tp1`); streams are `stage{s}/{name}/{kind}`.
    pub name: String,
    /// Its communicators.
    pub groups: RankGroups,
}

/// The simulated ranks of every stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankLayout {
    ranks: Vec<StageRank>,
    sizes: RankGroups,
}

impl RankLayout {
    /// The layout of `ranks` (at least one); group sizes are those of the first rank's groups.
    pub fn new(ranks: Vec<StageRank>) -> RankLayout {
        let first = ranks.first().map(|r| r.groups).unwrap_or_default();
        let count = |f: fn(&RankGroups) -> usize| {
            ranks.iter().filter(|r| f(&r.groups) == f(&first)).count().max(1)
        };
        let sizes = RankGroups {
            tp: count(|g| g.tp),
            cp: count(|g| g.cp),
            ep: count(|g| g.ep),
            data: count(|g| g.data),
            expert_data: count(|g| g.expert_data),
        };
        RankLayout { ranks, sizes }
    }

    /// One rank (`dp0/tp0`) standing for its stage: representative mode.
    pub fn representative() -> RankLayout {
        RankLayout::tp_dp(1, 1)
    }

    /// `tp · dp` ranks, TP innermost, named `dp{d}/tp{t}`, without context or expert
    /// parallelism (the expert-data group is the data group).
    pub fn tp_dp(tp: usize, dp: usize) -> RankLayout {
        let ranks = (0..dp)
            .flat_map(|d| (0..tp).map(move |t| (d, t)))
            .enumerate()
            .map(|(i, (d, t))| StageRank {
                name: format!("dp{d}/tp{t}"),
                groups: RankGroups { tp: d, cp: i, ep: i, data: t, expert_data: t },
            })
            .collect();
        RankLayout::new(ranks)
    }

    /// The ranks of a stage, in order.
    pub fn ranks(&self) -> &[StageRank] {
        &self.ranks
    }

    /// Members of each communicator (those of the first rank's groups).
    pub fn sizes(&self) -> RankGroups {
        self.sizes
    }

    /// Whether a MoE layer's dense part and its experts reduce over different ranks (expert
    /// parallelism), so that their reductions are separate collectives.
    pub fn splits_expert_reduction(&self) -> bool {
        self.sizes.data != self.sizes.expert_data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tp_dp_groups_follow_tp_innermost() {
        // TP 2 × DP 3: ranks dp0/tp0, dp0/tp1, dp1/tp0, ...; TP groups of 2, data groups of 3.
        let l = RankLayout::tp_dp(2, 3);
        let names: Vec<&str> = l.ranks().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["dp0/tp0", "dp0/tp1", "dp1/tp0", "dp1/tp1", "dp2/tp0", "dp2/tp1"]);
        let sizes = l.sizes();
        assert_eq!((sizes.tp, sizes.cp, sizes.ep, sizes.data), (2, 1, 1, 3));
        assert!(!l.splits_expert_reduction());
        assert_eq!(
            RankLayout::representative().sizes(),
            RankGroups { tp: 1, cp: 1, ep: 1, data: 1, expert_data: 1 }
        );
    }
}
