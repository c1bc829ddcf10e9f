//! The parallel plan: what the scenario's `[plan]` table says, every default filled in, checked
//! against the model and the cluster before anything is simulated.

use crate::placement::Axis;
use astrolabe_core::units::parse_size_bytes;
use astrolabe_core::{check_count, InputError};
use astrolabe_hardware::{Cluster, Precision};
use astrolabe_memory::inputs::MAX_DEGREE;
use astrolabe_memory::{MemoryInputs, Schedule};
use astrolabe_model::{check_tensor_parallel, Recompute, TransformerModel};
use serde::{Deserialize, Serialize};

/// Bytes of a bf16 weight. FP8 training (Transformer Engine) keeps bf16 weights and casts them
/// per GEMM, so the stored weight stays at 2 bytes in both precisions.
pub const WEIGHT_BYTES_PER_PARAM: u64 = 2;

/// The `[plan]` table as written; every field optional except the global batch.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    tp: Option<u64>,
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
    precision: Option<String>,
    overlap_grad_reduce: Option<bool>,
    overlap_param_gather: Option<bool>,
    overlap_tp_comm: Option<bool>,
    flash_attention: Option<bool>,
    placement: Option<String>,
    grad_bytes_per_param: Option<u64>,
    framework_reserve: Option<String>,
    comm_buffers: Option<String>,
}

/// A complete, checked plan. Serialized into every report so that the defaults used are visible.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Tensor-parallel degree.
    pub tp: u64,
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
    /// parameters, optimizer state sharded); 2: gradients sharded too (same traffic as 1).
    pub zero_stage: u8,
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
    /// Rank order, innermost first (Megatron-LM's default: tp, dp, pp).
    pub placement: Vec<Axis>,
    /// Bytes per gradient element (reduced at this width): 4 = Megatron's fp32 `main_grad`.
    pub grad_bytes_per_param: u64,
    /// Bytes per GPU reserved by the framework (CUDA context, allocator).
    pub framework_reserve_bytes: u64,
    /// Bytes per GPU of communication buffers.
    pub comm_buffers_bytes: u64,
}

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
        let pp = check_count(origin, "plan.pp", self.pp.unwrap_or(1), MAX_DEGREE)?;
        if gpus % (tp * pp) != 0 {
            return Err(err("tp", format!("tp·pp ({}) dividing the {gpus} GPUs", tp * pp)));
        }
        let dp = match self.dp {
            None => gpus / (tp * pp),
            Some(dp) if dp.checked_mul(tp * pp) == Some(gpus) => dp,
            Some(dp) => {
                let expected = format!(
                    "tp·pp·dp equal to the cluster's {gpus} GPUs; got {tp}·{pp}·{dp} \
                     (omit dp to derive it)"
                );
                return Err(err("dp", expected));
            }
        };
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
                err("schedule", format!("gpipe, 1f1b or interleaved_1f1b, got `{text}`"))
            })?,
        };
        let zero_stage = self.zero_stage.unwrap_or(0);
        if zero_stage > 2 {
            let expected = format!(
                "0, 1 or 2, got {zero_stage} (ZeRO-3 / FSDP is not simulated yet: issue 6)"
            );
            return Err(err("zero_stage", expected));
        }
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
        let plan = Plan {
            tp,
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
            precision,
            overlap_grad_reduce: self.overlap_grad_reduce.unwrap_or(true),
            overlap_param_gather: self.overlap_param_gather.unwrap_or(true),
            overlap_tp_comm: self.overlap_tp_comm.unwrap_or(false),
            flash_attention: self.flash_attention.unwrap_or(true),
            placement: Axis::parse_order(self.placement.as_deref().unwrap_or("tp-dp-pp"))
                .map_err(|expected| err("placement", expected))?,
            grad_bytes_per_param: self.grad_bytes_per_param.unwrap_or(4),
            framework_reserve_bytes: size(
                "framework_reserve",
                self.framework_reserve.as_deref().unwrap_or(DEFAULT_FRAMEWORK_RESERVE),
            )?,
            comm_buffers_bytes: size(
                "comm_buffers",
                self.comm_buffers.as_deref().unwrap_or(DEFAULT_COMM_BUFFERS),
            )?,
        };
        let named =
            |e: InputError| InputError::new(origin, format!("plan.{}", e.field), e.expected);
        check_tensor_parallel(model, micro_batch, tp, sequence_parallel).map_err(named)?;
        plan.memory_inputs().validate(model).map_err(named)?;
        Ok(plan)
    }
}

fn parse_schedule(text: &str) -> Option<Schedule> {
    match text {
        "gpipe" => Some(Schedule::GPipe),
        "1f1b" => Some(Schedule::OneFOneB),
        "interleaved_1f1b" | "interleaved" => Some(Schedule::Interleaved1F1B),
        _ => None,
    }
}

impl Plan {
    /// The plan as the memory accounting reads it.
    pub fn memory_inputs(&self) -> MemoryInputs {
        MemoryInputs {
            tp: self.tp,
            pp: self.pp,
            dp: self.dp,
            virtual_stages: self.virtual_stages,
            first_stage_layers: self.first_stage_layers,
            last_stage_layers: self.last_stage_layers,
            micro_batch: self.micro_batch,
            num_micro_batches: self.micro_batches,
            schedule: self.schedule,
            sequence_parallel: self.sequence_parallel,
            recompute: self.activation_policy(),
            zero_stage: self.zero_stage,
            weight_bytes_per_param: WEIGHT_BYTES_PER_PARAM,
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

    /// GPUs the plan uses: `tp · pp · dp`.
    pub fn gpus(&self) -> u64 {
        self.tp * self.pp * self.dp
    }
}
