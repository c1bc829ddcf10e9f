//! The scenario file: a model, a cluster and a parallel plan in one short TOML file.
//!
//! ```toml
//! name = "llama3-70b-64xh100"
//!
//! [model]
//! preset = "llama3-70b"     # or every field of a model; a preset's fields may be overridden
//! seq_len = 8192
//!
//! [cluster]
//! preset = "dgx-h100-superpod"   # or `file = "my-cluster.toml"`, or `gpu` + [[cluster.network]]
//! nodes = 8
//!
//! [plan]
//! tp = 8
//! pp = 4                    # dp is derived from the GPUs when omitted
//! micro_batch = 1
//! global_batch = 512
//!
//! [compute]                 # optional: override a calibrated kernel efficiency
//! gemm_fraction = 0.70
//!
//! [reference]               # optional: a published run to print beside the prediction
//! dataset_id = "some-dev-json-id"
//!
//! [offload]                 # optional: state or activations on a memory tier of the cluster
//! tier = "dgx-h100-host"    # (listed in [cluster] memory_tiers)
//! optimizer_state = true
//!
//! [network]                 # optional: the congestion-aware model on an explicit fabric
//! model = "congestion-aware"
//! fabric = "dgx-h100-superpod"
//!
//! [cost]                    # optional: pricing of GPU time (docs/cost.md)
//! pricing = "on-premise"
//! ```
//!
//! Every table denies unknown keys; see `docs/scenarios.md` for every key and its default.

use crate::compute_table::ComputeFile;
use crate::network_choice::{NetworkChoice, NetworkFile};
use crate::offload_step::Offload;
use crate::plan::{Plan, PlanFile};
use astrolabe_compute::ComputeModel;
use astrolabe_core::InputError;
use astrolabe_hardware::{parse_cluster_toml, Cluster};
use astrolabe_model::{preset, TransformerModel};
use serde::Deserialize;

/// The built-in default scenario: GPT-3 175B (Megatron-Core's 177B shape) on 12 DGX H100.
pub const DEFAULT_SCENARIO: &str = include_str!("../../../examples/gpt3-175b-96xh100.toml");
/// The name the default scenario's errors and reports carry.
pub const DEFAULT_SCENARIO_NAME: &str = "examples/gpt3-175b-96xh100.toml";

/// A checked scenario, ready to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// `name` from the file, or the origin.
    pub name: String,
    /// Free text from the file.
    pub description: Option<String>,
    /// The model.
    pub model: TransformerModel,
    /// The cluster.
    pub cluster: Cluster,
    /// The plan with every default filled in.
    pub plan: Plan,
    /// Kernel efficiencies: the GPU generation's calibrated ones with `[compute]` applied.
    pub compute: ComputeModel,
    /// A `dev.json` entry id of a published run of this setup, if any.
    pub reference: Option<String>,
    /// The network model and fabric (`[network]`; analytical by default).
    pub network: NetworkChoice,
    /// Offload to one of the cluster's memory tiers (`[offload]`), if any.
    pub offload: Option<Offload>,
    /// How GPU time is priced (`[cost]`; cloud on-demand at catalog prices by default).
    pub cost: astrolabe_cost::CostInputs,
    /// The tables the plan, compute, network and offload were resolved from, as written: a
    /// variant of the scenario (another cluster, other plan keys) resolves them again.
    pub tables: ScenarioTables,
}

/// The `[plan]`, `[compute]`, `[network]`, `[offload]` and `[cost]` tables as the file wrote
/// them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScenarioTables {
    /// `[plan]`.
    pub plan: toml::Table,
    /// `[compute]`, if given.
    pub compute: Option<toml::Table>,
    /// `[network]`, if given.
    pub network: Option<toml::Table>,
    /// `[offload]`, if given.
    pub offload: Option<toml::Table>,
    /// `[cost]`, if given.
    pub cost: Option<toml::Table>,
}

/// The same tables, untyped: kept beside the typed read, whose errors carry byte spans.
#[derive(Debug, Deserialize)]
struct RawTables {
    plan: toml::Table,
    compute: Option<toml::Table>,
    network: Option<toml::Table>,
    offload: Option<toml::Table>,
    cost: Option<toml::Table>,
}

/// The file, typed: its read checks every key and types with byte spans in errors. The plan,
/// compute, network and offload tables are then resolved from [`RawTables`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ScenarioFile {
    name: Option<String>,
    description: Option<String>,
    model: toml::Table,
    cluster: toml::Table,
    plan: PlanFile,
    compute: Option<ComputeFile>,
    reference: Option<ReferenceFile>,
    network: Option<NetworkFile>,
    offload: Option<toml::Table>,
    cost: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceFile {
    dataset_id: String,
}

/// Reads a scenario from `text`; `origin` (its path) prefixes every error. A `[cluster]` that
/// names a `file` gets its text from `read_cluster_file`, which resolves the path.
pub fn parse_scenario(
    text: &str,
    origin: &str,
    read_cluster_file: &dyn Fn(&str) -> Result<String, InputError>,
) -> Result<Scenario, InputError> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| toml_error(origin, &e))?;
    // The typed read above checked every key with its byte span; the raw tables are kept.
    let raw: RawTables = toml::from_str(text).map_err(|e| toml_error(origin, &e))?;
    let model = model(file.model, origin)?;
    let cluster = cluster(file.cluster, origin, read_cluster_file)?;
    let tables = ScenarioTables {
        plan: raw.plan,
        compute: raw.compute,
        network: raw.network,
        offload: raw.offload,
        cost: raw.cost,
    };
    let mut scenario = resolve(model, cluster, tables, origin)?;
    scenario.name = file.name.unwrap_or_else(|| origin.to_string());
    scenario.description = file.description;
    scenario.reference = file.reference.map(|r| r.dataset_id);
    Ok(scenario)
}

