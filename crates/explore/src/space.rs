//! The plans a search tries: every combination of TP, CP, PP, virtual stages, micro-batch,
//! recomputation, ZeRO stage, EP and schedule within ranges set from the model and the
//! cluster. Whether a combination is valid is left to the plan's own checks
//! (`astrolabe_sim::plan`), so the search and `simulate` refuse exactly the same plans.

use astrolabe_model::{Recompute, TransformerModel};
use astrolabe_sim::Scenario;
use serde::Serialize;

/// Largest tensor-parallel degree tried: TP beyond one scale-up domain is not used in practice.
pub const MAX_TP: u64 = 64;
/// Largest pipeline depth tried.
pub const MAX_PP: u64 = 64;
/// Fewest tokens per context-parallel rank tried (shorter shards leave attention too small).
pub const MIN_CP_TOKENS: u64 = 1024;

/// One plan of the search, as the `[plan]` keys it sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Candidate {
    /// Tensor-parallel degree.
    pub tp: u64,
    /// Context-parallel degree.
    pub cp: u64,
    /// Pipeline stages.
    pub pp: u64,
    /// Model chunks per pipeline rank.
    pub virtual_stages: u64,
    /// Sequences per micro-batch.
    pub micro_batch: u64,
    /// Activation recomputation.
    pub recompute: Recompute,
    /// ZeRO stage.
    pub zero_stage: u8,
    /// Expert-parallel degree.
    pub ep: u64,
    /// Expert tensor parallelism (`plan.expert_tp`; set only when it differs from `tp`).
    pub expert_tp: u64,
    /// Pipeline schedule (`plan.schedule`).
    pub schedule: &'static str,
    /// Layers on the first and last virtual stage when the layers do not split evenly.
    pub end_layers: Option<(u64, u64)>,
}

impl Candidate {
    /// `base` (the scenario's `[plan]`) with the candidate's keys set and the keys they
    /// determine (dp, the layer split, sequence parallelism, the shard group) left to defaults.
    pub fn plan_table(&self, base: &toml::Table) -> toml::Table {
        let mut t = base.clone();
        for key in
            ["dp", "first_stage_layers", "last_stage_layers", "shard_group", "sequence_parallel"]
        {
            t.remove(key);
        }
        let int = |v: u64| toml::Value::Integer(v as i64);
        t.insert("tp".into(), int(self.tp));
        t.insert("cp".into(), int(self.cp));
        t.insert("pp".into(), int(self.pp));
        t.insert("virtual_stages".into(), int(self.virtual_stages));
        t.insert("micro_batch".into(), int(self.micro_batch));
        t.insert("zero_stage".into(), int(u64::from(self.zero_stage)));
        t.insert("ep".into(), int(self.ep));
        t.remove("expert_tp");
        if self.expert_tp != self.tp {
            t.insert("expert_tp".into(), int(self.expert_tp));
        }
        t.insert("schedule".into(), toml::Value::String(self.schedule.into()));
        let recompute = match self.recompute {
            Recompute::None => "none",
            Recompute::Selective => "selective",
            Recompute::Full => "full",
        };
        t.insert("recompute".into(), toml::Value::String(recompute.into()));
        if let Some((first, last)) = self.end_layers {
            t.insert("first_stage_layers".into(), int(first));
            t.insert("last_stage_layers".into(), int(last));
        }
        t
    }

    /// A short label: `tp8 cp1 pp16 v2 mb1 full z1`.
    pub fn label(&self) -> String {
        let rec = match self.recompute {
            Recompute::None => "none",
            Recompute::Selective => "sel",
            Recompute::Full => "full",
        };
        let mut s = format!(
            "tp{} cp{} pp{} v{} mb{} {rec} z{}",
            self.tp, self.cp, self.pp, self.virtual_stages, self.micro_batch, self.zero_stage
        );
        if self.ep > 1 {
            s.push_str(&format!(" ep{}", self.ep));
        }
        if self.expert_tp != self.tp {
            s.push_str(&format!(" etp{}", self.expert_tp));
        }
        match self.schedule {
            "zero_bubble" => s.push_str(" zb"),
            "dualpipe" => s.push_str(" dualpipe"),
            _ => {}
        }
        s
    }
}

