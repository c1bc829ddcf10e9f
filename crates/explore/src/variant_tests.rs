use super::*;
use astrolabe_compute::ComputeModel;
use astrolabe_hardware::Precision;
use astrolabe_sim::{no_cluster_files, parse_scenario};

fn base() -> Scenario {
    let text = include_str!("../../../examples/llama3-70b-64xh100.toml");
    parse_scenario(text, "70b.toml", &no_cluster_files).unwrap()
}

fn vary(text: &str) -> Result<Scenario, InputError> {
    Variant::parse(text, "--vary")?.apply(&base(), "--vary")
}

#[test]
fn another_gpu_is_calibrated_for_its_generation() {
    let s = vary("gpu=b200").unwrap();
    assert_eq!(s.cluster.gpu.name, "b200");
    assert_eq!(s.compute, ComputeModel::for_gpu(&s.cluster.gpu));
    assert_eq!(s.cluster.topology, base().cluster.topology);
    assert_eq!(s.name, "llama3-70b-64xh100 [gpu=b200]");
}

#[test]
fn bandwidth_factors_reach_the_dimensions_they_name() {
    let b = base();
    let dims = |s: &Scenario| -> Vec<f64> {
        s.cluster.topology.dims().iter().map(|d| d.bandwidth.gb_per_s()).collect()
    };
    // NVLink 4: 450 GB/s per direction; NDR: 400 Gbit/s = 50 GB/s.
    assert_eq!(dims(&b), vec![450.0, 50.0]);
    assert_eq!(dims(&vary("network.bandwidth=x2").unwrap()), vec![900.0, 100.0]);
    assert_eq!(dims(&vary("network.scaleout_bandwidth=x2").unwrap()), vec![450.0, 100.0]);
    assert_eq!(dims(&vary("network.scaleup_bandwidth=1.5x").unwrap()), vec![675.0, 50.0]);
    assert_eq!(dims(&vary("network.scaleout_gbit_per_s=800").unwrap()), vec![450.0, 100.0]);
}

#[test]
fn more_gpus_grow_data_parallelism_and_keep_the_batch() {
    let b = base();
    let s = vary("gpus=x2").unwrap();
    assert_eq!(s.cluster.gpus(), 2 * b.cluster.gpus());
    assert_eq!(s.plan.dp, 2 * b.plan.dp);
    assert_eq!(s.plan.global_batch, b.plan.global_batch);
    assert_eq!(vary("gpus=128").unwrap().cluster.gpus(), 128);
}

#[test]
fn plan_keys_precision_and_hbm_change_what_they_name() {
    let b = base();
    let s = vary("precision=fp8,plan.tp=4,hbm=x1.5").unwrap();
    assert_eq!(s.plan.precision, Precision::Fp8);
    assert_eq!(s.plan.tp, 4);
    assert_eq!(s.plan.dp, 2 * b.plan.dp);
    assert_eq!(s.cluster.gpu.hbm_bytes, 120_000_000_000);
    assert_eq!(vary("hbm=141GB").unwrap().cluster.gpu.hbm_bytes, 141_000_000_000);
    let c = vary("compute.gemm_fraction=0.5").unwrap();
    assert_eq!(c.compute.gemm_fraction, 0.5);
    let p = vary("cost.pricing=on-premise").unwrap();
    assert_eq!(p.cost.pricing, astrolabe_cost::Pricing::OnPremise);
}

#[test]
fn a_cluster_preset_takes_the_same_number_of_gpus() {
    let s = vary("cluster=dgx-b200-superpod").unwrap();
    assert_eq!(s.cluster.gpus(), 64);
    assert_eq!(s.cluster.gpu.name, "b200");
    assert_eq!(s.cluster.topology.dims()[0].name, base_dim0("nvlink5-nvswitch"));
}

fn base_dim0(fabric: &str) -> String {
    astrolabe_hardware::fabric::find(fabric, "test").unwrap().dimension(8).name
}

#[test]
fn bad_changes_name_the_key_and_what_was_expected() {
    let cases = [
        ("speed=x2", "speed"),
        ("gpus=13", "gpus"),
        ("gpus=x0", "gpus"),
        ("network.bandwidth=fast", "network.bandwidth"),
        ("plan.tpp=3", "plan"),
        ("plan.tp=3", "plan.tp"),
        ("precision=fp4", "plan.precision"),
        ("gpu=tpu-v5", "tpu-v5"),
        ("novalue", "novalue"),
    ];
    for (text, field) in cases {
        let e = vary(text).unwrap_err();
        assert_eq!(e.field, field, "{text}: {e}");
        assert!(!e.expected.is_empty());
    }
}
