//! Runs collectives on the engine: each rank's progress through its stages, flow by flow.

use crate::collective::{plan, CollectiveOp, CollectiveOutcome, CollectiveRequest, Pattern, Stage};
use crate::engine::{Driver, Engine, NewFlows, Tag};
use crate::flows::route_latency_ns;
use crate::graph::{Fabric, LinkId, NodeId};
use crate::report::LinkLoad;
use crate::route::Router;
use astrolabe_core::InputError;
use serde::Serialize;
use std::collections::HashMap;

/// The outcome of [`simulate_collectives`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveRun {
    /// One outcome per request, in request order.
    pub outcomes: Vec<CollectiveOutcome>,
    /// Bytes per link over the whole run.
    pub links: LinkLoad,
}

/// Simulates `requests` together on `fabric`: their flows share links, so collectives that
/// overlap in time slow each other down where their routes meet.
pub fn simulate_collectives(
    fabric: &Fabric,
    requests: &[CollectiveRequest],
) -> Result<CollectiveRun, InputError> {
    let mut engine = Engine::new(fabric);
    let mut driver = Collectives::new(fabric);
    for (i, req) in requests.iter().enumerate() {
        driver.add(req, &format!("collectives[{i}]"), &mut engine)?;
    }
    let end_ns = engine.run(&mut driver)?;
    let mut outcomes = Vec::with_capacity(requests.len());
    for (i, c) in driver.colls.into_iter().enumerate() {
        if c.pending > 0 {
            let expected =
                format!("every rank to finish; {} ranks were left waiting (a bug)", c.pending);
            return Err(InputError::new(format!("collectives[{i}]"), "ranks", expected));
        }
        outcomes.push(c.outcome);
    }
    let start_ns = requests.iter().map(|r| r.start_ns).min().unwrap_or(0);
    let links = LinkLoad { bytes_per_link: engine.link_bytes, start_ns, end_ns };
    Ok(CollectiveRun { outcomes, links })
}

/// A route stored in the driver's arena, with its latency.
#[derive(Debug, Clone, Copy)]
struct PathRef {
    start: u32,
    len: u32,
    latency_ns: u64,
}

/// One collective in flight.
struct Coll {
    origin: String,
    members: Vec<NodeId>,
    extents: Vec<usize>,
    strides: Vec<usize>,
    stages: Vec<Stage>,
    /// Ring routes per dimension, per member (to its successor along that dimension).
    ring_paths: Vec<Vec<PathRef>>,
    /// Stage each member is in (== stages.len() when done).
    stage_of: Vec<u32>,
    /// Flows received and sent, indexed stage × members + member.
    recv: Vec<u32>,
    sent: Vec<u32>,
    pending: usize,
    outcome: CollectiveOutcome,
}

impl Coll {
    fn coord(&self, m: usize, dim: usize) -> usize {
        m / self.strides[dim] % self.extents[dim]
    }

    /// The member whose coordinate along `dim` is `c`, all others as `m`'s.
    fn member_at(&self, m: usize, dim: usize, c: usize) -> usize {
        m - self.coord(m, dim) * self.strides[dim] + c * self.strides[dim]
    }
}

struct Collectives<'f> {
    fabric: &'f Fabric,
    router: Router<'f>,
    arena: Vec<LinkId>,
    direct: HashMap<(NodeId, NodeId), PathRef>,
    colls: Vec<Coll>,
}

impl<'f> Collectives<'f> {
    fn new(fabric: &'f Fabric) -> Self {
        Collectives {
            fabric,
            router: Router::new(fabric),
            arena: Vec::new(),
            direct: HashMap::new(),
            colls: Vec::new(),
        }
    }

    fn add(
        &mut self,
        req: &CollectiveRequest,
        origin: &str,
        engine: &mut Engine,
    ) -> Result<(), InputError> {
        let (extents, stages) = plan(req, self.fabric.gpu_count(), origin)?;
        let p = req.ranks.len();
        let members: Vec<NodeId> = req.ranks.iter().map(|&r| self.fabric.gpus[r]).collect();
        let strides: Vec<usize> =
            extents.iter().scan(1, |acc, &e| Some(std::mem::replace(acc, *acc * e))).collect();
        let mut ring_paths = vec![Vec::new(); extents.len()];
        for st in stages.iter().filter(|s| s.pattern == Pattern::Ring) {
            if ring_paths[st.dim].is_empty() {
                ring_paths[st.dim] =
                    self.ring_routes(&members, &extents, &strides, st.dim, origin)?;
            }
        }
        let pending = if stages.is_empty() { 0 } else { p };
        let n = stages.len() * p;
        let outcome = CollectiveOutcome {
            start_ns: req.start_ns,
            finish_ns: req.start_ns,
            flows: 0,
            bytes_on_links: 0,
        };
        let coll = Coll {
            origin: origin.into(),
            members,
            extents,
            strides,
            stages,
            ring_paths,
            stage_of: vec![0; p],
            recv: vec![0; n],
            sent: vec![0; n],
            pending,
            outcome,
        };
        self.colls.push(coll);
        let c = self.colls.len() - 1;
        let mut start = NewFlows::default();
        for m in 0..p {
            self.advance(c, m, req.start_ns, &mut start)?;
        }
        engine.schedule(req.start_ns, start);
        Ok(())
    }

