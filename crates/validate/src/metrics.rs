//! Metric conventions: which measured figure of a training entry is compared with which
//! prediction, and how the prediction is computed in the entry's own convention.
//!
//! - MFU = model FLOPs per token × tokens per step / (step time × GPUs × dense peak at the
//!   training precision); model FLOPs count the forward and backward passes once
//!   ([`astrolabe_model::TransformerModel::model_flops_per_token`]).
//! - HFU: the same with the FLOPs the hardware executed, recomputation included
//!   ([`astrolabe_model::TransformerModel::hardware_flops_per_token`]).
//! - TFLOP/s per GPU = FLOPs per token × tokens per step / step time / GPUs / 1e12, with model
//!   FLOPs, or hardware FLOPs when the entry's `tflops_definition` mentions recomputation or
//!   "hardware" (Narayanan et al. 2021 and BLOOM count the recomputed forward pass).
//! - Percentages in the dataset (`mfu_pct`, …) become fractions.
//!
//! The FLOP count is Astrolabe's (every GEMM, attention without a causal discount, logits); a
//! source that counts differently carries that difference into its error.

use crate::entry::Entry;
use crate::Skip;
use astrolabe_sim::SimReport;
use serde::Serialize;

/// A compared quantity; names carry their unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Seconds per optimizer step.
    StepTimeS,
    /// Tokens per second per GPU.
    TokensPerSPerGpu,
    /// Tokens per second, whole job.
    TokensPerS,
    /// Sequences per second, whole job.
    SamplesPerS,
    /// Model FLOPs utilization, a fraction.
    Mfu,
    /// Hardware FLOPs utilization (recomputation counted), a fraction.
    Hfu,
    /// Model TFLOP/s per GPU.
    ModelTflopsPerGpu,
    /// Hardware TFLOP/s per GPU (recomputation counted).
    HardwareTflopsPerGpu,
    /// Memory of the fullest GPU, GB (1e9 bytes).
    MemoryPeakGb,
}

/// What every convention needs, read off a simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Seconds per step.
    pub step_time_s: f64,
    /// Sequences per step.
    pub sequences_per_step: f64,
    /// Tokens per step.
    pub tokens_per_step: f64,
    /// GPUs of the job.
    pub gpus: f64,
    /// Model FLOPs per token (no recomputation).
    pub model_flops_per_token: f64,
    /// FLOPs per token the hardware executes under the plan's recomputation.
    pub hardware_flops_per_token: f64,
    /// Dense peak of one GPU at the plan's precision, FLOP/s.
    pub peak_flop_per_s: f64,
    /// Memory of the fullest GPU, bytes.
    pub memory_peak_bytes: f64,
}

impl Outcome {
    /// The figures of `r`.
    pub fn of(r: &SimReport) -> Self {
        Outcome {
            step_time_s: r.step_time_s,
            sequences_per_step: r.plan.global_batch as f64,
            tokens_per_step: r.tokens_per_step as f64,
            gpus: r.plan.gpus() as f64,
            model_flops_per_token: r.model.model_flops_per_token() as f64,
            hardware_flops_per_token: r.model.hardware_flops_per_token(r.plan.recompute) as f64,
            peak_flop_per_s: r.peak_flop_per_s,
            memory_peak_bytes: r.memory_peak_bytes as f64,
        }
    }

    fn flop_per_s_per_gpu(&self, flops_per_token: f64) -> f64 {
        flops_per_token * self.tokens_per_step / self.step_time_s / self.gpus
    }
}

