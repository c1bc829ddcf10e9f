//! The event-driven flow engine: flows start, share links max-min fairly, finish, arrive.
//!
//! A flow's bytes leave at its current rate from its start; when the last byte has left, its
//! links are freed and it arrives `latency_ns` later (the sum of its hops' latencies plus the
//! message overhead), when the [`Driver`] may start new flows. All events of one nanosecond are
//! handled together, then rates are recomputed once, only for the flows connected (through
//! shared links) to a link whose set of flows changed. Times are integer nanoseconds; a flow's
//! last byte leaves at the next whole nanosecond after its exact finishing time.

use crate::fair::Filler;
use crate::graph::{Fabric, LinkId};
use astrolabe_core::InputError;
use std::collections::BTreeMap;

/// What a flow belongs to, handed back to the driver when it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tag {
    /// Collective (or flow request) index.
    pub owner: u32,
    /// Stage of the collective.
    pub stage: u32,
    /// Receiving member of the collective.
    pub receiver: u32,
}

/// Flows to start: their links in one buffer, then one entry per flow.
#[derive(Debug, Default)]
pub(crate) struct NewFlows {
    links: Vec<LinkId>,
    items: Vec<(u32, u32, u64, u64, Tag)>,
}

impl NewFlows {
    /// Queues a flow of `bytes` over `path`, arriving `latency_ns` after its last byte leaves.
    pub(crate) fn push(&mut self, path: &[LinkId], bytes: u64, latency_ns: u64, tag: Tag) {
        let start = self.links.len() as u32;
        self.links.extend_from_slice(path);
        self.items.push((start, path.len() as u32, bytes, latency_ns, tag));
    }

    fn clear(&mut self) {
        self.links.clear();
        self.items.clear();
    }
}

/// Whoever starts flows in reaction to arrivals (a set of collectives, a list of flows).
pub(crate) trait Driver {
    /// Flow `tag` arrived at `now_ns`; queue in `out` the flows that start now.
    fn arrived(&mut self, tag: Tag, now_ns: u64, out: &mut NewFlows) -> Result<(), InputError>;
}

#[derive(Debug)]
enum Event {
    Start(Box<NewFlows>),
    Done { flow: u32, version: u32 },
    Arrive(Tag),
}

#[derive(Debug, Default)]
struct Slot {
    links: Vec<LinkId>,
    /// Position of this flow in `link_flows[links[h]]`, per hop h.
    pos: Vec<u32>,
    remaining_bytes: f64,
    rate_bytes_per_ns: f64,
    updated_ns: u64,
    version: u32,
    latency_ns: u64,
    tag: Option<Tag>,
}

/// The engine's state; see the module docs.
#[derive(Debug)]
pub(crate) struct Engine {
    capacity: Vec<f64>,
    link_flows: Vec<Vec<(u32, u32)>>,
    /// Bytes each link has carried.
    pub link_bytes: Vec<u64>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    events: BTreeMap<u64, Vec<Event>>,
    /// Emptied event buckets, kept to avoid reallocating.
    spare: Vec<Vec<Event>>,
    dirty: Vec<LinkId>,
    link_seen: Vec<u32>,
    flow_seen: Vec<u32>,
    epoch: u32,
    now_ns: u64,
    filler: Filler,
    rate: Vec<f64>,
    scratch: NewFlows,
    comp: Components,
}

/// Connected components found by [`Engine::components`]: links and flows of each, one after
/// the other, and where each ends.
#[derive(Debug, Default)]
struct Components {
    links: Vec<LinkId>,
    flows: Vec<u32>,
    bounds: Vec<(usize, usize)>,
}

impl Components {
    fn clear(&mut self) {
        self.links.clear();
        self.flows.clear();
        self.bounds.clear();
    }
}

