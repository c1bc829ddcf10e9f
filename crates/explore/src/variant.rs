//! What-if variants of a scenario: `key=value` changes (`gpu=b200`, `network.bandwidth=x2`,
//! `precision=fp8`, `plan.tp=4`, …) applied to the scenario as its file would have said them,
//! then resolved again (the plan's defaults, the GPU's calibrated kernels, every check).

use astrolabe_core::units::parse_size_bytes;
use astrolabe_core::{Bandwidth, InputError};
use astrolabe_hardware::cluster::find_preset;
use astrolabe_hardware::{accelerator, Cluster};
use astrolabe_network::Topology;
use astrolabe_sim::{resolve_scenario, Scenario};

/// The keys a change may name, for error messages and `--help`.
pub const KEYS: &str = "gpu=<catalog gpu>, cluster=<preset>, gpus=<N|xF>, hbm=<size|xF>, \
                        network.bandwidth=xF, network.scaleup_bandwidth=xF, \
                        network.scaleout_bandwidth=xF, network.scaleout_gbit_per_s=<N>, \
                        network.model=<analytical|congestion-aware>, precision=<bf16|fp8>, \
                        plan.<key>=<value>, compute.<key>=<value>, cost.<key>=<value>";

/// One change, as written (`key=value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The key (`gpu`, `plan.tp`).
    pub key: String,
    /// The value as written (`b200`, `x2`, `4`).
    pub value: String,
}

impl Change {
    /// Reads `key=value`; `origin` names the flag in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Change, InputError> {
        match text.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                Ok(Change { key: k.trim().to_string(), value: v.trim().to_string() })
            }
            _ => Err(InputError::new(origin, text, format!("key=value, with key one of {KEYS}"))),
        }
    }
}

/// A variant: several changes applied together (`--vary gpu=b200,precision=fp8`).
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The changes, in the order written.
    pub changes: Vec<Change>,
}

impl Variant {
    /// Reads comma-separated `key=value` changes.
    pub fn parse(text: &str, origin: &str) -> Result<Variant, InputError> {
        let changes =
            text.split(',').map(|c| Change::parse(c, origin)).collect::<Result<Vec<_>, _>>()?;
        Ok(Variant { changes })
    }

    /// The label of the variant: its changes as written.
    pub fn label(&self) -> String {
        let parts: Vec<String> =
            self.changes.iter().map(|c| format!("{}={}", c.key, c.value)).collect();
        parts.join(",")
    }

    /// `base` with every change applied and resolved again; `origin` names the flag in errors.
    pub fn apply(&self, base: &Scenario, origin: &str) -> Result<Scenario, InputError> {
        let model = base.model.clone();
        let mut cluster = base.cluster.clone();
        let mut tables = base.tables.clone();
        for c in &self.changes {
            let err = |expected: String| InputError::new(origin, c.key.as_str(), expected);
            match c.key.as_str() {
                "gpu" => cluster.gpu = accelerator::find(&c.value, origin)?,
                "cluster" => cluster = other_cluster(&cluster, &c.value, origin)?,
                "gpus" => {
                    let gpus =
                        count_or_factor(&c.value, cluster.gpus() as f64).ok_or_else(|| {
                            err(format!("a GPU count or a factor such as x2, got `{}`", c.value))
                        })?;
                    cluster = resize(&cluster, gpus as usize, origin)?;
                }
                "hbm" => {
                    let bytes = match factor(&c.value) {
                        Some(f) => (cluster.gpu.hbm_bytes as f64 * f).round() as u64,
                        None => parse_size_bytes(&c.value, origin)?,
                    };
                    cluster.gpu.hbm_bytes = bytes;
                }
                "network.bandwidth"
                | "network.scaleup_bandwidth"
                | "network.scaleout_bandwidth" => {
                    let f = factor(&c.value)
                        .ok_or_else(|| err(format!("a factor such as x2, got `{}`", c.value)))?;
                    cluster = scale_bandwidth(&cluster, &c.key, |b| b.scaled(f), origin)?;
                }
                "network.scaleout_gbit_per_s" => {
                    let gbit: f64 =
                        c.value.parse().ok().filter(|g: &f64| *g > 0.0).ok_or_else(|| {
                            err(format!("Gbit/s per GPU per direction, got `{}`", c.value))
                        })?;
                    let set = |_: Bandwidth| Bandwidth::from_gbit_per_s(gbit);
                    cluster = scale_bandwidth(&cluster, "network.scaleout_bandwidth", set, origin)?;
                }
                "network.model" => {
                    let table = tables.network.get_or_insert_with(toml::Table::new);
                    table.insert("model".into(), toml::Value::String(c.value.clone()));
                }
                "precision" => {
                    tables.plan.insert("precision".into(), toml::Value::String(c.value.clone()));
                }
                key => {
                    if let Some(k) = key.strip_prefix("plan.") {
                        tables.plan.insert(k.into(), value(&c.value));
                    } else if let Some(k) = key.strip_prefix("cost.") {
                        let table = tables.cost.get_or_insert_with(toml::Table::new);
                        table.insert(k.into(), value(&c.value));
                    } else if let Some(k) = key.strip_prefix("compute.") {
                        let table = tables.compute.get_or_insert_with(toml::Table::new);
                        table.insert(k.into(), value(&c.value));
                    } else {
                        return Err(err(format!("one of {KEYS}")));
                    }
                }
            }
            if matches!(c.key.as_str(), "gpus" | "cluster") {
                // The data-parallel degree follows the GPUs; a `dp` written for the base
                // cluster would contradict the new size.
                tables.plan.remove("dp");
            }
        }
        let name = format!("{} [{}]", base.name, self.label());
        let mut scenario = resolve_scenario(model, cluster, tables, &name)?;
        scenario.description = base.description.clone();
        Ok(scenario)
    }
}

