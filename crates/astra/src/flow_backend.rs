//! The congestion-aware backend on multi-dimensional networks, which ASTRA-sim's analytical
//! congestion-aware backend refuses: the network becomes an explicit fabric for Astrolabe's
//! flow-level model (`astrolabe_flow`) and each collective is timed there, all its chunks at
//! once, so that they share every link max-min fairly instead of each getting the full
//! bandwidth.
//!
//! The fabric: one GPU per rank; along each dimension, every line of ranks (ranks equal in all
//! other coordinates) is wired as the dimension says: a Ring links each rank to the next (and
//! the last to the first), FullyConnected links every pair, a Switch adds one switch linked to
//! each member. Each cable has the dimension's bandwidth per direction and its latency per hop;
//! the transport is ideal (ASTRA-sim's YAML bandwidth is what messages get).
//!
//! A collective over dimensions `dims` is timed on the group of rank 0 (every group of the same
//! dimensions is laid out alike): `preferred-dataset-splits` chunks start together, each a
//! hierarchical ring collective over the dimensions (reduce-scatter inward, all-reduce on the
//! outermost, all-gather back, for an all-reduce). Not modelled here: ASTRA-sim's endpoint
//! delay and reduction cost, and contention between different collectives (each is timed
//! alone, then placed in the step as a rendezvous). All-to-all needs forwarding through GPUs on
//! rings and is refused.

use crate::collective::CollKind;
use crate::error::{input, AstraError};
use crate::network::{Dim, DimKind, Network};
use astrolabe_flow::{
    simulate_collectives, CableSpec, CollectiveOp, CollectiveRequest, Fabric, LinkClass, NodeId,
    Schedule, Transport,
};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// A collective's shape: kind, whole buffer in bytes, dimensions, chunks.
type Shape = (CollKind, u64, Vec<usize>, u64);

/// The fabric of a network and the collective times found on it so far (each collective shape
/// is simulated once, whichever rank asks).
#[derive(Debug)]
pub struct FlowTimer {
    fabric: Fabric,
    origin: String,
    cache: RefCell<BTreeMap<Shape, u64>>,
}

impl FlowTimer {
    /// The timer of `network` (file `origin`).
    pub fn new(network: &Network, origin: &str) -> Result<FlowTimer, AstraError> {
        Ok(FlowTimer {
            fabric: fabric_of(network, origin)?,
            origin: origin.to_string(),
            cache: RefCell::new(BTreeMap::new()),
        })
    }

    /// [`collective_ns`] on this fabric, memoised.
    pub fn time_ns(
        &self,
        network: &Network,
        kind: CollKind,
        buffer_bytes: u64,
        dims: &[usize],
        chunks: u64,
    ) -> Result<u64, AstraError> {
        let key = (kind, buffer_bytes, dims.to_vec(), chunks);
        if let Some(&t) = self.cache.borrow().get(&key) {
            return Ok(t);
        }
        let t =
            collective_ns(&self.fabric, network, kind, buffer_bytes, dims, chunks, &self.origin)?;
        self.cache.borrow_mut().insert(key, t);
        Ok(t)
    }
}

/// Largest line of a FullyConnected dimension wired pair by pair.
pub const MAX_FULLY_CONNECTED: u64 = 256;

/// The fabric of `network`; `origin` names the network file in errors.
pub fn fabric_of(network: &Network, origin: &str) -> Result<Fabric, AstraError> {
    let mut fabric = Fabric::new(origin);
    let transport = fabric.add_transport(Transport::ideal())?;
    let gpus: Vec<NodeId> =
        (0..network.npus()).map(|_| fabric.add_gpu()).collect::<Result<_, _>>()?;
    let mut stride = 1;
    for (d, dim) in network.dims.iter().enumerate() {
        let spec = CableSpec {
            capacity_bytes_per_s: dim.bandwidth_bytes_per_ns * 1e9,
            latency_ns: dim.latency_ns.round() as u64,
            class: if d == 0 { LinkClass::Nvlink } else { LinkClass::Nic },
            transport,
        };
        for line in lines(network.npus(), stride, dim.npus) {
            let members: Vec<NodeId> = line.iter().map(|&r| gpus[r as usize]).collect();
            wire(&mut fabric, dim, &members, spec, origin, d)?;
        }
        stride *= dim.npus;
    }
    Ok(fabric)
}

/// Ranks of every line along a dimension of `size` ranks whose coordinate has `stride`.
fn lines(npus: u64, stride: u64, size: u64) -> Vec<Vec<u64>> {
    (0..npus)
        .filter(|r| (r / stride) % size == 0)
        .map(|first| (0..size).map(|i| first + i * stride).collect())
        .collect()
}

fn wire(
    fabric: &mut Fabric,
    dim: &Dim,
    members: &[NodeId],
    spec: CableSpec,
    origin: &str,
    d: usize,
) -> Result<(), AstraError> {
    let n = members.len();
    match dim.kind {
        _ if n < 2 => {}
        DimKind::Ring => {
            let pairs = if n == 2 { 1 } else { n };
            for i in 0..pairs {
                fabric.add_cable(members[i], members[(i + 1) % n], spec)?;
            }
        }
        DimKind::FullyConnected if n as u64 > MAX_FULLY_CONNECTED => {
            let expected = format!(
                "at most {MAX_FULLY_CONNECTED} ranks in a FullyConnected dimension for the \
                 congestion-aware backend, found {n}"
            );
            return Err(input(origin, &format!("npus_count[{d}]"), expected));
        }
        DimKind::FullyConnected => {
            for i in 0..n {
                for j in i + 1..n {
                    fabric.add_cable(members[i], members[j], spec)?;
                }
            }
        }
        DimKind::Switch => {
            let switch = fabric.add_switch(format!("dim{d}-switch-{}", members[0]))?;
            for &m in members {
                fabric.add_cable(m, switch, spec)?;
            }
        }
    }
    Ok(())
}

