//! Turns the traces of every rank into one engine graph.
//!
//! Per rank: a `compute` stream (COMP nodes), a `cpu` stream (COMP nodes with `is_cpu_op`) and a
//! `comm` stream (collectives, sends, memory accesses), each in program order; receives and
//! metadata nodes take no slot and get a stream of their own. A collective is one task per member
//! rank sharing a rendezvous; a receive depends on the matching send (same source, destination
//! and tag, matched in order).

use crate::collective::Ctx;
use crate::error::{input, AstraError};
use crate::memory::{CommGroups, PortOf, RemoteMemory};
use crate::node::{self, GroupKey};
use astrolabe_chakra::{validate_dependencies, Node, NodeType, Trace};
use astrolabe_engine::{Category, Graph, Task, TaskId};
use std::collections::BTreeMap;

/// One rank's trace and the file it came from.
#[derive(Debug, Clone)]
pub struct RankTrace {
    /// The file name, for errors.
    pub origin: String,
    /// The trace.
    pub trace: Trace,
}

/// The graph and, per task, the rank it belongs to.
pub(crate) struct Built {
    pub graph: Graph,
    pub task_rank: Vec<u64>,
}

struct Rendezvous {
    id: usize,
    members: u64,
    seen: Vec<u64>,
    what: (Option<crate::collective::CollKind>, u64),
    label: String,
}

type Channel = (u64, u64, u64);

pub(crate) struct Builder<'a> {
    pub ctx: Ctx<'a>,
    pub memory: RemoteMemory,
    pub groups: Option<&'a CommGroups>,
    pub custom: Option<&'a [RankTrace]>,
    graph: Graph,
    stream_rank: Vec<u64>,
    streams: BTreeMap<(u64, &'static str), usize>,
    sends: BTreeMap<Channel, Vec<TaskId>>,
    recvs: BTreeMap<Channel, Vec<TaskId>>,
    rendezvous: BTreeMap<(GroupKey, u64), Rendezvous>,
    occurrences: BTreeMap<(u64, GroupKey), u64>,
    /// Shared memory ports (node index or pool) and their arrival-order stream.
    ports: BTreeMap<u64, usize>,
    /// Communication streams and their rank.
    comm_streams: BTreeMap<usize, u64>,
    /// Per rank, its last task holding the communication slot.
    last_comm: BTreeMap<u64, TaskId>,
    /// Per rank, an access on a shared port that its next communication task must wait for.
    pending_access: BTreeMap<u64, TaskId>,
    /// Accesses on shared ports and the rank that issued each.
    access_rank: BTreeMap<TaskId, u64>,
}

impl<'a> Builder<'a> {
    pub fn new(
        ctx: Ctx<'a>,
        memory: RemoteMemory,
        groups: Option<&'a CommGroups>,
        custom: Option<&'a [RankTrace]>,
    ) -> Self {
        Builder {
            ctx,
            memory,
            groups,
            custom,
            graph: Graph::default(),
            stream_rank: Vec::new(),
            streams: BTreeMap::new(),
            sends: BTreeMap::new(),
            recvs: BTreeMap::new(),
            rendezvous: BTreeMap::new(),
            occurrences: BTreeMap::new(),
            ports: BTreeMap::new(),
            comm_streams: BTreeMap::new(),
            last_comm: BTreeMap::new(),
            pending_access: BTreeMap::new(),
            access_rank: BTreeMap::new(),
        }
    }

    /// Adds every node of `rank`'s trace.
    pub fn add_rank(&mut self, rank: u64, t: &RankTrace) -> Result<(), AstraError> {
        self.add_nodes(rank, t, &[], true).map(|_| ())
    }

    /// Adds `t`'s nodes for `rank`; roots also wait for `entry`. Returns every task added.
    fn add_nodes(
        &mut self,
        rank: u64,
        t: &RankTrace,
        entry: &[TaskId],
        top: bool,
    ) -> Result<Vec<TaskId>, AstraError> {
        let nodes = &t.trace.nodes;
        validate_dependencies(nodes, &t.origin)?;
        let mut task_of: BTreeMap<u64, TaskId> = BTreeMap::new();
        let mut added = Vec::with_capacity(nodes.len());
        for i in node::program_order(nodes) {
            let n = &nodes[i];
            let mut deps: Vec<TaskId> = n
                .ctrl_deps
                .iter()
                .chain(&n.data_deps)
                .filter_map(|d| task_of.get(d).copied())
                .collect();
            if deps.is_empty() {
                deps.extend_from_slice(entry);
            }
            let task = self.add_node(rank, n, deps, &t.origin, top)?;
            task_of.insert(n.id, task);
            added.push(task);
        }
        Ok(added)
    }

