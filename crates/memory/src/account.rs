//! The per-stage sum of every kind of memory, the worst stage and the out-of-memory verdict.

use astrolabe_core::InputError;
use astrolabe_model::{
    context_shard, embedding_activation_bytes, layer_activation_bytes, moe_layer_activation_bytes,
    output_activation_bytes, TransformerModel,
};
use serde::Serialize;

use crate::inputs::{MemoryInputs, Schedule};
use crate::params::{gathered_bytes, stage_params_per_gpu, stage_state_bytes, StageParams};
use crate::schedule::in_flight;

/// What one GPU of one pipeline stage holds at its peak, in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageMemory {
    /// Pipeline stage, 0-based.
    pub stage: u64,
    /// Transformer layers on the stage (over all its chunks when interleaved; DualPipe: its two
    /// model stages).
    pub layers: u64,
    /// Parameters on one GPU of the stage (see [`crate::params`]).
    pub params: u64,
    /// Of which routed-expert parameters (sharded over the expert-data-parallel ranks).
    pub expert_params: u64,
    /// Model weights.
    pub weights_bytes: u64,
    /// Gradients.
    pub gradients_bytes: u64,
    /// Optimizer state (fp32 master weights, Adam momentum and variance).
    pub optimizer_bytes: u64,
    /// ZeRO-3 working set: the whole weights of the layers gathered at once and one layer's
    /// whole gradient before its reduce-scatter (see [`crate::params::gathered_bytes`]); 0
    /// otherwise.
    pub gathered_bytes: u64,
    /// Activations kept for the backward pass at the stage's peak.
    pub activations_bytes: u64,
    /// Micro-batches whose activations are kept at the peak; with interleaving, chunk
    /// micro-batches (see [`crate::schedule`]), each counted at the layers of the stage's
    /// largest chunk. That is `layers / virtual_stages` for an even split. For an uneven one
    /// (`first_stage_layers`, `last_stage_layers`) it is an upper bound: which chunks the held
    /// micro-batches belong to is not tracked, and the mean (`ceil(layers / virtual_stages)`)
    /// could undercount, e.g. a last stage of chunks [8, 1] holding 16 + 1 chunk-micro-batches
    /// keeps 16·8 + 1 = 129 layers' worth, not 17·5 = 85.
    pub in_flight_micro_batches: u64,
    /// Communication buffers, as given.
    pub comm_buffers_bytes: u64,
    /// Framework reserve, as given.
    pub reserve_bytes: u64,
    /// The sum of the seven byte counts above (what stays in HBM).
    pub total_bytes: u64,
    /// Bytes offloaded to a memory tier, not counted in `total_bytes`; set by the caller that
    /// applies an offload plan (`astrolabe_memory::offload`), 0 otherwise.
    pub offloaded_bytes: u64,
}

/// Memory per GPU for every pipeline stage, and whether the fullest GPU fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryReport {
    /// One row per pipeline stage, in order.
    pub stages: Vec<StageMemory>,
    /// Index of the stage with the largest total (the first one on ties).
    pub worst_stage: usize,
    /// That stage's total: the most any GPU of the job holds.
    pub peak_bytes: u64,
    /// Memory of one GPU, as given.
    pub capacity_bytes: u64,
    /// `peak_bytes <= capacity_bytes`.
    pub fits: bool,
}

/// Accounts the memory of every stage of `model` trained under `inputs` on GPUs of
/// `hbm_capacity_bytes` each. Every total is a sum of the parts it reports; sums saturate at
/// `u64::MAX` rather than wrap.
pub fn account(
    model: &TransformerModel,
    inputs: &MemoryInputs,
    hbm_capacity_bytes: u64,
) -> Result<MemoryReport, InputError> {
    inputs.validate(model)?;
    let layout = inputs.layers_per_virtual_stage(model.layers)?;
    let per_micro_batch = ActivationBytes::of(model, inputs)?;
    let stages: Vec<StageMemory> = (0..inputs.pp)
        .map(|i| {
            let held = inputs.held_virtual_stages(i);
            let chunks: Vec<u64> = held.iter().map(|&v| layout[v]).collect();
            let moe = moe_layers_of_stage(model, &layout, &held);
            let params = held_params(model, inputs, &layout, (i, &held));
            let dual = (inputs.schedule == Schedule::DualPipe)
                .then(|| dualpipe_chunk_bytes(model, &layout, &held, &per_micro_batch));
            stage_memory(model, inputs, &per_micro_batch, i, (&chunks, moe, params), dual)
        })
        .collect();
    let mut report = MemoryReport {
        stages,
        worst_stage: 0,
        peak_bytes: 0,
        capacity_bytes: hbm_capacity_bytes,
        fits: false,
    };
    report.settle();
    Ok(report)
}

