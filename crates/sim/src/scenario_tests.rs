use super::*;
use astrolabe_memory::Schedule;

fn parse(text: &str) -> Result<Scenario, InputError> {
    parse_scenario(text, "s.toml", &no_cluster_files)
}

const SMALL: &str = r#"
[model]
preset = "llama3-8b"
[cluster]
preset = "dgx-h100-basepod"
nodes = 1
[plan]
tp = 2
pp = 2
global_batch = 16
"#;

#[test]
fn the_default_scenario_is_the_published_megatron_run() {
    let sc = parse(DEFAULT_SCENARIO).unwrap();
    assert_eq!(sc.model.name, "megatron-core-gpt-177b");
    assert_eq!(sc.cluster.gpus(), 96);
    let p = &sc.plan;
    assert_eq!((p.tp, p.pp, p.dp, p.micro_batches), (8, 6, 2, 576));
    assert_eq!(sc.reference.as_deref(), Some("megatron-h100-strong-177B-96gpu"));
}

#[test]
fn defaults_are_filled_and_dp_is_derived() {
    let sc = parse(SMALL).unwrap();
    let p = &sc.plan;
    assert_eq!((p.tp, p.pp, p.dp, p.micro_batch, p.micro_batches), (2, 2, 2, 1, 8));
    assert_eq!(p.schedule, Schedule::OneFOneB);
    assert!(p.sequence_parallel, "on by default with tp > 1");
    assert_eq!(p.framework_reserve_bytes, 2 << 30);
    assert_eq!(sc.name, "s.toml");
}

#[test]
fn preset_fields_can_be_overridden() {
    let sc =
        parse(&SMALL.replace("preset = \"llama3-8b\"", "preset = \"llama3-8b\"\nseq_len = 2048"))
            .unwrap();
    assert_eq!(sc.model.seq_len, 2048);
    assert_eq!(sc.model.hidden, 4096);
}

#[test]
fn a_model_can_be_given_field_by_field() {
    let model = r#"name = "tiny"
layers = 4
hidden = 256
heads = 4
kv_heads = 4
ffn_hidden = 1024
ffn_kind = "gelu"
norm = "layernorm"
linear_biases = true
position_embedding = "learned"
vocab = 1000
seq_len = 128
tied_embeddings = true"#;
    let sc = parse(&SMALL.replace("preset = \"llama3-8b\"", model)).unwrap();
    assert_eq!(sc.model.name, "tiny");
}

#[test]
fn a_cluster_file_is_fetched_through_the_callback() {
    let text = SMALL.replace("preset = \"dgx-h100-basepod\"\nnodes = 1", "file = \"c.toml\"");
    let read = |path: &str| -> Result<String, InputError> {
        assert_eq!(path, "c.toml");
        Ok("preset = \"dgx-h100-basepod\"\nnodes = 1".into())
    };
    assert_eq!(parse_scenario(&text, "s.toml", &read).unwrap().cluster.gpus(), 8);
}

fn field_of(text: &str) -> String {
    let e = parse(text).unwrap_err();
    assert_eq!(e.origin.split(' ').next(), Some("s.toml"), "{e}");
    e.field
}

#[test]
fn bad_scenarios_name_the_field() {
    assert_eq!(field_of(&SMALL.replace("tp = 2", "tp = 3")), "plan.tp");
    assert_eq!(field_of(&SMALL.replace("tp = 2", "tp = 16")), "plan.tp");
    assert_eq!(field_of(&SMALL.replace("pp = 2", "pp = 2\ndp = 4")), "plan.dp");
    assert_eq!(
        field_of(&SMALL.replace("global_batch = 16", "global_batch = 15")),
        "plan.global_batch"
    );
    assert_eq!(field_of(&SMALL.replace("global_batch = 16", "")), "plan.global_batch");
    assert_eq!(field_of(&SMALL.replace("pp = 2", "pp = 2\nzero_stage = 4")), "plan.zero_stage");
    assert_eq!(field_of(&SMALL.replace("pp = 2", "pp = 2\nprecision = \"fp4\"")), "plan.precision");
    assert_eq!(field_of(&SMALL.replace("pp = 2", "pp = 2\nschedule = \"zb\"")), "plan.schedule");
    assert_eq!(
        field_of(&SMALL.replace("pp = 2", "pp = 2\nplacement = \"tp-pp\"")),
        "plan.placement"
    );
    // 32 layers over 3 stages.
    let three = SMALL.replace("nodes = 1", "nodes = 3").replace("pp = 2", "pp = 3");
    assert_eq!(field_of(&three), "plan.pp");
    assert_eq!(field_of(&SMALL.replace("llama3-8b\"", "llama3-8b\"\nlayerz = 3")), "model.layerz");
    assert_eq!(field_of(&SMALL.replace("llama3-8b", "llama9")), "model.preset");
}

