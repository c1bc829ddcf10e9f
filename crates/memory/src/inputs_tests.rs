//! Layers per virtual stage, even and uneven, and the errors of impossible layouts.

use super::*;
use astrolabe_model::Recompute;

/// A plan with `pp` stages, `v` chunks (interleaved when `v > 1`) and the given ends.
fn plan(pp: u64, v: u64, first: Option<u64>, last: Option<u64>) -> MemoryInputs {
    MemoryInputs {
        tp: 1,
        pp,
        dp: 1,
        cp: 1,
        ep: 1,
        expert_tp: 1,
        expert_dp: 1,
        virtual_stages: v,
        micro_batch: 1,
        num_micro_batches: 64,
        schedule: if v > 1 { Schedule::Interleaved1F1B } else { Schedule::OneFOneB },
        first_stage_layers: first,
        last_stage_layers: last,
        sequence_parallel: false,
        recompute: Recompute::Full,
        zero_stage: 0,
        reshard_after_forward: true,
        weight_bytes_per_param: 2,
        grad_bytes_per_param: 2,
        framework_reserve_bytes: 0,
        comm_buffer_bytes: 0,
    }
}

/// The layout, or the error's text.
fn layout(layers: u64, inputs: &MemoryInputs) -> Result<Vec<u64>, String> {
    inputs.layers_per_virtual_stage(layers).map_err(|e| e.to_string())
}

/// `[head..., middle × count, tail...]`.
fn run(head: &[u64], middle: u64, count: usize, tail: &[u64]) -> Vec<u64> {
    let mut out = head.to_vec();
    out.extend(std::iter::repeat_n(middle, count));
    out.extend_from_slice(tail);
    out
}

#[test]
fn layouts() {
    let cases = [
        // Llama 3 405B as Meta trained it: 126 = 7 + 14 × 8 + 7.
        (126, plan(16, 1, Some(7), Some(7)), run(&[7], 8, 14, &[7])),
        // Even splits, as before.
        (96, plan(16, 1, None, None), vec![6; 16]),
        (32, plan(4, 2, None, None), vec![4; 8]),
        // One end only: 126 − 6 = 120 over the other 15 stages.
        (126, plan(16, 1, Some(6), None), run(&[6], 8, 15, &[])),
        (126, plan(16, 1, None, Some(6)), run(&[], 8, 15, &[6])),
        // Two stages, both given: they hold everything.
        (126, plan(2, 1, Some(60), Some(66)), vec![60, 66]),
        // Interleaved, 4 stages × 2 chunks: 30 − 6 = 24 over the 6 middle virtual stages.
        // Stage 0 holds virtual stages 0 and 4 (3 + 4), stage 3 holds 3 and 7 (4 + 3).
        (30, plan(4, 2, Some(3), Some(3)), run(&[3], 4, 6, &[3])),
        // The smallest share: one layer on each of the 14 middle stages.
        (20, plan(16, 1, Some(3), Some(3)), run(&[3], 1, 14, &[3])),
    ];
    for (layers, inputs, expected) in cases {
        let pp = inputs.pp;
        assert_eq!(layout(layers, &inputs), Ok(expected), "{layers} layers over pp {pp}");
    }
}

