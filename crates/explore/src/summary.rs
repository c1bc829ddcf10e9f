//! The figures of one simulated plan that searches, scaling curves and comparisons print.

use astrolabe_sim::breakdown::Breakdown;
use astrolabe_sim::{Plan, SimReport};
use serde::Serialize;

/// One simulated step, reduced to what a ranking or a curve needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// GPUs of the job.
    pub gpus: u64,
    /// Data-parallel replicas.
    pub dp: u64,
    /// Micro-batches per replica per step.
    pub micro_batches: u64,
    /// Step time, seconds.
    pub step_time_s: f64,
    /// Tokens per second of the whole job.
    pub tokens_per_s: f64,
    /// Model FLOPs utilization, a fraction.
    pub mfu: f64,
    /// Memory of the fullest GPU, bytes.
    pub memory_peak_bytes: u64,
    /// Exposed communication (TP, CP, EP, PP, DP) over the step time, a fraction.
    pub exposed_comm_fraction: f64,
    /// Dollars per million tokens at the scenario's rate (`[cost]`).
    pub usd_per_million_tokens: f64,
    /// Dollars per hour of the whole job's GPUs.
    pub usd_per_hour: f64,
    /// Tokens of the scenario's training run (`cost.run_tokens`, or 20 per parameter).
    pub run_tokens: u64,
    /// Dollars of that run.
    pub run_usd: f64,
    /// Days of that run.
    pub run_days: f64,
    /// Energy of that run at the facility, MWh.
    pub run_energy_mwh: f64,
    /// Where the critical stage's time goes, seconds.
    pub breakdown: Breakdown,
}

impl Summary {
    /// The summary of `r`.
    pub fn of(r: &SimReport) -> Summary {
        let b = &r.breakdown;
        let exposed = b.exposed_tp_comm_s
            + b.exposed_cp_comm_s
            + b.exposed_ep_comm_s
            + b.exposed_pp_comm_s
            + b.exposed_dp_comm_s;
        Summary {
            gpus: r.plan.gpus(),
            dp: r.plan.dp,
            micro_batches: r.plan.micro_batches,
            step_time_s: r.step_time_s,
            tokens_per_s: r.tokens_per_s,
            mfu: r.mfu,
            memory_peak_bytes: r.memory_peak_bytes,
            exposed_comm_fraction: exposed / r.step_time_s,
            usd_per_million_tokens: r.cost.run.usd_per_million_tokens,
            usd_per_hour: r.cost.rate.usd_per_gpu_hour * r.plan.gpus() as f64,
            run_tokens: r.cost.run.run_tokens,
            run_usd: r.cost.run.usd,
            run_days: r.cost.run.wall_clock_days,
            run_energy_mwh: r.cost.run.energy_mwh,
            breakdown: *b,
        }
    }
}

/// The label of a scenario's own plan: `tp8 cp1 pp4 dp2 mb1 ×64` (× micro-batches per step).
pub fn plan_label(p: &Plan) -> String {
    format!("tp{} cp{} pp{} dp{} mb{} ×{}", p.tp, p.cp, p.pp, p.dp, p.micro_batch, p.micro_batches)
}
