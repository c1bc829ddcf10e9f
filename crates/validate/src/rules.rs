//! How a value the source did not state (null) is filled, one function per rule.
//!
//! Every filled value is recorded as an [`Assumption`] and printed with the entry, so a
//! comparison can always be traced to what was assumed. The rules follow the defaults of the
//! framework the entry ran on, at the time it ran ([`Framework`]); where no default is sensible
//! (parallel sizes, batch), the entry is skipped instead of guessed.

use crate::entry::{leading_count, Entry, Raw};
use crate::Skip;
use serde::Serialize;

/// A value filled in by a rule because the source did not state it (or stated it in words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assumption {
    /// Scenario key it sets (`plan.micro_batch`, `model.preset`, `cluster.preset`, …).
    pub field: String,
    /// The value used.
    pub value: String,
    /// The rule, in words.
    pub rule: String,
}

/// The assumptions made for one entry, in the order they were made.
#[derive(Debug, Clone, Default)]
pub struct Assumptions(pub Vec<Assumption>);

impl Assumptions {
    /// Records that `field` was set to `value` by `rule`.
    pub fn note(&mut self, field: &str, value: impl ToString, rule: &str) {
        self.0.push(Assumption {
            field: field.to_string(),
            value: value.to_string(),
            rule: rule.to_string(),
        });
    }
}

/// The generation of training framework an entry ran on, as far as its defaults matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// Megatron-LM before Megatron-Core (2021–2022), Megatron-DeepSpeed and anything unnamed:
    /// no sequence parallelism, no overlapped gradient reduction, no fused (flash) attention
    /// unless the entry says otherwise.
    Classic,
    /// Megatron-Core (2023 on): overlaps and the distributed optimizer only where the entry names
    /// their flags (`--overlap-grad-reduce`, `--overlap-param-gather`, `--tp-comm-overlap`).
    MegatronCore,
    /// NVIDIA NeMo recipes, including NVIDIA's (and partners') MLPerf GPT-3 submissions, which
    /// run NeMo Megatron configurations.
    NeMo,
}

fn lower(e: &Entry<'_>, field: &str) -> Result<String, Skip> {
    Ok(e.text(field)?.unwrap_or_default().to_ascii_lowercase())
}

/// Framework: `framework` naming Megatron-Core → [`Framework::MegatronCore`]; `framework` or
/// `source` naming NeMo, or an MLPerf source naming NVIDIA → [`Framework::NeMo`]; else
/// [`Framework::Classic`].
pub fn framework(e: &Entry<'_>) -> Result<Framework, Skip> {
    let (framework, source) = (lower(e, "framework")?, lower(e, "source")?);
    Ok(if framework.contains("megatron-core") {
        Framework::MegatronCore
    } else if framework.contains("nemo")
        || source.contains("nemo")
        || (source.contains("mlperf") && source.contains("nvidia"))
    {
        Framework::NeMo
    } else {
        Framework::Classic
    })
}

/// Text in which flags and settings are looked for: `framework` and `notes`, lower case.
fn flags_text(e: &Entry<'_>) -> Result<String, Skip> {
    Ok(format!("{} {}", lower(e, "framework")?, lower(e, "notes")?))
}

/// `tp`, `pp`: as stated; when null, the sizes the entry's `notes` quote as `TP<n>/PP<m>`
/// (e.g. a strong-scaling row pointing at the weak-scaling row of the same model); a null `pp`
/// of an FSDP run is 1; otherwise the entry is skipped: there is no default worth comparing
/// against.
pub fn parallel_sizes(e: &Entry<'_>, a: &mut Assumptions) -> Result<(u64, u64), Skip> {
    let notes = e.text("notes")?.unwrap_or_default();
    let sharded = fsdp(e)?;
    let mut size = |field: &str, tag: &str| -> Result<u64, Skip> {
        if let Some(n) = e.count(field)? {
            return Ok(n);
        }
        if field == "pp" && sharded {
            a.note("plan.pp", 1, "null with fsdp = true; FSDP runs shard instead of pipelining");
            return Ok(1);
        }
        let quoted = notes
            .match_indices(tag)
            .find_map(|(at, _)| leading_count(&notes[at + tag.len()..]).filter(|&n| n > 0));
        match quoted {
            Some(n) => {
                a.note(&format!("plan.{field}"), n, &format!("null; `{tag}{n}` in the notes"));
                Ok(n)
            }
            None => Err(Skip(format!("`{field}` not stated (and not quoted in the notes)"))),
        }
    };
    Ok((size("tp", "TP")?, size("pp", "PP")?))
}

