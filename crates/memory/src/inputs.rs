//! The parallel plan as the memory accounting sees it, and its checks.

use astrolabe_core::{check_count, InputError};
use astrolabe_model::{Recompute, TransformerModel};
use serde::Serialize;

/// Origin named by every error about [`MemoryInputs`].
pub const ORIGIN: &str = "parallel plan";
/// Largest accepted `pp`, `dp`, `virtual_stages` and `num_micro_batches` (1,048,576).
pub const MAX_DEGREE: u64 = 1 << 20;
/// Largest accepted bytes per parameter for weights or gradients (fp64).
pub const MAX_BYTES_PER_PARAM: u64 = 8;

/// The pipeline schedule, which decides how many micro-batches a stage keeps activations for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Schedule {
    /// All forward passes, then all backward passes (Huang et al. 2019): every stage keeps all
    /// `m` micro-batches.
    #[serde(rename = "gpipe")]
    GPipe,
    /// One forward, one backward (PipeDream-Flush, Narayanan et al. 2021 §2.2.1).
    #[serde(rename = "1f1b")]
    OneFOneB,
    /// 1F1B with `virtual_stages` model chunks per GPU (Narayanan et al. 2021 §2.2.2).
    #[serde(rename = "interleaved_1f1b")]
    Interleaved1F1B,
    /// Zero bubble, ZB-H1 style (Qi et al. 2024, arXiv 2401.10241): 1F1B with every backward
    /// split into its input-gradient and weight-gradient parts, the weight gradients deferred
    /// into the pipeline's idle time; a micro-batch counts as in flight until its weight
    /// gradient is done, at most `pp` of them on every stage (1F1B's first stage's count).
    #[serde(rename = "zero_bubble")]
    ZeroBubble,
    /// DualPipe-style bidirectional pipeline (DeepSeek-AI 2024, arXiv 2412.19437, §3.2.1):
    /// stage `s` holds model stages `s` and `pp − 1 − s` (two copies of the model over the
    /// pipeline: Table 2's 2× parameters, with their gradients and optimizer state) and keeps
    /// up to `pp + 1` micro-batches' activations (Table 2). Needs an even `pp` and an even
    /// number of micro-batches, one chunk ([`MemoryInputs::virtual_stages`] = 1).
    #[serde(rename = "dualpipe")]
    DualPipe,
}

/// What [`crate::account`] needs to know about a training job's plan and precision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryInputs {
    /// Tensor-parallel degree; must divide the model's heads, kv_heads and ffn_hidden.
    pub tp: u64,
    /// Pipeline-parallel degree (stages); must divide the layers (times `virtual_stages`) unless
    /// `first_stage_layers` or `last_stage_layers` is given.
    pub pp: u64,
    /// Degree the ZeRO state is sharded over: the data-parallel replicas times the
    /// context-parallel ranks (Megatron shards the distributed optimizer over `dp·cp`), or the
    /// shard group of hybrid sharding.
    pub dp: u64,
    /// Context-parallel ranks: each holds the activations of `seq_len / cp` tokens.
    pub cp: u64,
    /// Expert-parallel ranks: each holds `experts / ep` of a MoE layer's routed experts. 1 for
    /// a dense model.
    pub ep: u64,
    /// Expert tensor parallelism: ranks each routed expert's matrices are split over (`tp`
    /// unless the plan folds the experts over other ranks).
    pub expert_tp: u64,
    /// Ranks holding the same routed experts, over which their ZeRO state is sharded
    /// (expert data parallelism: `tp·cp·dp / (expert_tp·ep)`; 1 for a dense model).
    pub expert_dp: u64,
    /// Model chunks per GPU: 1 = no interleaving; 2 or more only with
    /// [`Schedule::Interleaved1F1B`].
    pub virtual_stages: u64,
    /// Sequences per micro-batch.
    pub micro_batch: u64,
    /// Micro-batches per step and per data-parallel replica, `m`.
    pub num_micro_batches: u64,
    /// Pipeline schedule.
    pub schedule: Schedule,
    /// Transformer layers on the first *virtual* stage (virtual stage `chunk·pp + stage`, so the
    /// first chunk of stage 0; without interleaving, stage 0); `None` = the even share. Like
    /// Megatron-Core's `--decoder-first-pipeline-num-layers` (Llama 3 405B: 126 layers over 16
    /// stages as 7, 14 × 8, 7), except that Megatron counts a whole stage's layers over its
    /// chunks; with one chunk per stage the two agree. See
    /// [`MemoryInputs::layers_per_virtual_stage`].
    pub first_stage_layers: Option<u64>,
    /// Transformer layers on the last virtual stage (the last chunk of stage `pp − 1`); `None` =
    /// the even share. Megatron-Core's `--decoder-last-pipeline-num-layers`.
    pub last_stage_layers: Option<u64>,
    /// Megatron-LM sequence parallelism (norm and dropout activations split over `tp`).
    pub sequence_parallel: bool,
    /// Activation recomputation.
    pub recompute: Recompute,
    /// 0 = none; 1 = optimizer state sharded over `dp` (Megatron's distributed optimizer);
    /// 2 = gradients too; 3 = weights too (ZeRO-3 / FSDP), Rajbhandari et al. 2020 §5.
    pub zero_stage: u8,
    /// ZeRO-3: each unit's gathered weights are freed after its forward (and gathered again for
    /// the backward); false keeps them until the backward.
    pub reshard_after_forward: bool,
    /// Bytes of each model weight: 2 for bf16/fp16.
    pub weight_bytes_per_param: u64,
    /// Bytes of each gradient: 2 for bf16/fp16 gradients (the ZeRO paper's K = 12 accounting,
    /// DeepSpeed); 4 for Megatron-LM's fp32 `main_grad` accumulation buffer, its default with
    /// bf16 (Megatron-LM documentation, "Distributed Optimizer": 18 B/param, or `6 + 12/d`
    /// with the distributed optimizer). Not in the original brief: a constant
    /// would silently pick one framework's answer.
    pub grad_bytes_per_param: u64,
    /// Bytes per GPU the framework keeps for itself (CUDA context, allocator fragmentation).
    pub framework_reserve_bytes: u64,
    /// Bytes per GPU of communication buffers (NCCL channels, pipeline send/recv buffers).
    pub comm_buffer_bytes: u64,
}