/// The ranges a search enumerates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Space {
    /// Tensor-parallel degrees.
    pub tp: Vec<u64>,
    /// Context-parallel degrees.
    pub cp: Vec<u64>,
    /// Pipeline depths.
    pub pp: Vec<u64>,
    /// Chunks per pipeline rank.
    pub virtual_stages: Vec<u64>,
    /// Micro-batch sizes.
    pub micro_batch: Vec<u64>,
    /// Recomputation policies.
    pub recompute: Vec<Recompute>,
    /// ZeRO stages.
    pub zero_stage: Vec<u8>,
    /// Expert-parallel degrees.
    pub ep: Vec<u64>,
    /// Expert tensor-parallel degrees; `None` follows `tp` (experts within data parallelism).
    pub expert_tp: Vec<Option<u64>>,
}

impl Space {
    /// The default ranges for `scenario`: powers of two for TP (up to the scale-up domain),
    /// CP (down to [`MIN_CP_TOKENS`] per rank), EP (dividing the experts), expert TP equal to
    /// TP or 1 (folded experts) for a mixture-of-experts model, micro-batch 1–8;
    /// PP over powers of two and the divisors of the layer count; 1, 2 or 4 chunks; every ZeRO
    /// stage; no and full recomputation, and selective too without flash attention (with it,
    /// selective keeps and recomputes what no recomputation does: `Plan::activation_policy`).
    pub fn for_scenario(scenario: &Scenario) -> Space {
        let model = &scenario.model;
        let scale_up = scenario.cluster.topology.dims()[0].size as u64;
        let tp = powers_of_two(scale_up.min(MAX_TP));
        let cp = powers_of_two(model.seq_len / MIN_CP_TOKENS)
            .into_iter()
            .filter(|c| model.seq_len % (2 * c) == 0 || *c == 1)
            .collect();
        let mut pp: Vec<u64> = powers_of_two(MAX_PP.min(model.layers));
        pp.extend((1..=MAX_PP.min(model.layers)).filter(|d| model.layers % d == 0));
        pp.sort_unstable();
        pp.dedup();
        let (ep, expert_tp) = match &model.moe {
            Some(moe) => (powers_of_two(moe.experts), vec![None, Some(1)]),
            None => (vec![1], vec![None]),
        };
        Space {
            tp,
            cp,
            pp,
            virtual_stages: vec![1, 2, 4],
            micro_batch: vec![1, 2, 4, 8],
            recompute: if scenario.plan.flash_attention {
                vec![Recompute::None, Recompute::Full]
            } else {
                vec![Recompute::None, Recompute::Selective, Recompute::Full]
            },
            zero_stage: vec![0, 1, 2, 3],
            ep,
            expert_tp,
        }
    }

    /// Every combination, in a fixed order; those whose layers cannot be split are left out.
    pub fn candidates(&self, model: &TransformerModel) -> Vec<Candidate> {
        let mut out = Vec::new();
        for &tp in &self.tp {
            for &cp in &self.cp {
                for &pp in &self.pp {
                    for &v in &self.virtual_stages {
                        if pp == 1 && v > 1 {
                            continue;
                        }
                        let Some(end_layers) = split_layers(model.layers, pp * v) else {
                            continue;
                        };
                        for schedule in schedules(pp, v) {
                            let outer = Candidate {
                                tp,
                                cp,
                                pp,
                                virtual_stages: v,
                                micro_batch: 1,
                                recompute: Recompute::None,
                                zero_stage: 0,
                                ep: 1,
                                expert_tp: tp,
                                schedule,
                                end_layers,
                            };
                            self.push_inner(outer, &mut out);
                        }
                    }
                }
            }
        }
        out
    }

