//! Max-min fair rates by progressive filling (water-filling).
//!
//! Every unfrozen flow's rate rises together; when a link runs out of capacity, the flows
//! crossing it freeze at that link's fair share, their rate is taken off their other links, and
//! filling continues. Implemented with a lazy min-heap of links keyed by their current fair
//! share `remaining / unfrozen flows`: freezing a flow at the smallest share can only raise the
//! share of its other links, so stale heap keys are skipped, never wrong. Cost:
//! O((L + Σ hops) log L) for L links and the hops of the flows being filled.

use crate::graph::LinkId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Reusable scratch space for [`Filler::fill`].
#[derive(Debug, Default)]
pub(crate) struct Filler {
    remaining: Vec<f64>,
    unfrozen: Vec<u32>,
    frozen: Vec<u32>,
    stamp: u32,
    heap: BinaryHeap<Reverse<(u64, LinkId)>>,
}

impl Filler {
    /// Writes into `rate[f]` the max-min fair rate of every flow crossing `links`.
    ///
    /// `links` must be closed: every flow on them (`link_flows[l]`, entries `(flow, hop)`) has
    /// all its links (`path(flow)`) in `links`. `capacity` is per link, in bytes per ns.
    pub(crate) fn fill<'p>(
        &mut self,
        links: &[LinkId],
        capacity: &[f64],
        link_flows: &[Vec<(u32, u32)>],
        path: impl Fn(u32) -> &'p [LinkId],
        rate: &mut [f64],
    ) {
        self.prepare(capacity.len(), rate.len());
        for &l in links {
            let i = l as usize;
            self.remaining[i] = capacity[i];
            self.unfrozen[i] = link_flows[i].len() as u32;
            if self.unfrozen[i] > 0 {
                self.heap.push(Reverse((self.share(l, capacity).to_bits(), l)));
            }
        }
        while let Some(Reverse((key, l))) = self.heap.pop() {
            if self.unfrozen[l as usize] == 0 || key != self.share(l, capacity).to_bits() {
                continue;
            }
            let share = self.share(l, capacity);
            for &(f, _) in &link_flows[l as usize] {
                if self.frozen[f as usize] == self.stamp {
                    continue;
                }
                self.frozen[f as usize] = self.stamp;
                rate[f as usize] = share;
                for &other in path(f) {
                    let o = other as usize;
                    self.remaining[o] -= share;
                    self.unfrozen[o] -= 1;
                    if other != l && self.unfrozen[o] > 0 {
                        self.heap.push(Reverse((self.share(other, capacity).to_bits(), other)));
                    }
                }
            }
        }
    }

    fn prepare(&mut self, links: usize, flows: usize) {
        self.remaining.resize(links, 0.0);
        self.unfrozen.resize(links, 0);
        self.frozen.resize(flows, 0);
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.frozen.iter_mut().for_each(|s| *s = u32::MAX);
            self.stamp = 1;
        }
        self.heap.clear();
    }

    /// Current fair share of link `l`; never below a trillionth of its capacity, so rounding
    /// cannot stall a flow. Non-negative, so its bits order like the number.
    fn share(&self, l: LinkId, capacity: &[f64]) -> f64 {
        let i = l as usize;
        self.remaining[i].max(capacity[i] * 1e-12) / f64::from(self.unfrozen[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flows given as link lists over `capacity`; returns their max-min rates.
    fn check(capacity: &[f64], flows: &[&[LinkId]]) -> Vec<f64> {
        let mut link_flows = vec![Vec::new(); capacity.len()];
        for (f, p) in flows.iter().enumerate() {
            for (h, &l) in p.iter().enumerate() {
                link_flows[l as usize].push((f as u32, h as u32));
            }
        }
        let links: Vec<LinkId> = (0..capacity.len() as u32).collect();
        let mut rate = vec![0.0; flows.len()];
        Filler::default().fill(&links, capacity, &link_flows, |f| flows[f as usize], &mut rate);
        rate
    }

    #[test]
    fn classic_three_flow_example() {
        // Links 0 (cap 10) and 1 (cap 4). Flow A crosses both, B only link 0, C only link 1.
        // Link 1 saturates first: A = C = 2; then B takes what is left of link 0: 10 − 2 = 8.
        assert_eq!(check(&[10.0, 4.0], &[&[0, 1], &[0], &[1]]), vec![2.0, 8.0, 2.0]);
    }

    #[test]
    fn parking_lot() {
        // Three links of capacity 6; a long flow over all three and one short flow per link:
        // every link is shared by two flows, so all get 3.
        let r = check(&[6.0, 6.0, 6.0], &[&[0, 1, 2], &[0], &[1], &[2]]);
        assert_eq!(r, vec![3.0, 3.0, 3.0, 3.0]);
        // Capacities 3, 12, 12: the long flow is held to 1.5 on link 0; the others on links 1
        // and 2 get 12 − 1.5 = 10.5.
        let r = check(&[3.0, 12.0, 12.0], &[&[0, 1, 2], &[0], &[1], &[2]]);
        assert_eq!(r, vec![1.5, 1.5, 10.5, 10.5]);
    }
}
