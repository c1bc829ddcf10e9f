use super::*;
use serde_json::{json, Value};

fn with<T>(v: Value, f: impl FnOnce(&Entry<'_>, &mut Assumptions) -> T) -> (T, Vec<Assumption>) {
    let e = Entry::new(&v, 0, "d.json").unwrap();
    let mut a = Assumptions::default();
    let out = f(&e, &mut a);
    (out, a.0)
}

#[test]
fn frameworks_are_told_apart_by_framework_and_source() {
    let fw = |v: Value| framework(&Entry::new(&v, 0, "d").unwrap()).unwrap();
    assert_eq!(
        fw(json!({"id": "a", "framework": "Megatron-Core r0.8.0"})),
        Framework::MegatronCore
    );
    assert_eq!(fw(json!({"id": "b", "framework": "NeMo 24.07"})), Framework::NeMo);
    let mlperf = json!({"id": "c", "source": "MLPerf Training v3.1, NVIDIA submission",
                        "framework": "PyTorch NVIDIA Release 23.09"});
    assert_eq!(fw(mlperf), Framework::NeMo);
    assert_eq!(fw(json!({"id": "d", "framework": "Megatron-DeepSpeed"})), Framework::Classic);
    assert_eq!(fw(json!({"id": "e"})), Framework::Classic);
}

#[test]
fn parallel_sizes_come_from_the_notes_when_null() {
    let v = json!({"id": "s", "tp": null, "pp": null,
                   "notes": "the weak-scaling 177B row used TP8/PP6"});
    let (sizes, a) = with(v, |e, a| parallel_sizes(e, a).unwrap());
    assert_eq!(sizes, (8, 6));
    assert_eq!(a[0].field, "plan.tp");
    let (skip, _) = with(json!({"id": "t"}), |e, a| parallel_sizes(e, a).unwrap_err());
    assert!(skip.0.contains("`tp` not stated"), "{}", skip.0);
}

#[test]
fn unsupported_parallelism_is_a_skip_with_the_issue() {
    let skip = |v: Value| unsupported_parallelism(&Entry::new(&v, 0, "d").unwrap()).unwrap_err().0;
    assert!(skip(json!({"id": "a", "ep": 2}))
        .starts_with("expert parallelism not simulated yet (issue 6)"));
    assert!(
        skip(json!({"id": "b", "model": {"moe": {"experts": 8}}})).contains("mixture-of-experts")
    );
    let ok = |v: Value| unsupported_parallelism(&Entry::new(&v, 0, "d").unwrap()).is_ok();
    assert!(ok(json!({"id": "d", "cp": 2, "fsdp": true})));
}

#[test]
fn fsdp_runs_are_zero3_without_pipeline() {
    let v = json!({"id": "f", "tp": 8, "fsdp": true, "cp": null});
    let (got, a) = with(v, |e, a| {
        (
            parallel_sizes(e, a).unwrap(),
            zero_stage(e, Framework::Classic, a).unwrap(),
            context_parallel(e).unwrap(),
        )
    });
    assert_eq!(got, ((8, 1), 3, 1));
    let fields: Vec<&str> = a.iter().map(|x| x.field.as_str()).collect();
    assert_eq!(fields, ["plan.pp", "plan.zero_stage"]);
    // No accumulation: OPT's 992 sequences over 124 replicas are one micro-batch of 8.
    let (mb, _) =
        with(json!({"id": "f", "fsdp": true}), |e, a| micro_batch(e, 992, 124, a).unwrap());
    assert_eq!(mb, 8);
}

#[test]
fn texts_are_read_by_their_first_word_or_number() {
    let v = json!({"id": "r", "activation_recompute": "full (--checkpoint-activations)",
                   "zero_stage": "distributed optimizer (ZeRO-1-like)",
                   "vp": "interleaved (v not stated)",
                   "precision": "mixed precision (fp16/bf16 not specified)"});
    let (got, a) = with(v, |e, a| {
        (
            recompute(e, a).unwrap(),
            zero_stage(e, Framework::Classic, a).unwrap(),
            virtual_stages(e, a).unwrap(),
            precision(e, a).unwrap(),
        )
    });
    assert_eq!(got, ("full", 1, 1, "bf16"));
    let fields: Vec<&str> = a.iter().map(|x| x.field.as_str()).collect();
    assert_eq!(fields, ["plan.virtual_stages", "plan.precision"]);
    let z3 = json!({"id": "z", "zero_stage": "3 (FSDP)"});
    let (stage, _) = with(z3, |e, a| zero_stage(e, Framework::Classic, a).unwrap());
    assert_eq!(stage, 3);
}

#[test]
fn nulls_follow_the_framework_of_the_time() {
    let flags =
        "Megatron-Core r0.8.0; --overlap-grad-reduce --overlap-param-gather --tp-comm-overlap";
    let v = json!({"id": "n", "framework": flags});
    let (got, _) = with(v, |e, a| {
        let fw = framework(e).unwrap();
        (
            sequence_parallel(e, fw, 8, a).unwrap(),
            zero_stage(e, fw, a).unwrap(),
            overlaps(e, fw, a).unwrap(),
            flash_attention(fw, a),
        )
    });
    assert_eq!(got, (true, 1, [true, true, true], true));
    let (got, _) = with(json!({"id": "o", "framework": "Megatron-LM"}), |e, a| {
        let fw = framework(e).unwrap();
        (
            sequence_parallel(e, fw, 8, a).unwrap(),
            zero_stage(e, fw, a).unwrap(),
            overlaps(e, fw, a).unwrap(),
        )
    });
    assert_eq!(got, (false, 0, [false, false, false]));
}

#[test]
fn batch_rules() {
    let v = json!({"id": "b", "global_batch_tokens": 4194304, "grad_accum_steps": 128});
    let (got, a) = with(v, |e, a| {
        let gb = global_batch(e, 2048, 8, a).unwrap();
        (gb, micro_batch(e, gb, 8, a).unwrap())
    });
    // 4,194,304 / 2048 = 2048 sequences; 2048 / (8 · 128) = 2 per micro-batch.
    assert_eq!(got, (2048, 2));
    assert_eq!(a.len(), 2);
    let (mb, a) = with(json!({"id": "c"}), |e, a| micro_batch(e, 192, 48, a).unwrap());
    assert_eq!((mb, a[0].value.as_str()), (1, "1"));
    let (skip, _) = with(json!({"id": "d"}), |e, a| global_batch(e, 2048, 8, a).unwrap_err());
    assert_eq!(skip.0, "global batch not stated");
    // OPT's "2M" tokens of 2048: 976.6 sequences, 7.9 per replica of 124: 8 × 124 = 992.
    let opt = json!({"id": "o", "global_batch_tokens": 2_000_000});
    let (gb, _) = with(opt, |e, a| global_batch(e, 2048, 124, a).unwrap());
    assert_eq!(gb, 992);
}

#[test]
fn line_rates_are_read_from_network_descriptions() {
    use crate::cluster_map::line_rate_gbit;
    let hdr = "8x NVIDIA Mellanox 200 Gb/s HDR InfiniBand HCAs per node (+2 for storage)";
    assert_eq!(line_rate_gbit(hdr), Some(200.0));
    let mlperf = "Storage: 2x ConnectX-7 IB NDR 400Gb/s, Compute: 8x ConnectX-7 IB NDR 800Gb/s";
    assert_eq!(line_rate_gbit(mlperf), Some(800.0), "the compute part wins");
    let azure = "1x Ethernet 100Gb/Sec, 8x NVIDIA Quantum-2 CX7 InfiniBand (400Gb/s)";
    assert_eq!(line_rate_gbit(azure), Some(100.0), "first rate named without a compute part");
    let opa = "Omni-Path Architecture (OPA), 4 OmniPath links per node";
    assert_eq!(line_rate_gbit(opa), Some(100.0));
    assert_eq!(line_rate_gbit("a fat tree"), None);
}

/// BLOOM's 4 × 100 Gb/s Omni-Path links per 8-GPU node are 50 Gb/s per GPU, not the preset's
/// 200: the cluster is spelled out with that bandwidth. Selene's 8 × 200 Gb/s matches the preset.
#[test]
fn stated_nics_replace_the_presets_inter_node_bandwidth() {
    use crate::cluster_map::cluster_table;
    let bloom = json!({"id": "b", "gpu_type": "A100 80GB", "gpu_count": 384, "nics_per_node": 4,
        "inter_node_network": "Omni-Path Architecture (OPA), 4 OmniPath links per node"});
    let (chosen, a) = with(bloom, |e, a| cluster_table(e, a).unwrap());
    let network = chosen.table["network"].as_array().unwrap();
    assert_eq!(network[1]["fabric"].as_str(), Some("ib-hdr"));
    assert_eq!(network[1]["size"].as_integer(), Some(48));
    assert_eq!(network[1]["bandwidth_gbit_per_s"].as_float(), Some(50.0));
    assert!(a.iter().any(|x| x.field == "cluster.network" && x.rule == "stated NICs"));
    let selene = json!({"id": "s", "gpu_type": "A100-SXM4-80GB", "gpu_count": 64,
        "nics_per_node": 8, "inter_node_network": "8x 200 Gb/s HDR InfiniBand HCAs per node"});
    let (chosen, _) = with(selene, |e, a| cluster_table(e, a).unwrap());
    assert_eq!(chosen.table["preset"].as_str(), Some("dgx-a100-superpod"));
}