impl MemoryInputs {
    /// Checks every field against `model`; the error names the field and what was expected.
    pub fn validate(&self, model: &TransformerModel) -> Result<(), InputError> {
        let degrees = [
            ("pp", self.pp, MAX_DEGREE),
            ("dp", self.dp, MAX_DEGREE),
            ("cp", self.cp, MAX_DEGREE),
            ("ep", self.ep, MAX_DEGREE),
            ("expert_tp", self.expert_tp, MAX_DEGREE),
            ("expert_dp", self.expert_dp, MAX_DEGREE),
            ("virtual_stages", self.virtual_stages, MAX_DEGREE),
            ("num_micro_batches", self.num_micro_batches, MAX_DEGREE),
            ("weight_bytes_per_param", self.weight_bytes_per_param, MAX_BYTES_PER_PARAM),
            ("grad_bytes_per_param", self.grad_bytes_per_param, MAX_BYTES_PER_PARAM),
        ];
        for (field, value, max) in degrees {
            check_range(field, value, max)?;
        }
        if self.zero_stage > 3 {
            return Err(error("zero_stage", format!("0, 1, 2 or 3, got {}", self.zero_stage)));
        }
        self.check_dualpipe()?;
        self.layers_per_virtual_stage(model.layers).map(|_| ())
    }

    /// DualPipe's conditions: an even `pp` (every stage pairs with its mirror `pp − 1 − s`)
    /// and an even number of micro-batches (half enter at each end).
    fn check_dualpipe(&self) -> Result<(), InputError> {
        if self.schedule != Schedule::DualPipe {
            return Ok(());
        }
        if self.pp % 2 != 0 {
            let expected = format!("an even number of stages with dualpipe, got {}", self.pp);
            return Err(error("pp", expected));
        }
        if self.num_micro_batches % 2 != 0 {
            let m = self.num_micro_batches;
            return Err(error("num_micro_batches", format!("even with dualpipe, got {m}")));
        }
        Ok(())
    }

    /// Indices into [`MemoryInputs::layers_per_virtual_stage`] of the virtual stages that
    /// pipeline stage `stage` holds: `chunk·pp + stage` for every chunk, or with DualPipe the
    /// model stages `stage` and `pp − 1 − stage`.
    pub fn held_virtual_stages(&self, stage: u64) -> Vec<usize> {
        if self.schedule == Schedule::DualPipe {
            return vec![stage as usize, (self.pp - 1 - stage) as usize];
        }
        (0..self.virtual_stages).map(|c| (c * self.pp + stage) as usize).collect()
    }

    /// Transformer layers on each virtual pipeline stage: `pp·virtual_stages` entries indexed by
    /// virtual stage `chunk·pp + stage`, in model order (the first entry holds layers
    /// `0..entry[0]`, the next the following ones), summing to `model_layers`.
    ///
    /// With neither `first_stage_layers` nor `last_stage_layers`, Megatron-LM's rules:
    /// `layers % pp == 0`; interleaving needs `pp >= 2`, `v >= 2` and `layers % (pp·v) == 0`;
    /// the other schedules need `v == 1`. With one or both given, the schedule's rules on `pp`
    /// and `v` still apply; each given count is at least 1 and needs more than one virtual
    /// stage; the layers left split evenly, at least 1 each, over the other virtual stages (and
    /// with no other virtual stage, the two given counts sum to `model_layers`).
    ///
    /// `model_layers` is the model's, within the bounds `TransformerModel::validate` checks.
    pub fn layers_per_virtual_stage(&self, model_layers: u64) -> Result<Vec<u64>, InputError> {
        check_range("pp", self.pp, MAX_DEGREE)?;
        check_range("virtual_stages", self.virtual_stages, MAX_DEGREE)?;
        let ends = [self.first_stage_layers, self.last_stage_layers];
        if ends == [None, None] {
            self.check_even(model_layers)?;
        } else {
            self.check_chunks()?;
            self.check_ends(model_layers)?;
        }
        // Every check above leaves at least one layer per virtual stage, so `n <= model_layers`.
        let n = self.pp * self.virtual_stages;
        let given = ends.iter().flatten().sum::<u64>();
        let others = n - ends.iter().flatten().count() as u64;
        // No other virtual stage (two, both given): no share.
        let share = (model_layers - given).checked_div(others).unwrap_or(0);
        let mut layout = vec![share; n as usize];
        if let Some(first) = self.first_stage_layers {
            layout[0] = first;
        }
        if let Some(last) = self.last_stage_layers {
            layout[n as usize - 1] = last;
        }
        debug_assert_eq!(layout.iter().sum::<u64>(), model_layers);
        Ok(layout)
    }