impl MemoryReport {
    /// Sets the worst stage (the first of the largest totals), the peak and the verdict from
    /// the stages' totals; called again by whoever changes a total (offload).
    pub fn settle(&mut self) {
        let mut worst = 0;
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.total_bytes > self.stages[worst].total_bytes {
                worst = i;
            }
        }
        self.worst_stage = worst;
        self.peak_bytes = self.stages.get(worst).map_or(0, |s| s.total_bytes);
        self.fits = self.peak_bytes <= self.capacity_bytes;
    }
}

/// Activation bytes of one micro-batch on one GPU: a layer, the embedding, the output layer.
struct ActivationBytes {
    layer: u64,
    moe_layer: u64,
    embedding: u64,
    output: u64,
}

impl ActivationBytes {
    /// Activations of the `seq_len / cp` tokens one context-parallel rank holds (the `s²`
    /// attention term, kept only without flash attention, is then `(s/cp)²`: a lower bound).
    fn of(model: &TransformerModel, inputs: &MemoryInputs) -> Result<Self, InputError> {
        let model = &context_shard(model, inputs.cp);
        let (b, t, sp) = (inputs.micro_batch, inputs.tp, inputs.sequence_parallel);
        Ok(ActivationBytes {
            layer: layer_activation_bytes(model, b, t, sp, inputs.recompute)?,
            moe_layer: moe_layer_activation_bytes(model, b, t, sp, inputs.recompute)?,
            embedding: embedding_activation_bytes(model, b, t, sp)?,
            output: output_activation_bytes(model, b, t, sp)?,
        })
    }
}

/// Layers with routed experts among those of the virtual stages `held` (indices into `layout`,
/// as [`MemoryInputs::held_virtual_stages`] gives them; global layer indices from the prefix
/// sums of `layout`).
pub fn moe_layers_of_stage(model: &TransformerModel, layout: &[u64], held: &[usize]) -> u64 {
    let mut start = 0;
    let mut count = 0;
    for (v, &n) in layout.iter().enumerate() {
        if held.contains(&v) {
            count += (start..start + n).filter(|&l| model.is_moe_layer(l)).count() as u64;
        }
        start += n;
    }
    count
}

/// Parameters per GPU of pipeline stage `stage`, which holds the virtual stages `held`. With
/// DualPipe, the sum over its two model stages, each with what [`stage_params_per_gpu`] puts
/// on that model stage (so the end stages hold both the embedding and the output head);
/// otherwise the stage's layers over all its chunks, the embedding on stage 0, the head on
/// stage `pp − 1`.
fn held_params(
    model: &TransformerModel,
    inputs: &MemoryInputs,
    layout: &[u64],
    (stage, held): (u64, &[usize]),
) -> StageParams {
    let (tp_ep, pp) = ((inputs.tp, inputs.expert_tp, inputs.ep), inputs.pp);
    if inputs.schedule != Schedule::DualPipe {
        let layers = held.iter().map(|&v| layout[v]).sum();
        let moe = moe_layers_of_stage(model, layout, held);
        return stage_params_per_gpu(model, tp_ep, (pp, stage), layers, moe);
    }
    held.iter().fold(StageParams::default(), |sum, &v| {
        let moe = moe_layers_of_stage(model, layout, &[v]);
        let part = stage_params_per_gpu(model, tp_ep, (pp, v as u64), layout[v], moe);
        StageParams { dense: sum.dense + part.dense, expert: sum.expert + part.expert }
    })
}