/// Resolves the tables against `model` and `cluster`: the plan's defaults and checks, the
/// calibrated kernel efficiencies of the cluster's GPU with `[compute]` applied, the network
/// choice and the offload. The scenario is named `origin`, without description or reference.
pub fn resolve(
    model: TransformerModel,
    cluster: Cluster,
    tables: ScenarioTables,
    origin: &str,
) -> Result<Scenario, InputError> {
    let plan: PlanFile = table_into(&tables.plan, "plan", origin)?;
    let plan = plan.resolve(&model, &cluster, origin)?;
    let calibrated = ComputeModel::for_gpu(&cluster.gpu);
    let compute_file: ComputeFile = match &tables.compute {
        Some(t) => table_into(t, "compute", origin)?,
        None => ComputeFile::default(),
    };
    let compute = compute_file.apply(calibrated, origin)?;
    let network = match &tables.network {
        Some(t) => table_into::<NetworkFile>(t, "network", origin)?.resolve(&cluster, origin)?,
        None => NetworkChoice::default(),
    };
    let offload = match &tables.offload {
        Some(t) => Some(crate::offload_step::resolve(t.clone(), &cluster, &plan, origin)?),
        None => None,
    };
    let cost = crate::cost_step::resolve(tables.cost.as_ref(), &cluster, origin)?;
    Ok(Scenario {
        name: origin.to_string(),
        description: None,
        model,
        cluster,
        plan,
        compute,
        reference: None,
        network,
        offload,
        cost,
        tables,
    })
}

/// A table read as `T`; a key of the wrong type or an unknown key is an error naming `section`.
fn table_into<T: serde::de::DeserializeOwned>(
    table: &toml::Table,
    section: &str,
    origin: &str,
) -> Result<T, InputError> {
    T::deserialize(table.clone())
        .map_err(|e: toml::de::Error| InputError::new(origin, section, e.message().to_string()))
}

/// A `cluster.file` reader for scenarios that must not name one (the built-in scenario, tests,
/// benchmarks): every path is refused.
pub fn no_cluster_files(path: &str) -> Result<String, InputError> {
    Err(InputError::new(path, "cluster.file", "a scenario without cluster files here"))
}

fn toml_error(origin: &str, e: &toml::de::Error) -> InputError {
    let field = e.span().map(|s| format!("bytes {}..{}", s.start, s.end)).unwrap_or_default();
    InputError::new(origin, field, e.message().to_string())
}

/// Model fields a preset may leave out (and a scenario add): explicit head width, QK norm,
/// experts, latent attention.
const OPTIONAL_MODEL_KEYS: [&str; 4] = ["head_dim", "qk_norm", "moe", "mla"];

/// A preset with overrides, or a model given field by field.
fn model(mut table: toml::Table, origin: &str) -> Result<TransformerModel, InputError> {
    let err =
        |field: &str, expected: String| InputError::new(origin, format!("model.{field}"), expected);
    let merged = match table.remove("preset") {
        Some(toml::Value::String(name)) => {
            let base = preset(&name).map_err(|e| err("preset", e.expected))?;
            let mut merged = toml::Table::try_from(&base)
                .map_err(|e| err("preset", format!("a serializable preset ({e})")))?;
            for (key, value) in table {
                if !merged.contains_key(&key) && !OPTIONAL_MODEL_KEYS.contains(&key.as_str()) {
                    let keys: Vec<&str> = merged.keys().map(String::as_str).collect();
                    return Err(err(&key, format!("one of the model fields {}", keys.join(", "))));
                }
                merged.insert(key, value);
            }
            merged
        }
        Some(_) => return Err(err("preset", "a preset name in quotes".into())),
        None => {
            table.entry("name").or_insert_with(|| toml::Value::String("custom".into()));
            table
        }
    };
    let model: TransformerModel = merged
        .try_into()
        .map_err(|e: toml::de::Error| InputError::new(origin, "model", e.message().to_string()))?;
    model.validate(&format!("{origin} [model]"))?;
    Ok(model)
}

/// A cluster given inline (as a cluster file's keys) or by `file`.
fn cluster(
    table: toml::Table,
    origin: &str,
    read_cluster_file: &dyn Fn(&str) -> Result<String, InputError>,
) -> Result<Cluster, InputError> {
    if let Some(path) = table.get("file") {
        let Some(path) = path.as_str().filter(|_| table.len() == 1) else {
            let expected = "a path in quotes, alone in [cluster] (the file holds the rest)";
            return Err(InputError::new(origin, "cluster.file", expected));
        };
        return parse_cluster_toml(&read_cluster_file(path)?, path);
    }
    let text = toml::to_string(&table)
        .map_err(|e| InputError::new(origin, "cluster", format!("a TOML table ({e})")))?;
    parse_cluster_toml(&text, &format!("{origin} [cluster]"))
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
