//! The probe instance: what a model's instances look like without data, for choosing the plan.

use crate::data::{Dataset, Domains, FieldValue, Instance};
use crate::model::*;

/// A stand-in data set for analysing a model without data: every sequence has `PROBE_LENGTH` and
/// every vocabulary two placeholder words.
pub fn probe_dataset(model: &Model) -> Dataset {
    let symbols: Vec<Vec<String>> = (0..model.domains.len())
        .map(|d| probe_symbols(model, d))
        .collect();
    let values = model
        .fields
        .iter()
        .map(|f| match f.kind {
            FieldKind::Scalar if f.real.is_some() => {
                FieldValue::Real(vec![0.0; f.real.unwrap_or(1)])
            }
            FieldKind::Sequence if f.real.is_some() => {
                FieldValue::RealSequence(vec![vec![0.0; f.real.unwrap_or(1)]; PROBE_LENGTH])
            }
            FieldKind::Scalar => FieldValue::Scalar(Some(0)),
            FieldKind::Sequence => FieldValue::Sequence(vec![Some(0); PROBE_LENGTH].into()),
            FieldKind::Weight => FieldValue::Weight(1.0),
        })
        .collect();
    Dataset {
        instances: vec![Instance {
            line: 0,
            values,
            weight: 1.0,
        }],
        domains: Domains::new(symbols),
    }
}

/// Length of every sequence of the probe instance.
pub const PROBE_LENGTH: usize = 4;

/// A domain's symbols for the probe: vocabularies get two placeholder words (after their
/// unknown-word symbol), then the extra symbols of the domains built on them.
fn probe_symbols(model: &Model, d: DomainId) -> Vec<String> {
    if let Some(s) = model.closed_symbols(d) {
        return s;
    }
    let dom = &model.domains[d];
    let mut s = match &dom.base {
        DomainBase::Vocabulary(v) => {
            let mut s: Vec<String> = v.unknown.iter().cloned().collect();
            s.extend(["<word1>".to_string(), "<word2>".to_string()]);
            s
        }
        DomainBase::Extends(b) => probe_symbols(model, *b),
        // The probe's sequences repeat their domain's first symbol.
        DomainBase::Substrings { field, max_len } => {
            let elem = probe_symbols(model, model.fields[*field].domain);
            let first = elem.first().cloned().unwrap_or_default();
            (1..=(*max_len).min(PROBE_LENGTH))
                .map(|n| first.repeat(n))
                .collect()
        }
        DomainBase::Symbols(_) | DomainBase::Range(..) => Vec::new(),
    };
    for x in &dom.extra {
        if !s.contains(x) {
            s.push(x.clone());
        }
    }
    s
}
