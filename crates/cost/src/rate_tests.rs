use super::*;
use crate::run_cost::RunCost;

/// `a` equals the hand-computed `b` to 1e-12 relative (float rounding only).
fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} != {b}");
}

fn inputs(text: &str) -> CostInputs {
    let table: toml::Table = toml::from_str(text).unwrap();
    CostInputs::from_table(&table, "s.toml").unwrap()
}

#[test]
fn cloud_rates_come_from_the_catalog_or_the_user() {
    let od = Rate::resolve(&CostInputs::default(), "h100-sxm", 400.0, "s.toml").unwrap();
    close(od.usd_per_gpu_hour, 6.88);
    assert!(od.source.contains("p5.48xlarge"));
    assert_eq!((od.it_power_w_per_gpu, od.pue, od.on_premise.clone()), (1_275.0, 1.58, None));
    let reserved =
        Rate::resolve(&inputs("pricing = \"cloud-reserved\""), "h100-sxm", 0.0, "s").unwrap();
    close(reserved.usd_per_gpu_hour, 4.916);
    let user = Rate::resolve(&inputs("usd_per_gpu_hour = 2.5"), "h100-sxm", 0.0, "s").unwrap();
    close(user.usd_per_gpu_hour, 2.5);
    assert_eq!(user.source, "the scenario's usd_per_gpu_hour");
}

#[test]
fn on_premise_default_h100_at_400_gbps() {
    let r = Rate::resolve(&inputs("pricing = \"on-premise\""), "h100-sxm", 400.0, "s").unwrap();
    let p = r.on_premise.clone().unwrap();
    // (33,750 + 4 × 1,060) / (5 × 8,760) = 37,990 / 43,800.
    close(p.capital_usd_per_gpu_hour, 37_990.0 / 43_800.0);
    close(p.network_capital_usd_per_gpu_hour, 4_240.0 / 43_800.0);
    // 1.275 kW × 1.58 × 0.0806 $/kWh = 0.16236870.
    close(p.power_usd_per_gpu_hour, 0.1623687);
    // 184.06 × 12 / 8,760 × 1.275 = 2,208.72 / 8,760 × 1.275.
    close(p.facility_usd_per_gpu_hour, 2_208.72 / 8_760.0 * 1.275);
    close(r.usd_per_gpu_hour, 37_990.0 / 43_800.0 + 0.1623687 + 2_208.72 / 8_760.0 * 1.275);
    assert_eq!(p.network_capex_usd_per_gpu, 4_240.0);
}

#[test]
fn on_premise_with_round_user_figures() {
    let text = "pricing = \"on-premise\"\ncapex_usd_per_gpu = 43800\namortization_years = 1\n\
                it_power_w_per_gpu = 1000\npue = 1.5\nusd_per_kwh = 0.1\n\
                facility_usd_per_kw_month = 73\nnetwork_usd_per_gpu_per_100gbps = 100\n";
    let r = Rate::resolve(&inputs(text), "tpu-v5", 876.0, "s").unwrap();
    let p = r.on_premise.clone().unwrap();
    close(p.capital_usd_per_gpu_hour, 5.1); // (43,800 + 876) / 8,760
    close(p.network_capital_usd_per_gpu_hour, 0.1);
    close(p.power_usd_per_gpu_hour, 0.15); // 1 kW × 1.5 × 0.1
    close(p.facility_usd_per_gpu_hour, 0.1); // 73 × 12 / 8,760 × 1 kW
    close(r.usd_per_gpu_hour, 5.35);
    // A faster network costs more on premise: 1,752 Gb/s doubles the network share.
    let fast = Rate::resolve(&inputs(text), "tpu-v5", 1_752.0, "s").unwrap();
    close(fast.usd_per_gpu_hour, 5.45);
}

#[test]
fn a_gpu_outside_the_catalog_needs_its_figures() {
    let cases = [
        ("", "cost.usd_per_gpu_hour"),
        ("pricing = \"cloud-reserved\"", "cost.usd_per_gpu_hour"),
        ("usd_per_gpu_hour = 2", "cost.it_power_w_per_gpu"),
        ("pricing = \"on-premise\"", "cost.capex_usd_per_gpu"),
        ("pricing = \"on-premise\"\ncapex_usd_per_gpu = 1", "cost.it_power_w_per_gpu"),
    ];
    for (text, field) in cases {
        let e = Rate::resolve(&inputs(text), "tpu-v5", 0.0, "s.toml").unwrap_err();
        assert_eq!((e.origin.as_str(), e.field.as_str()), ("s.toml", field), "{text}");
        assert!(e.expected.contains("`tpu-v5`"), "{}", e.expected);
    }
    let e = Rate::resolve(&CostInputs::default(), "h100-sxm", f64::NAN, "s").unwrap_err();
    assert_eq!(e.field, "cluster");
}

#[test]
fn run_of_1024_gpus_at_3_6_s_per_step() {
    let text = "usd_per_gpu_hour = 2\nit_power_w_per_gpu = 1000\npue = 1.5\n";
    let rate = Rate::resolve(&inputs(text), "h100-sxm", 0.0, "s").unwrap();
    // 1,024 sequences of 4,096 tokens a step; 24,000 steps.
    let per_step = 1_024 * 4_096;
    let run = RunCost::new(&rate, 1_024, 3.6, per_step, 24_000 * per_step);
    assert_eq!((run.gpus, run.run_tokens, run.steps), (1_024, 100_663_296_000, 24_000));
    close(run.wall_clock_days, 1.0); // 24,000 × 3.6 s = 86,400 s
    close(run.gpu_hours, 24_576.0); // 1,024 × 86,400 / 3,600
    close(run.usd, 49_152.0); // × $2
    close(run.energy_mwh, 36.864); // 24,576 h × 1.5 kW
    close(run.usd_per_million_tokens, 0.48828125); // 49,152 / 100,663.296
    close(run.usd_per_step, 2.048); // 1,024 × 0.001 h × $2
    close(run.energy_kwh_per_step, 1.536); // 1.024 GPU-h × 1.5 kW
}

#[test]
fn steps_round_up_and_empty_runs_cost_nothing() {
    let rate = Rate::resolve(&inputs("usd_per_gpu_hour = 1"), "h100-sxm", 0.0, "s").unwrap();
    assert_eq!(RunCost::new(&rate, 8, 1.0, 100, 201).steps, 3);
    let empty = RunCost::new(&rate, 8, 1.0, 100, 0);
    assert_eq!((empty.steps, empty.usd, empty.usd_per_million_tokens), (0, 0.0, 0.0));
}
