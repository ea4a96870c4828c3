//! The statements of a structured story that draw nothing: `output` (what `emc decode` prints
//! of the best derivation: dependency heads as an array, constituents as a bracketed tree)
//! and `weight` (a fixed factor on a derivation, such as a word-length penalty). Checking
//! them is typing their expressions, naming the sequence a constituent spans and reading a
//! weight's numbers.

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

impl Checker {
    /// `weight exp(c * x ^ p + ...)`. Only a structured story has derivations to weigh; in a
    /// flat story every line has one and a constant factor would change nothing learned.
    pub(super) fn weight_stmt(&mut self, terms: &[ast::WeightTerm], span: Span) -> Option<Stmt> {
        if !self.model.structured {
            bail!(
                self,
                span,
                Kind::unsupported("`weight` outside a structured story"),
                "`weight` multiplies the derivations that run it (a segmentation's words, say); a story without procedures has one derivation per line"
            );
        }
        let mut out = Vec::with_capacity(terms.len());
        let mut ok = true;
        for t in terms {
            let base = self.expr(&t.base, Some(&Ty::Int));
            let coef = self.weight_number(t.coef.as_ref(), 1.0);
            let power = self.weight_number(t.power.as_ref(), 1.0);
            match (base, coef, power) {
                (Some(base), Some(c), Some(power)) => out.push(WeightTerm {
                    coef: if t.negative { -c } else { c },
                    base,
                    power,
                }),
                _ => ok = false,
            }
        }
        ok.then_some(Stmt::Weight { terms: out, span })
    }

    fn weight_number(&mut self, n: Option<&ast::Number>, default: f64) -> Option<f64> {
        let Some(n) = n else {
            return Some(default);
        };
        match n.text.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                error!(
                    self,
                    n.span,
                    Kind::number(&n.text),
                    "a weight's coefficients and powers are finite numbers, e.g. `exp(-(j - i) ^ 1.6)`"
                );
                None
            }
        }
    }
}
