use super::*;
use serde_json::json;

fn entry(v: &Value) -> Entry<'_> {
    Entry::new(v, 3, "dev.json").unwrap()
}

#[test]
fn counts_accept_numbers_and_texts_that_start_with_one() {
    let v = json!({ "id": "e", "tp": 8, "zero_stage": "3 (FSDP: params sharded)", "pp": null });
    let e = entry(&v);
    assert_eq!(e.count("tp").unwrap(), Some(8));
    assert_eq!(e.count("zero_stage").unwrap(), Some(3));
    assert_eq!(e.count("pp").unwrap(), None);
    assert_eq!(e.count("absent").unwrap(), None);
}

#[test]
fn malformed_fields_name_file_entry_and_field() {
    let v = json!({
        "id": "bad-row", "tp": "eight", "pp": 2.5, "dp": 0, "gpu_type": 100,
        "model": { "layers": [24] }, "metrics": { "step_time_s": "1.4 s", "mfu_pct": -3 }
    });
    let e = entry(&v);
    let cases: [(InputError, &str); 6] = [
        (e.count("tp").unwrap_err(), "tp"),
        (e.count("pp").unwrap_err(), "pp"),
        (e.count("dp").unwrap_err(), "dp"),
        (e.text("gpu_type").unwrap_err(), "gpu_type"),
        (e.model_count("layers").unwrap_err(), "model.layers"),
        (e.metric("step_time_s").unwrap_err(), "metrics.step_time_s"),
    ];
    for (err, field) in cases {
        assert_eq!(err.origin, "dev.json: entry `bad-row`");
        assert_eq!(err.field, field);
    }
    assert!(e.metric("mfu_pct").unwrap_err().expected.contains("positive"));
}

#[test]
fn an_entry_without_an_id_or_not_an_object_is_named_by_its_index() {
    let e = Entry::new(&json!({ "kind": "training" }), 3, "dev.json").unwrap_err();
    assert_eq!((e.origin.as_str(), e.field.as_str()), ("dev.json: entries[3]", "id"));
    let e = Entry::new(&json!([1, 2]), 4, "dev.json").unwrap_err();
    assert_eq!(e.to_string(), "dev.json: entries[4]: `entry`: an object");
}

#[test]
fn metrics_and_model_must_be_objects() {
    let v = json!({ "id": "m", "metrics": [1], "model": "GPT" });
    let e = entry(&v);
    assert_eq!(e.metric("step_time_s").unwrap_err().field, "metrics");
    assert_eq!(e.model_count("layers").unwrap_err().field, "model");
}
