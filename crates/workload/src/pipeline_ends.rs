//! The step's opening parameter gathers and its closing gradient reduction, optimizer step and
//! parameter gathers. A MoE layer's reduction (and gather) is one collective when its dense part
//! and its experts share the data group, and two, dense then experts, when expert parallelism
//! gives the experts a smaller group (per-rank mode; their durations add up to the one task's).

use super::{Builder, Rank, RankState};
use astrolabe_engine::{Category, TaskId};

impl Builder<'_> {
    /// Whether `layer`'s reduction and gather are two collectives (dense part, experts).
    fn splits(&self, layer: usize) -> bool {
        self.layout.splits_expert_reduction() && self.costs.is_moe(layer)
    }

    /// The parameter gather of `layer` on `rank` of stage `s` after `deps`: one collective over
    /// the data group, or the dense part's and then the experts' (over the expert-data group).
    /// Returns the last.
    fn param_gather(&mut self, s: usize, rank: &Rank, layer: usize, deps: Vec<TaskId>) -> TaskId {
        let sizes = self.layout.sizes();
        let (data, experts) = (rank.groups.data, rank.groups.expert_data);
        let (dense_ns, expert_ns) = if self.splits(layer) {
            self.costs.gather_parts_ns(layer)
        } else {
            (self.costs.gather_ns(layer), 0)
        };
        let key = Self::key(sizes.data, || format!("gather s{s} g{data} L{layer}"));
        let label = format!("s{s} gather L{layer}");
        let dense = self.collective(key, label, rank.dp, dense_ns, deps.clone(), Category::DpComm);
        if expert_ns == 0 {
            return dense;
        }
        let key =
            Self::key(sizes.expert_data, || format!("expert-gather s{s} g{experts} L{layer}"));
        let label = format!("s{s} expert gather L{layer}");
        self.collective(key, label, rank.dp, expert_ns, deps, Category::DpComm)
    }

    /// ZeRO-1 parameter gathers overlapped with the forward: issued at the start of the step.
    pub(super) fn start_gathers(&mut self, ranks: &[Vec<Rank>], state: &mut [Vec<RankState>]) {
        if self.shape.param_gather != Some(true) || self.costs.gather_layer_ns == 0 {
            return;
        }
        for (s, stage) in ranks.iter().enumerate() {
            let mut layers = self.stage_layers(s);
            layers.reverse();
            for (ri, rank) in stage.iter().enumerate() {
                for &layer in &layers {
                    let t = self.param_gather(s, rank, layer, vec![]);
                    state[s][ri].gathers.insert(layer, t);
                }
            }
        }
    }

    /// `layer`'s once-per-step gradient reduction on `rank` of stage `s` after `deps`: over
    /// the data group, and for a split MoE layer its experts' after it over the expert-data
    /// group. Returns the tasks (none when there is nothing to reduce).
    fn reduce_layer(
        &mut self,
        s: usize,
        rank: &Rank,
        layer: usize,
        deps: &[TaskId],
    ) -> Vec<TaskId> {
        let sizes = self.layout.sizes();
        let (data, experts) = (rank.groups.data, rank.groups.expert_data);
        let (dense_ns, expert_ns) = if self.splits(layer) {
            self.costs.dp_parts_ns(layer)
        } else {
            (self.costs.dp_ns(layer), 0)
        };
        let mut out = Vec::new();
        if dense_ns > 0 {
            let key = Self::key(sizes.data, || format!("reduce s{s} g{data} L{layer}"));
            let label = format!("s{s} grad reduce L{layer}");
            let deps = deps.to_vec();
            out.push(self.collective(key, label, rank.dp, dense_ns, deps, Category::DpComm));
        }
        if expert_ns > 0 {
            let key =
                Self::key(sizes.expert_data, || format!("expert-reduce s{s} g{experts} L{layer}"));
            let label = format!("s{s} expert grad reduce L{layer}");
            let deps = deps.to_vec();
            out.push(self.collective(key, label, rank.dp, expert_ns, deps, Category::DpComm));
        }
        out
    }

    /// Gradient reduction, optimizer step and (not overlapped) parameter gathers.
    pub(super) fn finish(&mut self, ranks: &[Vec<Rank>], state: &mut [Vec<RankState>]) {
        let c = *self.costs;
        let data_members = self.layout.sizes().data;
        for (s, stage) in ranks.iter().enumerate() {
            let layers = self.stage_layers(s);
            let edges = self.edge_chunks(s);
            for (ri, rank) in stage.iter().enumerate() {
                let st = &mut state[s][ri];
                let end = st.last_compute.into_iter().collect::<Vec<_>>();
                let data = rank.groups.data;
                for &layer in &layers {
                    let deps: Vec<TaskId> = if self.shape.overlap_grad_reduce {
                        st.last_backward_of_layer.get(&layer).copied().into_iter().collect()
                    } else {
                        end.clone()
                    };
                    let done = self.reduce_layer(s, rank, layer, &deps);
                    st.dp_tasks.extend(&done);
                    let deps = done.last().map_or(deps, |&d| vec![d]);
                    st.dp_tasks.extend(self.mirror_sum(s, ri, rank, layer, deps));
                }
                for e in 0..edges {
                    if c.dp_extra_ns == 0 {
                        continue;
                    }
                    // The first edge's key as before DualPipe, the end stages' second its own.
                    let suffix = if e == 0 { String::new() } else { e.to_string() };
                    let key =
                        Self::key(data_members, || format!("reduce s{s} g{data} extra{suffix}"));
                    let label = format!("s{s} grad reduce embedding/head");
                    let (ns, deps) = (c.dp_extra_ns, end.clone());
                    let t = self.collective(key, label, rank.dp, ns, deps, Category::DpComm);
                    st.dp_tasks.push(t);
                }
                let mut deps = st.dp_tasks.clone();
                // The DP stream runs in program order: its last reduce-scatter ends them all.
                deps.extend(st.last_micro_reduce);
                deps.extend(end);
                let opt = self.optimizer(s, rank, deps);
                if self.shape.param_gather == Some(false) && c.gather_layer_ns > 0 {
                    for &layer in layers.iter().rev() {
                        self.param_gather(s, rank, layer, vec![opt]);
                    }
                }
            }
        }
    }
}
