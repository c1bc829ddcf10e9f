//! Collectives as per-step flows: the requests, their checks and their stages.
//!
//! A collective runs as stages. A stage runs on one dimension of the group (the ranks are
//! listed innermost first, mixed radix over `extents`, as `astrolabe_network::Group` numbers
//! them): every line of ranks along that dimension runs the stage at once.
//! - Ring reduce-scatter / all-gather: p−1 steps; all-reduce: 2(p−1). In step k each rank sends
//!   one 1/p segment of its stage buffer to its ring successor; a rank sends step k once it has
//!   received step k−1 from its predecessor.
//! - Direct: each rank sends a 1/p segment to every other rank at once (all-to-all,
//!   reduce-scatter, all-gather; all-reduce is a direct reduce-scatter then all-gather).
//! - Hierarchical over extents (e0, e1, …, ek): all-reduce is reduce-scatter rings on dims
//!   0..k−1 (the buffer shrinking by each extent, rounded up), an all-reduce ring on dim k, then
//!   all-gather rings back down; reduce-scatter goes up only; all-gather goes down only.
//!
//! A rank enters its next stage as soon as it has finished the previous one (sent and received
//! everything), so stages of different lines overlap as they would in practice.

use astrolabe_core::InputError;
use serde::{Deserialize, Serialize};

/// Largest buffer a request may move, in bytes (1 PiB): keeps byte counters far from overflow.
pub const MAX_BYTES: u64 = 1 << 50;

/// Largest group a direct stage may span (it starts p·(p−1) flows at once).
pub const MAX_DIRECT_GROUP: usize = 4_096;

/// The collective operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectiveOp {
    /// Sum of every rank's buffer on every rank.
    AllReduce,
    /// Each rank ends with its 1/p of the sum.
    ReduceScatter,
    /// Each rank ends with everyone's 1/p pieces.
    AllGather,
    /// Each rank sends a distinct 1/p of its buffer to every rank.
    AllToAll,
}

/// How the collective is laid out in flows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// One ring over the ranks in the order given.
    Ring,
    /// Every rank to every other at once.
    Direct,
    /// Rings per dimension; `extents` multiply to the number of ranks, innermost first.
    Hierarchical {
        /// Ranks along each dimension, innermost first.
        extents: Vec<usize>,
    },
}

/// One collective to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectiveRequest {
    /// The operation.
    pub op: CollectiveOp,
    /// The flow layout.
    pub schedule: Schedule,
    /// GPU ranks of the group, in ring (or mixed-radix) order.
    pub ranks: Vec<usize>,
    /// Buffer per rank, nccl-tests convention (input of reduce-scatter, output of all-gather).
    pub bytes: u64,
    /// When every rank starts, in ns.
    pub start_ns: u64,
}

/// How one collective went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveOutcome {
    /// When it started, in ns.
    pub start_ns: u64,
    /// When its last rank finished, in ns.
    pub finish_ns: u64,
    /// Flows it started.
    pub flows: u64,
    /// Σ over its flows of bytes × hops.
    pub bytes_on_links: u64,
}

impl CollectiveOutcome {
    /// Completion time, in ns.
    pub fn duration_ns(&self) -> u64 {
        self.finish_ns - self.start_ns
    }
}

/// Ring or direct exchange within a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    Ring,
    Direct,
}

/// One stage: a pattern on one dimension, with the buffer each rank enters it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stage {
    pub op: CollectiveOp,
    pub pattern: Pattern,
    pub dim: usize,
    pub extent: usize,
    pub buffer_bytes: u64,
    /// Flows each rank sends (and receives) in the stage.
    pub sends: u32,
}

impl Stage {
    fn new(
        op: CollectiveOp,
        pattern: Pattern,
        dim: usize,
        extent: usize,
        buffer_bytes: u64,
    ) -> Stage {
        let p = extent as u32;
        let sends = match (pattern, op) {
            (Pattern::Ring, CollectiveOp::AllReduce) => 2 * (p - 1),
            _ => p - 1,
        };
        Stage { op, pattern, dim, extent, buffer_bytes, sends }
    }

    /// Bytes of segment `i` when the stage buffer is cut into `extent` near-equal pieces.
    pub fn segment_bytes(&self, i: usize) -> u64 {
        let (b, p) = (self.buffer_bytes, self.extent as u64);
        let i = i as u64 % p;
        match b.checked_mul(i + 1) {
            Some(hi) => hi / p - b * i / p,
            None => {
                let (b, p, i) = (u128::from(b), u128::from(p), u128::from(i));
                (b * (i + 1) / p - b * i / p) as u64
            }
        }
    }
}

/// Checks `req` against a fabric of `gpus` GPUs; returns its extents and stages.
pub(crate) fn plan(
    req: &CollectiveRequest,
    gpus: usize,
    origin: &str,
) -> Result<(Vec<usize>, Vec<Stage>), InputError> {
    check_ranks(&req.ranks, gpus, origin)?;
    if req.bytes > MAX_BYTES {
        let expected = format!("at most {MAX_BYTES} bytes (1 PiB), got {}", req.bytes);
        return Err(InputError::new(origin, "bytes", expected));
    }
    let p = req.ranks.len();
    let extents = match &req.schedule {
        Schedule::Ring | Schedule::Direct => vec![p],
        Schedule::Hierarchical { extents } => extents.clone(),
    };
    if extents.contains(&0) || extents.iter().try_fold(1usize, |a, e| a.checked_mul(*e)) != Some(p)
    {
        let expected = format!(
            "extents of at least 1 whose product is the number of ranks ({p}), got {extents:?}"
        );
        return Err(InputError::new(origin, "schedule.extents", expected));
    }
    let stages = match (&req.schedule, req.op) {
        (Schedule::Direct, op) => direct_stages(op, p, req.bytes, origin)?,
        (_, CollectiveOp::AllToAll) => {
            return Err(InputError::new(origin, "schedule", "direct for all-to-all"));
        }
        (_, op) => ring_stages(op, &extents, req.bytes),
    };
    Ok((extents, stages))
}

