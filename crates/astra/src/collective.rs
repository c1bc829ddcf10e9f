//! Collective timing: one chunk's phases per dimension, their composition over dimensions, and
//! the pipeline of chunks through the phases.
//!
//! Formulas (integer ns, ⌊·⌋ where ASTRA-sim's cycles truncate): a message of m bytes over h hops
//! costs ⌊h·L + m/B⌋ on the congestion-unaware backend and ⌊h·(L + m/B)⌋ (store and forward) on
//! the congestion-aware one; every message of a phase pays the endpoint delay `ed`, and each
//! phase one more; a reduction of m bytes costs 3·⌊m/M⌋. A ring all-reduce of one chunk C over p
//! ranks is then 2(p−1)·⌊L + (C/p)/B⌋ + (2p−1)·ed + (p−1)·3·⌊(C/p)/M⌋.

use crate::error::{input, AstraError};
use crate::flow_backend::FlowTimer;
use crate::network::{Dim, Network};
use crate::system::{Algorithm, CollectiveOptimization, SystemConfig};
use serde::Serialize;

/// The collectives that run natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CollKind {
    /// All-reduce: `comm_size` is the whole buffer.
    AllReduce,
    /// Reduce-scatter: `comm_size` is the whole buffer.
    ReduceScatter,
    /// All-gather: `comm_size` is the per-rank input.
    AllGather,
    /// All-to-all: `comm_size` is the whole buffer.
    AllToAll,
}

/// Which analytical network backend times messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// Every message gets full bandwidth; hops × latency + bytes / bandwidth.
    CongestionUnaware,
    /// On 1-D networks, ASTRA-sim's: store and forward on each link (link queueing is not
    /// modelled yet). On multi-dimensional networks, which ASTRA-sim's refuses, Astrolabe's
    /// flow-level model ([`crate::flow_backend`]).
    CongestionAware,
}

impl Backend {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backend::CongestionUnaware => "congestion-unaware",
            Backend::CongestionAware => "congestion-aware",
        }
    }
}

/// What the timing needs: the network, the system and where the system came from.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The network.
    pub network: &'a Network,
    /// The system configuration.
    pub system: &'a SystemConfig,
    /// The system file's name, for errors.
    pub system_origin: &'a str,
    /// The backend.
    pub backend: Backend,
    /// The flow-level timer, for the congestion-aware backend on a multi-dimensional network.
    pub flow: Option<&'a FlowTimer>,
}

/// One phase of one chunk: an operation on one dimension over `data_bytes` per rank (for
/// all-gather, the output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Phase {
    dim: usize,
    op: CollKind,
    algo: Algorithm,
    data_bytes: u64,
}

/// Time of a message of `bytes` over `hops` hops of `dim`.
pub fn message_ns(dim: &Dim, hops: u64, bytes: u64, backend: Backend) -> u64 {
    let serialization_ns = bytes as f64 / dim.bandwidth_bytes_per_ns;
    let h = hops as f64;
    match backend {
        Backend::CongestionUnaware => (h * dim.latency_ns + serialization_ns) as u64,
        Backend::CongestionAware => (h * (dim.latency_ns + serialization_ns)) as u64,
    }
}

