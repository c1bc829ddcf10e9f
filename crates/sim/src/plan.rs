//! The parallel plan: what the scenario's `[plan]` table says, every default filled in, checked
//! against the model and the cluster before anything is simulated.

use crate::moe::MoeKeys;
use crate::placement::Axis;
use astrolabe_core::units::parse_size_bytes;
use astrolabe_core::{check_count, InputError};
use astrolabe_hardware::{Cluster, Precision};
use astrolabe_memory::inputs::MAX_DEGREE;
use astrolabe_memory::{MemoryInputs, Schedule};
use astrolabe_model::{check_tensor_parallel, context_shard, Recompute, TransformerModel};
use serde::{Deserialize, Serialize};

/// Bytes of a bf16 weight. FP8 training (Transformer Engine) keeps bf16 weights and casts them
/// per GEMM, so the stored weight stays at 2 bytes in both precisions, unless the weights
/// themselves are kept in FP8 ([`FP8_WEIGHT_BYTES_PER_PARAM`], `plan.fp8_param_gather`).
pub const WEIGHT_BYTES_PER_PARAM: u64 = 2;
/// Bytes of an FP8 weight: Transformer Engine's FP8 primary weights (Megatron-Core's
/// `--fp8-param-gather`), which the distributed optimizer gathers at 1 byte per parameter; the
/// fp32 master copy stays in the optimizer state.
pub const FP8_WEIGHT_BYTES_PER_PARAM: u64 = 1;

/// The `[plan]` table as written; every field optional except the global batch.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    tp: Option<u64>,
    cp: Option<u64>,
    cp_comm: Option<String>,
    pp: Option<u64>,
    dp: Option<u64>,
    virtual_stages: Option<u64>,
    first_stage_layers: Option<u64>,
    last_stage_layers: Option<u64>,
    micro_batch: Option<u64>,
    global_batch: Option<u64>,
    schedule: Option<String>,
    recompute: Option<Recompute>,
    sequence_parallel: Option<bool>,
    zero_stage: Option<u8>,
    reshard_after_forward: Option<bool>,
    shard_group: Option<u64>,
    precision: Option<String>,
    overlap_grad_reduce: Option<bool>,
    overlap_param_gather: Option<bool>,
    overlap_tp_comm: Option<bool>,
    flash_attention: Option<bool>,
    placement: Option<String>,
    grad_bytes_per_param: Option<u64>,
    framework_reserve: Option<String>,
    comm_buffers: Option<String>,
    ep: Option<u64>,
    expert_tp: Option<u64>,
    capacity_factor: Option<f64>,
    routing_imbalance: Option<f64>,
    fp8_param_gather: Option<bool>,
}