impl Engine {
    /// An idle engine over `fabric`'s links.
    pub(crate) fn new(fabric: &Fabric) -> Engine {
        let n = fabric.links.len();
        Engine {
            capacity: (0..n as LinkId).map(|l| fabric.usable_bytes_per_ns(l)).collect(),
            link_flows: vec![Vec::new(); n],
            link_bytes: vec![0; n],
            slots: Vec::new(),
            free: Vec::new(),
            events: BTreeMap::new(),
            spare: Vec::new(),
            dirty: Vec::new(),
            link_seen: vec![0; n],
            flow_seen: Vec::new(),
            epoch: 0,
            now_ns: 0,
            filler: Filler::default(),
            rate: Vec::new(),
            scratch: NewFlows::default(),
            comp: Components::default(),
        }
    }

    /// Schedules `flows` to start at `at_ns`.
    pub(crate) fn schedule(&mut self, at_ns: u64, flows: NewFlows) {
        self.events.entry(at_ns).or_default().push(Event::Start(Box::new(flows)));
    }

    /// Runs until no event is left; returns the time of the last one.
    pub(crate) fn run(&mut self, driver: &mut impl Driver) -> Result<u64, InputError> {
        while let Some((t, mut events)) = self.events.pop_first() {
            self.now_ns = t;
            for event in events.drain(..) {
                self.handle(event, driver)?;
            }
            self.spare.push(events);
            if self.events.first_key_value().is_none_or(|(k, _)| *k != t) {
                self.rebalance();
            }
        }
        Ok(self.now_ns)
    }

    fn handle(&mut self, event: Event, driver: &mut impl Driver) -> Result<(), InputError> {
        match event {
            Event::Start(flows) => self.start_all(&flows),
            Event::Done { flow, version } => {
                if self.slots[flow as usize].version == version {
                    self.finish(flow);
                }
            }
            Event::Arrive(tag) => {
                let mut out = std::mem::take(&mut self.scratch);
                out.clear();
                driver.arrived(tag, self.now_ns, &mut out)?;
                self.start_all(&out);
                self.scratch = out;
            }
        }
        Ok(())
    }

    fn at(&mut self, t: u64, event: Event) {
        let spare = &mut self.spare;
        self.events.entry(t).or_insert_with(|| spare.pop().unwrap_or_default()).push(event);
    }

    fn start_all(&mut self, flows: &NewFlows) {
        for &(start, len, bytes, latency_ns, tag) in &flows.items {
            let path = &flows.links[start as usize..(start + len) as usize];
            self.start(path, bytes, latency_ns, tag);
        }
    }

    fn start(&mut self, path: &[LinkId], bytes: u64, latency_ns: u64, tag: Tag) {
        for &l in path {
            self.link_bytes[l as usize] = self.link_bytes[l as usize].saturating_add(bytes);
        }
        if bytes == 0 || path.is_empty() {
            self.at(self.now_ns.saturating_add(latency_ns), Event::Arrive(tag));
            return;
        }
        let id = self.free.pop().unwrap_or_else(|| {
            self.slots.push(Slot::default());
            self.flow_seen.push(0);
            self.rate.push(0.0);
            (self.slots.len() - 1) as u32
        });
        let slot = &mut self.slots[id as usize];
        slot.links.clear();
        slot.links.extend_from_slice(path);
        slot.pos.clear();
        for (hop, &l) in path.iter().enumerate() {
            let on_link = &mut self.link_flows[l as usize];
            slot.pos.push(on_link.len() as u32);
            on_link.push((id, hop as u32));
        }
        slot.remaining_bytes = bytes as f64;
        slot.rate_bytes_per_ns = 0.0;
        slot.updated_ns = self.now_ns;
        slot.version = slot.version.wrapping_add(1);
        slot.latency_ns = latency_ns;
        slot.tag = Some(tag);
        self.dirty.extend_from_slice(path);
    }