    /// `outer` with every micro-batch, recomputation, ZeRO stage, EP and expert-TP choice.
    fn push_inner(&self, outer: Candidate, out: &mut Vec<Candidate>) {
        let mut expert_tp: Vec<u64> =
            self.expert_tp.iter().map(|e| e.unwrap_or(outer.tp)).collect();
        expert_tp.sort_unstable();
        expert_tp.dedup();
        for &micro_batch in &self.micro_batch {
            for &recompute in &self.recompute {
                for &zero_stage in &self.zero_stage {
                    for &ep in &self.ep {
                        for &expert_tp in &expert_tp {
                            out.push(Candidate {
                                micro_batch,
                                recompute,
                                zero_stage,
                                ep,
                                expert_tp,
                                ..outer
                            });
                        }
                    }
                }
            }
        }
    }
}

/// The schedules tried for `pp` stages of `v` chunks.
fn schedules(pp: u64, v: u64) -> Vec<&'static str> {
    match (pp, v) {
        (1, _) => vec!["1f1b"],
        (_, 1) if pp % 2 == 0 => vec!["1f1b", "zero_bubble", "dualpipe"],
        (_, 1) => vec!["1f1b", "zero_bubble"],
        _ => vec!["interleaved_1f1b"],
    }
}

/// 1, 2, 4, … up to `max` (at least `[1]`).
fn powers_of_two(max: u64) -> Vec<u64> {
    std::iter::successors(Some(1u64), |p| p.checked_mul(2))
        .take_while(|p| *p <= max.max(1))
        .collect()
}

/// How `layers` split over `n` virtual stages: `Some(None)` when evenly; else the first and
/// last stage's layers when every other stage holds `⌈layers/n⌉` and the two ends share the
/// shortfall (as Llama 3 405B's 126 layers over 32 stages: 3 + 30 × 4 + 3); `None` when even
/// that leaves an end empty.
pub fn split_layers(layers: u64, n: u64) -> Option<Option<(u64, u64)>> {
    if n == 0 || n > layers {
        return None;
    }
    if layers % n == 0 {
        return Some(None);
    }
    if n < 3 {
        return None;
    }
    let k = layers.div_ceil(n);
    let short = n * k - layers;
    let first = k.checked_sub(short.div_ceil(2))?;
    let last = k.checked_sub(short / 2)?;
    (first >= 1 && last >= 1).then_some(Some((first, last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama3_405b_layers_split_as_its_pre_training_did() {
        // 126 layers over PP 16 × 2 chunks: 3 + 30·4 + 3 (Llama 3 paper §3.3.2).
        assert_eq!(split_layers(126, 32), Some(Some((3, 3))));
        assert_eq!(split_layers(126, 63), Some(None));
        // 126 over 8: ⌈126/8⌉ = 16, short 2 → 15 + 6·16 + 15 = 126.
        assert_eq!(split_layers(126, 8), Some(Some((15, 15))));
        // 126 over 4: 32 each, short 2 → 31 + 32 + 32 + 31.
        assert_eq!(split_layers(126, 4), Some(Some((31, 31))));
        assert_eq!(split_layers(126, 2), Some(None));
        assert_eq!(split_layers(5, 2), None);
        assert_eq!(split_layers(4, 8), None);
    }

    #[test]
    fn the_default_space_of_llama3_405b_on_h100() {
        let s = astrolabe_sim::parse_scenario(
            include_str!("../../../examples/llama3-405b-16384xh100.toml"),
            "405b",
            &astrolabe_sim::no_cluster_files,
        )
        .unwrap();
        let space = Space::for_scenario(&s);
        assert_eq!(space.tp, vec![1, 2, 4, 8]);
        assert_eq!(space.cp, vec![1, 2, 4, 8]);
        assert_eq!(space.pp, vec![1, 2, 3, 4, 6, 7, 8, 9, 14, 16, 18, 21, 32, 42, 63, 64]);
        assert_eq!(space.ep, vec![1]);
        assert_eq!(space.expert_tp, vec![None]);
    }
}
