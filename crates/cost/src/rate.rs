//! The price of one GPU-hour for one kind of GPU, resolved from the user's inputs, the catalog
//! and the global defaults.
//!
//! Cloud: the price per GPU-hour (power is in it, not billed apart). On-premise:
//!
//! ```text
//! capital  = (capex + network_usd_per_100gbps · gbps / 100) / (amortization_years · 8760 h)
//! power    = IT kW · PUE · USD per kWh
//! facility = USD per kW-month · 12 / 8760 h · IT kW
//! rate     = capital + power + facility        (USD per GPU-hour)
//! ```
//!
//! Energy, under every pricing, is IT power × PUE (what the facility draws).

use crate::catalog::{self, GpuPrices};
use crate::inputs::{CostInputs, Pricing};
use astrolabe_core::InputError;
use serde::Serialize;

/// Hours in a (non-leap) year.
pub const HOURS_PER_YEAR: f64 = 8_760.0;

/// The resolved price of one GPU-hour and the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rate {
    /// How GPU time is paid for.
    pub pricing: Pricing,
    /// Accelerator catalog name.
    pub gpu: String,
    /// What one GPU-hour costs, USD.
    pub usd_per_gpu_hour: f64,
    /// Where the price comes from (catalog source and date, or the scenario).
    pub source: String,
    /// IT power per GPU, watts.
    pub it_power_w_per_gpu: f64,
    /// Power usage effectiveness.
    pub pue: f64,
    /// Electricity, USD per kWh (billed apart under on-premise pricing only).
    pub usd_per_kwh: f64,
    /// The parts of an on-premise rate; `None` under cloud pricing.
    pub on_premise: Option<OnPremiseParts>,
}

/// An on-premise GPU-hour taken apart. `capital + power + facility` is the rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnPremiseParts {
    /// Capital of the GPU's server share and its network share, written off, USD per GPU-hour.
    pub capital_usd_per_gpu_hour: f64,
    /// The network's part of `capital_usd_per_gpu_hour`, USD per GPU-hour.
    pub network_capital_usd_per_gpu_hour: f64,
    /// Electricity (IT power × PUE), USD per GPU-hour.
    pub power_usd_per_gpu_hour: f64,
    /// Facility capacity for the GPU's IT power, USD per GPU-hour.
    pub facility_usd_per_gpu_hour: f64,
    /// Server share, USD per GPU.
    pub capex_usd_per_gpu: f64,
    /// Scale-out network share, USD per GPU.
    pub network_capex_usd_per_gpu: f64,
    /// Per-GPU scale-out bandwidth the network share was priced for, Gb/s.
    pub scale_out_gbps: f64,
    /// Years of the write-off.
    pub amortization_years: f64,
    /// Facility cost per kW of IT capacity per month, USD.
    pub facility_usd_per_kw_month: f64,
}

