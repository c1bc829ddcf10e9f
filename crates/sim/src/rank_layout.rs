//! Per-rank mode's ranks, from the placement: which GPU each simulated rank of a stage is, its
//! name, and the communicators it shares, each the ranks that differ from it only along the
//! communicator's axes ([`Placement::ranks_of`]).
//!
//! The axes are those [`crate::costs`] prices each collective over: tensor parallel over `tp`;
//! context parallel over `cp`; expert parallel over `ep`; data parallel (gradient reductions and
//! parameter gathers of dense parameters) over `cp · ep · dp`, every rank holding the same
//! parameters; expert data parallel (routed experts) over `cp · dp`, the `dp / ep · cp` ranks
//! holding the same experts. [`check_priced`] refuses a plan whose priced groups have other
//! sizes (an expert layout this module does not know), rather than synchronise the wrong ranks.

use crate::costs::{ns, placement, CollectiveUse, Purpose};
use crate::placement::{Axis, Placement};
use crate::plan::Plan;
use astrolabe_collective::CollectiveOp;
use astrolabe_core::InputError;
use astrolabe_workload::{RankGroups, RankLayout, StageRank, StepCosts};

/// A communicator of the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Comm {
    /// Tensor parallel.
    Tp,
    /// Context parallel.
    Cp,
    /// Expert parallel (all-to-alls).
    Ep,
    /// Data parallel with the context- and expert-parallel ranks: dense gradients and gathers.
    Data,
    /// Expert data parallel: the ranks holding the same routed experts.
    ExpertData,
}

impl Comm {
    /// The placement axes its members span.
    pub fn axes(self) -> &'static [Axis] {
        match self {
            Comm::Tp => &[Axis::Tp],
            Comm::Cp => &[Axis::Cp],
            Comm::Ep => &[Axis::Ep],
            Comm::Data => &[Axis::Cp, Axis::Ep, Axis::Dp],
            Comm::ExpertData => &[Axis::Cp, Axis::Dp],
        }
    }
}

/// The simulated ranks of every stage of a plan and the GPUs they are.
#[derive(Debug, Clone)]
pub struct Ranks {
    /// The workload's layout: names and group ids (a group's id is its leader's rank).
    pub layout: RankLayout,
    /// The plan's placement.
    pub placement: Placement,
    /// The GPU of each rank of stage 0; stage `s` adds `s` pipeline strides.
    stage0: Vec<usize>,
}

impl Ranks {
    /// Every rank of `plan`: per stage TP innermost, then CP, EP and DP (placement order
    /// decides which GPU each is), named `dp{d}/tp{t}`, or `dp{d}/cp{c}/tp{t}` with context
    /// parallelism, `d` counting the data-parallel replicas expert ranks included.
    pub fn of(plan: &Plan) -> Ranks {
        let place = placement(plan);
        let stage0 = place.ranks_over(&[Axis::Tp, Axis::Cp, Axis::Ep, Axis::Dp]);
        let group = |r: usize, comm: Comm| place.leader(r, comm.axes());
        let ranks = stage0
            .iter()
            .map(|&r| StageRank {
                name: name(&place, r),
                groups: RankGroups {
                    tp: group(r, Comm::Tp),
                    cp: group(r, Comm::Cp),
                    ep: group(r, Comm::Ep),
                    data: group(r, Comm::Data),
                    expert_data: group(r, Comm::ExpertData),
                },
            })
            .collect();
        Ranks { layout: RankLayout::new(ranks), placement: place, stage0 }
    }

    /// The GPU of rank `index` of `stage`.
    pub fn rank(&self, stage: usize, index: usize) -> usize {
        self.stage0[index] + stage * self.placement.stride(Axis::Pp)
    }

    /// Members of `rank`'s `comm`, in order along its axes.
    pub fn members(&self, rank: usize, comm: Comm) -> Vec<usize> {
        self.placement.ranks_of(rank, comm.axes())
    }
}

/// `dp{d}/tp{t}` or `dp{d}/cp{c}/tp{t}` for GPU `r`.
fn name(place: &Placement, r: usize) -> String {
    let at = |a: Axis| place.coordinate(r, a);
    let replica = at(Axis::Ep) + place.size(Axis::Ep) * at(Axis::Dp);
    if place.size(Axis::Cp) > 1 {
        format!("dp{replica}/cp{}/tp{}", at(Axis::Cp), at(Axis::Tp))
    } else {
        format!("dp{replica}/tp{}", at(Axis::Tp))
    }
}