    /// The flow's last byte has left: free its links, schedule its arrival.
    fn finish(&mut self, id: u32) {
        let slot = &mut self.slots[id as usize];
        slot.version = slot.version.wrapping_add(1);
        let links = std::mem::take(&mut slot.links);
        let pos = std::mem::take(&mut slot.pos);
        let tag = slot.tag.take();
        let latency = slot.latency_ns;
        for (&l, &p) in links.iter().zip(&pos) {
            let on_link = &mut self.link_flows[l as usize];
            on_link.swap_remove(p as usize);
            if let Some(&(moved, moved_hop)) = on_link.get(p as usize) {
                // `moved` is never `id`: a route crosses a link once.
                self.slots[moved as usize].pos[moved_hop as usize] = p;
            }
        }
        self.dirty.extend_from_slice(&links);
        let slot = &mut self.slots[id as usize];
        slot.links = links;
        slot.pos = pos;
        slot.links.clear();
        self.free.push(id);
        if let Some(tag) = tag {
            self.at(self.now_ns.saturating_add(latency), Event::Arrive(tag));
        }
    }

    /// Recomputes the rates of the flows connected to a changed link, one connected component
    /// at a time; reschedules those whose rate changed.
    fn rebalance(&mut self) {
        let mut comp = std::mem::take(&mut self.comp);
        comp.clear();
        self.components(&mut comp);
        let (mut link0, mut flow0) = (0, 0);
        for &(link1, flow1) in &comp.bounds {
            let flows = &comp.flows[flow0..flow1];
            if let [f] = flows {
                // Alone on every link it crosses: it gets the narrowest one.
                let slot = &self.slots[*f as usize];
                let cap = slot
                    .links
                    .iter()
                    .map(|&l| self.capacity[l as usize])
                    .fold(f64::INFINITY, f64::min);
                self.rate[*f as usize] = cap;
            } else if !flows.is_empty() {
                let slots = &self.slots;
                let links = &comp.links[link0..link1];
                self.filler.fill(
                    links,
                    &self.capacity,
                    &self.link_flows,
                    |f| &slots[f as usize].links,
                    &mut self.rate,
                );
            }
            for &f in flows {
                self.apply_rate(f);
            }
            (link0, flow0) = (link1, flow1);
        }
        self.comp = comp;
    }

    /// The connected components (through shared links) of the flows on the dirty links.
    fn components(&mut self, comp: &mut Components) {
        self.epoch = self.epoch.wrapping_add(1);
        let epoch = self.epoch;
        let seeds = std::mem::take(&mut self.dirty);
        let mut stack = Vec::new();
        for &seed in &seeds {
            if self.link_seen[seed as usize] == epoch {
                continue;
            }
            stack.push(seed);
            while let Some(l) = stack.pop() {
                if self.link_seen[l as usize] == epoch {
                    continue;
                }
                self.link_seen[l as usize] = epoch;
                comp.links.push(l);
                for &(f, _) in &self.link_flows[l as usize] {
                    if self.flow_seen[f as usize] != epoch {
                        self.flow_seen[f as usize] = epoch;
                        comp.flows.push(f);
                        stack.extend_from_slice(&self.slots[f as usize].links);
                    }
                }
            }
            if comp.flows.len() > comp.bounds.last().map_or(0, |b| b.1) {
                comp.bounds.push((comp.links.len(), comp.flows.len()));
            }
        }
        self.dirty = seeds;
        self.dirty.clear();
    }

    fn apply_rate(&mut self, f: u32) {
        let now = self.now_ns;
        let new_rate = self.rate[f as usize];
        let slot = &mut self.slots[f as usize];
        if new_rate == slot.rate_bytes_per_ns {
            return;
        }
        let elapsed = (now - slot.updated_ns) as f64;
        slot.remaining_bytes = (slot.remaining_bytes - slot.rate_bytes_per_ns * elapsed).max(0.0);
        slot.updated_ns = now;
        slot.rate_bytes_per_ns = new_rate;
        slot.version = slot.version.wrapping_add(1);
        let done_in_ns = (slot.remaining_bytes / new_rate).ceil();
        let done = now.saturating_add(if done_in_ns.is_finite() {
            done_in_ns as u64
        } else {
            u64::MAX / 4
        });
        let version = slot.version;
        self.at(done, Event::Done { flow: f, version });
    }
}