/// A complete, checked plan. Serialized into every report so that the defaults used are visible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Tensor-parallel degree.
    pub tp: u64,
    /// Context-parallel degree: ranks the sequence is split over.
    pub cp: u64,
    /// How context-parallel attention exchanges keys and values.
    pub cp_comm: CpComm,
    /// Pipeline stages.
    pub pp: u64,
    /// Data-parallel replicas.
    pub dp: u64,
    /// Model chunks per pipeline rank (interleaved 1F1B); 1 otherwise.
    pub virtual_stages: u64,
    /// Layers on the first virtual stage, if not the even share.
    pub first_stage_layers: Option<u64>,
    /// Layers on the last virtual stage, if not the even share.
    pub last_stage_layers: Option<u64>,
    /// Sequences per micro-batch.
    pub micro_batch: u64,
    /// Sequences per step over all replicas.
    pub global_batch: u64,
    /// Micro-batches per replica per step (gradient accumulation steps):
    /// `global_batch / (micro_batch · dp)`.
    pub micro_batches: u64,
    /// Pipeline schedule.
    pub schedule: Schedule,
    /// Activation recomputation.
    pub recompute: Recompute,
    /// Megatron-LM sequence parallelism.
    pub sequence_parallel: bool,
    /// 0: all-reduce gradients; 1: distributed optimizer (reduce-scatter gradients, all-gather
    /// parameters, optimizer state sharded); 2: gradients sharded too (reduce-scattered after
    /// every micro-batch's backward); 3: parameters too (ZeRO-3 / FSDP: gathered before every
    /// layer's forward and backward).
    pub zero_stage: u8,
    /// ZeRO-3: free each layer's gathered weights after its forward and gather them again for
    /// the backward (PyTorch FSDP's `reshard_after_forward`); false keeps them.
    pub reshard_after_forward: bool,
    /// Ranks the ZeRO state is sharded over: `dp·cp` by default; a divisor of it is hybrid
    /// sharding (sharded inside groups of this size, replicated across them).
    pub shard_group: u64,
    /// Precision of the GEMMs: `bf16` or `fp8`.
    pub precision: Precision,
    /// Reduce each layer's gradients as soon as its backward is done.
    pub overlap_grad_reduce: bool,
    /// Gather parameters beside the next forward (ZeRO-1/2) instead of after the optimizer.
    pub overlap_param_gather: bool,
    /// Run TP collectives beside the layer's computation.
    pub overlap_tp_comm: bool,
    /// Fused attention kernel: no `seq²` softmax and dropout passes through HBM.
    pub flash_attention: bool,
    /// Rank order, innermost first (Megatron-LM's default: tp, cp, ep, dp, pp).
    pub placement: Vec<Axis>,
    /// Bytes per gradient element (reduced at this width): 4 = Megatron's fp32 `main_grad`.
    pub grad_bytes_per_param: u64,
    /// Bytes per GPU reserved by the framework (CUDA context, allocator).
    pub framework_reserve_bytes: u64,
    /// Bytes per GPU of communication buffers.
    pub comm_buffers_bytes: u64,
    /// Expert-parallel ranks over which each MoE layer's routed experts are spread; 1 for a
    /// dense model. A split of `dp` unless the experts are folded (see [`crate::moe`]).
    pub ep: u64,
    /// Ranks each routed expert's matrices are split over: `tp` unless given.
    pub expert_tp: u64,
    /// Cap on each expert's tokens as a multiple of its mean load (tokens over it dropped);
    /// `None`: dropless.
    pub capacity_factor: Option<f64>,
    /// The busiest expert-parallel rank's routed tokens over the mean (1 = balanced).
    pub routing_imbalance: f64,
    /// Keep the weights in FP8 and gather them at 1 byte per parameter (needs fp8 precision
    /// and a ZeRO stage that gathers parameters).
    pub fp8_param_gather: bool,
}

/// How context-parallel attention gets the keys and values of the other ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CpComm {
    /// Ring exchange (Megatron-Core's default, ring attention): `cp − 1` send/receive steps per
    /// layer, each beside the attention of the block already received.
    Ring,
    /// All-gather of the whole sequence's keys and values before the attention (Llama 3's
    /// context parallelism), not overlapped; their gradients are reduce-scattered.
    AllGather,
}

/// Default rank order, innermost first: Megatron-LM's `tp-cp-ep-dp-pp`.
pub const DEFAULT_PLACEMENT: &str = "tp-cp-ep-dp-pp";

/// Largest accepted `global_batch` in sequences (about a billion; published runs use thousands).
pub const MAX_GLOBAL_BATCH: u64 = 1 << 30;

/// Default framework reserve: the CUDA context and cuBLAS/NCCL workspaces take about 1 GiB on
/// Hopper, and PyTorch's caching allocator typically leaves another GiB fragmented. An
/// assumption, not a measurement; override with `framework_reserve`.
pub const DEFAULT_FRAMEWORK_RESERVE: &str = "2GiB";
/// Default communication buffers: NCCL's default 4 MiB buffer per channel and peer, for a few
/// dozen channel-peer pairs across TP, PP and DP communicators, rounded up. An assumption.
pub const DEFAULT_COMM_BUFFERS: &str = "512MiB";