/// `ep`: null means 1; anything above 1 is skipped until expert parallelism is simulated; so are
/// mixture-of-experts models (`model.moe`).
pub fn unsupported_parallelism(e: &Entry<'_>) -> Result<(), Skip> {
    if let Some(ep) = e.count("ep")?.filter(|&ep| ep > 1) {
        return Err(Skip(format!("expert parallelism not simulated yet (issue 6): ep = {ep}")));
    }
    if e.model_has("moe") {
        return Err(Skip("mixture-of-experts models not simulated yet (issue 6)".into()));
    }
    Ok(())
}

/// `cp`: as stated; null means 1 (no context parallelism).
pub fn context_parallel(e: &Entry<'_>) -> Result<u64, Skip> {
    Ok(e.count("cp")?.unwrap_or(1))
}

/// `fsdp`: true means ZeRO-3 (PyTorch FSDP shards parameters, gradients and optimizer state).
pub fn fsdp(e: &Entry<'_>) -> Result<bool, Skip> {
    Ok(e.raw("fsdp")? == Raw::Flag(true))
}

/// `vp` (model chunks per pipeline rank): as stated; null, or a text without a number ("interleaved
/// schedule used (v not stated per row)"), means 1, the plain 1F1B schedule. Where the source
/// did interleave, this over-states the pipeline bubble.
pub fn virtual_stages(e: &Entry<'_>, a: &mut Assumptions) -> Result<u64, Skip> {
    match e.raw("vp")? {
        Raw::Null => Ok(1),
        Raw::Count(0) => Err(e.error("vp", "a positive integer, got 0").into()),
        Raw::Count(v) => Ok(v),
        Raw::Text(t) => match leading_count(t).filter(|&v| v > 0) {
            Some(v) => Ok(v),
            None => {
                a.note(
                    "plan.virtual_stages",
                    1,
                    &format!("vp given as text without a number ({t:?})"),
                );
                Ok(1)
            }
        },
        Raw::Flag(_) => Err(e.error("vp", "an integer, a text or null").into()),
    }
}

/// Layers per pipeline stage when `pp` does not divide the layers (and there is no
/// interleaving): the inner stages take `⌈layers / pp⌉` each and the first and last stage share
/// the rest evenly, as Megatron-DeepSpeed's partitioning places them when it counts the
/// embedding and the output layer as one layer each (BLOOM: 70 layers on 12 stages → 5, 10 × 6,
/// 5). `None` when `pp` divides the layers or the rest does not split evenly.
pub fn uneven_stages(layers: u64, pp: u64, v: u64, a: &mut Assumptions) -> Option<u64> {
    if pp < 3 || v != 1 || layers % pp == 0 {
        return None;
    }
    let inner = layers.div_ceil(pp);
    let rest = layers.checked_sub((pp - 2) * inner)?;
    if rest < 2 || rest % 2 != 0 {
        return None;
    }
    let rule = format!("{layers} layers on {pp} stages: {inner} per inner stage, the rest split");
    a.note("plan.first_stage_layers", rest / 2, &rule);
    a.note("plan.last_stage_layers", rest / 2, &rule);
    Some(rest / 2)
}

