//! The generative contract between the story and the data line: every field the data declares
//! is used by the story, and a field the story draws is drawn whole. A field that nothing
//! names would be read and ignored, so a model with a misspelt or forgotten field would train
//! on less than its file says; a field whose name starts with `_` opts out (read and skipped).
//!
//! Which fields the story draws is decided here (`Field::generated`); that each of their
//! values is drawn exactly once on a line depends on the line, so the unroller checks it (and
//! for a structured story, on every derivation, `structured::observed`).

use super::{CheckErrorKind as Kind, Checker};
use crate::model::*;

impl Checker {
    pub(super) fn contract(&mut self) {
        for f in 0..self.model.fields.len() {
            let field = &self.model.fields[f];
            if field.kind == FieldKind::Weight
                || field.name.starts_with('_')
                || self.used_fields.contains(&f)
            {
                continue;
            }
            let (name, span) = (field.name.clone(), field.span);
            let draw = match field.kind {
                FieldKind::Sequence => format!("`{name}[i] ~ ...` in a loop"),
                _ => format!("`{name} ~ ...`"),
            };
            error!(
                self,
                span,
                Kind::UnusedField(name.clone()),
                format!(
                    "draw it in the story (e.g. {draw}), or name it `_{name}` to read the field and skip it"
                )
            );
        }
        let mut drawn = Vec::new();
        drawn_fields(&self.model.story, &mut drawn);
        for p in &self.model.procs {
            drawn_fields(&p.body, &mut drawn);
        }
        for f in drawn {
            self.model.fields[f].generated = true;
        }
    }
}

/// The fields a statement list draws (`x ~ ...`, `w[i] ~ ...`, `y = table(...)`, and in a
/// structured story a span `w[i:j] ~ ...`), in any branch. Blocks nest at most
/// `syntax::MAX_DEPTH` deep, which bounds the recursion.
fn drawn_fields(stmts: &[Stmt], out: &mut Vec<FieldId>) {
    for s in stmts {
        match s {
            Stmt::For { body, .. } | Stmt::Some { body, .. } => drawn_fields(body, out),
            Stmt::If {
                then, otherwise, ..
            } => {
                drawn_fields(then, out);
                drawn_fields(otherwise, out);
            }
            Stmt::Draw { target, .. } => {
                let spanned = match &target.kind {
                    ExprKind::Slice(seq, ..) => seq.drawn_field(),
                    _ => None,
                };
                if let Some(f) = target.drawn_field().or(spanned) {
                    out.push(f);
                }
            }
            _ => {}
        }
    }
}
