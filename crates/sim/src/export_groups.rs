//! The export's communicators beyond TP: context parallel, expert parallel, and the data and
//! expert-data groups of the gradient reductions and parameter gathers.
//!
//! - Groups: every communicator is a product of whole exported dimensions (the network is split
//!   along the parallel axes), so a collective names it by `involved_dim`, the dimensions along
//!   which the members of rank 0's group ([`Ranks::members`]) differ; a group that does not fill
//!   those dimensions is refused.
//! - Context parallel, all-gather variant: each CP task is the priced ALL_GATHER (forward) or
//!   REDUCE_SCATTER (backward) of the whole sequence's keys and values over the CP group.
//! - Context parallel, ring variant: each CP task is the ring's steps (`cp − 1` forward,
//!   `2(cp − 1)` backward), each a COMM_SEND of one rank's share of the keys and values to the
//!   next CP rank and a COMM_RECV from the previous one, chained. The tag of step `k` is
//!   `tasks + rendezvous · 2cp + k` (above every pipeline send's tag, a task id), the same on
//!   the sender and the receiver since the CP group shares the task's rendezvous.
//! - Expert parallel: each EP task is its ALL_TO_ALLs (dispatch and combine; backward: their
//!   gradients, with full recomputation the forward's again) over the EP group.
//! - Gradients and gathers: over the data group (`cp · ep · dp` ranks); a MoE layer's experts
//!   over the expert-data group (`cp · dp/ep`), a task of their own when that group is smaller.
//!
//! CP tasks carry the whole priced exchange even where Astrolabe hides part or all of a ring
//! behind the attention (the task is then shorter, or 0 ns): the export has no node beside the
//! layer's computation to hide it behind.

use super::{Export, ExportDim, Work};
use crate::costs::{CollectiveUse, Purpose};
use crate::placement::Axis;
use crate::plan::Plan;
use crate::rank_layout::{Comm, Ranks};
use astrolabe_collective::CollectiveOp;
use astrolabe_core::InputError;
use astrolabe_engine::TaskId;
use std::collections::BTreeMap;

/// Refuses what the export cannot write: hybrid sharding, whose shard and replica groups are no
/// communicator of the exported network's split.
pub(super) fn check_plan(plan: &Plan, origin: &str) -> Result<(), InputError> {
    if plan.shard_group != plan.dp * plan.cp {
        let expected = format!(
            "dp·cp ({}) for an export: hybrid sharding's groups are not exported yet, got {}",
            plan.dp * plan.cp,
            plan.shard_group
        );
        return Err(InputError::new(origin, "plan.shard_group", expected));
    }
    Ok(())
}

/// The dimensions each communicator spans; an error if a group does not fill them.
pub(super) fn involved(
    dims: &[ExportDim],
    ranks: &Ranks,
    origin: &str,
) -> Result<BTreeMap<Comm, Vec<bool>>, InputError> {
    let mut out = BTreeMap::new();
    for comm in [Comm::Tp, Comm::Cp, Comm::Ep, Comm::Data, Comm::ExpertData] {
        let members = ranks.members(0, comm);
        let coords: Vec<Vec<usize>> = members.iter().map(|&r| coords(dims, r)).collect();
        let spans: Vec<bool> =
            (0..dims.len()).map(|d| coords.iter().any(|c| c[d] != coords[0][d])).collect();
        let volume: usize =
            dims.iter().zip(&spans).filter(|(_, &s)| s).map(|(d, _)| d.npus).product();
        if volume != members.len() {
            let expected = format!(
                "communicators that span whole dimensions of the exported network; the {comm:?} \
                 group {members:?} does not (change `plan.placement` or the parallel sizes)"
            );
            return Err(InputError::new(origin, "plan.placement", expected));
        }
        out.insert(comm, spans);
    }
    Ok(out)
}

/// Coordinates of `rank` on the exported network, dimension 0 varying fastest.
fn coords(dims: &[ExportDim], rank: usize) -> Vec<usize> {
    let mut rest = rank;
    dims.iter()
        .map(|d| {
            let c = rest % d.npus;
            rest /= d.npus;
            c
        })
        .collect()
}

/// Nodes one layer and micro-batch adds on a rank for its context- and expert-parallel
/// exchanges, forward and backward (a ring step is a send and a receive).
pub(super) fn layer_nodes(uses: &[CollectiveUse]) -> u64 {
    uses.iter()
        .map(|u| match u.purpose {
            Purpose::CpForward | Purpose::CpBackward if u.result.op == CollectiveOp::SendRecv => {
                2 * u64::from(u.repeats)
            }
            Purpose::CpForward
            | Purpose::CpBackward
            | Purpose::EpForward
            | Purpose::EpBackward
            | Purpose::ExpertTpForward
            | Purpose::ExpertTpBackward => u64::from(u.repeats),
            _ => 0,
        })
        .sum()
}