/// Time of one collective of `kind` on `buffer_bytes` (the whole buffer; an all-gather's
/// output) over `dims`, split into `chunks` chunks that run at once on `fabric`.
pub fn collective_ns(
    fabric: &Fabric,
    network: &Network,
    kind: CollKind,
    buffer_bytes: u64,
    dims: &[usize],
    chunks: u64,
    origin: &str,
) -> Result<u64, AstraError> {
    let op = match kind {
        CollKind::AllReduce => CollectiveOp::AllReduce,
        CollKind::ReduceScatter => CollectiveOp::ReduceScatter,
        CollKind::AllGather => CollectiveOp::AllGather,
        CollKind::AllToAll => {
            let expected = "ALL_REDUCE, REDUCE_SCATTER or ALL_GATHER on a multi-dimensional \
                            network with the congestion-aware backend (all-to-all would need \
                            forwarding through GPUs)";
            return Err(input(origin, "comm_type", expected));
        }
    };
    let ranks = group_of_rank_zero(network, dims);
    let extents: Vec<usize> = dims.iter().map(|&d| network.dims[d].npus as usize).collect();
    let chunks = chunks.max(1);
    let request = CollectiveRequest {
        op,
        schedule: Schedule::Hierarchical { extents },
        ranks,
        bytes: buffer_bytes.div_ceil(chunks),
        start_ns: 0,
    };
    let requests = vec![request; chunks as usize];
    let run = simulate_collectives(fabric, &requests)?;
    Ok(run.outcomes.iter().map(|o| o.finish_ns).max().unwrap_or(0))
}

/// Ranks of the group over `dims` that holds rank 0, in mixed-radix order (first of `dims`
/// fastest).
fn group_of_rank_zero(network: &Network, dims: &[usize]) -> Vec<usize> {
    let stride = |d: usize| network.dims[..d].iter().map(|x| x.npus).product::<u64>();
    let size: u64 = dims.iter().map(|&d| network.dims[d].npus).product();
    (0..size)
        .map(|mut index| {
            let mut rank = 0;
            for &d in dims {
                let n = network.dims[d].npus;
                rank += (index % n) * stride(d);
                index /= n;
            }
            rank as usize
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::parse_network;

    fn net(text: &str) -> Network {
        parse_network(text, "n.yml").unwrap()
    }

    #[test]
    fn lines_cover_every_rank_once_per_dimension() {
        // 2 × 3: dimension 0 lines {0,1} {2,3} {4,5}; dimension 1 lines {0,2,4} {1,3,5}.
        assert_eq!(lines(6, 1, 2), vec![vec![0, 1], vec![2, 3], vec![4, 5]]);
        assert_eq!(lines(6, 2, 3), vec![vec![0, 2, 4], vec![1, 3, 5]]);
    }

    #[test]
    fn groups_are_in_mixed_radix_order() {
        let n = net("topology: [ Ring, Switch, Ring ]\nnpus_count: [ 2, 3, 2 ]\nbandwidth: [ 1, 1, 1 ]\nlatency: [ 1, 1, 1 ]");
        assert_eq!(group_of_rank_zero(&n, &[0, 1]), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(group_of_rank_zero(&n, &[1, 2]), vec![0, 2, 4, 6, 8, 10]);
        assert_eq!(group_of_rank_zero(&n, &[0, 2]), vec![0, 1, 6, 7]);
    }

    /// 2 × 2 rings at 1 GB/s (2^30 bytes/s) and 100 ns per hop, 1 MiB all-reduce in one chunk:
    /// reduce-scatter in dimension 0 (one step of C/2), all-reduce in dimension 1 (two steps of
    /// C/4), all-gather in dimension 0 (one step of C/2): 1.5 C at 2^30 B/s = 1,464,843.75 ns,
    /// plus 4 hops of 100 ns. Two chunks share the links and take the same time in total.
    #[test]
    fn a_hierarchical_all_reduce_takes_its_bytes_over_the_bandwidth() {
        let n = net("topology: [ Ring, Ring ]\nnpus_count: [ 2, 2 ]\nbandwidth: [ 1, 1 ]\nlatency: [ 100, 100 ]");
        let f = fabric_of(&n, "n.yml").unwrap();
        let t = |chunks| collective_ns(&f, &n, CollKind::AllReduce, 1 << 20, &[0, 1], chunks, "w");
        let one = t(1).unwrap() as f64;
        assert!((one / (1_464_843.75 + 400.0) - 1.0).abs() < 1e-3, "{one}");
        let two = t(2).unwrap() as f64;
        assert!((two / one - 1.0).abs() < 0.01, "two chunks {two} vs one {one}");
    }

    #[test]
    fn all_to_all_is_refused_by_name() {
        let n = net("topology: [ Ring, Ring ]\nnpus_count: [ 2, 2 ]\nbandwidth: [ 1, 1 ]\nlatency: [ 1, 1 ]");
        let f = fabric_of(&n, "n.yml").unwrap();
        let e = collective_ns(&f, &n, CollKind::AllToAll, 1024, &[0, 1], 1, "w").unwrap_err();
        assert!(e.to_string().contains("all-to-all"), "{e}");
    }
}