/// `global_batch_size`: as stated; when null, `global_batch_tokens / seq_len` if it divides;
/// when it does not (a round figure such as "2M" tokens), the nearest multiple of the `dp`
/// replicas' sequences (at least `dp`); without tokens, the entry is skipped.
pub fn global_batch(
    e: &Entry<'_>,
    seq_len: u64,
    dp: u64,
    a: &mut Assumptions,
) -> Result<u64, Skip> {
    if let Some(gb) = e.count("global_batch_size")? {
        return Ok(gb);
    }
    match e.count("global_batch_tokens")? {
        Some(tokens) if tokens % seq_len == 0 => {
            let gb = tokens / seq_len;
            a.note("plan.global_batch", gb, "null; global_batch_tokens / seq_len");
            Ok(gb)
        }
        Some(tokens) => {
            let dp = dp.max(1);
            let per_replica = ((tokens as f64 / seq_len as f64 / dp as f64).round() as u64).max(1);
            let gb = per_replica * dp;
            let rule = format!(
                "null; global_batch_tokens ({tokens}) / seq_len ({seq_len}) is no whole number: \
                 the nearest multiple of dp ({dp})"
            );
            a.note("plan.global_batch", gb, &rule);
            Ok(gb)
        }
        None => Err(Skip("global batch not stated".into())),
    }
}

/// `micro_batch_size`: as stated; when null, `global_batch / (dp · grad_accum_steps)` if the
/// entry gives the accumulation steps and that divides; for an FSDP run, the whole batch of a
/// replica in one micro-batch (FSDP gathers every parameter again for each micro-batch, so its
/// recipes raise the batch per GPU rather than accumulate); otherwise 1, the Megatron-LM and NeMo
/// default in the published recipes of large models.
pub fn micro_batch(e: &Entry<'_>, gb: u64, dp: u64, a: &mut Assumptions) -> Result<u64, Skip> {
    if let Some(mb) = e.count("micro_batch_size")? {
        return Ok(mb);
    }
    if let Some(ga) = e.count("grad_accum_steps")? {
        if gb % (dp * ga) == 0 {
            let mb = gb / (dp * ga);
            a.note("plan.micro_batch", mb, "null; global_batch / (dp · grad_accum_steps)");
            return Ok(mb);
        }
    }
    if fsdp(e)? && dp > 0 && gb % dp == 0 {
        let mb = gb / dp;
        a.note("plan.micro_batch", mb, "null with fsdp = true; global_batch / dp, no accumulation");
        return Ok(mb);
    }
    a.note("plan.micro_batch", 1, "null; framework default 1");
    Ok(1)
}

