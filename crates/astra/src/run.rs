//! Running parsed inputs: checks that they fit together, builds the graph, runs the engine and
//! reads per-rank finish and exposed communication off the timeline.

use crate::build::{Builder, RankTrace};
use crate::collective::{Backend, Ctx};
use crate::error::{input, AstraError};
use crate::flow_backend::FlowTimer;
use crate::memory::{CommGroups, RemoteMemory};
use crate::network::Network;
use crate::system::SystemConfig;
use astrolabe_chakra::{read_trace, RankFiles};
use astrolabe_engine::{run, Category, Graph, Timeline};
use serde::Serialize;
use std::path::Path;

/// The parsed configuration files.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The system JSON, defaults filled in.
    pub system: SystemConfig,
    /// The system JSON's file name, for errors.
    pub system_origin: String,
    /// The network YAML.
    pub network: Network,
    /// The remote-memory JSON (`None` memory when no file was given).
    pub remote_memory: RemoteMemory,
    /// The communicator groups, if a file was given.
    pub comm_groups: Option<CommGroups>,
}

/// One rank's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RankResult {
    /// The rank.
    pub rank: u64,
    /// When its last node finished, in ns (ASTRA-sim's cycles).
    pub finish_ns: u64,
    /// Time with communication in flight (collective, send or memory access) and no computation
    /// running, in ns.
    pub exposed_comm_ns: u64,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct AstraReport {
    /// The backend used.
    pub backend: Backend,
    /// One entry per rank, in rank order.
    pub ranks: Vec<RankResult>,
    /// The largest finish time, in ns.
    pub max_finish_ns: u64,
    /// The smallest finish time, in ns.
    pub min_finish_ns: u64,
}

/// Reads every `<prefix>.<rank>.et` file.
pub fn load_traces(prefix: &Path) -> Result<Vec<RankTrace>, AstraError> {
    let files = RankFiles::discover(prefix)?;
    files
        .paths()
        .iter()
        .map(|p| Ok(RankTrace { origin: p.display().to_string(), trace: read_trace(p)? }))
        .collect()
}

/// Simulates `workload` (one trace per rank) on `config`; `custom` holds the traces of a custom
/// all-reduce when the system names one. `workload_origin` (the prefix) goes into errors.
pub fn simulate(
    config: &Config,
    workload: &[RankTrace],
    custom: Option<&[RankTrace]>,
    backend: Backend,
    workload_origin: &str,
) -> Result<AstraReport, AstraError> {
    let npus = config.network.npus();
    if workload.len() as u64 != npus {
        let expected =
            format!("one trace per NPU of the network ({npus}), found {}", workload.len());
        return Err(input(workload_origin, "ranks", expected));
    }
    if let Some(c) = custom.filter(|c| c.len() as u64 != npus) {
        let expected = format!("one custom trace per NPU ({npus}), found {}", c.len());
        return Err(input(&config.system_origin, "all-reduce-implementation-custom", expected));
    }
    let flow = match backend {
        Backend::CongestionAware if config.network.dims.len() > 1 => {
            Some(FlowTimer::new(&config.network, "network")?)
        }
        _ => None,
    };
    let ctx = Ctx {
        network: &config.network,
        system: &config.system,
        system_origin: &config.system_origin,
        backend,
        flow: flow.as_ref(),
    };
    let mut builder = Builder::new(ctx, config.remote_memory, config.comm_groups.as_ref(), custom);
    for (rank, t) in workload.iter().enumerate() {
        builder.add_rank(rank as u64, t)?;
    }
    let built = builder.finish(workload_origin)?;
    let timeline = run(&built.graph)?;
    let ranks = (0..npus)
        .map(|r| rank_result(&built.graph, &built.task_rank, &timeline, r))
        .collect::<Vec<_>>();
    let max_finish_ns = ranks.iter().map(|r| r.finish_ns).max().unwrap_or(0);
    let min_finish_ns = ranks.iter().map(|r| r.finish_ns).min().unwrap_or(0);
    Ok(AstraReport { backend, ranks, max_finish_ns, min_finish_ns })
}

fn rank_result(graph: &Graph, task_rank: &[u64], timeline: &Timeline, rank: u64) -> RankResult {
    let mut comm = Vec::new();
    let mut compute = Vec::new();
    let mut finish_ns = 0;
    for ((task, span), owner) in graph.tasks.iter().zip(&timeline.spans).zip(task_rank) {
        if *owner != rank {
            continue;
        }
        finish_ns = finish_ns.max(span.end.0);
        let interval = (span.start.0, span.end.0);
        match task.category {
            Category::Compute => compute.push(interval),
            _ => comm.push(interval),
        }
    }
    let comm = union(comm);
    let overlap = overlap_ns(&comm, &union(compute));
    let comm_ns = comm.iter().fold(0u64, |acc, (a, b)| acc.saturating_add(b - a));
    let exposed_comm_ns = comm_ns.saturating_sub(overlap);
    RankResult { rank, finish_ns, exposed_comm_ns }
}

/// Sorted, disjoint intervals covering the same time as `intervals`.
fn union(mut intervals: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    intervals.retain(|(a, b)| b > a);
    intervals.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(intervals.len());
    for (a, b) in intervals {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Time covered by both of two sorted, disjoint interval lists.
fn overlap_ns(x: &[(u64, u64)], y: &[(u64, u64)]) -> u64 {
    let (mut i, mut j, mut total) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        total = x[i].1.min(y[j].1).saturating_sub(x[i].0.max(y[j].0)).saturating_add(total);
        if x[i].1 < y[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    total
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
