//! The `[model]` table of an entry's scenario: a preset where one matches, else the entry's own
//! shape in the layout of its family.
//!
//! Rules, in order:
//! 1. `layers`, `hidden` and `heads` stated: the presets of the entry's family (Llama when the
//!    model's name or arch says "llama", GPT otherwise) with the same three numbers are
//!    candidates; the one that needs the fewest overrides of the other stated fields
//!    (`kv_heads`, `ffn`, `vocab`, `seq_len`) wins (ties: preset order). Stated fields override
//!    it; unstated ones are the preset's.
//! 2. No preset matches: the family's layout (GPT: GeLU MLP, LayerNorm, biases, learned positions,
//!    tied embeddings, as `gpt3-175b`; Llama: SwiGLU, RMSNorm, no biases, rotary, untied, as
//!    `llama2-7b`) with every shape field from the entry; `kv_heads` null means `heads`
//!    (multi-head attention), a GPT `ffn` null means `4 × hidden`; a null `vocab` or `seq_len`, or a
//!    Llama `ffn` null, skips the entry.
//! 3. Shape not stated: a preset whose name equals the model's name up to case and punctuation
//!    (`LLAMA2-13B` → `llama2-13b`), with the stated fields overriding it; otherwise skipped.

use crate::entry::Entry;
use crate::rules::Assumptions;
use crate::Skip;
use astrolabe_model::{preset, preset_names, FfnKind, TransformerModel};
use toml::{Table, Value};

/// Shape fields an entry may state, as `(dataset key, scenario key)`.
const OPTIONAL: [(&str, &str); 4] =
    [("kv_heads", "kv_heads"), ("ffn", "ffn_hidden"), ("vocab", "vocab"), ("seq_len", "seq_len")];

/// What the plan needs to know of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Transformer layers.
    pub layers: u64,
    /// Sequence length, tokens.
    pub seq_len: u64,
}

/// The `[model]` table for entry `e`, and the shape it implies.
pub fn model_table(e: &Entry<'_>, a: &mut Assumptions) -> Result<(Table, Shape), Skip> {
    let name = e.model_text("name")?.unwrap_or_default();
    let llama = format!("{name} {}", e.model_text("arch")?.unwrap_or_default())
        .to_ascii_lowercase()
        .contains("llama");
    let shape = [e.model_count("layers")?, e.model_count("hidden")?, e.model_count("heads")?];
    let stated = stated_optional(e)?;
    let base = match shape {
        [Some(l), Some(h), Some(n)] => match best_preset(llama, [l, h, n], &stated) {
            Some(p) => {
                a.note(
                    "model.preset",
                    &p.name,
                    "layers, hidden, heads match; unstated fields from it",
                );
                p
            }
            None => return explicit(name, llama, [l, h, n], &stated, a),
        },
        _ => by_name(name).ok_or_else(|| {
            Skip(format!(
                "model shape not stated (layers, hidden, heads) and `{name}` names no preset"
            ))
        })?,
    };
    if shape.iter().any(Option::is_none) {
        a.note("model.preset", &base.name, "shape not stated; preset of the same name");
    }
    let mut table = Table::new();
    table.insert("preset".into(), Value::String(base.name.clone()));
    let mut seq_len = base.seq_len;
    for (key, value) in &stated {
        if preset_value(&base, key) != *value {
            table.insert((*key).into(), Value::Integer(*value as i64));
        }
        if *key == "seq_len" {
            seq_len = *value;
        }
    }
    Ok((table, Shape { layers: base.layers, seq_len }))
}

fn stated_optional(e: &Entry<'_>) -> Result<Vec<(&'static str, u64)>, Skip> {
    let mut out = Vec::new();
    for (field, key) in OPTIONAL {
        if let Some(v) = e.model_count(field)? {
            out.push((key, v));
        }
    }
    Ok(out)
}

fn preset_value(m: &TransformerModel, key: &str) -> u64 {
    match key {
        "kv_heads" => m.kv_heads,
        "ffn_hidden" => m.ffn_hidden,
        "vocab" => m.vocab,
        "seq_len" => m.seq_len,
        _ => unreachable!("not an optional shape field: {key}"),
    }
}

fn is_llama(m: &TransformerModel) -> bool {
    m.ffn_kind == FfnKind::Swiglu
}

fn best_preset(
    llama: bool,
    [l, h, n]: [u64; 3],
    stated: &[(&str, u64)],
) -> Option<TransformerModel> {
    let overrides =
        |m: &TransformerModel| stated.iter().filter(|(key, v)| preset_value(m, key) != *v).count();
    preset_names()
        .into_iter()
        .filter_map(|name| preset(name).ok())
        .filter(|m| m.moe.is_none() && m.mla.is_none())
        .filter(|m| is_llama(m) == llama && (m.layers, m.hidden, m.heads) == (l, h, n))
        .min_by_key(overrides)
}

fn by_name(name: &str) -> Option<TransformerModel> {
    let key = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>();
    let wanted = key(&name.to_ascii_lowercase());
    if wanted.is_empty() {
        return None;
    }
    preset_names().into_iter().find(|p| key(p) == wanted).and_then(|p| preset(p).ok())
}

fn explicit(
    name: &str,
    llama: bool,
    [l, h, n]: [u64; 3],
    stated: &[(&str, u64)],
    a: &mut Assumptions,
) -> Result<(Table, Shape), Skip> {
    let get = |key: &str| stated.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let template = if llama { "llama2-7b" } else { "gpt3-175b" };
    let family = if llama { "Llama" } else { "GPT" };
    a.note("model.preset", template, &format!("no preset of this shape; {family} layout"));
    let kv = get("kv_heads").unwrap_or_else(|| {
        a.note("model.kv_heads", n, "null; multi-head attention (kv_heads = heads)");
        n
    });
    let ffn = match (get("ffn_hidden"), llama) {
        (Some(f), _) => f,
        (None, false) => {
            a.note("model.ffn_hidden", 4 * h, "null; GPT MLP of 4 × hidden");
            4 * h
        }
        (None, true) => {
            return Err(Skip("`model.ffn` not stated for a SwiGLU (Llama) model".into()))
        }
    };
    let vocab = get("vocab").ok_or_else(|| Skip("`model.vocab` not stated".into()))?;
    let seq_len = get("seq_len").ok_or_else(|| Skip("`model.seq_len` not stated".into()))?;
    let mut table = Table::new();
    table.insert("preset".into(), Value::String(template.into()));
    let label = if name.is_empty() { "custom" } else { name };
    table.insert("name".into(), Value::String(label.into()));
    for (key, v) in [
        ("layers", l),
        ("hidden", h),
        ("heads", n),
        ("kv_heads", kv),
        ("ffn_hidden", ffn),
        ("vocab", vocab),
        ("seq_len", seq_len),
    ] {
        table.insert(key.into(), Value::Integer(v as i64));
    }
    Ok((table, Shape { layers: l, seq_len }))
}