/// `activation_recompute`: the first word of the text (`full`, `selective`, `none`); null means
/// none, the Megatron-LM and NeMo default.
pub fn recompute(e: &Entry<'_>, a: &mut Assumptions) -> Result<&'static str, Skip> {
    let Some(text) = e.text("activation_recompute")? else {
        a.note("plan.recompute", "none", "null; framework default (no recomputation)");
        return Ok("none");
    };
    let word = text.trim_start().to_ascii_lowercase();
    for (prefix, value) in [("full", "full"), ("selective", "selective"), ("no", "none")] {
        if word.starts_with(prefix) {
            return Ok(value);
        }
    }
    Err(e
        .error("activation_recompute", format!("full, selective, none or null, got {text:?}"))
        .into())
}

/// `sequence_parallel`: as stated; when null, on with tp > 1 under Megatron-Core and NeMo (their
/// recipes enable it with TP, and `--tp-comm-overlap` requires it), off under
/// [`Framework::Classic`] (sequence parallelism appeared in 2022, Korthikanti et al.).
pub fn sequence_parallel(
    e: &Entry<'_>,
    fw: Framework,
    tp: u64,
    a: &mut Assumptions,
) -> Result<bool, Skip> {
    match e.raw("sequence_parallel")? {
        Raw::Flag(sp) => Ok(sp),
        Raw::Null => {
            let sp = fw != Framework::Classic && tp > 1;
            a.note("plan.sequence_parallel", sp, "null; framework default (on with TP since 2023)");
            Ok(sp)
        }
        _ => Err(e.error("sequence_parallel", "true, false or null").into()),
    }
}

/// `zero_stage`: a number, a text starting with one, or "distributed optimizer" (1). Null means
/// 1 under NeMo (its recipes use the distributed optimizer) and under Megatron-Core when the
/// entry names `--overlap-param-gather` (which requires it); 0 otherwise; 3 with `fsdp = true`.
pub fn zero_stage(e: &Entry<'_>, fw: Framework, a: &mut Assumptions) -> Result<u64, Skip> {
    let stage = match e.raw("zero_stage")? {
        Raw::Null if fsdp(e)? => {
            a.note("plan.zero_stage", 3, "null with fsdp = true");
            3
        }
        Raw::Count(z) => z,
        Raw::Text(t) => zero_from_text(t)
            .ok_or_else(|| e.error("zero_stage", format!("0–3 or a text naming it, got {t:?}")))?,
        Raw::Flag(_) => return Err(e.error("zero_stage", "a number, a text or null").into()),
        Raw::Null => {
            let named = flags_text(e)?.contains("overlap-param-gather");
            let z = u64::from(fw == Framework::NeMo || (fw == Framework::MegatronCore && named));
            a.note("plan.zero_stage", z, "null; 1 with NeMo or --overlap-param-gather, else 0");
            z
        }
    };
    if stage > 3 {
        return Err(e.error("zero_stage", format!("0 to 3, got {stage}")).into());
    }
    Ok(stage)
}

fn zero_from_text(text: &str) -> Option<u64> {
    let t = text.to_ascii_lowercase();
    leading_count(&t).or_else(|| {
        if t.contains("zero-3") || t.contains("fsdp") {
            Some(3)
        } else if t.contains("zero-2") {
            Some(2)
        } else if t.contains("distributed optimizer") || t.contains("zero-1") {
            Some(1)
        } else {
            None
        }
    })
}

/// `precision`: a text naming fp8 → fp8; bf16, fp16 or "mixed precision" → bf16 (fp16 and
/// bf16 have the same dense peak on A100 and H100); null → bf16.
pub fn precision(e: &Entry<'_>, a: &mut Assumptions) -> Result<&'static str, Skip> {
    let Some(text) = e.text("precision")? else {
        a.note("plan.precision", "bf16", "null; bf16");
        return Ok("bf16");
    };
    let t = text.to_ascii_lowercase();
    if t.contains("fp8") {
        Ok("fp8")
    } else if t.contains("bf16") && !t.contains("fp16") && !t.contains("mixed") {
        Ok("bf16")
    } else if t.contains("16") || t.contains("mixed") {
        a.note("plan.precision", "bf16", &format!("{text:?}: same dense peak as bf16"));
        Ok("bf16")
    } else {
        Err(e.error("precision", format!("a text naming fp8, bf16, fp16 or mixed, got {text:?}")))?
    }
}

/// Communication overlap `(grad reduce, param gather, tp comm)`: on where `framework` or `notes`
/// name the flag (`overlap-grad-reduce`, `overlap-param-gather`, `tp-comm-overlap` or "TP comm
/// overlap"); all three are also on under NeMo, whose recipes enable them (the TP overlap through
/// Transformer Engine's userbuffers: the launcher's and NeMo 2's performance recipes ship a
/// `tp_overlap` configuration per model shape, e.g. hidden 12,288 at TP 4 for GPT-3 175B and
/// hidden 8,192 at TP 4 for Llama 70B); everything else is off (the Megatron-LM defaults).
pub fn overlaps(e: &Entry<'_>, fw: Framework, a: &mut Assumptions) -> Result<[bool; 3], Skip> {
    let text = flags_text(e)?;
    let nemo = fw == Framework::NeMo;
    let grad = nemo || text.contains("overlap-grad-reduce");
    let param = nemo || text.contains("overlap-param-gather");
    let tp = nemo || text.contains("tp-comm-overlap") || text.contains("tp comm overlap");
    let rule = "named in framework/notes, or a NeMo recipe default; else off";
    a.note("plan.overlap_grad_reduce", grad, rule);
    a.note("plan.overlap_param_gather", param, rule);
    a.note("plan.overlap_tp_comm", tp, rule);
    Ok([grad, param, tp])
}

/// Fused (flash) attention: on under Megatron-Core and NeMo (Transformer Engine's fused
/// attention), off under [`Framework::Classic`] (FlashAttention, 2022, postdates it).
pub fn flash_attention(fw: Framework, a: &mut Assumptions) -> bool {
    let on = fw != Framework::Classic;
    a.note("plan.flash_attention", on, "on with Megatron-Core / NeMo, off before");
    on
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
