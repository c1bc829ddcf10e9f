//! Training entries: the scenario an entry describes, as scenario TOML (`docs/scenarios.md`),
//! simulated with every plan check of `astrolabe simulate`, and compared metric by metric.

use crate::entry::Entry;
use crate::metrics::{measured, Outcome};
use crate::model_map::Shape;
use crate::rules::{self, Assumption, Assumptions};
use crate::{cluster_map, model_map, Compared, Comparison, Overrides, Skip};
use astrolabe_compute::Generation;
use astrolabe_core::InputError;
use astrolabe_sim::{no_cluster_files, parse_scenario, simulate, Mode};
use toml::{Table, Value};

/// Most micro-batches per replica per step that an entry may ask for: the step graph grows with
/// them, and published runs stay in the hundreds.
pub const MAX_MICRO_BATCHES: u64 = 1 << 16;

/// The scenario built for an entry, and what was assumed to build it.
#[derive(Debug, Clone)]
pub struct Built {
    /// Scenario TOML, as `astrolabe simulate` reads it.
    pub toml: String,
    /// Values filled in by rules.
    pub assumptions: Vec<Assumption>,
}

/// The scenario of training entry `e`, or why it cannot be built; `overrides` holds `[compute]`
/// tables by GPU generation (empty but for calibration).
pub fn scenario(e: &Entry<'_>, overrides: &Overrides) -> Result<Built, Skip> {
    rules::unsupported_parallelism(e)?;
    let fw = rules::framework(e)?;
    let mut a = Assumptions::default();
    let (model, shape) = model_map::model_table(e, &mut a)?;
    let cluster = cluster_map::cluster_table(e, &mut a)?;
    let plan = plan_table(e, fw, cluster.gpus, shape, &mut a)?;
    let mut root = Table::new();
    root.insert("name".into(), Value::String(e.id.clone()));
    root.insert("model".into(), Value::Table(model));
    root.insert("cluster".into(), Value::Table(cluster.table));
    root.insert("plan".into(), Value::Table(plan));
    if let Some(compute) = overrides.0.get(&Generation::of(cluster.gpu)) {
        root.insert("compute".into(), Value::Table(compute.clone()));
    }
    let toml = toml::to_string(&root).map_err(|err| Skip(format!("scenario TOML: {err}")))?;
    Ok(Built { toml, assumptions: a.0 })
}

fn plan_table(
    e: &Entry<'_>,
    fw: rules::Framework,
    gpus: u64,
    shape: Shape,
    a: &mut Assumptions,
) -> Result<Table, Skip> {
    let mut plan = Table::new();
    let mut int = |key: &str, v: u64| plan.insert(key.into(), Value::Integer(v as i64));
    let (tp, pp) = rules::parallel_sizes(e, a)?;
    let cp = rules::context_parallel(e)?;
    int("tp", tp);
    int("pp", pp);
    if cp > 1 {
        int("cp", cp);
    }
    let dp = match e.count("dp")? {
        Some(dp) => {
            int("dp", dp);
            dp
        }
        None => {
            let dp = (gpus / (tp * pp * cp)).max(1);
            a.note("plan.dp", dp, "null; GPUs / (tp · pp · cp)");
            dp
        }
    };
    let global_batch = rules::global_batch(e, shape.seq_len, dp, a)?;
    int("global_batch", global_batch);
    let micro_batch = rules::micro_batch(e, global_batch, dp, a)?;
    int("micro_batch", micro_batch);
    let micro_batches = global_batch / (micro_batch * dp).max(1);
    if micro_batches > MAX_MICRO_BATCHES {
        let why = format!("{micro_batches} micro-batches per step (at most {MAX_MICRO_BATCHES})");
        return Err(Skip(why));
    }
    let v = rules::virtual_stages(e, a)?;
    int("virtual_stages", v);
    if let Some(edge) = rules::uneven_stages(shape.layers, pp, v, a) {
        int("first_stage_layers", edge);
        int("last_stage_layers", edge);
    }
    int("zero_stage", rules::zero_stage(e, fw, a)?);
    let text = |v: &str| Value::String(v.into());
    plan.insert("recompute".into(), text(rules::recompute(e, a)?));
    plan.insert("precision".into(), text(rules::precision(e, a)?));
    let sp = rules::sequence_parallel(e, fw, tp, a)?;
    plan.insert("sequence_parallel".into(), Value::Boolean(sp));
    let [grad, param, tp_comm] = rules::overlaps(e, fw, a)?;
    plan.insert("overlap_grad_reduce".into(), Value::Boolean(grad));
    plan.insert("overlap_param_gather".into(), Value::Boolean(param));
    plan.insert("overlap_tp_comm".into(), Value::Boolean(tp_comm));
    plan.insert("flash_attention".into(), Value::Boolean(rules::flash_attention(fw, a)));
    Ok(plan)
}

/// Simulates training entry `e` and compares every figure it gives; the first is the primary.
pub fn compare(e: &Entry<'_>, overrides: &Overrides) -> Result<Compared, Skip> {
    let wanted = measured(e)?;
    let built = scenario(e, overrides)?;
    let origin = format!("{}: scenario built from entry `{}`", e.origin(), e.id);
    let scenario = parse_scenario(&built.toml, &origin, &no_cluster_files).map_err(plan_skip)?;
    let report = simulate(&scenario, Mode::Representative).map_err(plan_skip)?;
    let outcome = Outcome::of(&report);
    let mut comparisons = wanted.iter().map(|m| {
        let predicted = m.metric.predict(&outcome);
        Comparison::new(m.metric.name(), m.key, m.value, predicted)
    });
    let primary = comparisons.next().expect("measured() returns at least one figure");
    Ok(Compared {
        id: e.id.clone(),
        kind: "training".into(),
        source: e.text("source")?.unwrap_or("unknown source").to_string(),
        primary,
        others: comparisons.collect(),
        assumptions: built.assumptions,
        fits_in_memory: Some(report.fits_in_memory),
        generation: Some(report.compute.generation),
    })
}

/// A plan the simulator refuses: the reason names the scenario key at fault.
fn plan_skip(e: InputError) -> Skip {
    Skip(format!("the scenario built from it is refused: `{}`: {}", e.field, e.expected))
}