impl Ctx<'_> {
    fn reduce_ns(&self, bytes: u64) -> Result<u64, AstraError> {
        let Some(m) = self.system.local_mem_bw_gb_per_s else {
            let expected = "a positive number of GB/s: a reduction needs it";
            return Err(input(self.system_origin, "local-mem-bw", expected));
        };
        Ok(3u64.saturating_mul((bytes as f64 / m) as u64))
    }

    fn phase_ns(&self, ph: Phase) -> Result<u64, AstraError> {
        let dim = &self.network.dims[ph.dim];
        let p = dim.npus;
        let ed = self.system.endpoint_delay_ns;
        let m = ph.data_bytes / p;
        let reduces = match ph.op {
            CollKind::AllReduce | CollKind::ReduceScatter => p - 1,
            CollKind::AllGather | CollKind::AllToAll => 0,
        };
        let reduce_total = reduces.saturating_mul(self.reduce_ns(m)?);
        let (messages, one_ns) = match ph.algo {
            Algorithm::Ring => {
                let n = match ph.op {
                    CollKind::AllReduce => 2 * (p - 1),
                    CollKind::ReduceScatter | CollKind::AllGather => p - 1,
                    CollKind::AllToAll => p * (p - 1) / 2,
                };
                (n, message_ns(dim, dim.hops(1), m, self.backend))
            }
            Algorithm::Direct => {
                let one = (1..p).map(|d| message_ns(dim, dim.hops(d), m, self.backend)).max();
                let rounds = if ph.op == CollKind::AllReduce { 2 } else { 1 };
                (rounds, one.unwrap_or(0))
            }
            Algorithm::HalvingDoubling => return self.halving_doubling_ns(ph, dim),
        };
        let eds = messages.saturating_add(1).saturating_mul(ed);
        Ok(messages.saturating_mul(one_ns).saturating_add(eds).saturating_add(reduce_total))
    }

    fn halving_doubling_ns(&self, ph: Phase, dim: &Dim) -> Result<u64, AstraError> {
        let p = dim.npus;
        if !p.is_power_of_two() || ph.op == CollKind::AllToAll {
            let field = format!("{}-implementation[{}]", kind_key(ph.op), ph.dim);
            let expected = format!("halvingDoubling only for reduce-scatter, all-gather and all-reduce on a power-of-two dimension, found {p} ranks");
            return Err(input(self.system_origin, &field, expected));
        }
        let steps = u64::from(p.trailing_zeros());
        let mut total = 0;
        let mut messages: u64 = 0;
        if matches!(ph.op, CollKind::ReduceScatter | CollKind::AllReduce) {
            for s in 1..=steps {
                let size = ph.data_bytes >> s;
                let hop = dim.hops(p >> s);
                let step =
                    message_ns(dim, hop, size, self.backend).saturating_add(self.reduce_ns(size)?);
                total = step.saturating_add(total);
                messages += 1;
            }
        }
        if matches!(ph.op, CollKind::AllGather | CollKind::AllReduce) {
            for s in (1..=steps).rev() {
                let step = message_ns(dim, dim.hops(p >> s), ph.data_bytes >> s, self.backend);
                total = step.saturating_add(total);
                messages += 1;
            }
        }
        Ok(total.saturating_add((messages + 1).saturating_mul(self.system.endpoint_delay_ns)))
    }

    /// Time of one collective of `kind` with ASTRA-sim's `comm_size` of `size_bytes` over the
    /// network dimensions `dims` (innermost first): chunks, phases and their pipeline.
    pub fn collective_ns(
        &self,
        kind: CollKind,
        size_bytes: u64,
        dims: &[usize],
    ) -> Result<u64, AstraError> {
        let dims: Vec<usize> = dims
            .iter()
            .copied()
            .filter(|&d| self.network.dims.get(d).is_some_and(|x| x.npus > 1))
            .collect();
        if dims.is_empty() {
            return Ok(0);
        }
        let group: u64 = dims.iter().map(|&d| self.network.dims[d].npus).product();
        let buffer = match kind {
            CollKind::AllGather => size_bytes.saturating_mul(group),
            _ => size_bytes,
        };
        let splits = self.system.preferred_dataset_splits;
        if let (Backend::CongestionAware, Some(flow)) = (self.backend, self.flow) {
            return flow.time_ns(self.network, kind, buffer, &dims, splits);
        }
        let phases = self.plan(kind, buffer / splits, &dims)?;
        let stage_ns = phases.iter().map(|&ph| self.phase_ns(ph)).collect::<Result<Vec<_>, _>>()?;
        Ok(pipeline_ns(&stage_ns, splits, self.system.active_chunks_per_dimension))
    }

    fn plan(&self, kind: CollKind, chunk: u64, dims: &[usize]) -> Result<Vec<Phase>, AstraError> {
        let algos = self.algorithms(kind)?;
        let size = |d: usize| self.network.dims[d].npus;
        let phase = |dim: usize, op: CollKind, data_bytes: u64| Phase {
            dim,
            op,
            algo: algos[dim],
            data_bytes,
        };
        let local = self.system.collective_optimization == CollectiveOptimization::LocalBwAware;
        let mut out = Vec::new();
        let (last, inner) = dims.split_last().unwrap_or((&0, &[]));
        match kind {
            CollKind::AllReduce if local => {
                let mut d = chunk;
                for &i in inner {
                    out.push(phase(i, CollKind::ReduceScatter, d));
                    d /= size(i);
                }
                out.push(phase(*last, CollKind::AllReduce, d));
                for &i in inner.iter().rev() {
                    d = d.saturating_mul(size(i));
                    out.push(phase(i, CollKind::AllGather, d));
                }
            }
            CollKind::AllReduce | CollKind::AllToAll => {
                out.extend(dims.iter().map(|&i| phase(i, kind, chunk)));
            }
            CollKind::ReduceScatter => {
                let mut d = chunk;
                for &i in dims {
                    out.push(phase(i, kind, d));
                    d /= size(i);
                }
            }
            CollKind::AllGather => {
                let mut d = chunk / dims.iter().map(|&i| size(i)).product::<u64>();
                for &i in dims.iter().rev() {
                    d = d.saturating_mul(size(i));
                    out.push(phase(i, kind, d));
                }
            }
        }
        Ok(out)
    }

    fn algorithms(&self, kind: CollKind) -> Result<&[Algorithm], AstraError> {
        let imp = &self.system.implementations;
        let list = match kind {
            CollKind::AllReduce => &imp.all_reduce,
            CollKind::ReduceScatter => &imp.reduce_scatter,
            CollKind::AllGather => &imp.all_gather,
            CollKind::AllToAll => &imp.all_to_all,
        };
        let n = self.network.dims.len();
        let field = format!("{}-implementation", kind_key(kind));
        match list {
            Some(l) if l.len() == n => Ok(l),
            Some(l) => Err(input(
                self.system_origin,
                &field,
                format!("one algorithm per network dimension ({n}), found {}", l.len()),
            )),
            None => Err(input(
                self.system_origin,
                &field,
                format!(
                    "one algorithm per network dimension ({n}): the workload has this collective"
                ),
            )),
        }
    }
}

