//! Property tests of the accounting: totals add up, sharding never adds memory.

use super::tests::plan;
use super::*;
use crate::inputs::Schedule::{GPipe, OneFOneB};
use astrolabe_model::preset;
use proptest::prelude::*;

proptest! {
    /// Totals are the sum of their parts; a higher ZeRO stage never adds model and optimizer
    /// state (ZeRO-3's working set of gathered layers can outweigh its saving at small `dp`).
    #[test]
    fn totals_add_up_and_zero_never_adds(
        pp in prop::sample::select(vec![1u64, 2, 3, 4, 6, 9]),
        dp in 1u64..64,
        m in 1u64..40,
        zero in 0u8..3,
        gpipe in any::<bool>(),
    ) {
        let model = preset("megatron-gpt-7.5b").unwrap();
        let schedule = if gpipe { GPipe } else { OneFOneB };
        let base = plan(4, pp, dp, zero, 2);
        let inputs = MemoryInputs { schedule, num_micro_batches: m, ..base };
        let more = MemoryInputs { zero_stage: zero + 1, ..inputs.clone() };
        let (a, b) = (account(&model, &inputs, 0).unwrap(), account(&model, &more, 0).unwrap());
        for (s, t) in a.stages.iter().zip(&b.stages) {
            let state = |s: &StageMemory| s.weights_bytes + s.gradients_bytes + s.optimizer_bytes;
            let parts = state(s) + s.gathered_bytes
                + s.activations_bytes + s.comm_buffers_bytes + s.reserve_bytes;
            prop_assert_eq!(s.total_bytes, parts);
            prop_assert!(state(t) <= state(s));
            prop_assert!(s.in_flight_micro_batches <= m);
        }
        prop_assert_eq!(a.peak_bytes, a.stages.iter().map(|s| s.total_bytes).max().unwrap());
    }
}
