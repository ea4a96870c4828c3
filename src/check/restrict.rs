//! Draws whose row is normalised over the outcomes a line allows: `from base` (the drawn value
//! is `base` plus the family's outcome, a width) and `within lo .. hi` (the values the draw
//! may take on this line). Both need integers, so the family's outcome and the drawn value are
//! ranges; and the normaliser is a hyperedge's, so the story must be structured.

use super::{CheckErrorKind as Kind, Checker};
use crate::model::*;
use crate::syntax::ast::{self, Span};

const STRUCTURED_HINT: &str = "a row normalised per line is built into the line's hypergraph: tell the story with a procedure (as `models/hmm_recursive.em` does)";

impl Checker {
    pub(super) fn restricted_draw(
        &mut self,
        target: &ast::Expr,
        call: &ast::Call,
        r: &ast::Restrict,
        span: Span,
    ) -> Option<Stmt> {
        let what = match (&r.from, &r.within) {
            (Some(_), Some(_)) => "`from` and `within`",
            (Some(_), None) => "`from`",
            _ => "`within`",
        };
        if !self.model.structured {
            bail!(
                self,
                r.span,
                Kind::unsupported(format!("{what} in a story without procedures")),
                STRUCTURED_HINT
            );
        }
        let name = call.name.name.as_str();
        if name == "uniform" && r.from.is_none() && self.model.family_named(name).is_none() {
            return self.uniform_within(target, call, r, span);
        }
        let Some(fid) = self.model.family_named(name) else {
            if name == "uniform" || self.model.tables.iter().any(|t| t.name == name) {
                bail!(
                    self,
                    r.span,
                    Kind::unsupported(format!("{what} after `{name}`")),
                    "only a draw from a Categorical or Logistic family has a row to normalise"
                );
            }
            // An unknown name: the plain draw reports it with its suggestions.
            return self.draw(target, call, span, false);
        };
        let family = self.model.families[fid].clone();
        if matches!(family.kind, FamilyKind::Gaussian(_)) {
            bail!(
                self,
                r.span,
                Kind::unsupported(format!("{what} after the Gaussian family `{name}`")),
                "only a draw from a Categorical or Logistic family has a row to normalise"
            );
        }
        if self.model.range_start(family.outcome).is_none() {
            let found = format!(
                "`{name}` over `{}`",
                self.model.domains[family.outcome].name
            );
            bail!(
                self,
                r.span,
                Kind::ty("a family over a range of integers", found),
                "the allowed outcomes are a range of integers: declare the outcome as `domain Jump = -20..21` or `domain Pos = 0..50`"
            );
        }
        let args = self.args(call, &family.conditions, &family.name)?;
        let (target, domain) = match &r.from {
            None => (self.target(target, family.outcome)?, family.outcome),
            Some(_) => {
                let t = self.expr(target, None)?;
                let Ty::Sym(d) = t.ty else {
                    bail!(
                        self,
                        t.span,
                        Kind::ty(
                            "a hidden position (a value of a range domain)",
                            self.ty_name(&t.ty)
                        ),
                        "declare it as `hidden a : Pos` with `domain Pos = 0..N`"
                    );
                };
                if self.model.range_start(d).is_none() {
                    let found = format!("a value of `{}`", self.model.domains[d].name);
                    bail!(
                        self,
                        t.span,
                        Kind::ty("a position (a value of a range domain)", found),
                        "`a ~ jump from prev` adds a width to a position: both are integers"
                    );
                }
                (self.target(target, d)?, d)
            }
        };
        let from = match &r.from {
            Some(e) => Some(self.position(e)?),
            None => None,
        };
        let within = match &r.within {
            Some((lo, hi)) => {
                let (lo, hi) = (self.position(lo), self.position(hi));
                Some((lo?, hi?))
            }
            None => None,
        };
        Some(Stmt::Draw {
            target,
            dist: Dist::Family(fid, args),
            restrict: Some(Box::new(Restriction {
                from,
                within,
                domain,
                span: r.span,
            })),
            span,
        })
    }

    /// `a ~ uniform within lo .. hi`: uniform over the values of `a`'s range this line allows.
    fn uniform_within(
        &mut self,
        target: &ast::Expr,
        call: &ast::Call,
        r: &ast::Restrict,
        span: Span,
    ) -> Option<Stmt> {
        if call.args.as_ref().is_some_and(|a| !a.is_empty()) {
            bail!(
                self,
                call.span,
                Kind::Arity {
                    family: "uniform".into(),
                    expected: 0,
                    found: call.args.as_ref().map_or(0, Vec::len),
                },
                "`x ~ uniform within lo .. hi` draws x uniformly from the values lo..hi allows"
            );
        }
        let t = self.expr(target, None)?;
        let d = match t.ty {
            Ty::Sym(d) if self.model.range_start(d).is_some() => d,
            _ => {
                let found = self.ty_name(&t.ty);
                bail!(
                    self,
                    t.span,
                    Kind::ty("a hidden position (a value of a range domain)", found),
                    "declare it as `hidden a : Pos` with `domain Pos = 0..N`"
                );
            }
        };
        let target = self.target(target, d)?;
        let (lo, hi) = r.within.as_ref()?;
        let (lo, hi) = (self.position(lo), self.position(hi));
        Some(Stmt::Draw {
            target,
            dist: Dist::Uniform,
            restrict: Some(Box::new(Restriction {
                from: None,
                within: Some((lo?, hi?)),
                domain: d,
                span: r.span,
            })),
            span,
        })
    }

    /// An integer, or a value of a range domain (which stands for its integer).
    pub(super) fn position(&mut self, e: &ast::Expr) -> Option<Expr> {
        let t = self.expr(e, None)?;
        match &t.ty {
            Ty::Int => Some(t),
            Ty::Sym(d) if self.model.range_start(*d).is_some() => Some(t),
            other => {
                let found = self.ty_name(other);
                bail!(
                    self,
                    t.span,
                    Kind::ty("an integer", found),
                    "positions and bounds are integers, e.g. `len(e) + 1`"
                );
            }
        }
    }
}
