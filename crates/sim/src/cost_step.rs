//! `[cost]`: what the simulated step and the training run cost (crate `astrolabe-cost`).
//!
//! The GPU kind is the cluster's; the network share of an on-premise rate is priced for the
//! per-GPU bandwidth of the cluster's scale-out network: its outermost dimension of more than
//! one rank whose per-GPU bandwidth is below the GPU's scale-up (NVLink) bandwidth, in Gb/s. A
//! cluster made only of scale-up dimensions (one node, one NVL72 rack) has none, so 0 Gb/s. The run is by default
//! 20 tokens per model parameter (all parameters, experts included), Chinchilla-optimal.

use crate::scenario::Scenario;
use astrolabe_core::InputError;
use astrolabe_cost::{CostInputs, Rate, RunCost, TOKENS_PER_PARAMETER};
use astrolabe_hardware::Cluster;
use serde::Serialize;

/// The price of a GPU-hour and the cost of the step and of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    /// The resolved price of one GPU-hour.
    pub rate: Rate,
    /// The run at the simulated step time: steps, days, GPU-hours, USD, MWh; per step USD, kWh.
    pub run: RunCost,
    /// Per-GPU scale-out bandwidth the on-premise network share is priced for, Gb/s.
    pub scale_out_gbps: f64,
    /// Tokens per model parameter when the run length is the default, else `None`.
    pub run_tokens_per_parameter: Option<u64>,
}

/// Reads `[cost]` (default when absent) and checks that `cluster`'s GPU can be priced with it,
/// so that a missing price is reported against the scenario file.
pub(crate) fn resolve(
    table: Option<&toml::Table>,
    cluster: &Cluster,
    origin: &str,
) -> Result<CostInputs, InputError> {
    let inputs = match table {
        Some(t) => CostInputs::from_table(t, origin)?,
        None => CostInputs::default(),
    };
    Rate::resolve(&inputs, &cluster.gpu.name, scale_out_gbps(cluster), origin)?;
    Ok(inputs)
}

/// The cost report of a step of `step_time_s` seconds and `tokens_per_step` tokens.
pub(crate) fn cost_report(
    scenario: &Scenario,
    step_time_s: f64,
    tokens_per_step: u64,
) -> Result<CostReport, InputError> {
    let cluster = &scenario.cluster;
    let gbps = scale_out_gbps(cluster);
    let rate = Rate::resolve(&scenario.cost, &cluster.gpu.name, gbps, &scenario.name)?;
    let run_tokens = scenario.cost.run_tokens_for(scenario.model.total_params());
    let gpus = scenario.plan.gpus();
    Ok(CostReport {
        run: RunCost::new(&rate, gpus, step_time_s, tokens_per_step, run_tokens),
        rate,
        scale_out_gbps: gbps,
        run_tokens_per_parameter: scenario
            .cost
            .run_tokens
            .is_none()
            .then_some(TOKENS_PER_PARAMETER),
    })
}

/// Per-GPU bandwidth of the outermost dimension of more than one rank that is slower than the
/// GPU's scale-up link, Gb/s (line rate, per direction); 0 when there is none.
pub fn scale_out_gbps(cluster: &Cluster) -> f64 {
    let scale_up = cluster.gpu.scaleup_bandwidth.bytes_per_s;
    cluster
        .topology
        .dims()
        .iter()
        .rev()
        .find(|d| d.size > 1 && d.bandwidth.bytes_per_s < scale_up)
        .map_or(0.0, |d| d.bandwidth.bytes_per_s * 8.0 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use astrolabe_hardware::accelerator;
    use astrolabe_hardware::cluster::presets;

    fn preset(name: &str, units: Option<usize>) -> Cluster {
        presets().into_iter().find(|p| p.name == name).unwrap().build(units).unwrap()
    }

    #[test]
    fn scale_out_is_the_outermost_dimension_below_nvlink() {
        assert_eq!(scale_out_gbps(&preset("dgx-h100-basepod", Some(4))), 400.0);
        assert_eq!(scale_out_gbps(&preset("dgx-a100-superpod", Some(2))), 200.0);
        // One node: its InfiniBand dimension has a single rank, so no scale-out network.
        assert_eq!(scale_out_gbps(&preset("dgx-h100-basepod", Some(1))), 0.0);
    }

    #[test]
    fn every_accelerator_of_the_hardware_catalog_has_cost_figures() {
        for gpu in accelerator::catalog() {
            assert!(astrolabe_cost::catalog::find(&gpu.name).is_some(), "{}", gpu.name);
        }
    }

    #[test]
    fn a_bad_cost_table_names_the_scenario_file() {
        let cluster = preset("dgx-h100-basepod", Some(1));
        let table: toml::Table = toml::from_str("pue = 0.5").unwrap();
        let e = resolve(Some(&table), &cluster, "s.toml").unwrap_err();
        assert_eq!((e.origin.as_str(), e.field.as_str()), ("s.toml", "cost.pue"));
    }
}
