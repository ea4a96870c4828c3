//! `substrings(field, max_len = N)` domains: the spans of a sequence field, as symbols.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, Span};

/// Longest span a `substrings` domain may have: a line of n elements has up to n * N spans.
const MAX_SPAN: i64 = 64;

impl Checker {
    /// `s[lo..hi]`: a span of sequence field `s`, typed as a symbol of the `substrings`
    /// domain of `s` that the draw expects. Anywhere else a slice has no meaning.
    pub(super) fn slice(
        &mut self,
        a: &ast::Expr,
        lo: &ast::Expr,
        hi: &ast::Expr,
        span: Span,
        expected: Option<&Ty>,
    ) -> Option<Expr> {
        let seq = self.infer(a, None)?;
        let lo = self.expr(lo, Some(&Ty::Int));
        let hi = self.expr(hi, Some(&Ty::Int));
        let ExprKind::Field(f) = seq.kind else {
            bail!(
                self,
                seq.span,
                Kind::ty("a sequence field of the data", self.ty_name(&seq.ty)),
                "a span is a slice of an observed sequence, e.g. `chars[i..j]`"
            );
        };
        if !matches!(seq.ty, Ty::Seq(_)) {
            bail!(
                self,
                seq.span,
                Kind::ty("a sequence to slice", self.ty_name(&seq.ty)),
                "only a sequence field has spans"
            );
        }
        let domain = match expected {
            Some(Ty::Sym(d)) => match self.model.domains[*d].base {
                DomainBase::Substrings { field, .. } if field == f => Some(*d),
                _ => None,
            },
            _ => None,
        };
        let Some(domain) = domain else {
            bail!(
                self,
                span,
                Kind::unsupported("a slice of a sequence used as a value"),
                format!(
                    "a slice stands only on the left of `~`, drawn from a family whose outcome is `substrings({}, max_len = N)`",
                    self.model.fields[f].name
                )
            );
        };
        if !self.model.structured {
            bail!(
                self,
                span,
                Kind::unsupported("a span draw outside a structured story"),
                "spans are drawn where their bounds are chosen: inside a `proc`, under `for some j in ...`"
            );
        }
        Some(Expr {
            kind: ExprKind::Slice(Box::new(seq), Box::new(lo?), Box::new(hi?)),
            ty: Ty::Sym(domain),
            span,
        })
    }

    pub(super) fn substrings(
        &mut self,
        d: &ast::DomainDecl,
        field: &ast::Ident,
        options: &[ast::OptionItem],
        span: Span,
    ) {
        let Some(id) = self
            .model
            .domains
            .iter()
            .position(|x| x.span == d.name.span)
        else {
            return;
        };
        let fid = match self.field_named(&field.name) {
            Some(f)
                if self.model.fields[f].kind == FieldKind::Sequence
                    && self.model.fields[f].real.is_none() =>
            {
                f
            }
            Some(_) => {
                error!(
                    self,
                    field.span,
                    Kind::ty(
                        "a sequence field of symbols",
                        format!("field `{}`", field.name)
                    ),
                    format!(
                        "substrings are spans of a sequence: declare `{} : [Char]`",
                        field.name
                    )
                );
                return;
            }
            None => {
                let names: Vec<String> = self.model.fields.iter().map(|x| x.name.clone()).collect();
                let hint = did_you_mean(&field.name, names.iter().map(String::as_str));
                error!(
                    self,
                    field.span,
                    Kind::unknown("data field", &field.name),
                    hint
                );
                return;
            }
        };
        // A domain of spans of a field whose elements are those spans (directly, through
        // extensions, or through another substrings domain) has no symbols to start from.
        let mut dom = self.model.fields[fid].domain;
        for _ in 0..=self.model.domains.len() {
            if dom == id {
                error!(
                    self,
                    field.span,
                    Kind::CyclicDomain(d.name.name.clone()),
                    format!(
                        "its spans are spans of `{}`, whose elements are `{}` again: give `{}` a domain of single symbols, e.g. `vocabulary({})`",
                        field.name, d.name.name, field.name, field.name
                    )
                );
                return;
            }
            // A field of reals has no domain (NO_DOMAIN), and an erroneous substrings domain
            // may still name one: the chain ends there.
            let Some(d) = self.model.domains.get(dom) else {
                break;
            };
            dom = match &d.base {
                DomainBase::Extends(b) => *b,
                DomainBase::Substrings { field, .. } => self.model.fields[*field].domain,
                _ => break,
            };
        }
        let mut max_len = None;
        self.repeated_keys(options);
        for o in options {
            match (o.key.name.as_str(), &o.value) {
                ("max_len", Some(v)) => {
                    let n = match v {
                        ast::Value::Number(n) => n.text.parse::<i64>().ok(),
                        ast::Value::Word(w) => self.const_value(&w.name),
                        _ => None,
                    };
                    match n {
                        Some(n) if (1..=MAX_SPAN).contains(&n) => max_len = Some(n as usize),
                        _ => error!(
                            self,
                            v.span(),
                            Kind::option("max_len", format!("a whole number from 1 to {MAX_SPAN}")),
                            "e.g. `max_len = 10`"
                        ),
                    }
                }
                (key, _) => error!(
                    self,
                    o.span,
                    Kind::option(key, "substrings take `max_len = N`"),
                    did_you_mean(key, ["max_len"])
                ),
            }
        }
        let Some(max_len) = max_len else {
            if !options.iter().any(|o| o.key.name == "max_len") {
                error!(
                    self,
                    span,
                    Kind::option("max_len", "a substrings domain needs a longest span"),
                    format!(
                        "a line of n elements has n * (n + 1) / 2 spans: bound them, e.g. `substrings({}, max_len = 10)`",
                        field.name
                    )
                );
            }
            return;
        };
        self.model.domains[id].base = DomainBase::Substrings {
            field: fid,
            max_len,
        };
    }
}