impl Rate {
    /// Resolves the rate of `gpu` (a catalog name) with `scale_out_gbps` of scale-out
    /// bandwidth per GPU (0 for a cluster without one). Errors name `origin` and the
    /// `cost.<key>` that is missing.
    pub fn resolve(
        inputs: &CostInputs,
        gpu: &str,
        scale_out_gbps: f64,
        origin: &str,
    ) -> Result<Rate, InputError> {
        let prices = catalog::find(gpu);
        let missing = |key: &str, what: &str| {
            let expected = format!("{what} for `{gpu}`, which has no catalog figure");
            InputError::new(origin, format!("cost.{key}"), expected)
        };
        if !(scale_out_gbps.is_finite() && scale_out_gbps >= 0.0) {
            let expected = format!("a non-negative scale-out bandwidth, got {scale_out_gbps} Gb/s");
            return Err(InputError::new(origin, "cluster", expected));
        }
        // The price (or capital) first: it is what a GPU outside the catalog lacks first.
        let on_premise = inputs.pricing == Pricing::OnPremise;
        let (price, source) = match (on_premise, inputs.capex_usd_per_gpu, inputs.usd_per_gpu_hour)
        {
            (true, Some(capex), _) => (capex, "capital: the scenario's capex_usd_per_gpu".into()),
            (true, None, _) => match prices {
                Some(p) => (p.capex_usd_per_gpu, format!("capital: {}", p.capex_source)),
                None => return Err(missing("capex_usd_per_gpu", "a capital cost per GPU in USD")),
            },
            (false, _, Some(usd)) => (usd, "the scenario's usd_per_gpu_hour".into()),
            (false, _, None) => match prices {
                Some(p) => cloud_price(&p, inputs.pricing),
                None => {
                    return Err(missing("usd_per_gpu_hour", "a cloud price per GPU-hour in USD"))
                }
            },
        };
        let it_power_w_per_gpu = match (inputs.it_power_w_per_gpu, prices) {
            (Some(w), _) => w,
            (None, Some(p)) => p.it_power_w_per_gpu,
            (None, None) => return Err(missing("it_power_w_per_gpu", "IT power per GPU in watts")),
        };
        let mut rate = Rate {
            pricing: inputs.pricing,
            gpu: gpu.to_string(),
            usd_per_gpu_hour: price,
            source,
            it_power_w_per_gpu,
            pue: inputs.pue.unwrap_or(catalog::DEFAULT_PUE),
            usd_per_kwh: inputs.usd_per_kwh.unwrap_or(catalog::DEFAULT_USD_PER_KWH),
            on_premise: None,
        };
        if on_premise {
            let parts = on_premise_parts(inputs, price, scale_out_gbps, &rate);
            rate.usd_per_gpu_hour = parts.capital_usd_per_gpu_hour
                + parts.power_usd_per_gpu_hour
                + parts.facility_usd_per_gpu_hour;
            rate.on_premise = Some(parts);
        }
        Ok(rate)
    }

    /// IT power × PUE of one GPU, kW: what the facility draws for it.
    pub fn facility_kw_per_gpu(&self) -> f64 {
        self.it_power_w_per_gpu * self.pue / 1_000.0
    }
}

fn cloud_price(p: &GpuPrices, pricing: Pricing) -> (f64, String) {
    match pricing {
        Pricing::CloudReserved => (p.reserved_usd_per_gpu_hour, p.reserved_source.to_string()),
        _ => (p.on_demand_usd_per_gpu_hour, p.on_demand_source.to_string()),
    }
}

fn on_premise_parts(
    inputs: &CostInputs,
    capex_usd_per_gpu: f64,
    scale_out_gbps: f64,
    base: &Rate,
) -> OnPremiseParts {
    let years = inputs.amortization_years.unwrap_or(catalog::DEFAULT_AMORTIZATION_YEARS);
    let network_usd_per_100 = inputs
        .network_usd_per_gpu_per_100gbps
        .unwrap_or(catalog::DEFAULT_NETWORK_USD_PER_GPU_PER_100GBPS);
    let facility_usd_per_kw_month =
        inputs.facility_usd_per_kw_month.unwrap_or(catalog::DEFAULT_FACILITY_USD_PER_KW_MONTH);
    let network_capex_usd_per_gpu = network_usd_per_100 * scale_out_gbps / 100.0;
    let hours = years * HOURS_PER_YEAR;
    let it_kw = base.it_power_w_per_gpu / 1_000.0;
    OnPremiseParts {
        capital_usd_per_gpu_hour: (capex_usd_per_gpu + network_capex_usd_per_gpu) / hours,
        network_capital_usd_per_gpu_hour: network_capex_usd_per_gpu / hours,
        power_usd_per_gpu_hour: it_kw * base.pue * base.usd_per_kwh,
        facility_usd_per_gpu_hour: facility_usd_per_kw_month * 12.0 / HOURS_PER_YEAR * it_kw,
        capex_usd_per_gpu,
        network_capex_usd_per_gpu,
        scale_out_gbps,
        amortization_years: years,
        facility_usd_per_kw_month,
    }
}

#[cfg(test)]
#[path = "rate_tests.rs"]
mod tests;