    fn add_node(
        &mut self,
        rank: u64,
        n: &Node,
        deps: Vec<TaskId>,
        origin: &str,
        top: bool,
    ) -> Result<TaskId, AstraError> {
        let label = format!("rank {rank} node {} {}", n.id, n.name);
        let (stream, duration_ns, category) = match node::node_type(n, origin)? {
            NodeType::Comp => {
                let cpu = n.attr_bool("is_cpu_op").map_err(|e| e.in_file(origin))?.unwrap_or(false);
                let d = node::compute_ns(n, self.ctx.system, origin, self.ctx.system_origin)?;
                (self.stream(rank, if cpu { "cpu" } else { "compute" }), d, Category::Compute)
            }
            NodeType::CommColl => return self.add_collective(rank, n, deps, origin, top, label),
            NodeType::CommSend => {
                let d = self.send_ns(rank, n, origin)?;
                let s = self.stream(rank, "comm");
                let task = self.push(label, s, d, deps, None, Category::PpComm);
                let key = (
                    rank,
                    node::require(n, "comm_dst", origin)?,
                    node::optional(n, "comm_tag", origin)?.unwrap_or(0),
                );
                self.sends.entry(key).or_default().push(task);
                return Ok(task);
            }
            NodeType::CommRecv => {
                let key = (
                    node::require(n, "comm_src", origin)?,
                    rank,
                    node::optional(n, "comm_tag", origin)?.unwrap_or(0),
                );
                let s = self.own_stream(rank);
                let task = self.push(label, s, 0, deps, None, Category::PpComm);
                self.recvs.entry(key).or_default().push(task);
                return Ok(task);
            }
            NodeType::MemLoad | NodeType::MemStore => {
                let bytes = node::require(n, "tensor_size", origin)?;
                let (Some(d), Some(port)) =
                    (self.memory.access_ns(bytes), self.memory.port_of(rank))
                else {
                    let expected =
                        "no memory node: the remote-memory file says NO_MEMORY_EXPANSION";
                    return Err(input(origin, &format!("node {}: type", n.id), expected));
                };
                match port {
                    PortOf::Own => (self.stream(rank, "comm"), d, Category::PpComm),
                    PortOf::Shared(key) => return Ok(self.push_shared(rank, key, label, d, deps)),
                }
            }
            NodeType::Metadata | NodeType::Invalid => (self.own_stream(rank), 0, Category::Compute),
        };
        Ok(self.push(label, stream, duration_ns, deps, None, category))
    }

    fn send_ns(&self, rank: u64, n: &Node, origin: &str) -> Result<u64, AstraError> {
        let net = self.ctx.network;
        let dst = node::require(n, "comm_dst", origin)?;
        let bytes = node::require(n, "comm_size", origin)?;
        let field = format!("node {}: comm_dst", n.id);
        match net.route(rank, dst) {
            Some((dim, hops)) if dst < net.npus() => {
                Ok(crate::collective::message_ns(&net.dims[dim], hops, bytes, self.ctx.backend))
            }
            _ => Err(input(
                origin,
                &field,
                format!("a rank other than {rank} below {}, found {dst}", net.npus()),
            )),
        }
    }

    fn add_collective(
        &mut self,
        rank: u64,
        n: &Node,
        deps: Vec<TaskId>,
        origin: &str,
        top: bool,
        label: String,
    ) -> Result<TaskId, AstraError> {
        let kind = node::coll_kind(n, origin)?;
        // A barrier moves no data: its `comm_size` may be absent.
        let bytes = match kind {
            Some(_) => node::require(n, "comm_size", origin)?,
            None => node::optional(n, "comm_size", origin)?.unwrap_or(0),
        };
        if let (Some(custom), Some(crate::collective::CollKind::AllReduce)) = (self.custom, kind) {
            if !top {
                return Err(input(
                    origin,
                    &format!("node {}: type", n.id),
                    "no collective inside a custom collective's trace",
                ));
            }
            let t = custom.get(rank as usize).ok_or_else(|| {
                input(
                    self.ctx.system_origin,
                    "all-reduce-implementation-custom",
                    format!("a trace for rank {rank}"),
                )
            })?;
            let inner = self.add_nodes(rank, t, &deps, false)?;
            let s = self.own_stream(rank);
            return Ok(self.push(label, s, 0, inner, None, Category::DpComm));
        }
        let key = node::group_key(n, rank, self.ctx.network, self.groups, origin)?;
        let k = self.occurrences.entry((rank, key.clone())).or_insert(0);
        let occurrence = *k;
        *k += 1;
        let duration = match kind {
            Some(kind) => self.ctx.collective_ns(kind, bytes, &key.dims)?,
            None => 0,
        };
        let members = key.dims.iter().map(|&d| self.ctx.network.dims[d].npus).product();
        let next_id = self.rendezvous.len();
        let r = self.rendezvous.entry((key, occurrence)).or_insert_with(|| Rendezvous {
            id: next_id,
            members,
            seen: Vec::new(),
            what: (kind, bytes),
            label: label.clone(),
        });
        if r.what != (kind, bytes) {
            let expected = format!("the same collective and comm_size as `{}` of the same group: {:?} of {} bytes, found {kind:?} of {bytes} bytes", r.label, r.what.0, r.what.1);
            return Err(input(origin, &format!("node {}", n.id), expected));
        }
        r.seen.push(rank);
        let id = r.id;
        let s = self.stream(rank, "comm");
        Ok(self.push(label, s, duration, deps, Some(id), Category::DpComm))
    }

