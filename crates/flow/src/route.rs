//! Deterministic shortest-path routing with ECMP by hash.
//!
//! A route leaves its source GPU on one of its links to a switch, crosses switches only, and
//! enters the destination GPU (GPUs never forward). Between two GPUs of one NVLink domain the
//! route stays on NVLink even where a route through a shared leaf is as short (a node's GPUs
//! under one leaf of a plain fat-tree): collective libraries keep peer traffic inside a node on
//! NVLink. Among equally short routes, each hop picks
//! its next link by a hash of (source, destination, current node), so a given pair always takes
//! the same path, and different pairs spread over the parallel switches as ECMP would.
//!
//! Distances are breadth-first searches over the switch-to-switch links toward a destination
//! switch, computed on first use and kept: O(S + E_s) each for S switches and E_s links between
//! them, at most one per switch that a GPU attaches to.

use crate::graph::{Fabric, LinkClass, LinkId, NodeId, NodeKind};
use astrolabe_core::InputError;
use std::collections::VecDeque;

const UNREACHABLE: u16 = u16::MAX;

/// Routes between GPUs of one fabric, caching distance tables.
#[derive(Debug)]
pub struct Router<'f> {
    fabric: &'f Fabric,
    /// Index of each node among the switches (`u32::MAX` for GPUs).
    switch_index: Vec<u32>,
    /// Links into each node.
    in_links: Vec<Vec<LinkId>>,
    /// `dist[s]`: hops from every switch to switch `s` over switch links, once computed.
    dist: Vec<Option<Box<[u16]>>>,
}

