//! Independent point-to-point flows: the simplest use of the engine.

use crate::collective::MAX_BYTES;
use crate::engine::{Driver, Engine, NewFlows, Tag};
use crate::graph::{Fabric, LinkId};
use crate::report::LinkLoad;
use crate::route::Router;
use astrolabe_core::InputError;
use serde::{Deserialize, Serialize};

/// One transfer between two GPUs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowRequest {
    /// Sending GPU rank.
    pub src: usize,
    /// Receiving GPU rank.
    pub dst: usize,
    /// Bytes to move.
    pub bytes: u64,
    /// When the first byte may leave, in ns.
    pub start_ns: u64,
}

/// How one flow went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowOutcome {
    /// When its last byte arrived, in ns.
    pub finish_ns: u64,
    /// Links on its route.
    pub hops: usize,
}

/// The outcome of [`simulate_flows`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRun {
    /// One outcome per request, in request order.
    pub flows: Vec<FlowOutcome>,
    /// Bytes per link.
    pub links: LinkLoad,
}

/// Latency of a route: its hops' latencies plus the largest message overhead of its transports.
pub(crate) fn route_latency_ns(fabric: &Fabric, path: &[LinkId]) -> u64 {
    let hops: u64 = path.iter().map(|&l| fabric.links[l as usize].latency_ns).sum();
    let overhead = path
        .iter()
        .map(|&l| fabric.transports[fabric.links[l as usize].transport].message_overhead_ns)
        .max()
        .unwrap_or(0);
    hops + overhead
}

struct Recorder {
    finish_ns: Vec<u64>,
}

impl Driver for Recorder {
    fn arrived(&mut self, tag: Tag, now_ns: u64, _: &mut NewFlows) -> Result<(), InputError> {
        self.finish_ns[tag.owner as usize] = now_ns;
        Ok(())
    }
}

/// Runs `flows` over `fabric`, sharing links max-min fairly.
pub fn simulate_flows(fabric: &Fabric, flows: &[FlowRequest]) -> Result<FlowRun, InputError> {
    let mut engine = Engine::new(fabric);
    let mut router = Router::new(fabric);
    let mut hops = Vec::with_capacity(flows.len());
    let mut path = Vec::new();
    for (i, f) in flows.iter().enumerate() {
        let origin = format!("flows[{i}]");
        let src = fabric.gpu(f.src, &origin, "src")?;
        let dst = fabric.gpu(f.dst, &origin, "dst")?;
        if f.bytes > MAX_BYTES {
            let expected = format!("at most {MAX_BYTES} bytes (1 PiB), got {}", f.bytes);
            return Err(InputError::new(origin, "bytes", expected));
        }
        if src == dst {
            return Err(InputError::new(origin, "dst", "a GPU other than the source"));
        }
        path.clear();
        router
            .route(src, dst, &mut path)
            .map_err(|e| InputError::new(&origin, "dst", e.expected))?;
        let mut start = NewFlows::default();
        let tag = Tag { owner: i as u32, stage: 0, receiver: 0 };
        start.push(&path, f.bytes, route_latency_ns(fabric, &path), tag);
        engine.schedule(f.start_ns, start);
        hops.push(path.len());
    }
    let mut recorder = Recorder { finish_ns: vec![0; flows.len()] };
    let end_ns = engine.run(&mut recorder)?;
    let start_ns = flows.iter().map(|f| f.start_ns).min().unwrap_or(0);
    let outcomes = recorder
        .finish_ns
        .into_iter()
        .zip(hops)
        .map(|(finish_ns, hops)| FlowOutcome { finish_ns, hops })
        .collect();
    Ok(FlowRun {
        flows: outcomes,
        links: LinkLoad { bytes_per_link: engine.link_bytes, start_ns, end_ns },
    })
}