fn check_ranks(ranks: &[usize], gpus: usize, origin: &str) -> Result<(), InputError> {
    if ranks.is_empty() {
        return Err(InputError::new(origin, "ranks", "at least one GPU rank"));
    }
    let mut seen = vec![false; gpus];
    for (i, &r) in ranks.iter().enumerate() {
        let field = format!("ranks[{i}]");
        match seen.get_mut(r) {
            None => {
                return Err(InputError::new(
                    origin,
                    field,
                    format!("a GPU rank below {gpus}, got {r}"),
                ))
            }
            Some(true) => {
                return Err(InputError::new(
                    origin,
                    field,
                    format!("distinct ranks; {r} appears twice"),
                ))
            }
            Some(s) => *s = true,
        }
    }
    Ok(())
}

fn direct_stages(
    op: CollectiveOp,
    p: usize,
    bytes: u64,
    origin: &str,
) -> Result<Vec<Stage>, InputError> {
    if p > MAX_DIRECT_GROUP {
        let expected = format!("at most {MAX_DIRECT_GROUP} ranks for a direct schedule, got {p}");
        return Err(InputError::new(origin, "ranks", expected));
    }
    if p == 1 {
        return Ok(Vec::new());
    }
    let stage = |op| Stage::new(op, Pattern::Direct, 0, p, bytes);
    Ok(match op {
        CollectiveOp::AllReduce => {
            vec![stage(CollectiveOp::ReduceScatter), stage(CollectiveOp::AllGather)]
        }
        op => vec![stage(op)],
    })
}

/// Ring stages per dimension (dimensions of extent 1 are skipped).
fn ring_stages(op: CollectiveOp, extents: &[usize], bytes: u64) -> Vec<Stage> {
    // Buffer entering dimension j: the whole buffer shrunk by every inner extent.
    let mut buffer = Vec::with_capacity(extents.len());
    let mut b = bytes;
    for &e in extents {
        buffer.push(b);
        b = b.div_ceil(e as u64);
    }
    let dims: Vec<usize> = (0..extents.len()).filter(|&j| extents[j] > 1).collect();
    let ring = |op, j: usize| Stage::new(op, Pattern::Ring, j, extents[j], buffer[j]);
    let up = dims.iter().map(|&j| ring(CollectiveOp::ReduceScatter, j));
    let down = dims.iter().rev().map(|&j| ring(CollectiveOp::AllGather, j));
    match (op, dims.split_last()) {
        (_, None) => Vec::new(),
        (CollectiveOp::AllReduce, Some((&top, inner))) => {
            let rs = inner.iter().map(|&j| ring(CollectiveOp::ReduceScatter, j));
            let ag = inner.iter().rev().map(|&j| ring(CollectiveOp::AllGather, j));
            rs.chain([ring(CollectiveOp::AllReduce, top)]).chain(ag).collect()
        }
        (CollectiveOp::ReduceScatter, _) => up.collect(),
        _ => down.collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(op: CollectiveOp, schedule: Schedule, ranks: Vec<usize>) -> CollectiveRequest {
        CollectiveRequest { op, schedule, ranks, bytes: 1024, start_ns: 0 }
    }

    #[test]
    fn hierarchical_all_reduce_goes_up_then_down() {
        let r = req(
            CollectiveOp::AllReduce,
            Schedule::Hierarchical { extents: vec![8, 1, 4] },
            (0..32).collect(),
        );
        let (_, stages) = plan(&r, 32, "c").unwrap();
        let shape: Vec<_> = stages.iter().map(|s| (s.op, s.dim, s.buffer_bytes, s.sends)).collect();
        use CollectiveOp::*;
        assert_eq!(
            shape,
            vec![(ReduceScatter, 0, 1024, 7), (AllReduce, 2, 128, 6), (AllGather, 0, 1024, 7)]
        );
        assert_eq!(stages[0].segment_bytes(3), 128);
    }

    #[test]
    fn bad_requests_name_the_field() {
        let cases = [
            (req(CollectiveOp::AllReduce, Schedule::Ring, vec![0, 9]), "ranks[1]"),
            (req(CollectiveOp::AllReduce, Schedule::Ring, vec![1, 1]), "ranks[1]"),
            (req(CollectiveOp::AllReduce, Schedule::Ring, vec![]), "ranks"),
            (req(CollectiveOp::AllToAll, Schedule::Ring, vec![0, 1]), "schedule"),
            (
                req(
                    CollectiveOp::AllReduce,
                    Schedule::Hierarchical { extents: vec![3] },
                    vec![0, 1],
                ),
                "schedule.extents",
            ),
        ];
        for (r, field) in cases {
            assert_eq!(plan(&r, 8, "collectives[0]").unwrap_err().field, field);
        }
    }
}
