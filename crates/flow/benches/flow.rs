//! Wall-clock cost of the flow-level model on two large collective patterns.
//!
//! `cargo bench -p astrolabe-flow` runs criterion. Fabric building and routing are inside the
//! measured loop for neither case: the fabric is built once; routes are computed by each
//! simulation (they are part of its cost).
//! - `ring_allreduce_1024`: one 1 GiB ring all-reduce over 1,024 GPUs (128 DGX H100 nodes,
//!   ranks in order) on the rail-optimized `dgx-h100-superpod` fabric: 2,095,104 flows.
//! - `dp_reduce_scatter_16384`: the data-parallel gradient reduce-scatter of 16,384 GPUs
//!   (2,048 nodes × 8): eight 2,048-rank rings, one per rail, at once, 1 GiB per rank:
//!   33,538,048 flows.

// criterion's group macro defines an undocumented public function.
#![allow(missing_docs)]

use astrolabe_flow::{preset, simulate_collectives, CollectiveOp, CollectiveRequest, Schedule};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;

const GIB: u64 = 1 << 30;

fn ring(op: CollectiveOp, ranks: Vec<usize>) -> CollectiveRequest {
    CollectiveRequest { op, schedule: Schedule::Ring, ranks, bytes: GIB, start_ns: 0 }
}

fn ring_allreduce_1024(c: &mut Criterion) {
    let fabric = preset("dgx-h100-superpod", Some(128)).and_then(|s| s.build()).expect("preset");
    let reqs = [ring(CollectiveOp::AllReduce, (0..1024).collect())];
    let mut group = c.benchmark_group("flow");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("ring_allreduce_1024", |b| {
        b.iter(|| simulate_collectives(black_box(&fabric), black_box(&reqs)).expect("runs"))
    });
    group.finish();
}

fn dp_reduce_scatter_16384(c: &mut Criterion) {
    let fabric = preset("dgx-h100-superpod", Some(2048)).and_then(|s| s.build()).expect("preset");
    let reqs: Vec<_> = (0..8)
        .map(|rail| ring(CollectiveOp::ReduceScatter, (0..2048).map(|n| n * 8 + rail).collect()))
        .collect();
    let mut group = c.benchmark_group("flow");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    group.bench_function("dp_reduce_scatter_16384", |b| {
        b.iter(|| simulate_collectives(black_box(&fabric), black_box(&reqs)).expect("runs"))
    });
    group.finish();
}

criterion_group!(benches, ring_allreduce_1024, dp_reduce_scatter_16384);
criterion_main!(benches);
