//! Expansion of one pass, and the optimizer step with its offload transfers.

use super::{Builder, Rank, RankState};
use crate::schedule::{Pass, Schedule};
use astrolabe_engine::{Category, TaskId};

/// Which pass of which rank a task belongs to.
#[derive(Clone, Copy)]
struct PassTag {
    s: usize,
    dir: &'static str,
    mb: usize,
}

impl Builder<'_> {
    /// Layers (global indices) held by `stage`, in backward order (highest first; DualPipe's
    /// chunk 0 may hold the higher layers, hence the sort).
    pub(super) fn stage_layers(&self, stage: usize) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.shape.chunks)
            .flat_map(|c| self.vstage_layers(self.shape.vstage(stage, c)))
            .collect();
        out.sort_unstable_by(|a, b| b.cmp(a));
        out
    }

    /// Chunks of `stage` holding the first or the last virtual stage: the embedding's and
    /// output layer's gradient reductions (two on DualPipe's end stages, which hold both).
    pub(super) fn edge_chunks(&self, stage: usize) -> usize {
        let last = self.shape.vstages() - 1;
        (0..self.shape.chunks)
            .filter(|&c| matches!(self.shape.vstage(stage, c), v if v == 0 || v == last))
            .count()
    }

    /// Adds the tasks of one pass on one rank; returns the send to the neighbour stage, if any.
    pub(super) fn pass(
        &mut self,
        s: usize,
        rank: &Rank,
        pass: Pass,
        recv: Option<TaskId>,
        st: &mut RankState,
    ) -> Option<TaskId> {
        if pass.weight {
            self.weight_pass(s, rank, pass, st);
            return None;
        }
        let vstage = self.shape.vstage(s, pass.chunk);
        let (first, last) = (vstage == 0, vstage + 1 == self.shape.vstages());
        let (fwd, mb, c) = (pass.forward, pass.micro_batch, self.costs);
        let dir = pass.letter();
        let mut prev: Vec<TaskId> = recv.into_iter().collect();
        if !fwd {
            prev.extend(st.forward_done.get(&(pass.chunk, mb)).copied());
        }
        let extra = match (fwd, first, last) {
            (true, true, _) => c.first_fwd_ns,
            (false, _, true) => c.last_bwd_ns,
            _ => 0,
        };
        if extra > 0 {
            let label =
                format!("s{s} {dir} mb{mb} {}", if fwd { "embedding" } else { "loss+logits" });
            prev = vec![self.g.push(label, rank.compute, extra, prev, Category::Compute)];
        }
        let layers = self.vstage_layers(vstage);
        let ordered: Vec<usize> = if fwd { layers.collect() } else { layers.rev().collect() };
        let tag = PassTag { s, dir, mb };
        let gathers_here =
            self.shape.gather_every_pass && (fwd || self.shape.regather_for_backward);
        let mut next_gather = ordered
            .first()
            .filter(|_| gathers_here)
            .map(|&l| self.unit_gather(rank, tag, l, vec![]));
        let mut computed: Vec<TaskId> = Vec::new();
        for (i, &layer) in ordered.iter().enumerate() {
            let mut deps = prev.clone();
            if fwd {
                deps.extend(st.gathers.get(&layer).copied());
            } else {
                let freed = i.checked_sub(2).map(|j| computed[j]);
                deps.extend(self.act_load(rank, tag, layer, freed, st));
            }
            deps.extend(next_gather.take());
            let split = !fwd && self.shape.schedule.splits_weight_gradients();
            // Split: B keeps the input gradient; the weight gradient is the W pass.
            let ns =
                c.layer_ns(layer, fwd).saturating_sub(if split { c.wgrad_ns(layer) } else { 0 });
            let label = format!("s{s} {dir} mb{mb} L{layer}");
            let compute =
                self.g.push(label.clone(), rank.compute, ns, deps.clone(), Category::Compute);
            computed.push(compute);
            if fwd {
                self.act_store(rank, tag, layer, compute, st);
            }
            prev = self.layer_comm(rank, tag, layer, compute, deps);
            if let Some(&after) = ordered.get(i + 1).filter(|_| gathers_here) {
                // Prefetch: the next layer's gather may start once the layer before this one
                // is done with its weights.
                let freed: Vec<TaskId> =
                    i.checked_sub(1).map(|j| computed[j]).into_iter().collect();
                next_gather = Some(self.unit_gather(rank, tag, after, freed));
            }
            if split {
                st.input_grads.insert((mb, layer), compute);
            } else if !fwd {
                let done = *prev.last().expect("a layer has a task");
                st.last_backward_of_layer.insert(layer, done);
                if self.shape.reduce_every_micro_batch && c.dp_micro_ns_of(layer) > 0 {
                    st.last_micro_reduce = Some(self.micro_reduce(rank, tag, layer, done));
                }
                self.grad_store(rank, tag, layer, done, st);
            }
        }
        if fwd && last && c.last_fwd_ns > 0 {
            prev = vec![self.g.push(
                format!("s{s} F mb{mb} logits"),
                rank.compute,
                c.last_fwd_ns,
                prev,
                Category::Compute,
            )];
        }
        let done = *prev.last().expect("a pass has a task");
        st.last_compute = Some(done);
        if fwd {
            st.forward_done.insert((pass.chunk, mb), done);
        }
        let sends = if fwd { !last } else { !first };
        sends.then(|| {
            self.g.push(
                format!("s{s} {dir} mb{mb} send"),
                rank.pp,
                c.p2p_ns,
                prev,
                Category::PpComm,
            )
        })
    }

    /// Zero bubble and DualPipe: the weight-gradient pass of one micro-batch, layer by layer in
    /// backward order, each after that layer's input-gradient task (it needs the layer's input
    /// activations and output gradient, not its weights: no ZeRO-3 gather). A layer's gradient
    /// of the micro-batch is whole only after its W, so ZeRO-2/3's per-micro-batch
    /// reduce-scatter and an offload's gradient store follow it, and the once-per-step reduction
    /// waits for the last micro-batch's W.
    fn weight_pass(&mut self, s: usize, rank: &Rank, pass: Pass, st: &mut RankState) {
        let mb = pass.micro_batch;
        let tag = PassTag { s, dir: pass.letter(), mb };
        for layer in self.vstage_layers(self.shape.vstage(s, pass.chunk)).rev() {
            let deps: Vec<TaskId> = st.input_grads.get(&(mb, layer)).copied().into_iter().collect();
            let label = format!("s{s} W mb{mb} L{layer}");
            let ns = self.costs.wgrad_ns(layer);
            let w = self.g.push(label, rank.compute, ns, deps, Category::Compute);
            st.last_backward_of_layer.insert(layer, w);
            st.last_compute = Some(w);
            if self.shape.reduce_every_micro_batch && self.costs.dp_micro_ns_of(layer) > 0 {
                st.last_micro_reduce = Some(self.micro_reduce(rank, tag, layer, w));
            }
            self.grad_store(rank, tag, layer, w, st);
        }
    }

    /// A layer's communication after its computation `compute` (which waited for `deps`): the
    /// exposed context-parallel exchange (CP stream), the exposed TP collectives (compute
    /// stream), the overlapped TP share (TP stream, beside the layer). Returns what the next
    /// layer waits for.
    fn layer_comm(
        &mut self,
        rank: &Rank,
        tag: PassTag,
        layer: usize,
        compute: TaskId,
        deps: Vec<TaskId>,
    ) -> Vec<TaskId> {
        let (c, fwd) = (self.costs, tag.dir == "F");
        let PassTag { s, dir, mb, .. } = tag;
        let label = format!("s{s} {dir} mb{mb} L{layer}");
        let (sizes, groups) = (self.layout.sizes(), rank.groups);
        let mut prev = vec![compute];
        let cp_ns = if fwd { c.cp_fwd_ns } else { c.cp_bwd_ns };
        if cp_ns > 0 || self.shape.context_exchanges {
            // Its own stream and category: the breakdown's CP line.
            let key =
                Self::key(sizes.cp, || format!("cp s{s} g{} {dir} mb{mb} L{layer}", groups.cp));
            let t =
                self.collective(key, format!("{label} cp"), rank.cp, cp_ns, prev, Category::CpComm);
            prev = vec![t];
        }
        let ep_ns = c.ep_ns(layer, fwd);
        if ep_ns > 0 {
            // Dispatch and combine sit inside the layer in reality; priced as one exposed block
            // after it, on a stream of their own (the breakdown's EP line).
            let key =
                Self::key(sizes.ep, || format!("ep s{s} g{} {dir} mb{mb} L{layer}", groups.ep));
            let t =
                self.collective(key, format!("{label} ep"), rank.ep, ep_ns, prev, Category::EpComm);
            prev = vec![t];
        }
        let (serial_ns, beside_ns) =
            if fwd { (c.tp_fwd_ns, c.tp_fwd_beside_ns) } else { (c.tp_bwd_ns, c.tp_bwd_beside_ns) };
        if serial_ns > 0 {
            let key =
                Self::key(sizes.tp, || format!("tp s{s} g{} {dir} mb{mb} L{layer}", groups.tp));
            let t = self.collective(
                key,
                format!("{label} tp"),
                rank.compute,
                serial_ns,
                prev,
                Category::TpComm,
            );
            prev = vec![t];
        }
        if beside_ns > 0 {
            let key = Self::key(sizes.tp, || {
                format!("tp-beside s{s} g{} {dir} mb{mb} L{layer}", groups.tp)
            });
            let t = self.collective(
                key,
                format!("{label} tp beside"),
                rank.tp,
                beside_ns,
                deps,
                Category::TpComm,
            );
            prev.push(t);
        }
        prev
    }

    /// ZeRO-3: the gather of `layer`'s parameters for one pass, after `deps`.
    fn unit_gather(
        &mut self,
        rank: &Rank,
        tag: PassTag,
        layer: usize,
        deps: Vec<TaskId>,
    ) -> TaskId {
        let PassTag { s, dir, mb, .. } = tag;
        let data = rank.groups.data;
        let key = Self::key(self.layout.sizes().data, || {
            format!("fsdp-gather s{s} g{data} {dir} mb{mb} L{layer}")
        });
        self.collective(
            key,
            format!("s{s} {dir} mb{mb} gather L{layer}"),
            rank.dp,
            self.costs.gather_ns(layer),
            deps,
            Category::DpComm,
        )
    }

    /// ZeRO-2/3: the reduce-scatter of `layer`'s gradients of one micro-batch, after `done`
    /// (its backward, or with split backwards its W, whose letter the label carries).
    fn micro_reduce(&mut self, rank: &Rank, tag: PassTag, layer: usize, done: TaskId) -> TaskId {
        let PassTag { s, dir, mb } = tag;
        let data = rank.groups.data;
        let key = Self::key(self.layout.sizes().data, || {
            format!("fsdp-reduce s{s} g{data} mb{mb} L{layer}")
        });
        self.collective(
            key,
            format!("s{s} {dir} mb{mb} grad reduce L{layer}"),
            rank.dp,
            self.costs.dp_micro_ns_of(layer),
            vec![done],
            Category::DpComm,
        )
    }

    /// Offload: a transfer of `ns` on the rank's memory stream after `deps`, if `ns` > 0 (the
    /// label is only built then: this runs for every layer and pass).
    fn mem_task(
        &mut self,
        rank: &Rank,
        label: impl FnOnce() -> String,
        ns: u64,
        deps: Vec<TaskId>,
    ) -> Option<TaskId> {
        (ns > 0).then(|| self.g.push(label(), rank.mem, ns, deps, Category::DpComm))
    }

    /// Offload: one layer's activations of one micro-batch written to the tier after `compute`.
    fn act_store(
        &mut self,
        rank: &Rank,
        tag: PassTag,
        layer: usize,
        compute: TaskId,
        st: &mut RankState,
    ) {
        let ns = self.costs.memory.map_or(0, |m| m.act_store_ns);
        let label = || format!("s{} F mb{} L{layer} store activations", tag.s, tag.mb);
        if let Some(t) = self.mem_task(rank, label, ns, vec![compute]) {
            st.act_stores.insert((tag.mb, layer), t);
        }
    }

    /// Offload: reading the activations back for the backward of `layer`, once `freed` (the
    /// backward two layers earlier) is done; the layer's backward waits for it.
    fn act_load(
        &mut self,
        rank: &Rank,
        tag: PassTag,
        layer: usize,
        freed: Option<TaskId>,
        st: &RankState,
    ) -> Option<TaskId> {
        let ns = self.costs.memory.map_or(0, |m| m.act_load_ns);
        let stored = st.act_stores.get(&(tag.mb, layer)).copied()?;
        let label = || format!("s{} B mb{} L{layer} load activations", tag.s, tag.mb);
        self.mem_task(rank, label, ns, std::iter::once(stored).chain(freed).collect())
    }

    /// Offload: one layer's gradients of one micro-batch moved down after its backward `done`;
    /// the optimizer step waits for it.
    fn grad_store(
        &mut self,
        rank: &Rank,
        tag: PassTag,
        layer: usize,
        done: TaskId,
        st: &mut RankState,
    ) {
        let ns = self.costs.memory.map_or(0, |m| m.grad_store_ns);
        let label = || format!("s{} {} mb{} L{layer} store gradients", tag.s, tag.dir, tag.mb);
        st.dp_tasks.extend(self.mem_task(rank, label, ns, vec![done]));
    }

    /// The optimizer step after `deps`, with offload's state transfers around it; returns the
    /// last task (what the parameter gathers wait for).
    pub(super) fn optimizer(&mut self, s: usize, rank: &Rank, mut deps: Vec<TaskId>) -> TaskId {
        let c = *self.costs;
        let m = c.memory.unwrap_or_default();
        let load = || format!("s{s} load optimizer state");
        if let Some(t) = self.mem_task(rank, load, m.state_load_ns, deps.clone()) {
            deps = vec![t];
        }
        let last = match m.cpu_optimizer_ns {
            Some(ns) => {
                let label = format!("s{s} optimizer on the CPU");
                self.g.push(label, rank.mem, ns, deps, Category::DpComm)
            }
            None => self.g.push(
                format!("s{s} optimizer"),
                rank.compute,
                c.optimizer_ns,
                deps,
                Category::Optimizer,
            ),
        };
        let store = || format!("s{s} store optimizer state / load weights");
        self.mem_task(rank, store, m.state_store_ns, vec![last]).unwrap_or(last)
    }

    /// DualPipe: `layer`'s gradients summed with those of its copy on the mirror stage
    /// `stages − 1 − s`, after `deps`. Both stages of the pair issue these in the same
    /// (descending) layer order on their DP streams, and the pair meets in a rendezvous, keyed
    /// in both modes since both stages are always simulated. `None` for other schedules.
    pub(super) fn mirror_sum(
        &mut self,
        s: usize,
        ri: usize,
        rank: &Rank,
        layer: usize,
        deps: Vec<TaskId>,
    ) -> Option<TaskId> {
        let ns = self.costs.mirror_ns(layer);
        if self.shape.schedule != Schedule::DualPipe || ns == 0 {
            return None;
        }
        let key = format!("mirror r{ri} L{layer}");
        let label = format!("s{s} mirror grad sum L{layer}");
        Some(self.collective(Some(key), label, rank.dp, ns, deps, Category::DpComm))
    }
}
