//! Scaling curves: one scenario on clusters of several sizes (the outermost dimension resized),
//! with the plan's degrees kept and data parallelism following the GPUs, or the best plan of
//! each size when a search space is given.

use crate::search::{search, Objective};
use crate::space::Space;
use crate::summary::{plan_label, Summary};
use crate::variant::resize;
use astrolabe_core::InputError;
use astrolabe_sim::{resolve_scenario, simulate, Mode, Scenario};
use serde::Serialize;

/// Most sizes in one curve.
pub const MAX_SIZES: usize = 64;

/// How the global batch follows the cluster size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Batch {
    /// The scenario's global batch at every size (strong scaling).
    Fixed,
    /// The global batch grows with the GPUs from the scenario's size (weak scaling).
    Proportional,
}

/// One size of the curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalePoint {
    /// GPUs.
    pub gpus: usize,
    /// Sequences per step at this size.
    pub global_batch: u64,
    /// The plan simulated (`tp8 pp16 dp128 …`), when one was.
    pub plan: Option<String>,
    /// Its figures, when it ran and fit.
    pub summary: Option<Summary>,
    /// Tokens per second per GPU over the smallest simulated size's, when both ran.
    pub scaling_efficiency: Option<f64>,
    /// Why there is no figure (the field refused and what it expected, or the memory).
    pub why_not: Option<String>,
}

/// Reads `64..16384` (every power of two from 64 to 16,384), `256,512,1000` or `1024`.
pub fn parse_sizes(text: &str, origin: &str) -> Result<Vec<usize>, InputError> {
    let bad = |why: &str| {
        InputError::new(origin, text, format!("a size, a list a,b,c or a range A..B ({why})"))
    };
    let number = |t: &str| t.trim().parse::<usize>().ok().filter(|n| *n > 0);
    let sizes: Vec<usize> = if let Some((a, b)) = text.split_once("..") {
        let (a, b) = (number(a).ok_or_else(|| bad("A"))?, number(b).ok_or_else(|| bad("B"))?);
        if a > b {
            return Err(bad("A above B"));
        }
        let doubling = std::iter::successors(Some(a), |n| n.checked_mul(2));
        doubling.take_while(|n| *n <= b).collect()
    } else {
        text.split(',')
            .map(|t| number(t).ok_or_else(|| bad("each a whole number above 0")))
            .collect::<Result<_, _>>()?
    };
    if sizes.len() > MAX_SIZES {
        return Err(bad(&format!("at most {MAX_SIZES} sizes")));
    }
    Ok(sizes)
}

/// The curve of `base` over `sizes`. With `space`, each size runs the best plan a search of
/// it finds (by `objective`); without, the scenario's plan with `dp` derived.
pub fn scale(
    base: &Scenario,
    sizes: &[usize],
    batch: Batch,
    space: Option<(&Space, Objective)>,
) -> Vec<ScalePoint> {
    let base_gpus = base.cluster.gpus() as u64;
    let mut points: Vec<ScalePoint> = sizes
        .iter()
        .map(|&gpus| {
            let global_batch = match batch {
                Batch::Fixed => base.plan.global_batch,
                Batch::Proportional => (base.plan.global_batch * gpus as u64).div_ceil(base_gpus),
            };
            let mut point = ScalePoint {
                gpus,
                global_batch,
                plan: None,
                summary: None,
                scaling_efficiency: None,
                why_not: None,
            };
            match at_size(base, gpus, global_batch, space) {
                Ok((plan, summary)) => {
                    point.plan = Some(plan);
                    point.summary = Some(summary);
                }
                Err(why) => point.why_not = Some(why),
            }
            point
        })
        .collect();
    let first = points.iter().find_map(|p| p.summary.as_ref().map(per_gpu));
    for p in &mut points {
        if let (Some(f), Some(s)) = (first, &p.summary) {
            p.scaling_efficiency = Some(per_gpu(s) / f);
        }
    }
    points
}

fn per_gpu(s: &Summary) -> f64 {
    s.tokens_per_s / s.gpus as f64
}

/// The size's scenario, simulated (or searched); the error is the reason, as a sentence.
fn at_size(
    base: &Scenario,
    gpus: usize,
    global_batch: u64,
    space: Option<(&Space, Objective)>,
) -> Result<(String, Summary), String> {
    let say = |e: InputError| format!("{}: {}", e.field, e.expected);
    let name = format!("{} @ {gpus} GPUs", base.name);
    let cluster = resize(&base.cluster, gpus, &name).map_err(say)?;
    let mut tables = base.tables.clone();
    tables.plan.remove("dp");
    tables.plan.insert("global_batch".into(), toml::Value::Integer(global_batch as i64));
    if let Some((space, objective)) = space {
        // The search varies the plan; the base still has to resolve for its defaults.
        let mut loose = tables.clone();
        for key in
            ["tp", "cp", "pp", "virtual_stages", "first_stage_layers", "last_stage_layers", "ep"]
        {
            loose.plan.remove(key);
        }
        let scenario = resolve_scenario(base.model.clone(), cluster, loose, &name).map_err(say)?;
        let found = search(&scenario, space, objective, 1, &|| {});
        let best = found.best.first().ok_or_else(|| {
            format!(
                "no plan of the search space fits ({} candidates, {} do not fit)",
                found.candidates, found.does_not_fit
            )
        })?;
        return Ok((best.plan(), best.summary.clone()));
    }
    let scenario = resolve_scenario(base.model.clone(), cluster, tables, &name).map_err(say)?;
    let r = simulate(&scenario, Mode::Representative).map_err(say)?;
    let label = plan_label(&r.plan);
    if !r.fits_in_memory {
        return Err(format!(
            "{label}: the fullest GPU needs {:.1} GB, more than its {:.1} GB",
            r.memory_peak_bytes as f64 / 1e9,
            r.cluster.gpu.hbm_bytes as f64 / 1e9
        ));
    }
    Ok((label, Summary::of(&r)))
}

/// The first size whose exposed communication is more than `points` percentage points above
/// the smallest simulated size's: where communication stops hiding behind computation.
pub fn knee(curve: &[ScalePoint], points: f64) -> Option<usize> {
    let mut ran =
        curve.iter().filter_map(|p| p.summary.as_ref().map(|s| (p.gpus, s.exposed_comm_fraction)));
    let (_, first) = ran.next()?;
    ran.find(|(_, f)| (f - first) * 100.0 > points).map(|(g, _)| g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_ranges_lists_and_single_counts() {
        assert_eq!(parse_sizes("64..1024", "--gpus").unwrap(), vec![64, 128, 256, 512, 1024]);
        assert_eq!(parse_sizes("64..100", "--gpus").unwrap(), vec![64]);
        assert_eq!(parse_sizes("8,24,96", "--gpus").unwrap(), vec![8, 24, 96]);
        assert_eq!(parse_sizes("96", "--gpus").unwrap(), vec![96]);
        let many = (1..=65).map(|n| n.to_string()).collect::<Vec<_>>().join(",");
        for bad in ["", "0", "64..8", "a..b", "8,,16", many.as_str()] {
            let e = parse_sizes(bad, "--gpus");
            assert!(e.is_err(), "{bad} accepted");
        }
    }
}
