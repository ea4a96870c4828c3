//! `output` statements: what `emc decode` prints of a structured story's best derivation
//! (dependency heads as an array, constituents as a bracketed tree). They draw nothing, so
//! checking them is typing their expressions and naming the sequence a constituent spans.

use super::{CheckErrorKind as Kind, Checker};
use crate::model::*;
use crate::syntax::ast::{self, Span};

impl Checker {
    pub(super) fn output_stmt(&mut self, what: &ast::Output, span: Span) -> Option<Stmt> {
        if !self.model.structured {
            bail!(
                self,
                span,
                Kind::unsupported("`output` outside a structured story"),
                "`output` says what `emc decode` prints of a derivation; a story without procedures prints its hidden values"
            );
        }
        let what = match what {
            ast::Output::At { name, index, value } => {
                let index = self.expr(index, Some(&Ty::Int));
                let value = self.infer(value, None)?;
                if !matches!(value.ty, Ty::Int | Ty::Sym(_)) {
                    bail!(
                        self,
                        value.span,
                        Kind::ty("an integer or a symbol", self.ty_name(&value.ty)),
                        "an array element is printed as one value, e.g. `output head[m] = h + 1` or `output state[t] = s`"
                    );
                }
                Output::At {
                    name: name.name.clone(),
                    index: index?,
                    value,
                }
            }
            ast::Output::Bracket { label, span: s } => {
                let label = self.infer(label, None)?;
                if !matches!(label.ty, Ty::Sym(_)) {
                    bail!(
                        self,
                        label.span,
                        Kind::ty("a symbol to label the constituent", self.ty_name(&label.ty)),
                        "a constituent's label is a symbol, e.g. the nonterminal `x` in `output (x words[i..k])`"
                    );
                }
                let ast::ExprKind::Slice(seq, lo, hi) = &s.kind else {
                    bail!(
                        self,
                        s.span,
                        Kind::ty("a span of a sequence field", "another expression"),
                        "a constituent covers a slice of an observed sequence, e.g. `words[i..k]`"
                    );
                };
                let seq = self.infer(seq, None)?;
                let lo = self.expr(lo, Some(&Ty::Int));
                let hi = self.expr(hi, Some(&Ty::Int));
                let (ExprKind::Field(field), Ty::Seq(_)) = (&seq.kind, &seq.ty) else {
                    bail!(
                        self,
                        seq.span,
                        Kind::ty("a sequence field of the data", self.ty_name(&seq.ty)),
                        "a constituent covers a slice of an observed sequence, e.g. `words[i..k]`"
                    );
                };
                Output::Bracket {
                    label,
                    field: *field,
                    lo: lo?,
                    hi: hi?,
                }
            }
        };
        Some(Stmt::Output { what, span })
    }
}
