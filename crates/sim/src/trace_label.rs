//! Task labels of the step graph (`s2 F mb3 L17 tp`) read back into their parts, and the
//! event names the trace shows for them (`TP forward L17 mb3`).

/// What a task label says, where it says it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelParts {
    /// Pipeline stage (`s2`).
    pub stage: Option<u64>,
    /// Pass: `F`, `B` or `W` (weight gradients of the zero-bubble schedule).
    pub pass: Option<char>,
    /// Micro-batch (`mb3`).
    pub micro_batch: Option<u64>,
    /// Transformer layer (`L17`).
    pub layer: Option<u64>,
    /// The remaining words, in order (`tp beside`, `grad reduce`, `store activations`).
    pub what: String,
}

impl LabelParts {
    /// Reads `label`: a leading `s<N>`, then `F`/`B`/`W`, `mb<N>` and `L<N>` wherever they
    /// stand; every other word is kept in `what`.
    pub fn parse(label: &str) -> Self {
        let mut parts = LabelParts::default();
        let mut what: Vec<&str> = Vec::new();
        for (i, word) in label.split_whitespace().enumerate() {
            let number = |prefix: &str| word.strip_prefix(prefix).and_then(|n| n.parse().ok());
            match word {
                "F" | "B" | "W" if parts.pass.is_none() => parts.pass = word.chars().next(),
                _ if i == 0 && number("s").is_some() => parts.stage = number("s"),
                _ if parts.micro_batch.is_none() && number("mb").is_some() => {
                    parts.micro_batch = number("mb")
                }
                _ if parts.layer.is_none() && number("L").is_some() => parts.layer = number("L"),
                _ => what.push(word),
            }
        }
        parts.what = what.join(" ");
        parts
    }
}

/// The event name for a task whose label `label` reads as `parts`: what it is, the pass, the
/// layer and the micro-batch (`TP forward L17 mb3`, `forward L17 mb3` for the computation).
/// The step graph's short words are spelled out (`tp` → `TP`, `send` → `PP send`); a label with
/// nothing recognisable is kept as it is.
pub fn readable_name(parts: &LabelParts, label: &str) -> String {
    let what = match parts.what.as_str() {
        "tp" => "TP",
        "tp beside" => "TP overlapped",
        "cp" => "CP exchange",
        "ep" => "EP all-to-all",
        "send" => "PP send",
        "gather" => "DP gather",
        "grad reduce" => "DP grad reduce",
        other => other,
    };
    let pass = parts.pass.map(|p| match p {
        'F' => "forward",
        'B' => "backward",
        _ => "weight-grad",
    });
    let layer = parts.layer.map(|l| format!("L{l}"));
    let micro_batch = parts.micro_batch.map(|m| format!("mb{m}"));
    let words: Vec<&str> = [Some(what), pass, layer.as_deref(), micro_batch.as_deref()]
        .into_iter()
        .flatten()
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        label.to_string()
    } else {
        words.join(" ")
    }
}