#[test]
fn impossible_layouts_name_the_field() {
    let e = |layers, inputs: MemoryInputs| layout(layers, &inputs).unwrap_err();
    // Without a split, Megatron-LM's rule: 126 is not a multiple of 16.
    assert_eq!(
        e(126, plan(16, 1, None, None)),
        "parallel plan: `pp`: a divisor of the model's layers (126), got 16"
    );
    // 126 − 6 − 7 = 113 does not split over 14 stages.
    assert_eq!(
        e(126, plan(16, 1, Some(6), Some(7))),
        "parallel plan: `first_stage_layers`: a count leaving the model's other layers an equal \
         share of at least 1 on each of the other 14 virtual stages (126 − 13 = 113 layers over \
         14), got 6"
    );
    // 20 − 8 = 12 cannot give 14 stages one layer each.
    let short = e(20, plan(16, 1, Some(4), Some(4)));
    assert!(short.contains("(20 − 8 = 12 layers over 14)"), "{short}");
    let over = e(126, plan(16, 1, None, Some(127)));
    assert!(over.starts_with("parallel plan: `last_stage_layers`:"), "{over}");
    assert!(over.contains("(126 − 127 < 0 layers over 15)"), "{over}");
    assert_eq!(
        e(126, plan(2, 1, Some(60), Some(60))),
        "parallel plan: `first_stage_layers`: first_stage_layers + last_stage_layers equal to \
         the model's layers (126), the pipeline having no other virtual stage; got 60 (sum 120)"
    );
    assert_eq!(
        e(126, plan(16, 1, Some(7), Some(0))),
        "parallel plan: `last_stage_layers`: at least 1 layer, got 0"
    );
    assert_eq!(
        e(126, plan(1, 1, None, Some(7))),
        "parallel plan: `last_stage_layers`: only with more than one pipeline stage, got 7"
    );
}

#[test]
fn uneven_layouts_keep_the_schedule_rules() {
    let e = |inputs: MemoryInputs| layout(126, &inputs).unwrap_err();
    let gpipe_v = MemoryInputs { schedule: Schedule::GPipe, ..plan(16, 2, Some(7), Some(7)) };
    assert_eq!(
        e(gpipe_v),
        "parallel plan: `virtual_stages`: 1 unless the schedule is interleaved_1f1b, got 2"
    );
    let one_chunk =
        MemoryInputs { schedule: Schedule::Interleaved1F1B, ..plan(16, 1, Some(7), None) };
    assert_eq!(
        e(one_chunk),
        "parallel plan: `virtual_stages`: at least 2 with the interleaved_1f1b schedule, got 1"
    );
    assert_eq!(
        e(plan(1, 2, Some(7), None)),
        "parallel plan: `pp`: at least 2 with the interleaved_1f1b schedule, got 1"
    );
    assert_eq!(
        e(plan(0, 1, Some(7), None)),
        "parallel plan: `pp`: an integer from 1 to 1048576, got 0"
    );
}

#[test]
fn a_model_without_layers_has_no_layout() {
    let err = layout(0, &plan(1, 1, None, None)).unwrap_err();
    assert_eq!(err, "parallel plan: `pp`: at most the model's layers (0) in all, got 1 × 1");
}

proptest::proptest! {
    /// Every accepted layout has one entry per virtual stage, at least 1 layer each, the given
    /// ends where asked, and sums to the model's layers.
    #[test]
    fn accepted_layouts_hold_every_layer_once(
        layers in 1u64..300,
        pp in 1u64..20,
        v in 1u64..4,
        first in proptest::option::of(0u64..20),
        last in proptest::option::of(0u64..20),
    ) {
        if let Ok(got) = plan(pp, v, first, last).layers_per_virtual_stage(layers) {
            proptest::prop_assert_eq!(got.len() as u64, pp * v);
            proptest::prop_assert!(got.iter().all(|&l| l >= 1));
            proptest::prop_assert_eq!(got.iter().sum::<u64>(), layers);
            proptest::prop_assert!(first.is_none_or(|f| got[0] == f));
            proptest::prop_assert!(last.is_none_or(|l| got[got.len() - 1] == l));
        }
    }
}

proptest::proptest! {
    /// A layout built as (first, share × the rest, last) comes back as it was built.
    #[test]
    fn built_layouts_come_back(
        pp in 2u64..20,
        v in 1u64..4,
        share in 1u64..10,
        first in proptest::option::of(1u64..20),
        last in proptest::option::of(1u64..20),
    ) {
        let n = (pp * v) as usize;
        let mut expected = vec![share; n];
        expected[0] = first.unwrap_or(share);
        expected[n - 1] = last.unwrap_or(share);
        let layers = expected.iter().sum();
        let got = plan(pp, v, first, last).layers_per_virtual_stage(layers);
        proptest::prop_assert_eq!(got, Ok(expected));
    }
}
