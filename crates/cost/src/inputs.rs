//! What a user may set: a scenario's optional `[cost]` table, checked key by key.
//!
//! ```toml
//! [cost]
//! pricing = "on-premise"            # cloud-on-demand (default) | cloud-reserved | on-premise
//! capex_usd_per_gpu = 40000
//! amortization_years = 4
//! usd_per_kwh = 0.06
//! run_tokens = 15e12
//! ```
//!
//! Every unknown key is an error naming `cost.<key>`; so is a key that the chosen pricing does
//! not use (a capital cost under cloud pricing would be ignored, silently changing nothing).

use astrolabe_core::InputError;
use serde::Serialize;

/// How GPU time is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pricing {
    /// Rented by the hour with no commitment.
    #[default]
    CloudOnDemand,
    /// Rented with capacity committed ahead.
    CloudReserved,
    /// Bought: capital written off over the amortization period, plus power and facility.
    OnPremise,
}

impl Pricing {
    /// The name used in TOML and reports (`cloud-on-demand`).
    pub fn name(self) -> &'static str {
        match self {
            Pricing::CloudOnDemand => "cloud-on-demand",
            Pricing::CloudReserved => "cloud-reserved",
            Pricing::OnPremise => "on-premise",
        }
    }
}

/// The user's cost settings; `None` takes the catalog's or the global default.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CostInputs {
    /// How GPU time is paid for.
    pub pricing: Pricing,
    /// Cloud price per GPU-hour, USD (cloud pricing only).
    pub usd_per_gpu_hour: Option<f64>,
    /// Capital cost of one GPU's share of its server, USD (on-premise only).
    pub capex_usd_per_gpu: Option<f64>,
    /// Years over which capital is written off (on-premise only).
    pub amortization_years: Option<f64>,
    /// IT power per GPU, watts (sets the energy under every pricing).
    pub it_power_w_per_gpu: Option<f64>,
    /// Power usage effectiveness, at least 1 (sets the energy under every pricing).
    pub pue: Option<f64>,
    /// Electricity, USD per kWh (on-premise only).
    pub usd_per_kwh: Option<f64>,
    /// Facility cost per kW of IT capacity per month, USD (on-premise only).
    pub facility_usd_per_kw_month: Option<f64>,
    /// Scale-out network capital per GPU per 100 Gb/s of injection bandwidth, USD
    /// (on-premise only).
    pub network_usd_per_gpu_per_100gbps: Option<f64>,
    /// Tokens of the whole training run; default 20 per model parameter.
    pub run_tokens: Option<u64>,
}

/// What a number key accepts.
#[derive(Clone, Copy)]
enum Range {
    Positive,
    NonNegative,
    AtLeastOne,
}

/// The keys, what they accept, and whether they belong to on-premise pricing only.
const NUMBER_KEYS: [(&str, Range, bool); 8] = [
    ("usd_per_gpu_hour", Range::Positive, false),
    ("capex_usd_per_gpu", Range::Positive, true),
    ("amortization_years", Range::Positive, true),
    ("it_power_w_per_gpu", Range::Positive, false),
    ("pue", Range::AtLeastOne, false),
    ("usd_per_kwh", Range::NonNegative, true),
    ("facility_usd_per_kw_month", Range::NonNegative, true),
    ("network_usd_per_gpu_per_100gbps", Range::NonNegative, true),
];

/// Largest accepted `run_tokens`: 10^18, far beyond any run yet (a limit, not a forecast).
pub const MAX_RUN_TOKENS: f64 = 1e18;

impl CostInputs {
    /// Reads a `[cost]` table; errors name `origin` (the scenario file) and `cost.<key>`.
    pub fn from_table(table: &toml::Table, origin: &str) -> Result<CostInputs, InputError> {
        let err =
            |key: &str, expected: String| InputError::new(origin, format!("cost.{key}"), expected);
        let mut inputs = CostInputs::default();
        if let Some(value) = table.get("pricing") {
            inputs.pricing = match value.as_str() {
                Some("cloud-on-demand") => Pricing::CloudOnDemand,
                Some("cloud-reserved") => Pricing::CloudReserved,
                Some("on-premise") => Pricing::OnPremise,
                _ => {
                    let expected = "one of \"cloud-on-demand\", \"cloud-reserved\", \"on-premise\"";
                    return Err(err("pricing", format!("{expected}, got {value}")));
                }
            };
        }
        for (key, value) in table {
            if key == "pricing" {
                continue;
            }
            if key == "run_tokens" {
                let tokens = number(value)
                    .filter(|t| t.is_finite() && (1.0..=MAX_RUN_TOKENS).contains(t))
                    .ok_or_else(|| {
                        err(
                            key,
                            format!("a number of tokens from 1 to {MAX_RUN_TOKENS:e}, got {value}"),
                        )
                    })?;
                inputs.run_tokens = Some(tokens.round() as u64);
                continue;
            }
            let Some(&(_, range, on_premise_only)) = NUMBER_KEYS.iter().find(|k| k.0 == key) else {
                let mut keys: Vec<&str> = NUMBER_KEYS.iter().map(|k| k.0).collect();
                keys.extend(["pricing", "run_tokens"]);
                return Err(err(key, format!("one of the keys {}", keys.join(", "))));
            };
            let on_premise = inputs.pricing == Pricing::OnPremise;
            if on_premise_only && !on_premise {
                return Err(err(key, "a key of pricing = \"on-premise\" only".into()));
            }
            if key == "usd_per_gpu_hour" && on_premise {
                let expected = "a key of cloud pricing only (on-premise builds its rate from \
                                capex_usd_per_gpu and the rest)";
                return Err(err(key, expected.into()));
            }
            let v = checked(number(value), range).ok_or_else(|| {
                let what = match range {
                    Range::Positive => "a positive finite number",
                    Range::NonNegative => "a non-negative finite number",
                    Range::AtLeastOne => "a finite number of at least 1",
                };
                err(key, format!("{what}, got {value}"))
            })?;
            *inputs.slot(key) = Some(v);
        }
        Ok(inputs)
    }

    fn slot(&mut self, key: &str) -> &mut Option<f64> {
        match key {
            "usd_per_gpu_hour" => &mut self.usd_per_gpu_hour,
            "capex_usd_per_gpu" => &mut self.capex_usd_per_gpu,
            "amortization_years" => &mut self.amortization_years,
            "it_power_w_per_gpu" => &mut self.it_power_w_per_gpu,
            "pue" => &mut self.pue,
            "usd_per_kwh" => &mut self.usd_per_kwh,
            "facility_usd_per_kw_month" => &mut self.facility_usd_per_kw_month,
            _ => &mut self.network_usd_per_gpu_per_100gbps,
        }
    }

    /// Tokens of the run: the user's `run_tokens`, or 20 per parameter of a model of
    /// `parameters` (Chinchilla).
    pub fn run_tokens_for(&self, parameters: u64) -> u64 {
        self.run_tokens
            .unwrap_or_else(|| parameters.saturating_mul(crate::catalog::TOKENS_PER_PARAMETER))
    }
}

/// A TOML integer or float as f64.
fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn checked(v: Option<f64>, range: Range) -> Option<f64> {
    v.filter(|v| {
        v.is_finite()
            && match range {
                Range::Positive => *v > 0.0,
                Range::NonNegative => *v >= 0.0,
                Range::AtLeastOne => *v >= 1.0,
            }
    })
}

#[cfg(test)]
#[path = "inputs_tests.rs"]
mod tests;