/// The communicator a priced collective of `purpose` runs over, for the purposes whose group
/// per-rank mode and the export take from [`Comm::axes`] (`None` for the others: pipeline
/// pairs, ring neighbours, hybrid sharding's groups, DualPipe's mirror pairs).
fn comm_of(u: &CollectiveUse) -> Option<Comm> {
    match u.purpose {
        Purpose::TpForward | Purpose::TpBackward => Some(Comm::Tp),
        Purpose::CpForward | Purpose::CpBackward if u.result.op != CollectiveOp::SendRecv => {
            Some(Comm::Cp)
        }
        Purpose::EpForward | Purpose::EpBackward => Some(Comm::Ep),
        // Within data parallelism (folded layouts are refused) the expert-TP group is TP's.
        Purpose::ExpertTpForward | Purpose::ExpertTpBackward => Some(Comm::Tp),
        Purpose::DpMoeGradients => Some(Comm::Data),
        Purpose::DpExpertGradients => Some(Comm::ExpertData),
        _ => None,
    }
}

/// Refuses an expert layout per-rank mode and the export do not place: folded experts
/// (`crate::moe::folded`), and ZeRO-2/3 with expert parallelism (whose per-micro-batch reductions
/// and per-pass gathers of a MoE layer are not split into the dense and the experts' groups).
pub fn check_experts(
    plan: &Plan,
    model: &astrolabe_model::TransformerModel,
    origin: &str,
) -> Result<(), InputError> {
    if model.moe.is_none() {
        return Ok(());
    }
    if crate::moe::folded(plan) {
        let expected = format!(
            "expert_tp equal to tp ({}) and an ep dividing dp ({}) in per-rank mode and the              export: folded experts are simulated in representative mode only",
            plan.tp, plan.dp
        );
        return Err(InputError::new(origin, "plan.expert_tp", expected));
    }
    if plan.ep > 1 && plan.zero_stage >= 2 {
        let expected = "zero_stage 0 or 1 with expert parallelism in per-rank mode and the                         export (ZeRO-2/3 with experts is simulated in representative mode only)";
        return Err(InputError::new(origin, "plan.zero_stage", expected));
    }
    Ok(())
}

/// Refuses `plan` if a priced collective's group is not the size of the communicator per-rank
/// mode would synchronise (an expert or context layout that [`Comm::axes`] does not describe).
pub fn check_priced(
    ranks: &Ranks,
    collectives: &[CollectiveUse],
    origin: &str,
) -> Result<(), InputError> {
    let size = |comm: Comm| ranks.members(0, comm).len();
    for u in collectives {
        let expected = match (u.purpose, comm_of(u)) {
            (_, Some(comm)) => vec![size(comm)],
            (Purpose::DpMoeParamGather, None) => vec![size(Comm::Data), size(Comm::ExpertData)],
            _ => continue,
        };
        if !expected.contains(&u.result.ranks) {
            let text = format!(
                "a layout whose {:?} collectives run over {expected:?} ranks (tp-cp-ep-dp \
                 groups, experts split ep ways, the expert tensor parallel size equal to tp); \
                 they are priced over {} ranks, a layout per-rank mode and the export do not \
                 place yet",
                u.purpose, u.result.ranks
            );
            return Err(InputError::new(origin, "plan", text));
        }
    }
    Ok(())
}

/// Sets the dense parts of a MoE layer's reduction and gather in `costs` (per-rank mode runs
/// them over the data group and the experts' over the expert-data group): the priced
/// collectives of the dense part, those over the data group.
pub fn split_moe(ranks: &Ranks, collectives: &[CollectiveUse], costs: &mut StepCosts) {
    let Some(moe) = costs.moe.as_mut() else { return };
    let data = ranks.members(0, Comm::Data).len();
    let time_s = |purpose: Purpose| -> f64 {
        let dense = |u: &&CollectiveUse| u.purpose == purpose && u.result.ranks == data;
        collectives.iter().filter(dense).map(CollectiveUse::time_s).sum()
    };
    moe.dp_dense_ns = ns(time_s(Purpose::DpMoeGradients));
    moe.gather_dense_ns = ns(time_s(Purpose::DpMoeParamGather));
}

#[cfg(test)]
#[path = "rank_layout_tests.rs"]
pub(crate) mod tests;
