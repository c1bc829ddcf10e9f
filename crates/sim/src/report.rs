//! The result of a simulation, with the inputs it used, for people (`render_text`) and programs
//! (serde JSON).
//!
//! Definitions (DESIGN.md): MFU = model FLOPs per step / (step time × GPUs × dense peak at the
//! training precision), model FLOPs = forward + backward once, no recomputation
//! ([`astrolabe_model::TransformerModel::model_flops_per_token`]: `3 × forward`, forward = `2 ×`
//! every GEMM's multiply-adds including the attention scores and the logits); HFU counts the
//! recomputed FLOPs as well.

use crate::breakdown::Breakdown;
use crate::costs::{CollectiveUse, Purpose};
use crate::flow_pricing::LinkReport;
use crate::network_choice::NetworkModel;
use crate::plan::Plan;
use crate::run::Mode;
use astrolabe_collective::CollectiveOp;
use astrolabe_compute::ComputeModel;
use astrolabe_hardware::Cluster;
use astrolabe_memory::MemoryReport;
use astrolabe_model::TransformerModel;
use serde::Serialize;

#[path = "report_text.rs"]
mod text;

/// Which network model ran, and what it saw of the links.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkReport {
    /// `analytical` or `congestion-aware`.
    pub model: NetworkModel,
    /// Link classes, hottest links and bytes per tier (congestion-aware model only).
    pub links: Option<LinkReport>,
}

/// One simulated training step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimReport {
    /// Scenario name.
    pub scenario: String,
    /// Scenario description.
    pub description: Option<String>,
    /// Representative or per-rank simulation.
    pub mode: Mode,
    /// Time of one optimizer step, in seconds.
    pub step_time_s: f64,
    /// Tokens in one step: `global_batch × seq_len`.
    pub tokens_per_step: u64,
    /// Training throughput of the whole job, tokens per second.
    pub tokens_per_s: f64,
    /// Throughput per GPU, tokens per second.
    pub tokens_per_s_per_gpu: f64,
    /// Model FLOPs utilization, a fraction (0.47 = 47%).
    pub mfu: f64,
    /// Hardware FLOPs utilization (recomputation counted), a fraction.
    pub hfu: f64,
    /// Model FLOPs per token (forward + backward, no recomputation).
    pub model_flops_per_token: u64,
    /// Dense peak of one GPU at the plan's precision, FLOP/s.
    pub peak_flop_per_s: f64,
    /// Memory of the fullest GPU (worst pipeline stage), bytes.
    pub memory_peak_bytes: u64,
    /// Whether that GPU's memory holds it.
    pub fits_in_memory: bool,
    /// Where the step time of the critical stage's GPU goes, seconds; adds up to the step time.
    pub breakdown: Breakdown,
    /// The stage the breakdown is of: the one with the most compute plus optimizer time.
    pub breakdown_stage: usize,
    /// The breakdown of every stage's first GPU.
    pub stage_breakdowns: Vec<Breakdown>,
    /// Bytes the critical stage's GPU sends per step on each network dimension.
    pub traffic: Vec<DimTraffic>,
    /// The network model that timed the collectives and, for the congestion-aware one, the
    /// load of the fabric's links.
    pub network: NetworkReport,
    /// Bytes one GPU of the fullest stage moves to and from each memory tier per step (both
    /// directions), by tier name; empty without offload.
    pub memory_traffic_bytes: std::collections::BTreeMap<String, u64>,
    /// Offload: the tier, its capacity and use per GPU, its bandwidth, what is offloaded.
    pub offload: Option<crate::offload_step::OffloadReport>,
    /// Every collective of the step as priced (one use each).
    pub collectives: Vec<CollectiveSummary>,
    /// Tasks the engine executed.
    pub simulated_tasks: usize,
    /// GPUs simulated explicitly (one per stage in representative mode).
    pub simulated_gpus: usize,
    /// The model, as used.
    pub model: TransformerModel,
    /// The cluster, as used.
    pub cluster: Cluster,
    /// The plan with every default filled in.
    pub plan: Plan,
    /// The kernel efficiencies used (calibrated, with the scenario's `[compute]` overrides).
    pub compute: ComputeModel,
    /// Memory per GPU for every pipeline stage.
    pub memory: MemoryReport,
    /// The published run this scenario names, when the caller found it.
    pub reference: Option<Reference>,
    /// What a GPU-hour, the step and the training run cost (`[cost]`).
    pub cost: crate::cost_step::CostReport,
}

/// A published measurement of the same setup, printed beside the prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// Entry id in the dataset.
    pub dataset_id: String,
    /// Where the figure was published.
    pub source: String,
    /// Published MFU, a fraction, if the entry gives one.
    pub mfu: Option<f64>,
    /// Published step time in seconds, if the entry gives one.
    pub step_time_s: Option<f64>,
    /// Published throughput per GPU in tokens per second, if the entry gives one.
    pub tokens_per_s_per_gpu: Option<f64>,
}

/// Bytes sent per GPU per step on one network dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DimTraffic {
    /// Dimension name.
    pub dimension: String,
    /// Tensor-parallel bytes.
    pub tp_bytes: u64,
    /// Pipeline bytes.
    pub pp_bytes: u64,
    /// Context-parallel bytes.
    pub cp_bytes: u64,
    /// Expert-parallel bytes (token dispatch and combine).
    pub ep_bytes: u64,
    /// Data-parallel bytes.
    pub dp_bytes: u64,
    /// The sum.
    pub total_bytes: u64,
}

impl DimTraffic {
    /// An empty row for `dimension`.
    pub fn new(dimension: &str) -> Self {
        DimTraffic {
            dimension: dimension.into(),
            tp_bytes: 0,
            pp_bytes: 0,
            cp_bytes: 0,
            ep_bytes: 0,
            dp_bytes: 0,
            total_bytes: 0,
        }
    }

    /// Adds `bytes` sent for `purpose`.
    pub fn add(&mut self, purpose: Purpose, bytes: u64) {
        let slot = match purpose {
            Purpose::TpForward | Purpose::TpBackward => &mut self.tp_bytes,
            Purpose::PpSend => &mut self.pp_bytes,
            Purpose::CpForward | Purpose::CpBackward => &mut self.cp_bytes,
            Purpose::EpForward
            | Purpose::EpBackward
            | Purpose::ExpertTpForward
            | Purpose::ExpertTpBackward => &mut self.ep_bytes,
            _ => &mut self.dp_bytes,
        };
        *slot += bytes;
        self.total_bytes += bytes;
    }
}

/// One collective of the step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveSummary {
    /// What it is for.
    pub purpose: Purpose,
    /// The operation.
    pub op: CollectiveOp,
    /// Ranks in its group.
    pub ranks: usize,
    /// Buffer per rank, bytes (nccl-tests convention).
    pub size_bytes: u64,
    /// Times it runs per use (e.g. 2 per layer forward).
    pub repeats: u32,
    /// Seconds of one run.
    pub time_s: f64,
    /// Bus bandwidth of one run, GB/s.
    pub busbw_gbps: f64,
}

impl From<&CollectiveUse> for CollectiveSummary {
    fn from(u: &CollectiveUse) -> Self {
        CollectiveSummary {
            purpose: u.purpose,
            op: u.result.op,
            ranks: u.result.ranks,
            size_bytes: u.result.size_bytes,
            repeats: u.repeats,
            time_s: u.result.time_s,
            busbw_gbps: u.result.busbw_gbps,
        }
    }
}

impl SimReport {
    /// The human-readable report.
    pub fn render_text(&self) -> String {
        text::render(self)
    }
}
