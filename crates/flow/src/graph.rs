//! The explicit fabric graph: GPUs and switches joined by directed links.
//!
//! Every physical cable is two directed links, one per direction, each with its own capacity. A
//! link's `capacity_bytes_per_s` is the line rate; what flows can use of it is that times the
//! efficiency of its [`Transport`]. GPUs are endpoints: routes start and end at GPUs and never
//! pass through one. Switches (an NVSwitch domain, leaves, spines, cores) forward.

use crate::transport::Transport;
use astrolabe_core::InputError;
use serde::Serialize;

/// Index of a node in [`Fabric::nodes`].
pub type NodeId = u32;
/// Index of a directed link in [`Fabric::links`].
pub type LinkId = u32;

/// What a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// A GPU with its NIC: an endpoint that sends and receives but never forwards.
    Gpu,
    /// A switch (NVSwitch domain, leaf, spine, core); forwards.
    Switch,
}

/// A node of the fabric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Node {
    /// GPU or switch.
    pub kind: NodeKind,
    /// A readable name for reports (`gpu12`, `leaf3`, `spine0`).
    pub name: String,
}

/// The role of a link, for reports grouped by tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkClass {
    /// GPU ↔ NVSwitch (scale-up domain).
    Nvlink,
    /// GPU NIC ↔ leaf (top-of-rack or rail) switch.
    Nic,
    /// Leaf ↔ second-tier switch (spine, or cluster switch of a pod).
    LeafUplink,
    /// Second tier ↔ third tier (core or aggregation switch).
    Spine,
}

impl LinkClass {
    /// Every class, in tier order.
    pub const ALL: [LinkClass; 4] =
        [LinkClass::Nvlink, LinkClass::Nic, LinkClass::LeafUplink, LinkClass::Spine];

    /// The label used in reports (`nvlink`, `nic`, `leaf-uplink`, `spine`).
    pub fn label(self) -> &'static str {
        match self {
            LinkClass::Nvlink => "nvlink",
            LinkClass::Nic => "nic",
            LinkClass::LeafUplink => "leaf-uplink",
            LinkClass::Spine => "spine",
        }
    }

    /// Tier of the class: 0 scale-up, 1 NIC, 2 leaf uplinks, 3 spine uplinks.
    pub fn tier(self) -> usize {
        self as usize
    }
}

/// One directed link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// Sending node.
    pub from: NodeId,
    /// Receiving node.
    pub to: NodeId,
    /// Line rate, in bytes per second (SI).
    pub capacity_bytes_per_s: f64,
    /// Latency of the hop (wire, switch, endpoint share), in nanoseconds.
    pub latency_ns: u64,
    /// Role of the link.
    pub class: LinkClass,
    /// Index into [`Fabric::transports`].
    pub transport: usize,
}

/// A fabric: nodes, directed links, transports, and the GPUs in rank order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fabric {
    /// A name for reports (a preset name, or `custom`).
    pub name: String,
    /// Every node.
    pub nodes: Vec<Node>,
    /// Every directed link.
    pub links: Vec<Link>,
    /// The transports links refer to.
    pub transports: Vec<Transport>,
    /// `gpus[rank]` is the node of GPU `rank`.
    pub gpus: Vec<NodeId>,
    /// Outgoing links of each node.
    pub out_links: Vec<Vec<LinkId>>,
}

/// Most nodes a fabric may hold; ids are `u32` and routing keeps per-switch tables.
pub const MAX_NODES: usize = 1 << 24;

impl Fabric {
    /// An empty fabric.
    pub fn new(name: impl Into<String>) -> Fabric {
        Fabric {
            name: name.into(),
            nodes: Vec::new(),
            links: Vec::new(),
            transports: Vec::new(),
            gpus: Vec::new(),
            out_links: Vec::new(),
        }
    }

    /// Adds a GPU; it becomes the next rank.
    pub fn add_gpu(&mut self) -> Result<NodeId, InputError> {
        let id = self.add_node(NodeKind::Gpu, format!("gpu{}", self.gpus.len()))?;
        self.gpus.push(id);
        Ok(id)
    }

    /// Adds a switch with a readable name.
    pub fn add_switch(&mut self, name: impl Into<String>) -> Result<NodeId, InputError> {
        self.add_node(NodeKind::Switch, name.into())
    }

    fn add_node(&mut self, kind: NodeKind, name: String) -> Result<NodeId, InputError> {
        if self.nodes.len() >= MAX_NODES {
            return Err(InputError::new(&self.name, "nodes", format!("at most {MAX_NODES} nodes")));
        }
        self.nodes.push(Node { kind, name });
        self.out_links.push(Vec::new());
        Ok((self.nodes.len() - 1) as NodeId)
    }