    /// Megatron-LM's rules for an even split: `layers % pp == 0`; interleaving needs `pp >= 2`,
    /// `v >= 2` and `layers % (pp·v) == 0`; the other schedules need `v == 1`.
    fn check_even(&self, layers: u64) -> Result<(), InputError> {
        let (pp, v) = (self.pp, self.virtual_stages);
        if layers % pp != 0 {
            let expected = format!("a divisor of the model's layers ({layers}), got {pp}");
            return Err(error("pp", expected));
        }
        let interleaved = self.schedule == Schedule::Interleaved1F1B;
        if interleaved && pp >= 2 && (v < 2 || layers % (pp * v) != 0) {
            let per_stage = layers / pp;
            let expected = format!(
                "at least 2 and a divisor of the layers per stage ({per_stage}) with the \
                 interleaved_1f1b schedule, got {v}"
            );
            return Err(error("virtual_stages", expected));
        }
        self.check_chunks()?;
        // Reached only by a model of 0 layers: no virtual stage may be empty.
        if layers < pp * v {
            let expected = format!("at most the model's layers ({layers}) in all, got {pp} × {v}");
            return Err(error("pp", expected));
        }
        Ok(())
    }

    /// The schedule's rules on `pp` and `v` alone, for an uneven split: interleaving needs
    /// `pp >= 2` and `v >= 2`, the other schedules `v == 1`.
    fn check_chunks(&self) -> Result<(), InputError> {
        let (pp, v) = (self.pp, self.virtual_stages);
        if self.schedule != Schedule::Interleaved1F1B {
            if v != 1 {
                let expected = format!("1 unless the schedule is interleaved_1f1b, got {v}");
                return Err(error("virtual_stages", expected));
            }
        } else if pp < 2 {
            return Err(error("pp", "at least 2 with the interleaved_1f1b schedule, got 1"));
        } else if v < 2 {
            let expected = format!("at least 2 with the interleaved_1f1b schedule, got {v}");
            return Err(error("virtual_stages", expected));
        }
        Ok(())
    }

    /// The given first and last virtual stages' layers, and the even split of the rest. Errors
    /// about the split as a whole name the first given field.
    fn check_ends(&self, layers: u64) -> Result<(), InputError> {
        let ends = [
            ("first_stage_layers", self.first_stage_layers),
            ("last_stage_layers", self.last_stage_layers),
        ];
        let given: Vec<(&str, u64)> =
            ends.into_iter().filter_map(|(field, value)| Some((field, value?))).collect();
        let n = self.pp * self.virtual_stages;
        for &(field, value) in &given {
            if value == 0 {
                return Err(error(field, "at least 1 layer, got 0"));
            }
            if n == 1 {
                let expected = format!("only with more than one pipeline stage, got {value}");
                return Err(error(field, expected));
            }
        }
        let (field, value) = given[0];
        let sum = given.iter().fold(0u64, |sum, &(_, value)| sum.saturating_add(value));
        let others = n - given.len() as u64;
        let fits = match layers.checked_sub(sum) {
            Some(left) if others == 0 => left == 0,
            Some(left) => left >= others && left % others == 0,
            None => false,
        };
        if fits {
            return Ok(());
        }
        let expected = if others == 0 {
            format!(
                "first_stage_layers + last_stage_layers equal to the model's layers ({layers}), \
                 the pipeline having no other virtual stage; got {value} (sum {sum})"
            )
        } else {
            let left = match layers.checked_sub(sum) {
                Some(left) => format!("{layers} − {sum} = {left}"),
                None => format!("{layers} − {sum} < 0"),
            };
            format!(
                "a count leaving the model's other layers an equal share of at least 1 on each \
                 of the other {others} virtual stages ({left} layers over {others}), got {value}"
            )
        };
        Err(error(field, expected))
    }
}

/// An integer from 1 to `max`.
fn check_range(field: &str, value: u64, max: u64) -> Result<(), InputError> {
    check_count(ORIGIN, field, value, max).map(|_| ())
}

fn error(field: &str, expected: impl Into<String>) -> InputError {
    InputError::new(ORIGIN, field, expected)
}

#[cfg(test)]
#[path = "inputs_tests.rs"]
mod tests;