/// A TOML value as written on the command line: a number or boolean if it reads as one, a
/// string otherwise.
fn value(text: &str) -> toml::Value {
    if let Ok(i) = text.parse::<i64>() {
        toml::Value::Integer(i)
    } else if let Ok(f) = text.parse::<f64>() {
        toml::Value::Float(f)
    } else if let Ok(b) = text.parse::<bool>() {
        toml::Value::Boolean(b)
    } else {
        toml::Value::String(text.trim_matches('"').to_string())
    }
}

/// `x2`, `×1.5` or `2x`: a positive finite factor.
fn factor(text: &str) -> Option<f64> {
    let t = text.trim();
    let number = t
        .strip_prefix('x')
        .or_else(|| t.strip_prefix('×'))
        .or_else(|| t.strip_suffix('x'))
        .or_else(|| t.strip_suffix('×'))?;
    number.parse::<f64>().ok().filter(|f| f.is_finite() && *f > 0.0)
}

/// A count (`2048`) or a factor of `base` (`x2`), rounded to a whole number.
fn count_or_factor(text: &str, base: f64) -> Option<u64> {
    match factor(text) {
        Some(f) => Some((base * f).round() as u64).filter(|&n| n > 0),
        None => text.parse::<u64>().ok().filter(|&n| n > 0),
    }
}

/// `cluster` with its outermost dimension (nodes, racks) sized for `gpus` GPUs.
pub fn resize(cluster: &Cluster, gpus: usize, origin: &str) -> Result<Cluster, InputError> {
    let dims = cluster.topology.dims();
    let inner: usize = dims[..dims.len() - 1].iter().map(|d| d.size).product();
    if gpus == 0 || gpus % inner != 0 {
        let expected = format!(
            "a GPU count that is a multiple of the {inner} GPUs of one {} unit, got {gpus}",
            dims[dims.len() - 1].name
        );
        return Err(InputError::new(origin, "gpus", expected));
    }
    let mut new_dims = dims.to_vec();
    let last = new_dims.len() - 1;
    new_dims[last].size = gpus / inner;
    let mut out = cluster.clone();
    out.topology = Topology::new(new_dims, origin)?;
    Ok(out)
}

/// The preset `name` with as many GPUs as `cluster`, keeping its memory tiers.
fn other_cluster(cluster: &Cluster, name: &str, origin: &str) -> Result<Cluster, InputError> {
    let preset = find_preset(name, origin)?;
    let per_unit = preset.gpus_per_unit();
    if cluster.gpus() % per_unit != 0 {
        let expected = format!(
            "a preset whose units ({per_unit} GPUs) divide the cluster's {} GPUs",
            cluster.gpus()
        );
        return Err(InputError::new(origin, "cluster", expected));
    }
    let mut out = preset.build(Some(cluster.gpus() / per_unit))?;
    out.memory_tiers = cluster.memory_tiers.clone();
    Ok(out)
}

/// `cluster` with `f` applied to the bandwidth of the dimensions `key` names: every one
/// (`network.bandwidth`), the innermost (`…scaleup…`) or the outermost (`…scaleout…`).
fn scale_bandwidth(
    cluster: &Cluster,
    key: &str,
    f: impl Fn(Bandwidth) -> Bandwidth,
    origin: &str,
) -> Result<Cluster, InputError> {
    let mut dims = cluster.topology.dims().to_vec();
    let last = dims.len() - 1;
    for (i, d) in dims.iter_mut().enumerate() {
        let chosen = match key {
            "network.scaleup_bandwidth" => i == 0,
            "network.scaleout_bandwidth" => i == last,
            _ => true,
        };
        if chosen {
            d.bandwidth = f(d.bandwidth);
        }
    }
    let mut out = cluster.clone();
    out.topology = Topology::new(dims, origin)?;
    Ok(out)
}

#[cfg(test)]
#[path = "variant_tests.rs"]
mod tests;
