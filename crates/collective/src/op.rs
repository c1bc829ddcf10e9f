//! The collective operations and nccl-tests' bus-bandwidth factors.

use astrolabe_core::InputError;
use serde::Serialize;
use std::fmt;

/// A collective (or point-to-point) communication operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectiveOp {
    /// Every rank ends with the element-wise sum of all ranks' buffers.
    AllReduce,
    /// Every rank ends with its 1/n share of the summed buffer.
    ReduceScatter,
    /// Every rank ends with the concatenation of all ranks' 1/n shares.
    AllGather,
    /// Every rank sends a distinct 1/n of its buffer to each rank.
    AllToAll,
    /// One rank's buffer is copied to all.
    Broadcast,
    /// The sum of all buffers lands on one rank.
    Reduce,
    /// One rank sends its buffer to another.
    SendRecv,
}

impl CollectiveOp {
    /// Every operation, in a fixed order (for sweeps and help text).
    pub const ALL: [CollectiveOp; 7] = [
        CollectiveOp::AllReduce,
        CollectiveOp::ReduceScatter,
        CollectiveOp::AllGather,
        CollectiveOp::AllToAll,
        CollectiveOp::Broadcast,
        CollectiveOp::Reduce,
        CollectiveOp::SendRecv,
    ];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            CollectiveOp::AllReduce => "all-reduce",
            CollectiveOp::ReduceScatter => "reduce-scatter",
            CollectiveOp::AllGather => "all-gather",
            CollectiveOp::AllToAll => "all-to-all",
            CollectiveOp::Broadcast => "broadcast",
            CollectiveOp::Reduce => "reduce",
            CollectiveOp::SendRecv => "send-recv",
        }
    }

    /// Parses a name such as `all-reduce` (underscores are accepted too).
    pub fn parse(text: &str, origin: &str) -> Result<CollectiveOp, InputError> {
        let wanted = text.trim().replace('_', "-").to_ascii_lowercase();
        Self::ALL.into_iter().find(|op| op.name() == wanted).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|o| o.name()).collect();
            InputError::new(origin, text, format!("one of {}", names.join(", ")))
        })
    }

    /// nccl-tests' factor from algorithm bandwidth to bus bandwidth for `n` ranks:
    /// 2(n−1)/n for all-reduce, (n−1)/n for reduce-scatter, all-gather and all-to-all, 1 else.
    pub fn busbw_factor(self, n: usize) -> f64 {
        let n = n as f64;
        match self {
            CollectiveOp::AllReduce => 2.0 * (n - 1.0) / n,
            CollectiveOp::ReduceScatter | CollectiveOp::AllGather | CollectiveOp::AllToAll => {
                (n - 1.0) / n
            }
            CollectiveOp::Broadcast | CollectiveOp::Reduce | CollectiveOp::SendRecv => 1.0,
        }
    }
}

impl fmt::Display for CollectiveOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busbw_factors_follow_nccl_tests() {
        assert_eq!(CollectiveOp::AllReduce.busbw_factor(8), 1.75);
        assert_eq!(CollectiveOp::AllGather.busbw_factor(8), 0.875);
        assert_eq!(CollectiveOp::ReduceScatter.busbw_factor(4), 0.75);
        assert_eq!(CollectiveOp::AllToAll.busbw_factor(2), 0.5);
        assert_eq!(CollectiveOp::Broadcast.busbw_factor(8), 1.0);
    }

    #[test]
    fn parses_names_and_rejects_unknown() {
        assert_eq!(CollectiveOp::parse("all_reduce", "--op").unwrap(), CollectiveOp::AllReduce);
        assert_eq!(CollectiveOp::parse("All-To-All", "--op").unwrap(), CollectiveOp::AllToAll);
        let e = CollectiveOp::parse("allreduce2", "--op").unwrap_err();
        assert!(e.expected.contains("all-reduce"));
    }
}