    /// Adds a task; one on a communication stream also waits for its rank's pending access on a
    /// shared memory port, so a rank still runs one communication node at a time.
    fn push(
        &mut self,
        label: String,
        stream: usize,
        duration_ns: u64,
        mut deps: Vec<TaskId>,
        rendezvous: Option<usize>,
        category: Category,
    ) -> TaskId {
        let rank = self.comm_streams.get(&stream).copied();
        if let Some(access) = rank.and_then(|r| self.pending_access.remove(&r)) {
            deps.push(access);
        }
        let task = self.graph.add(Task { label, stream, duration_ns, deps, rendezvous, category });
        if let Some(r) = rank {
            self.last_comm.insert(r, task);
        }
        task
    }

    /// Adds a memory access of `rank` on the shared port `key`: it queues there in arrival order
    /// once the rank's previous communication node is done, and holds the rank's slot.
    fn push_shared(
        &mut self,
        rank: u64,
        key: u64,
        label: String,
        duration_ns: u64,
        mut deps: Vec<TaskId>,
    ) -> TaskId {
        let stream = match self.ports.get(&key) {
            Some(&s) => s,
            None => {
                let name = match key {
                    u64::MAX => "memory pool".to_string(),
                    node => format!("node {node} memory"),
                };
                let s = self.graph.add_fifo_stream(name);
                self.stream_rank.push(u64::MAX);
                self.ports.insert(key, s);
                s
            }
        };
        deps.extend(self.last_comm.get(&rank).copied());
        let category = Category::PpComm;
        let task =
            self.graph.add(Task { label, stream, duration_ns, deps, rendezvous: None, category });
        self.access_rank.insert(task, rank);
        self.pending_access.insert(rank, task);
        self.last_comm.insert(rank, task);
        task
    }

    fn stream(&mut self, rank: u64, kind: &'static str) -> usize {
        if let Some(&s) = self.streams.get(&(rank, kind)) {
            return s;
        }
        let s = self.graph.add_stream(format!("rank {rank} {kind}"));
        self.stream_rank.push(rank);
        self.streams.insert((rank, kind), s);
        if kind == "comm" {
            self.comm_streams.insert(s, rank);
        }
        s
    }

    fn own_stream(&mut self, rank: u64) -> usize {
        self.stream_rank.push(rank);
        self.graph.add_stream(format!("rank {rank} free"))
    }

    /// Matches receives to sends and checks every collective was reached by its whole group.
    pub fn finish(mut self, workload: &str) -> Result<Built, AstraError> {
        for (&(src, dst, tag), recvs) in &self.recvs {
            let sends = self.sends.remove(&(src, dst, tag)).unwrap_or_default();
            if sends.len() != recvs.len() {
                let expected = format!("as many sends from rank {src} to rank {dst} with tag {tag} as receives: {} receives, {} sends", recvs.len(), sends.len());
                return Err(input(workload, "comm_src/comm_dst/comm_tag", expected));
            }
            for (&r, s) in recvs.iter().zip(sends) {
                self.graph.tasks[r].deps.push(s);
            }
        }
        if let Some(((src, dst, tag), sends)) = self.sends.iter().next() {
            let expected = format!("a receive for each send: rank {src} sends {} message(s) to rank {dst} with tag {tag} that no receive matches", sends.len());
            return Err(input(workload, "comm_src/comm_dst/comm_tag", expected));
        }
        if let Some(r) = self.rendezvous.values().find(|r| r.seen.len() as u64 != r.members) {
            let expected = format!(
                "every rank of the group to reach collective `{}`: {} of {} did, ranks {:?}",
                r.label,
                r.seen.len(),
                r.members,
                r.seen
            );
            return Err(input(workload, "COMM_COLL", expected));
        }
        let task_rank = (0..self.graph.tasks.len())
            .map(|t| match self.access_rank.get(&t) {
                Some(&rank) => rank,
                None => self.stream_rank[self.graph.tasks[t].stream],
            })
            .collect();
        Ok(Built { graph: self.graph, task_rank })
    }
}
