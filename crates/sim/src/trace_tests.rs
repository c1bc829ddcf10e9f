use super::*;
use astrolabe_engine::{run, Category};

/// Stage 0 computes layer 0 (1,500 ns), then its TP all-reduce (250 ns); stage 1 waits for it,
/// computes layer 1 (1,000 ns) and runs a 1 ns optimizer. Stage 0's CP stream stays empty.
fn tiny() -> StepTrace {
    let mut g = Graph::default();
    let c0 = g.add_stream("stage0/dp0/tp0/compute");
    let tp0 = g.add_stream("stage0/dp0/tp0/tp");
    g.add_stream("stage0/dp0/tp0/cp");
    let c1 = g.add_stream("stage1/dp0/tp0/compute");
    let a = g.push("s0 F mb0 L0", c0, 1500, vec![], Category::Compute);
    let t = g.push("s0 F mb0 L0 tp", tp0, 250, vec![a], Category::TpComm);
    let b = g.push("s1 F mb0 L1", c1, 1000, vec![t], Category::Compute);
    g.push("s1 optimizer", c1, 1, vec![b], Category::Optimizer);
    let timeline = run(&g).unwrap();
    StepTrace::new(g, timeline, Mode::Representative)
}

const TINY_JSON: &str = r#"{"displayTimeUnit":"ns",
"otherData":{"scenario":"tiny \"t\"","mode":"representative","makespan_ns":2751,"tasks":4},
"traceEvents":[
{"ph":"M","pid":1,"name":"process_name","args":{"name":"stage 0"}},
{"ph":"M","pid":1,"name":"process_sort_index","args":{"sort_index":1}},
{"ph":"M","pid":1,"tid":1,"name":"thread_name","args":{"name":"compute"}},
{"ph":"M","pid":1,"tid":1,"name":"thread_sort_index","args":{"sort_index":0}},
{"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"tp"}},
{"ph":"M","pid":1,"tid":2,"name":"thread_sort_index","args":{"sort_index":1}},
{"ph":"M","pid":2,"name":"process_name","args":{"name":"stage 1"}},
{"ph":"M","pid":2,"name":"process_sort_index","args":{"sort_index":2}},
{"ph":"M","pid":2,"tid":4,"name":"thread_name","args":{"name":"compute"}},
{"ph":"M","pid":2,"tid":4,"name":"thread_sort_index","args":{"sort_index":2}},
{"ph":"X","pid":1,"tid":1,"ts":0.000,"dur":1.500,"name":"forward L0 mb0","cat":"compute","args":{"stage":0,"micro_batch":0,"layer":0,"duration_ns":1500,"label":"s0 F mb0 L0"}},
{"ph":"X","pid":1,"tid":2,"ts":1.500,"dur":0.250,"name":"TP forward L0 mb0","cat":"tp_comm","args":{"stage":0,"micro_batch":0,"layer":0,"duration_ns":250,"label":"s0 F mb0 L0 tp"}},
{"ph":"X","pid":2,"tid":4,"ts":1.750,"dur":1.000,"name":"forward L1 mb0","cat":"compute","args":{"stage":1,"micro_batch":0,"layer":1,"duration_ns":1000,"label":"s1 F mb0 L1"}},
{"ph":"X","pid":2,"tid":4,"ts":2.750,"dur":0.001,"name":"optimizer","cat":"optimizer","args":{"stage":1,"duration_ns":1,"label":"s1 optimizer"}}
]}
"#;

#[test]
fn a_tiny_step_gives_exactly_this_trace() {
    let json = tiny().to_json("tiny \"t\"");
    assert_eq!(json, TINY_JSON);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["traceEvents"].as_array().unwrap().len(), 14);
}

#[test]
fn tracks_leave_out_empty_streams_and_sort_each_gpus_kinds() {
    let tracks = tiny().tracks();
    let names: Vec<(usize, &str, &str)> =
        tracks.iter().map(|t| (t.stream, t.gpu.as_str(), t.kind.as_str())).collect();
    assert_eq!(names, [(0, "stage 0", "compute"), (1, "stage 0", "tp"), (3, "stage 1", "compute")]);
    assert_eq!(tracks[2].tasks, [2, 3]);
}

#[test]
fn per_rank_gpus_are_named_by_stage_dp_and_tp() {
    assert_eq!(gpu_name("stage2/dp0/tp1", Mode::PerRank), "stage 2 · dp 0 · tp 1");
    assert_eq!(gpu_name("stage2/dp0/tp1", Mode::Representative), "stage 2");
    assert_eq!(gpu_name("", Mode::PerRank), "");
}

#[test]
fn micros_are_exact_for_integer_nanoseconds() {
    let cases = [
        (0, "0.000"),
        (1, "0.001"),
        (999, "0.999"),
        (1000, "1.000"),
        (u64::MAX, "18446744073709551.615"),
    ];
    for (ns, text) in cases {
        assert_eq!(micros(ns), text);
    }
}

#[test]
fn labels_read_back_into_their_parts_and_readable_names() {
    // (label, stage, pass, micro-batch, layer, what, name)
    let cases: [(&str, _, _, _, _, &str, &str); 7] = [
        ("s2 F mb3 L17", Some(2), Some('F'), Some(3), Some(17), "", "forward L17 mb3"),
        (
            "s2 B mb3 L17 tp beside",
            Some(2),
            Some('B'),
            Some(3),
            Some(17),
            "tp beside",
            "TP overlapped backward L17 mb3",
        ),
        (
            "s0 B mb1 grad reduce L4",
            Some(0),
            Some('B'),
            Some(1),
            Some(4),
            "grad reduce",
            "DP grad reduce backward L4 mb1",
        ),
        ("s1 W mb0 L2", Some(1), Some('W'), Some(0), Some(2), "", "weight-grad L2 mb0"),
        ("s3 F mb7 send", Some(3), Some('F'), Some(7), None, "send", "PP send forward mb7"),
        (
            "s0 store optimizer state / load weights",
            Some(0),
            None,
            None,
            None,
            "store optimizer state / load weights",
            "store optimizer state / load weights",
        ),
        ("", None, None, None, None, "", ""),
    ];
    for (label, stage, pass, micro_batch, layer, what, name) in cases {
        let parts = LabelParts::parse(label);
        let expected = LabelParts { stage, pass, micro_batch, layer, what: what.to_string() };
        assert_eq!(parts, expected, "{label}");
        assert_eq!(readable_name(&parts, label), name, "{label}");
    }
}