fn kind_key(kind: CollKind) -> &'static str {
    match kind {
        CollKind::AllReduce => "all-reduce",
        CollKind::ReduceScatter => "reduce-scatter",
        CollKind::AllGather => "all-gather",
        CollKind::AllToAll => "all-to-all",
    }
}

/// Finish time of `chunks` chunks flowing through stages of `stage_ns`, at most `active` chunks
/// in each stage at once: chunk i enters stage j when it has left stage j − 1 and chunk i − active
/// has left stage j.
pub fn pipeline_ns(stage_ns: &[u64], chunks: u64, active: u64) -> u64 {
    let active = active.max(1) as usize;
    let mut done: Vec<Vec<u64>> = Vec::with_capacity(chunks as usize);
    for i in 0..chunks as usize {
        let mut row = Vec::with_capacity(stage_ns.len());
        for (j, t) in stage_ns.iter().enumerate() {
            let ready = if j == 0 { 0 } else { row[j - 1] };
            let free = if i >= active { done[i - active][j] } else { 0 };
            row.push(ready.max(free).saturating_add(*t));
        }
        done.push(row);
    }
    done.last().and_then(|r| r.last()).copied().unwrap_or(0)
}

#[cfg(test)]
#[path = "collective_tests.rs"]
mod tests;