impl<'f> Router<'f> {
    /// A router with empty caches.
    pub fn new(fabric: &'f Fabric) -> Router<'f> {
        let mut switch_index = vec![u32::MAX; fabric.nodes.len()];
        let mut switches = 0u32;
        for (i, n) in fabric.nodes.iter().enumerate() {
            if n.kind == NodeKind::Switch {
                switch_index[i] = switches;
                switches += 1;
            }
        }
        let mut in_links = vec![Vec::new(); fabric.nodes.len()];
        for (id, l) in fabric.links.iter().enumerate() {
            in_links[l.to as usize].push(id as LinkId);
        }
        Router { fabric, switch_index, in_links, dist: vec![None; switches as usize] }
    }

    /// Appends the links of the route from GPU node `src` to GPU node `dst` to `path`.
    pub fn route(
        &mut self,
        src: NodeId,
        dst: NodeId,
        path: &mut Vec<LinkId>,
    ) -> Result<(), InputError> {
        let no_route = || {
            let names =
                (&self.fabric.nodes[src as usize].name, &self.fabric.nodes[dst as usize].name);
            let expected =
                format!("GPUs joined by the fabric; no route from {} to {}", names.0, names.1);
            InputError::new(&self.fabric.name, "route", expected)
        };
        if src == dst {
            return Err(no_route());
        }
        let direct: Vec<LinkId> = self.fabric.out_links[src as usize]
            .iter()
            .copied()
            .filter(|&l| self.fabric.links[l as usize].to == dst)
            .collect();
        if !direct.is_empty() {
            path.push(direct[pick(src, dst, src, direct.len())]);
            return Ok(());
        }
        let (first, last) = self.best_attachments(src, dst).ok_or_else(no_route)?;
        path.push(first);
        let target = self.fabric.links[last as usize].from;
        self.walk(src, dst, self.fabric.links[first as usize].to, target, path);
        path.push(last);
        Ok(())
    }

    /// The (GPU → switch, switch → GPU) link pair with the fewest switch hops between them.
    fn best_attachments(&mut self, src: NodeId, dst: NodeId) -> Option<(LinkId, LinkId)> {
        let f = self.fabric;
        let ups: Vec<(LinkId, usize)> = f.out_links[src as usize]
            .iter()
            .map(|&l| (l, self.switch_index[f.links[l as usize].to as usize]))
            .filter(|&(_, s)| s != u32::MAX)
            .map(|(l, s)| (l, s as usize))
            .collect();
        let downs: Vec<LinkId> = self.in_links[dst as usize]
            .clone()
            .into_iter()
            .filter(|&l| self.is_switch(f.links[l as usize].from))
            .collect();
        let mut best = UNREACHABLE;
        let mut ties: Vec<(LinkId, LinkId)> = Vec::new();
        for &down in &downs {
            let b = f.links[down as usize].from;
            let table = self.distances_to(b);
            for &(up, s) in &ups {
                let d = table[s];
                if d < best {
                    best = d;
                    ties.clear();
                }
                if d == best && d != UNREACHABLE {
                    ties.push((up, down));
                }
            }
        }
        let nvlink = |l: LinkId| f.links[l as usize].class == LinkClass::Nvlink;
        if ties.iter().any(|&(up, down)| nvlink(up) && nvlink(down)) {
            ties.retain(|&(up, down)| nvlink(up) && nvlink(down));
        }
        (!ties.is_empty()).then(|| ties[pick(src, dst, u32::MAX, ties.len())])
    }

    /// Follows decreasing distance from switch `from` to switch `to`, hashing among ties.
    fn walk(&mut self, src: NodeId, dst: NodeId, from: NodeId, to: NodeId, path: &mut Vec<LinkId>) {
        let f = self.fabric;
        let table = self.distances_to(to).to_vec();
        let mut here = from;
        let mut next: Vec<LinkId> = Vec::new();
        while here != to {
            let d = table[self.switch_index[here as usize] as usize];
            next.clear();
            for &l in &f.out_links[here as usize] {
                let t = f.links[l as usize].to;
                if self.is_switch(t) && table[self.switch_index[t as usize] as usize] + 1 == d {
                    next.push(l);
                }
            }
            let l = next[pick(src, dst, here, next.len())];
            path.push(l);
            here = f.links[l as usize].to;
        }
    }

    fn is_switch(&self, node: NodeId) -> bool {
        self.switch_index[node as usize] != u32::MAX
    }

    /// Hops from every switch to switch node `target`, over switch-to-switch links.
    fn distances_to(&mut self, target: NodeId) -> &[u16] {
        let t = self.switch_index[target as usize] as usize;
        if self.dist[t].is_none() {
            let mut table = vec![UNREACHABLE; self.dist.len()].into_boxed_slice();
            table[t] = 0;
            let mut queue = VecDeque::from([target]);
            while let Some(node) = queue.pop_front() {
                let d = table[self.switch_index[node as usize] as usize];
                for &l in &self.in_links[node as usize] {
                    let prev = self.fabric.links[l as usize].from;
                    let p = self.switch_index[prev as usize];
                    if p != u32::MAX && table[p as usize] == UNREACHABLE {
                        table[p as usize] = d.saturating_add(1).min(UNREACHABLE - 1);
                        queue.push_back(prev);
                    }
                }
            }
            self.dist[t] = Some(table);
        }
        self.dist[t].as_deref().unwrap_or(&[])
    }
}

/// An index below `n` from a hash of (source, destination, hop): splitmix64's finaliser.
fn pick(src: NodeId, dst: NodeId, hop: NodeId, n: usize) -> usize {
    let mut x =
        (u64::from(src) << 40) ^ (u64::from(dst) << 16) ^ u64::from(hop).wrapping_mul(0x9E37_79B9);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x % n as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{FabricSpec, TierSpec};

    fn classes(f: &Fabric, path: &[LinkId]) -> Vec<LinkClass> {
        path.iter().map(|&l| f.links[l as usize].class).collect()
    }

    #[test]
    fn routes_take_the_shortest_tier_path() {
        let f = FabricSpec::rail_optimized(4, 2, "nvlink4-nvswitch", "ib-ndr", 2, 2, 1.0)
            .build()
            .unwrap();
        let mut r = Router::new(&f);
        let mut route = |a: usize, b: usize| {
            let mut p = Vec::new();
            r.route(f.gpus[a], f.gpus[b], &mut p).unwrap();
            classes(&f, &p)
        };
        use LinkClass::*;
        assert_eq!(route(0, 1), vec![Nvlink, Nvlink]); // same node
        assert_eq!(route(0, 2), vec![Nic, Nic]); // same rail, same leaf
        assert_eq!(route(0, 4), vec![Nic, LeafUplink, LeafUplink, Nic]); // other block
        assert_eq!(route(0, 3), vec![Nic, LeafUplink, LeafUplink, Nic]); // other rail
    }

    #[test]
    fn peers_of_a_node_under_one_leaf_stay_on_nvlink() {
        // A plain fat-tree: a node's 8 GPUs under one leaf, so GPU → leaf → GPU is as short
        // as GPU → NVSwitch → GPU; every pair of the node must still take NVLink.
        let tiers = vec![TierSpec::new(16, 1, 1.0), TierSpec::new(0, 2, 1.0)];
        let f =
            FabricSpec::fat_tree(4, 8, Some("nvlink4-nvswitch"), "ib-ndr", tiers).build().unwrap();
        let mut r = Router::new(&f);
        for b in 1..8 {
            let mut p = Vec::new();
            r.route(f.gpus[0], f.gpus[b], &mut p).unwrap();
            assert_eq!(classes(&f, &p), vec![LinkClass::Nvlink, LinkClass::Nvlink], "0 → {b}");
        }
        let mut p = Vec::new();
        r.route(f.gpus[0], f.gpus[8], &mut p).unwrap();
        assert_eq!(classes(&f, &p), vec![LinkClass::Nic, LinkClass::Nic]); // next node, same leaf
    }

    #[test]
    fn same_pair_same_path_and_disconnected_is_an_error() {
        let f = FabricSpec::rail_optimized(8, 1, "nvlink4-nvswitch", "ib-ndr", 2, 4, 1.0)
            .build()
            .unwrap();
        let mut r = Router::new(&f);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        r.route(f.gpus[0], f.gpus[7], &mut a).unwrap();
        Router::new(&f).route(f.gpus[0], f.gpus[7], &mut b).unwrap();
        assert_eq!(a, b);
        let mut lonely = Fabric::new("two");
        lonely.add_gpu().unwrap();
        lonely.add_gpu().unwrap();
        let e = Router::new(&lonely).route(0, 1, &mut a).unwrap_err();
        assert_eq!(
            e.to_string(),
            "two: `route`: GPUs joined by the fabric; no route from gpu0 to gpu1"
        );
    }
}