impl PlanFile {
    /// Fills the defaults and checks the plan against `model` and `cluster`; `origin` names the
    /// scenario file in errors (fields are reported as `plan.<key>`).
    pub fn resolve(
        &self,
        model: &TransformerModel,
        cluster: &Cluster,
        origin: &str,
    ) -> Result<Plan, InputError> {
        let err = |field: &str, expected: String| {
            InputError::new(origin, format!("plan.{field}"), expected)
        };
        let gpus = cluster.gpus() as u64;
        let tp = check_count(origin, "plan.tp", self.tp.unwrap_or(1), MAX_DEGREE)?;
        let cp = check_count(origin, "plan.cp", self.cp.unwrap_or(1), MAX_DEGREE)?;
        let pp = check_count(origin, "plan.pp", self.pp.unwrap_or(1), MAX_DEGREE)?;
        let model_parallel = tp * cp * pp;
        if gpus % model_parallel != 0 {
            let expected = format!("tp·cp·pp ({model_parallel}) dividing the {gpus} GPUs");
            return Err(err("tp", expected));
        }
        let dp = match self.dp {
            None => gpus / model_parallel,
            Some(dp) if dp.checked_mul(model_parallel) == Some(gpus) => dp,
            Some(dp) => {
                let expected = format!(
                    "tp·cp·pp·dp equal to the cluster's {gpus} GPUs; got {tp}·{cp}·{pp}·{dp} \
                     (omit dp to derive it)"
                );
                return Err(err("dp", expected));
            }
        };
        check_context(model, cp, tp, self.sequence_parallel.unwrap_or(tp > 1), origin)?;
        let micro_batch =
            check_count(origin, "plan.micro_batch", self.micro_batch.unwrap_or(1), MAX_DEGREE)?;
        let global_batch = self
            .global_batch
            .ok_or_else(|| err("global_batch", "sequences per step (required)".into()))?;
        let batch_ok = (1..=MAX_GLOBAL_BATCH).contains(&global_batch);
        if !batch_ok || global_batch % (micro_batch * dp) != 0 {
            let expected = format!(
                "a multiple of micro_batch·dp ({}) from 1 to {MAX_GLOBAL_BATCH}, got {global_batch}",
                micro_batch * dp
            );
            return Err(err("global_batch", expected));
        }
        let v = check_count(
            origin,
            "plan.virtual_stages",
            self.virtual_stages.unwrap_or(1),
            MAX_DEGREE,
        )?;
        let schedule = match self.schedule.as_deref() {
            None if v > 1 => Schedule::Interleaved1F1B,
            None => Schedule::OneFOneB,
            Some(text) => parse_schedule(text).ok_or_else(|| {
                let names = "gpipe, 1f1b, interleaved_1f1b, zero_bubble or dualpipe";
                err("schedule", format!("{names}, got `{text}`"))
            })?,
        };
        let zero_stage = self.zero_stage.unwrap_or(0);
        if zero_stage > 3 {
            return Err(err("zero_stage", format!("0, 1, 2 or 3, got {zero_stage}")));
        }
        let shard_group = self.shard_group.unwrap_or(dp * cp);
        if shard_group == 0 || (dp * cp) % shard_group != 0 {
            let expected =
                format!("a divisor of dp·cp ({}) for hybrid sharding, got {shard_group}", dp * cp);
            return Err(err("shard_group", expected));
        }
        if shard_group != dp * cp && zero_stage == 0 {
            return Err(err(
                "shard_group",
                "only with zero_stage 1 to 3 (nothing is sharded)".into(),
            ));
        }
        let split = matches!(schedule, Schedule::ZeroBubble | Schedule::DualPipe);
        if split && zero_stage >= 2 && model.moe.is_some() {
            let expected = "1f1b or interleaved_1f1b with ZeRO-2/3 and a mixture of experts: \
                            the zero-bubble and dualpipe schedules do not reduce expert \
                            gradients every micro-batch";
            return Err(err("schedule", expected.into()));
        }
        if schedule == Schedule::DualPipe {
            check_dualpipe(pp, v, global_batch / (micro_batch * dp), origin)?;
        }
        let cp_comm = match self.cp_comm.as_deref() {
            None | Some("ring") => CpComm::Ring,
            Some("all_gather") => CpComm::AllGather,
            Some(other) => {
                return Err(err("cp_comm", format!("ring or all_gather, got `{other}`")));
            }
        };
        let precision_text = self.precision.as_deref().unwrap_or("bf16");
        let precision = match Precision::parse(precision_text, origin) {
            Ok(p @ (Precision::Bf16 | Precision::Fp8)) => p,
            _ => return Err(err("precision", format!("bf16 or fp8, got `{precision_text}`"))),
        };
        cluster.gpu.peak(precision).map_err(|e| err("precision", e.expected))?;
        let size = |field: &str, text: &str| {
            parse_size_bytes(text, origin).map_err(|e| err(field, e.expected))
        };
        let sequence_parallel = self.sequence_parallel.unwrap_or(tp > 1);
        let placement = Axis::parse_order(self.placement.as_deref().unwrap_or(DEFAULT_PLACEMENT))
            .map_err(|expected| err("placement", expected))?;
        if cp > 1 && !placement.contains(&Axis::Cp) {
            let expected = format!("an order naming cp when cp > 1 (cp = {cp}), e.g. tp-cp-dp-pp");
            return Err(err("placement", expected));
        }
        let keys = MoeKeys {
            ep: self.ep,
            expert_tp: self.expert_tp,
            capacity_factor: self.capacity_factor,
            routing_imbalance: self.routing_imbalance,
        };
        let hybrid = shard_group != dp * cp;
        let grid = ((tp, cp, dp), sequence_parallel, hybrid);
        let experts = crate::moe::check(keys, model, grid, origin)?;
        let fp8_param_gather = self.fp8_param_gather.unwrap_or(false);
        if fp8_param_gather && (precision != Precision::Fp8 || zero_stage == 0) {
            let expected = format!(
                "false unless precision is fp8 and zero_stage is 1 to 3 (parameters gathered); \
                 got precision {precision_text}, zero_stage {zero_stage}"
            );
            return Err(err("fp8_param_gather", expected));
        }
        let ep = experts.ep;
        let within_dp = experts.expert_tp == tp && dp % ep == 0;
        if ep > 1 && within_dp && !placement.contains(&Axis::Ep) {
            let expected = format!("an order naming ep when ep > 1 (ep = {ep}), e.g. tp-ep-dp-pp");
            return Err(err("placement", expected));
        }
        let plan = Plan {
            tp,
            cp,
            cp_comm,
            pp,
            dp,
            virtual_stages: v,
            first_stage_layers: self.first_stage_layers,
            last_stage_layers: self.last_stage_layers,
            micro_batch,
            global_batch,
            micro_batches: global_batch / (micro_batch * dp),
            schedule,
            recompute: self.recompute.unwrap_or(Recompute::None),
            sequence_parallel,
            zero_stage,
            reshard_after_forward: self.reshard_after_forward.unwrap_or(true),
            shard_group,
            precision,
            overlap_grad_reduce: self.overlap_grad_reduce.unwrap_or(true),
            overlap_param_gather: self.overlap_param_gather.unwrap_or(true),
            overlap_tp_comm: self.overlap_tp_comm.unwrap_or(false),
            flash_attention: self.flash_attention.unwrap_or(true),
            placement,
            grad_bytes_per_param: self.grad_bytes_per_param.unwrap_or(4),
            framework_reserve_bytes: size(
                "framework_reserve",
                self.framework_reserve.as_deref().unwrap_or(DEFAULT_FRAMEWORK_RESERVE),
            )?,
            comm_buffers_bytes: size(
                "comm_buffers",
                self.comm_buffers.as_deref().unwrap_or(DEFAULT_COMM_BUFFERS),
            )?,
            ep,
            expert_tp: experts.expert_tp,
            capacity_factor: experts.capacity_factor,
            routing_imbalance: experts.routing_imbalance,
            fp8_param_gather,
        };
        let named =
            |e: InputError| InputError::new(origin, format!("plan.{}", e.field), e.expected);
        let local = context_shard(model, cp);
        check_tensor_parallel(&local, micro_batch, tp, sequence_parallel).map_err(named)?;
        plan.memory_inputs().validate(model).map_err(named)?;
        Ok(plan)
    }
}