impl Export {
    /// The nodes of a task of the `DpComm` category: a CP or EP exchange (by its stream), or a
    /// gradient reduction or parameter gather (by its label); `None` for anything else.
    pub(super) fn comm_works(&self, t: TaskId) -> Option<Vec<Work>> {
        let g = &self.step.graph;
        let task = &g.tasks[t];
        let stream = g.streams[task.stream].as_str();
        let forward = task.label.contains(" F ");
        if stream.ends_with("/cp") {
            let purpose = if forward { Purpose::CpForward } else { Purpose::CpBackward };
            let ring = self.uses(purpose).any(|u| u.result.op == CollectiveOp::SendRecv);
            return if ring {
                self.ring_works(t, purpose)
            } else {
                Some(self.collectives(self.uses(purpose), 1.0, Comm::Cp))
            };
        }
        if stream.ends_with("/ep") {
            let (purpose, split) = if forward {
                (Purpose::EpForward, Purpose::ExpertTpForward)
            } else {
                (Purpose::EpBackward, Purpose::ExpertTpBackward)
            };
            let mut works = self.collectives(self.uses(purpose), 1.0, Comm::Ep);
            works.extend(self.collectives(self.uses(split), 1.0, Comm::Tp));
            return Some(works);
        }
        self.dp_works(&task.label)
    }

    /// A ring exchange: per step a send to the next CP rank and a receive from the previous.
    fn ring_works(&self, t: TaskId, purpose: Purpose) -> Option<Vec<Work>> {
        let g = &self.step.graph;
        let rank = self.rank_of_stream[g.tasks[t].stream];
        let ring = self.layout.members(rank, Comm::Cp);
        let cp = ring.len();
        let at = self.layout.placement.coordinate(rank, Axis::Cp);
        let (next, prev) = (ring[(at + 1) % cp], ring[(at + cp - 1) % cp]);
        let base = g.tasks.len() as u64 + g.tasks[t].rendezvous? as u64 * 2 * cp as u64;
        let mut out = Vec::new();
        for u in self.uses(purpose) {
            for k in 0..u64::from(u.repeats) {
                let (tag, size_bytes) = (base + k, u.result.size_bytes);
                out.push(Work::Send { dst: next, tag, size_bytes });
                out.push(Work::Recv { src: prev, tag, size_bytes });
            }
        }
        Some(out)
    }

    /// A gradient reduction or parameter gather: its priced collectives and their groups.
    fn dp_works(&self, label: &str) -> Option<Vec<Work>> {
        let layer = label.rsplit_once(" L").and_then(|(_, n)| n.parse::<usize>().ok());
        let moe = layer.is_some_and(|l| self.costs.is_moe(l));
        let purposes: &[Purpose] = if label.contains("embedding/head") {
            &[Purpose::DpEmbeddingGradients]
        } else if label.contains("grad reduce") && moe {
            &[Purpose::DpMoeGradients, Purpose::DpExpertGradients]
        } else if label.contains("grad reduce") {
            &[Purpose::DpGradients]
        } else if label.contains("gather") && moe {
            &[Purpose::DpMoeParamGather]
        } else if label.contains("gather") {
            &[Purpose::DpParamGather]
        } else {
            return None;
        };
        // With expert parallelism a MoE layer's dense part and its experts are tasks of their
        // own; without, both groups are the data group.
        let split = moe && self.layout.layout.splits_expert_reduction();
        let wanted = if label.contains("expert ") { Comm::ExpertData } else { Comm::Data };
        let mut out = Vec::new();
        for u in self.collectives.iter().filter(|u| purposes.contains(&u.purpose)) {
            let comm = self.comm_of_size(u.result.ranks)?;
            if !split || comm == wanted {
                out.extend(self.collectives(std::iter::once(u), 1.0, comm));
            }
        }
        Some(out)
    }

    /// The data group, or the expert-data group, with `members` ranks.
    fn comm_of_size(&self, members: usize) -> Option<Comm> {
        [Comm::Data, Comm::ExpertData]
            .into_iter()
            .find(|&c| self.layout.members(0, c).len() == members)
    }

    /// The members of `rank`'s `comm` as the exported network names them: the ranks that share
    /// its coordinates on every dimension the communicator does not span.
    pub fn group_members(&self, rank: usize, comm: Comm) -> Vec<usize> {
        let spans = self.involved_dims(comm);
        let me = coords(&self.dims, rank);
        (0..self.ranks)
            .filter(|&r| {
                let c = coords(&self.dims, r);
                (0..self.dims.len()).all(|d| spans[d] || c[d] == me[d])
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "export_groups_tests.rs"]
mod tests;