    /// Registers a transport and returns its index for [`Fabric::add_cable`].
    pub fn add_transport(&mut self, transport: Transport) -> Result<usize, InputError> {
        transport.validate(&self.name)?;
        self.transports.push(transport);
        Ok(self.transports.len() - 1)
    }

    /// Adds a cable: two directed links `a → b` and `b → a` with the same properties.
    pub fn add_cable(&mut self, a: NodeId, b: NodeId, spec: CableSpec) -> Result<(), InputError> {
        self.add_link(a, b, spec)?;
        self.add_link(b, a, spec)
    }

    /// Adds one directed link `from → to`, after checking both ends and the capacity.
    pub fn add_link(
        &mut self,
        from: NodeId,
        to: NodeId,
        spec: CableSpec,
    ) -> Result<(), InputError> {
        let field = format!("links[{}]", self.links.len());
        for end in [from, to] {
            if end as usize >= self.nodes.len() {
                let expected = format!("a node id below {}, got {end}", self.nodes.len());
                return Err(InputError::new(&self.name, format!("{field}.node"), expected));
            }
        }
        if from == to {
            return Err(InputError::new(&self.name, field, "two distinct nodes, got a self-loop"));
        }
        let cap = spec.capacity_bytes_per_s;
        if !(cap.is_finite() && cap > 0.0) {
            let expected = format!("a positive capacity in bytes/s, got {cap}");
            return Err(InputError::new(
                &self.name,
                format!("{field}.capacity_bytes_per_s"),
                expected,
            ));
        }
        if spec.transport >= self.transports.len() {
            let expected = format!("a transport index below {}", self.transports.len());
            return Err(InputError::new(&self.name, format!("{field}.transport"), expected));
        }
        let id = self.links.len() as LinkId;
        self.links.push(Link {
            from,
            to,
            capacity_bytes_per_s: cap,
            latency_ns: spec.latency_ns,
            class: spec.class,
            transport: spec.transport,
        });
        self.out_links[from as usize].push(id);
        Ok(())
    }

    /// Number of GPUs (ranks).
    pub fn gpu_count(&self) -> usize {
        self.gpus.len()
    }

    /// The node of GPU `rank`, or an error naming `origin` and `field`.
    pub fn gpu(&self, rank: usize, origin: &str, field: &str) -> Result<NodeId, InputError> {
        self.gpus.get(rank).copied().ok_or_else(|| {
            let expected = format!("a GPU rank below {}, got {rank}", self.gpus.len());
            InputError::new(origin, field, expected)
        })
    }

    /// What flows can use of a link: line rate × transport efficiency, in bytes per ns.
    pub fn usable_bytes_per_ns(&self, link: LinkId) -> f64 {
        let l = &self.links[link as usize];
        l.capacity_bytes_per_s * self.transports[l.transport].efficiency / 1e9
    }
}

/// Properties of a cable (or one directed link) to add.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CableSpec {
    /// Line rate per direction, in bytes per second.
    pub capacity_bytes_per_s: f64,
    /// Hop latency, in nanoseconds.
    pub latency_ns: u64,
    /// Role of the link.
    pub class: LinkClass,
    /// Transport index from [`Fabric::add_transport`].
    pub transport: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cap: f64) -> CableSpec {
        CableSpec { capacity_bytes_per_s: cap, latency_ns: 10, class: LinkClass::Nic, transport: 0 }
    }

    #[test]
    fn cables_are_two_directed_links() {
        let mut f = Fabric::new("t");
        f.add_transport(Transport::ideal()).unwrap();
        let g = f.add_gpu().unwrap();
        let s = f.add_switch("s").unwrap();
        f.add_cable(g, s, spec(1e9)).unwrap();
        assert_eq!(f.links.len(), 2);
        assert_eq!((f.links[1].from, f.links[1].to), (s, g));
        assert_eq!(f.usable_bytes_per_ns(0), 1.0);
    }

    #[test]
    fn bad_links_are_input_errors() {
        let mut f = Fabric::new("t");
        f.add_transport(Transport::ideal()).unwrap();
        let g = f.add_gpu().unwrap();
        let s = f.add_switch("s").unwrap();
        let e = f.add_cable(g, s, spec(0.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t: `links[0].capacity_bytes_per_s`: a positive capacity in bytes/s, got 0"
        );
        let e = f.add_cable(g, 7, spec(1.0)).unwrap_err();
        assert_eq!(e.to_string(), "t: `links[0].node`: a node id below 2, got 7");
        assert!(f.add_cable(g, g, spec(1.0)).is_err());
        assert_eq!(
            f.gpu(3, "flows", "flows[0].src").unwrap_err().expected,
            "a GPU rank below 1, got 3"
        );
    }
}