/// Context parallelism's conditions: the sequence splits into `2·cp` equal chunks (two per
/// rank, one from each end, which balances the causal mask: Megatron-Core's load balancing),
/// and each rank's `seq_len / cp` tokens split over `tp` with sequence parallelism.
fn check_context(
    model: &TransformerModel,
    cp: u64,
    tp: u64,
    sequence_parallel: bool,
    origin: &str,
) -> Result<(), InputError> {
    let s = model.seq_len;
    let err = |expected: String| InputError::new(origin, "plan.cp", expected);
    if cp > 1 && s % (2 * cp) != 0 {
        let expected = format!(
            "a cp whose 2·cp load-balanced chunks divide the sequence ({s} tokens), got {cp}"
        );
        return Err(err(expected));
    }
    if sequence_parallel && (s / cp) % tp != 0 {
        let expected = format!(
            "a cp leaving each rank a sequence share ({s} / {cp}) that tp ({tp}) divides with \
             sequence parallelism"
        );
        return Err(err(expected));
    }
    Ok(())
}

/// DualPipe's conditions (DeepSeek-AI 2024, arXiv 2412.19437, §3.2.1: pipeline stages and
/// micro-batches divisible by 2): an even `pp` of at least 2 (stage `s` pairs with its mirror
/// `pp − 1 − s`), an even number of micro-batches `m` (half enter at each end), and one chunk
/// per stage (its two directions are its chunks). `m < pp` is accepted: the paper does not
/// require more, and the step is then bounded by a micro-batch's round trip.
fn check_dualpipe(pp: u64, v: u64, m: u64, origin: &str) -> Result<(), InputError> {
    let err =
        |field: &str, expected: String| InputError::new(origin, format!("plan.{field}"), expected);
    if pp < 2 || pp % 2 != 0 {
        return Err(err(
            "pp",
            format!("an even number of stages, at least 2, with schedule = \"dualpipe\", got {pp}"),
        ));
    }
    if m % 2 != 0 {
        let expected = format!(
            "an even number of micro-batches per replica (global_batch / (micro_batch·dp)) with \
             schedule = \"dualpipe\", half entering at each end; got {m}"
        );
        return Err(err("global_batch", expected));
    }
    if v != 1 {
        let expected = format!(
            "1 with schedule = \"dualpipe\" (each stage's two chunks are its two directions), \
             got {v}"
        );
        return Err(err("virtual_stages", expected));
    }
    Ok(())
}