impl Metric {
    /// The prediction of this metric from `o`.
    pub fn predict(self, o: &Outcome) -> f64 {
        match self {
            Metric::StepTimeS => o.step_time_s,
            Metric::TokensPerSPerGpu => o.tokens_per_step / o.step_time_s / o.gpus,
            Metric::TokensPerS => o.tokens_per_step / o.step_time_s,
            Metric::SamplesPerS => o.sequences_per_step / o.step_time_s,
            Metric::Mfu => o.flop_per_s_per_gpu(o.model_flops_per_token) / o.peak_flop_per_s,
            Metric::Hfu => o.flop_per_s_per_gpu(o.hardware_flops_per_token) / o.peak_flop_per_s,
            Metric::ModelTflopsPerGpu => o.flop_per_s_per_gpu(o.model_flops_per_token) / 1e12,
            Metric::HardwareTflopsPerGpu => o.flop_per_s_per_gpu(o.hardware_flops_per_token) / 1e12,
            Metric::MemoryPeakGb => o.memory_peak_bytes / 1e9,
        }
    }

    /// The name printed and serialized (`mfu`, `step_time_s`, …).
    pub fn name(self) -> &'static str {
        match self {
            Metric::StepTimeS => "step_time_s",
            Metric::TokensPerSPerGpu => "tokens_per_s_per_gpu",
            Metric::TokensPerS => "tokens_per_s",
            Metric::SamplesPerS => "samples_per_s",
            Metric::Mfu => "mfu",
            Metric::Hfu => "hfu",
            Metric::ModelTflopsPerGpu => "model_tflops_per_gpu",
            Metric::HardwareTflopsPerGpu => "hardware_tflops_per_gpu",
            Metric::MemoryPeakGb => "memory_peak_gb",
        }
    }
}

/// One measured figure of an entry, in the metric's unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The dataset key under `metrics`.
    pub key: &'static str,
    /// What it is compared with.
    pub metric: Metric,
    /// The figure, converted to the metric's unit (percentages to fractions).
    pub value: f64,
}

/// Whether the entry's TFLOP/s count recomputation: its `metrics.tflops_definition` mentions
/// "recompute" or "hardware".
pub fn counts_recomputation(e: &Entry<'_>) -> Result<bool, Skip> {
    let definition = e.metric_text("tflops_definition")?.unwrap_or_default().to_ascii_lowercase();
    Ok(definition.contains("recompute") || definition.contains("hardware"))
}

/// Every figure of the entry that can be compared, in order of preference: the first is the
/// entry's primary metric. Skips the entry when there is none.
pub fn measured(e: &Entry<'_>) -> Result<Vec<Measured>, Skip> {
    let hw = counts_recomputation(e)?;
    let (tflops, pct) = if hw {
        (Metric::HardwareTflopsPerGpu, Metric::Hfu)
    } else {
        (Metric::ModelTflopsPerGpu, Metric::Mfu)
    };
    let keys: [(&'static str, Metric, f64); 12] = [
        ("step_time_s", Metric::StepTimeS, 1.0),
        ("tokens_per_s_per_gpu", Metric::TokensPerSPerGpu, 1.0),
        ("mfu_pct", Metric::Mfu, 100.0),
        ("hfu_pct", Metric::Hfu, 100.0),
        ("tflops_per_gpu", tflops, 1.0),
        ("model_tflops_per_gpu", Metric::ModelTflopsPerGpu, 1.0),
        ("pct_of_peak", pct, 100.0),
        ("tokens_per_s_per_gpu_derived", Metric::TokensPerSPerGpu, 1.0),
        ("tokens_per_s_total", Metric::TokensPerS, 1.0),
        ("samples_per_s", Metric::SamplesPerS, 1.0),
        ("memory_peak_gb", Metric::MemoryPeakGb, 1.0),
        ("peak_memory_gb", Metric::MemoryPeakGb, 1.0),
    ];
    let mut out = Vec::new();
    for (key, metric, divisor) in keys {
        if let Some(v) = e.metric(key)? {
            out.push(Measured { key, metric, value: v / divisor });
        }
    }
    if out.is_empty() {
        let known: Vec<&str> = keys.iter().map(|k| k.0).collect();
        return Err(Skip(format!("no comparable metric (one of {})", known.join(", "))));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