fn stage_memory(
    model: &TransformerModel,
    inputs: &MemoryInputs,
    per_micro_batch: &ActivationBytes,
    stage: u64,
    (chunk_layers, moe_layers, split): (&[u64], u64, StageParams),
    dual_chunk_bytes: Option<u64>,
) -> StageMemory {
    let (pp, v) = (inputs.pp, inputs.virtual_stages);
    let layers = chunk_layers.iter().sum();
    let params = split.total();
    let state = stage_state_bytes(split, inputs);
    let gathered = gathered_bytes(model, inputs, layers);
    let held = in_flight(inputs.schedule, pp, v, inputs.num_micro_batches, stage);
    // Every chunk-micro-batch held is counted at the stage's largest chunk: exact for an even
    // split, an upper bound for an uneven interleaved one (see `StageMemory`).
    let chunk_layers = chunk_layers.iter().copied().max().unwrap_or(0);
    // Per layer: the stage's mix of dense and MoE layers (exact without interleaving).
    let mix = (layers - moe_layers)
        .saturating_mul(per_micro_batch.layer)
        .saturating_add(moe_layers.saturating_mul(per_micro_batch.moe_layer));
    let mut chunk_bytes = (u128::from(mix) * u128::from(chunk_layers))
        .checked_div(u128::from(layers))
        .map_or(0, |b| u64::try_from(b).unwrap_or(u64::MAX));
    if let Some(heavier) = dual_chunk_bytes {
        chunk_bytes = heavier;
    }
    let mut activations = held.chunks.saturating_mul(chunk_bytes);
    // DualPipe's end stages both hold the first and the last model stage.
    let end = inputs.schedule == Schedule::DualPipe && (stage == 0 || stage == pp - 1);
    if stage == 0 || end {
        activations =
            activations.saturating_add(held.first_chunk.saturating_mul(per_micro_batch.embedding));
    }
    if stage == pp - 1 || end {
        activations =
            activations.saturating_add(held.last_chunk.saturating_mul(per_micro_batch.output));
    }
    let parts = [
        state.weights,
        state.gradients,
        state.optimizer,
        gathered,
        activations,
        inputs.comm_buffer_bytes,
        inputs.framework_reserve_bytes,
    ];
    StageMemory {
        stage,
        layers,
        params,
        expert_params: split.expert,
        weights_bytes: state.weights,
        gradients_bytes: state.gradients,
        optimizer_bytes: state.optimizer,
        gathered_bytes: gathered,
        activations_bytes: activations,
        in_flight_micro_batches: held.chunks,
        comm_buffers_bytes: inputs.comm_buffer_bytes,
        reserve_bytes: inputs.framework_reserve_bytes,
        total_bytes: parts.iter().fold(0, |sum, &part| sum.saturating_add(part)),
        offloaded_bytes: 0,
    }
}

/// DualPipe: one micro-batch's activations in the heavier of the stage's two model stages
/// (`held`, indices into `layout`),
/// each with its own dense and MoE layers (the model stage `pp − 1 − s` of a DeepSeek-V3-like
/// model may hold only MoE layers where stage `s` holds dense ones). The `pp + 1` micro-batches
/// in flight mix both directions; each is counted at the heavier one: an upper bound, exact
/// when both model stages weigh the same (always for a dense model).
fn dualpipe_chunk_bytes(
    model: &TransformerModel,
    layout: &[u64],
    held: &[usize],
    per_micro_batch: &ActivationBytes,
) -> u64 {
    let bytes = |&v: &usize| {
        let moe = moe_layers_of_stage(model, layout, &[v]);
        let dense = layout[v] - moe;
        dense
            .saturating_mul(per_micro_batch.layer)
            .saturating_add(moe.saturating_mul(per_micro_batch.moe_layer))
    };
    held.iter().map(bytes).max().unwrap_or(0)
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "account_props.rs"]
mod props;

#[cfg(test)]
#[path = "zero_tests.rs"]
mod zero_tests;
