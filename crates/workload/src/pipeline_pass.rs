//! Expansion of one pass, the step's opening gathers and closing reduction and optimizer.

use super::{Builder, Rank, RankState};
use crate::schedule::Pass;
use astrolabe_engine::{Category, TaskId};

impl Builder<'_> {
    fn shared(&self) -> (bool, bool) {
        (self.tp > 1, self.dp > 1)
    }

    /// Layers (global indices) held by `stage`, in backward order (highest first).
    fn stage_layers(&self, stage: usize) -> Vec<usize> {
        let mut out: Vec<usize> = (0..self.shape.chunks)
            .flat_map(|c| self.vstage_layers(c * self.shape.stages + stage))
            .collect();
        out.reverse();
        out
    }

    /// Adds the tasks of one pass on one rank; returns the send to the neighbour stage, if any.
    pub(super) fn pass(
        &mut self,
        s: usize,
        ri: usize,
        rank: &Rank,
        pass: Pass,
        recv: Option<TaskId>,
        st: &mut RankState,
    ) -> Option<TaskId> {
        let vstage = pass.chunk * self.shape.stages + s;
        let (first, last) = (vstage == 0, vstage + 1 == self.shape.stages * self.shape.chunks);
        let (fwd, mb, c) = (pass.forward, pass.micro_batch, self.costs);
        let dir = if fwd { "F" } else { "B" };
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
        let (tp_shared, _) = self.shared();
        let d_idx = ri / self.tp;
        for layer in ordered {
            let mut deps = prev.clone();
            if fwd {
                deps.extend(st.gathers.get(&layer).copied());
            }
            let ns = if fwd { c.layer_fwd_ns } else { c.layer_bwd_ns };
            let label = format!("s{s} {dir} mb{mb} L{layer}");
            let compute =
                self.g.push(label.clone(), rank.compute, ns, deps.clone(), Category::Compute);
            prev = vec![compute];
            let (serial_ns, beside_ns) = if fwd {
                (c.tp_fwd_ns, c.tp_fwd_beside_ns)
            } else {
                (c.tp_bwd_ns, c.tp_bwd_beside_ns)
            };
            if serial_ns > 0 {
                let key = format!("tp s{s} d{d_idx} {dir} mb{mb} L{layer}");
                let t = self.collective(
                    tp_shared.then_some(key),
                    format!("{label} tp"),
                    rank.compute,
                    serial_ns,
                    vec![compute],
                    Category::TpComm,
                );
                prev = vec![t];
            }
            if beside_ns > 0 {
                let key = format!("tp-beside s{s} d{d_idx} {dir} mb{mb} L{layer}");
                let t = self.collective(
                    tp_shared.then_some(key),
                    format!("{label} tp beside"),
                    rank.tp,
                    beside_ns,
                    deps,
                    Category::TpComm,
                );
                prev.push(t);
            }
            if !fwd {
                st.last_backward_of_layer.insert(layer, *prev.last().expect("a layer has a task"));
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

    /// ZeRO-1 parameter gathers overlapped with the forward: issued at the start of the step.
    pub(super) fn start_gathers(&mut self, ranks: &[Vec<Rank>], state: &mut [Vec<RankState>]) {
        if self.shape.param_gather != Some(true) || self.costs.gather_layer_ns == 0 {
            return;
        }
        let (_, dp_shared) = self.shared();
        for (s, stage) in ranks.iter().enumerate() {
            let mut layers = self.stage_layers(s);
            layers.reverse();
            for (ri, rank) in stage.iter().enumerate() {
                for &layer in &layers {
                    let key = format!("gather s{s} t{} L{layer}", ri % self.tp);
                    let t = self.collective(
                        dp_shared.then_some(key),
                        format!("s{s} gather L{layer}"),
                        rank.dp,
                        self.costs.gather_layer_ns,
                        vec![],
                        Category::DpComm,
                    );
                    state[s][ri].gathers.insert(layer, t);
                }
            }
        }
    }

    /// Gradient reduction, optimizer step and (not overlapped) parameter gathers.
    pub(super) fn finish(&mut self, ranks: &[Vec<Rank>], state: &mut [Vec<RankState>]) {
        let (_, dp_shared) = self.shared();
        let c = *self.costs;
        for (s, stage) in ranks.iter().enumerate() {
            let layers = self.stage_layers(s);
            let has_extra = s == 0 || s + 1 == self.shape.stages;
            for (ri, rank) in stage.iter().enumerate() {
                let st = &mut state[s][ri];
                let end = st.last_compute.into_iter().collect::<Vec<_>>();
                let t = ri % self.tp;
                let mut reduce =
                    |b: &mut Self, key: String, label: String, ns: u64, deps: Vec<TaskId>| {
                        if ns > 0 {
                            let id = b.collective(
                                dp_shared.then_some(key),
                                label,
                                rank.dp,
                                ns,
                                deps,
                                Category::DpComm,
                            );
                            st.dp_tasks.push(id);
                        }
                    };
                for &layer in &layers {
                    let deps = if self.shape.overlap_grad_reduce {
                        st.last_backward_of_layer.get(&layer).copied().into_iter().collect()
                    } else {
                        end.clone()
                    };
                    reduce(
                        self,
                        format!("reduce s{s} t{t} L{layer}"),
                        format!("s{s} grad reduce L{layer}"),
                        c.dp_layer_ns,
                        deps,
                    );
                }
                if has_extra {
                    reduce(
                        self,
                        format!("reduce s{s} t{t} extra"),
                        format!("s{s} grad reduce embedding/head"),
                        c.dp_extra_ns,
                        end.clone(),
                    );
                }
                let mut deps = st.dp_tasks.clone();
                deps.extend(end);
                let opt = self.g.push(
                    format!("s{s} optimizer"),
                    rank.compute,
                    c.optimizer_ns,
                    deps,
                    Category::Optimizer,
                );
                if self.shape.param_gather == Some(false) && c.gather_layer_ns > 0 {
                    for &layer in layers.iter().rev() {
                        let key = format!("gather s{s} t{t} L{layer}");
                        self.collective(
                            dp_shared.then_some(key),
                            format!("s{s} gather L{layer}"),
                            rank.dp,
                            c.gather_layer_ns,
                            vec![opt],
                            Category::DpComm,
                        );
                    }
                }
            }
        }
    }
}