#[test]
fn unknown_keys_are_refused_with_their_name() {
    for text in [
        SMALL.replace("tp = 2", "tp = 2\ntpp = 2"),
        SMALL.replace("[plan]", "colour = \"red\"\n[plan]"),
        SMALL.replace("nodes = 1", "nodes = 1\nracks = 2"),
    ] {
        let e = parse(&text).unwrap_err();
        let shown = e.to_string();
        assert!(
            ["tpp", "colour", "racks"].iter().any(|k| shown.contains(k)),
            "error does not name the key: {shown}"
        );
    }
}

#[test]
fn malformed_toml_is_an_error_not_a_panic() {
    assert!(parse("[model\npreset=").is_err());
    assert!(parse("").is_err());
}

#[test]
fn the_compute_table_overrides_the_calibrated_efficiencies() {
    let sc = parse(SMALL).unwrap();
    assert_eq!(sc.compute, astrolabe_compute::ComputeModel::HOPPER);
    let text = format!("{SMALL}[compute]\ngemm_fraction = 0.5\nstep_overhead_s = 0.0\n");
    let sc = parse(&text).unwrap();
    assert_eq!(sc.compute.gemm_fraction, 0.5);
    assert_eq!(sc.compute.step_overhead_s, 0.0);
    assert_eq!(
        sc.compute.fp8_gemm_fraction,
        astrolabe_compute::ComputeModel::HOPPER.fp8_gemm_fraction
    );
}

#[test]
fn a_bad_compute_value_or_key_is_refused_by_name() {
    let e = parse(&format!("{SMALL}[compute]\ngemm_fraction = 1.5\n")).unwrap_err();
    assert_eq!(e.field, "compute.gemm_fraction");
    assert!(e.expected.contains("(0, 1]"), "{}", e.expected);
    let e = parse(&format!("{SMALL}[compute]\nstep_overhead_s = -1.0\n")).unwrap_err();
    assert_eq!(e.field, "compute.step_overhead_s");
    let e = parse(&format!("{SMALL}[compute]\ngemm_efficiency = 0.5\n")).unwrap_err();
    assert!(e.to_string().contains("gemm_efficiency"), "{e}");
}

#[test]
fn impossible_context_and_sharding_plans_name_the_key() {
    let with = |extra: &str| SMALL.replace("pp = 2", &format!("pp = 2\n{extra}"));
    // 8190 tokens do not split into 2·cp = 4 load-balanced chunks.
    let odd = with("cp = 2").replace("llama3-8b\"", "llama3-8b\"\nseq_len = 8190");
    let err = parse(&odd).unwrap_err();
    assert_eq!(err.field, "plan.cp");
    assert!(err.expected.contains("2·cp load-balanced chunks divide the sequence (8190"), "{err}");
    // tp·cp·pp = 12 does not divide 8 GPUs.
    assert_eq!(field_of(&with("cp = 3")), "plan.tp");
    assert_eq!(field_of(&with("cp = 2\nplacement = \"tp-dp-pp\"")), "plan.placement");
    assert_eq!(field_of(&with("cp = 2\ncp_comm = \"p2p\"")), "plan.cp_comm");
    assert_eq!(field_of(&with("zero_stage = 3\nshard_group = 3")), "plan.shard_group");
    assert_eq!(field_of(&with("shard_group = 1")), "plan.shard_group");
    // Accepted: CP 2 takes the replicas (dp = 8 / (2·2·2) = 1); ZeRO-3 hybrid sharding.
    let sc = parse(&with("cp = 2")).unwrap();
    assert_eq!((sc.plan.cp, sc.plan.dp, sc.plan.gpus()), (2, 1, 8));
    let sc = parse(&SMALL.replace("pp = 2", "pp = 1\nzero_stage = 3\nshard_group = 2")).unwrap();
    assert_eq!((sc.plan.dp, sc.plan.shard_group, sc.plan.reshard_after_forward), (4, 2, true));
}