    fn ring_routes(
        &mut self,
        members: &[NodeId],
        extents: &[usize],
        strides: &[usize],
        dim: usize,
        origin: &str,
    ) -> Result<Vec<PathRef>, InputError> {
        let (e, s) = (extents[dim], strides[dim]);
        (0..members.len())
            .map(|m| {
                let c = m / s % e;
                let next = m - c * s + (c + 1) % e * s;
                self.route(members[m], members[next], origin)
            })
            .collect()
    }

    fn route(&mut self, a: NodeId, b: NodeId, origin: &str) -> Result<PathRef, InputError> {
        let start = self.arena.len();
        self.router
            .route(a, b, &mut self.arena)
            .map_err(|e| InputError::new(origin, "ranks", e.expected))?;
        let latency_ns = route_latency_ns(self.fabric, &self.arena[start..]);
        Ok(PathRef { start: start as u32, len: (self.arena.len() - start) as u32, latency_ns })
    }

    /// Moves member `m` of collective `c` as far as its received flows allow.
    fn advance(
        &mut self,
        c: usize,
        m: usize,
        now_ns: u64,
        out: &mut NewFlows,
    ) -> Result<(), InputError> {
        loop {
            let coll = &self.colls[c];
            let s = coll.stage_of[m] as usize;
            let Some(st) = coll.stages.get(s).cloned() else { return Ok(()) };
            let i = s * coll.members.len() + m;
            match st.pattern {
                Pattern::Ring => {
                    while self.colls[c].sent[i] < st.sends
                        && self.colls[c].recv[i] >= self.colls[c].sent[i]
                    {
                        let step = self.colls[c].sent[i];
                        self.colls[c].sent[i] += 1;
                        self.send_ring(c, s, &st, m, step as usize, out);
                    }
                }
                Pattern::Direct if self.colls[c].sent[i] == 0 => {
                    self.colls[c].sent[i] = st.sends;
                    self.send_direct(c, s, &st, m, out)?;
                }
                Pattern::Direct => {}
            }
            let coll = &mut self.colls[c];
            if coll.recv[i] < st.sends || coll.sent[i] < st.sends {
                return Ok(());
            }
            coll.stage_of[m] += 1;
            if coll.stage_of[m] as usize == coll.stages.len() {
                coll.pending -= 1;
                coll.outcome.finish_ns = coll.outcome.finish_ns.max(now_ns);
                return Ok(());
            }
        }
    }

    fn send_ring(
        &mut self,
        c: usize,
        s: usize,
        st: &Stage,
        m: usize,
        step: usize,
        out: &mut NewFlows,
    ) {
        let coll = &self.colls[c];
        let coord = coll.coord(m, st.dim);
        let to = coll.member_at(m, st.dim, (coord + 1) % st.extent);
        let bytes = st.segment_bytes((coord + st.extent - step % st.extent) % st.extent);
        let path = coll.ring_paths[st.dim][m];
        self.emit(c, s, to, path, bytes, out);
    }

    fn send_direct(
        &mut self,
        c: usize,
        s: usize,
        st: &Stage,
        m: usize,
        out: &mut NewFlows,
    ) -> Result<(), InputError> {
        let coord = self.colls[c].coord(m, st.dim);
        for t in (0..st.extent).filter(|&t| t != coord) {
            let coll = &self.colls[c];
            let to = coll.member_at(m, st.dim, t);
            let (a, b) = (coll.members[m], coll.members[to]);
            let bytes = st.segment_bytes(if st.op == CollectiveOp::AllGather { coord } else { t });
            let path = match self.direct.get(&(a, b)) {
                Some(p) => *p,
                None => {
                    let origin = self.colls[c].origin.clone();
                    let p = self.route(a, b, &origin)?;
                    self.direct.insert((a, b), p);
                    p
                }
            };
            self.emit(c, s, to, path, bytes, out);
        }
        Ok(())
    }

    fn emit(
        &mut self,
        c: usize,
        s: usize,
        to: usize,
        path: PathRef,
        bytes: u64,
        out: &mut NewFlows,
    ) {
        let links = &self.arena[path.start as usize..(path.start + path.len) as usize];
        let tag = Tag { owner: c as u32, stage: s as u32, receiver: to as u32 };
        out.push(links, bytes, path.latency_ns, tag);
        let outcome = &mut self.colls[c].outcome;
        outcome.flows += 1;
        outcome.bytes_on_links =
            outcome.bytes_on_links.saturating_add(bytes.saturating_mul(u64::from(path.len)));
    }
}

impl Driver for Collectives<'_> {
    fn arrived(&mut self, tag: Tag, now_ns: u64, out: &mut NewFlows) -> Result<(), InputError> {
        let c = tag.owner as usize;
        let m = tag.receiver as usize;
        let coll = &mut self.colls[c];
        let p = coll.members.len();
        coll.recv[tag.stage as usize * p + m] += 1;
        self.advance(c, m, now_ns, out)
    }
}
