//! What a step and a whole training run cost, in money and energy.
//!
//! ```text
//! steps            = ceil(run_tokens / tokens_per_step)
//! GPU-hours        = GPUs · steps · step_time_s / 3600
//! USD              = GPU-hours · USD per GPU-hour
//! energy (MWh)     = GPU-hours · IT W per GPU · PUE / 10^6
//! wall-clock days  = steps · step_time_s / 86,400
//! ```
//!
//! Every GPU of the job is billed for the whole step time, busy or not (utilization below
//! 100 % is already in the step time); failures, restarts and evaluation are not modelled.

use crate::rate::Rate;
use serde::Serialize;

/// The cost of a training run and of one of its steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunCost {
    /// GPUs of the job.
    pub gpus: u64,
    /// Tokens the run trains on.
    pub run_tokens: u64,
    /// Optimizer steps to get through them (rounded up).
    pub steps: u64,
    /// Wall-clock time of the run, days (steps back to back).
    pub wall_clock_days: f64,
    /// GPU time of the run, GPU-hours.
    pub gpu_hours: f64,
    /// Cost of the run, USD.
    pub usd: f64,
    /// Energy the facility draws for the run (IT × PUE), MWh.
    pub energy_mwh: f64,
    /// Cost per million training tokens, USD.
    pub usd_per_million_tokens: f64,
    /// Cost of one step, USD.
    pub usd_per_step: f64,
    /// Energy the facility draws for one step (IT × PUE), kWh.
    pub energy_kwh_per_step: f64,
}

impl RunCost {
    /// The cost of `run_tokens` tokens at `tokens_per_step` per step of `step_time_s` seconds
    /// on `gpus` GPUs, each billed at `rate`. A step without tokens or time costs nothing.
    pub fn new(
        rate: &Rate,
        gpus: u64,
        step_time_s: f64,
        tokens_per_step: u64,
        run_tokens: u64,
    ) -> RunCost {
        let steps = run_tokens.div_ceil(tokens_per_step.max(1));
        let step_gpu_hours = gpus as f64 * step_time_s / 3_600.0;
        let gpu_hours = step_gpu_hours * steps as f64;
        let usd = gpu_hours * rate.usd_per_gpu_hour;
        let kw = rate.facility_kw_per_gpu();
        RunCost {
            gpus,
            run_tokens,
            steps,
            wall_clock_days: steps as f64 * step_time_s / 86_400.0,
            gpu_hours,
            usd,
            energy_mwh: gpu_hours * kw / 1_000.0,
            usd_per_million_tokens: if run_tokens > 0 {
                usd / (run_tokens as f64 / 1e6)
            } else {
                0.0
            },
            usd_per_step: step_gpu_hours * rate.usd_per_gpu_hour,
            energy_kwh_per_step: step_gpu_hours * kw,
        }
    }
}
