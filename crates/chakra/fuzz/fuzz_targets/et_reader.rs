//! Fuzz target: any bytes given to the trace reader give a node or an error, never a panic, and
//! whatever reads successfully writes back to bytes that read the same.

#![no_main]

use astrolabe_chakra::{read_trace_from, validate_dependencies, write_trace_to, Node, TraceReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(reader) = TraceReader::new(data, "fuzz") {
        for node in reader.flatten() {
            touch_attributes(&node);
        }
    }
    let Ok(trace) = read_trace_from(data, "fuzz") else {
        return;
    };
    let _ = validate_dependencies(&trace.nodes, "fuzz");
    let written = write_trace_to(Vec::new(), "fuzz", &trace).expect("a read trace writes");
    let again = read_trace_from(written.as_slice(), "again").expect("a written trace reads");
    let rewritten = write_trace_to(Vec::new(), "again", &again).expect("and writes again");
    assert_eq!(written, rewritten);
});

fn touch_attributes(node: &Node) {
    for attr in &node.attr {
        let _ = node.attr_u64(&attr.name);
        let _ = node.attr_i64(&attr.name);
        let _ = node.attr_bool(&attr.name);
        let _ = node.attr_str(&attr.name);
        let _ = node.attr_bool_list(&attr.name);
    }
    let _ = node.comm_type();
}