fn parse_schedule(text: &str) -> Option<Schedule> {
    match text {
        "gpipe" => Some(Schedule::GPipe),
        "1f1b" => Some(Schedule::OneFOneB),
        "interleaved_1f1b" | "interleaved" => Some(Schedule::Interleaved1F1B),
        "zero_bubble" | "zb-h1" => Some(Schedule::ZeroBubble),
        "dualpipe" => Some(Schedule::DualPipe),
        _ => None,
    }
}

impl Plan {
    /// The plan as the memory accounting reads it.
    pub fn memory_inputs(&self) -> MemoryInputs {
        MemoryInputs {
            tp: self.tp,
            pp: self.pp,
            dp: self.shard_group,
            cp: self.cp,
            ep: self.ep,
            expert_tp: self.expert_tp,
            expert_dp: crate::moe::expert_dp(self),
            virtual_stages: self.virtual_stages,
            first_stage_layers: self.first_stage_layers,
            last_stage_layers: self.last_stage_layers,
            micro_batch: self.micro_batch,
            num_micro_batches: self.micro_batches,
            schedule: self.schedule,
            sequence_parallel: self.sequence_parallel,
            recompute: self.activation_policy(),
            zero_stage: self.zero_stage,
            reshard_after_forward: self.reshard_after_forward,
            weight_bytes_per_param: self.weight_bytes_per_param(),
            grad_bytes_per_param: self.grad_bytes_per_param,
            framework_reserve_bytes: self.framework_reserve_bytes,
            comm_buffer_bytes: self.comm_buffers_bytes,
        }
    }

    /// The recomputation policy as far as stored activations go: a fused (flash) attention
    /// kernel never stores the `seq²` scores, which is what selective recomputation saves, so
    /// "none" with flash attention keeps what "selective" keeps (Korthikanti et al. 2022 §4.2).
    pub fn activation_policy(&self) -> Recompute {
        match self.recompute {
            Recompute::None if self.flash_attention => Recompute::Selective,
            other => other,
        }
    }

    /// Bytes of a stored (and gathered) weight: 1 with FP8 parameters, else 2.
    pub fn weight_bytes_per_param(&self) -> u64 {
        if self.fp8_param_gather {
            FP8_WEIGHT_BYTES_PER_PARAM
        } else {
            WEIGHT_BYTES_PER_PARAM
        }
    }

    /// GPUs the plan uses: `tp · cp · pp · dp`.
    pub fn gpus(&self) -> u64 {
        self.tp * self.cp * self.pp * self.dp
    }

    /// Ranks a layer's gradients are reduced over: the data-parallel replicas times the
    /// context-parallel ranks (each CP rank holds gradients of its part of the sequence).
    pub fn grad_ranks(&self) -> u64 {
        self.dp * self.cp
    }
}
