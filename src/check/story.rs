//! The story: hidden declarations, `let`, loops and draws, in the order they are written.

use std::collections::HashMap;

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, Span};

impl Checker {
    pub(super) fn story(&mut self, file: &ast::File) {
        let block = match file.models.as_slice() {
            [] => {
                error!(
                    self,
                    Span::default(),
                    Kind::Missing("`model` block"),
                    "write the generative story in `model { ... }`"
                );
                return;
            }
            [b, rest @ ..] => {
                if let Some(second) = rest.first() {
                    error!(self, second.span, Kind::duplicate("block", "model"));
                }
                b
            }
        };
        if self.model.structured {
            // The model block is the body of the story's top call.
            self.model.story = self.block(&block.stmts);
            return;
        }
        self.scopes.push(HashMap::new());
        let mut story = Vec::new();
        for s in &block.stmts {
            if let ast::Stmt::Hidden {
                name,
                domain,
                length,
                span,
            } = s
            {
                let before = self.model.hiddens.len();
                self.hidden(name, domain, length.as_ref(), *span);
                // Declared where written: its domain and length may use earlier `let`s.
                if self.model.hiddens.len() > before {
                    story.push(Stmt::Hidden(before));
                }
            } else if let Some(s) = self.stmt(s) {
                story.push(s);
            }
        }
        self.scopes.pop();
        self.model.story = story;
    }

    pub(super) fn hidden(
        &mut self,
        name: &ast::Ident,
        domain: &ast::DomainRef,
        length: Option<&ast::Expr>,
        span: Span,
    ) {
        if self.lookup_name(&name.name).is_some() {
            error!(self, name.span, Kind::duplicate("name", &name.name));
            return;
        }
        let domain = match domain {
            ast::DomainRef::Named(d) => match self.domain_named(d) {
                Some(id) => HiddenDomain::Domain(id),
                None => return,
            },
            ast::DomainRef::Range(r) => {
                let lo = self.expr(&r.lo, Some(&Ty::Int));
                let hi = self.expr(&r.hi, Some(&Ty::Int));
                match (lo, hi) {
                    (Some(lo), Some(hi)) => HiddenDomain::Range(lo, hi),
                    _ => return,
                }
            }
        };
        let length = match length {
            Some(l) => match self.expr(l, Some(&Ty::Int)) {
                Some(e) => Some(e),
                None => return,
            },
            None => None,
        };
        self.model.hiddens.push(HiddenDecl {
            name: name.name.clone(),
            domain,
            length,
            span,
        });
    }

    pub(super) fn stmt(&mut self, s: &ast::Stmt) -> Option<Stmt> {
        match s {
            ast::Stmt::Hidden {
                name,
                domain,
                length,
                span,
            } if self.model.structured => self.hidden_local(name, domain, length.as_ref(), *span),
            ast::Stmt::Hidden { name, .. } => {
                error!(self, name.span, Kind::NestedHidden(name.name.clone()));
                None
            }
            ast::Stmt::If {
                cond,
                then,
                otherwise,
                span,
            } => self.if_stmt(cond, then, otherwise, *span),
            ast::Stmt::Some {
                var,
                lo,
                hi,
                body,
                span,
            } => self.some_stmt(var, lo, hi, body, *span),
            ast::Stmt::Call(call) => self.call_stmt(call),
            ast::Stmt::Output { what, span } => self.output_stmt(what, *span),
            ast::Stmt::Weight { terms, span } => self.weight_stmt(terms, *span),
            ast::Stmt::Let { name, value, span } => {
                let value = self.expr(value, None)?;
                let local = self.bind(name, value.ty.clone());
                Some(Stmt::Let {
                    local,
                    value,
                    span: *span,
                })
            }
            ast::Stmt::For {
                var,
                lo,
                hi,
                body,
                span,
            } => {
                let lo = self.expr(lo, Some(&Ty::Int));
                let hi = self.expr(hi, Some(&Ty::Int));
                self.scopes.push(HashMap::new());
                let local = self.bind(var, Ty::Int);
                let body: Vec<Stmt> = body.iter().filter_map(|s| self.stmt(s)).collect();
                self.scopes.pop();
                Some(Stmt::For {
                    local,
                    lo: lo?,
                    hi: hi?,
                    body,
                    span: *span,
                })
            }
            ast::Stmt::Draw {
                target,
                call,
                restrict: Some(r),
                span,
            } => self.restricted_draw(target, call, r, *span),
            ast::Stmt::Draw {
                target, call, span, ..
            } => self.draw(target, call, *span, false),
            ast::Stmt::Assign { target, call, span } => self.draw(target, call, *span, true),
        }
    }

    pub(super) fn bind(&mut self, name: &ast::Ident, ty: Ty) -> LocalId {
        let id = self.model.locals.len();
        self.local_types.insert(id, ty);
        self.model.locals.push(name.name.clone());
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.name.clone(), id);
        }
        id
    }

    pub(super) fn draw(
        &mut self,
        target: &ast::Expr,
        call: &ast::Call,
        span: Span,
        assign: bool,
    ) -> Option<Stmt> {
        let name = call.name.name.as_str();
        if let Some(fid) = self.model.family_named(name) {
            if assign {
                bail!(
                    self,
                    call.name.span,
                    Kind::ty("a table after `=`", format!("family `{name}`")),
                    format!("a family is drawn from: write `~ {name}(...)`")
                );
            }
            let family = self.model.families[fid].clone();
            let args = self.args(call, &family.conditions, &family.name)?;
            let target = match &family.kind {
                FamilyKind::Gaussian(g) => self.real_target(target, g.dim)?,
                _ => self.target(target, family.outcome)?,
            };
            return Some(Stmt::Draw {
                target,
                dist: Dist::Family(fid, args),
                restrict: None,
                span,
            });
        }
        if let Some(tid) = self.model.tables.iter().position(|t| t.name == name) {
            if !assign {
                bail!(
                    self,
                    call.name.span,
                    Kind::ty("a family after `~`", format!("table `{name}`")),
                    format!("a table is deterministic: write `= {name}(...)`")
                );
            }
            let table = self.model.tables[tid].clone();
            let args = self.args(call, &table.args, &table.name)?;
            let target = self.target(target, table.result)?;
            return Some(Stmt::Draw {
                target,
                dist: Dist::Table(tid, args),
                restrict: None,
                span,
            });
        }
        if name == "uniform" && !assign {
            if call.args.as_ref().is_some_and(|a| !a.is_empty()) {
                bail!(
                    self,
                    call.span,
                    Kind::Arity {
                        family: "uniform".into(),
                        expected: 0,
                        found: call.args.as_ref().map_or(0, Vec::len),
                    },
                    "`x ~ uniform` draws x uniformly from its own domain"
                );
            }
            let target = self.expr(target, None)?;
            if !is_drawable(&target) {
                bail!(self, target.span, Kind::InvalidTarget);
            }
            return Some(Stmt::Draw {
                target,
                dist: Dist::Uniform,
                restrict: None,
                span,
            });
        }
        let mut names: Vec<String> = self.model.families.iter().map(|f| f.name.clone()).collect();
        names.extend(self.model.tables.iter().map(|t| t.name.clone()));
        names.push("uniform".into());
        let hint = did_you_mean(name, names.iter().map(String::as_str));
        error!(
            self,
            call.name.span,
            Kind::unknown(if assign { "table" } else { "family" }, name),
            hint
        );
        None
    }

    pub(super) fn args(
        &mut self,
        call: &ast::Call,
        domains: &[DomainId],
        callee: &str,
    ) -> Option<Vec<Expr>> {
        let given = call.args.as_deref().unwrap_or(&[]);
        if given.len() != domains.len() {
            bail!(
                self,
                call.span,
                Kind::Arity {
                    family: callee.into(),
                    expected: domains.len(),
                    found: given.len(),
                },
                format!(
                    "`{callee}` is conditioned on {}",
                    if domains.is_empty() {
                        "nothing: write it without arguments".to_string()
                    } else {
                        domains
                            .iter()
                            .map(|d| format!("`{}`", self.model.domains[*d].name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                )
            );
        }
        let mut out = Vec::new();
        for (a, d) in given.iter().zip(domains) {
            out.push(self.expr(a, Some(&Ty::Sym(*d))));
        }
        out.into_iter().collect()
    }

    pub(super) fn target(&mut self, target: &ast::Expr, domain: DomainId) -> Option<Expr> {
        let e = self.expr(target, Some(&Ty::Sym(domain)))?;
        let hidden_local = matches!(e.kind, ExprKind::Local(l) if self.hidden_locals.contains(&l))
            || matches!(e.kind, ExprKind::Slice(..));
        // In a structured story a known integer (`j - i ~ dur(s)`: a segment's length from its
        // bounds) is an observed outcome of a range domain, as a data value is.
        let known_int = self.model.structured
            && e.ty == Ty::Int
            && !matches!(e.kind, ExprKind::Local(_) | ExprKind::Hidden(_));
        if !is_drawable(&e) && !hidden_local && !known_int {
            bail!(
                self,
                e.span,
                Kind::InvalidTarget,
                "the left of `~` names what is generated, e.g. `z[i]` or `w[i]`"
            );
        }
        Some(e)
    }

    /// A Gaussian draw generates an observed real value: a real field or one of its elements.
    pub(super) fn real_target(&mut self, target: &ast::Expr, dim: usize) -> Option<Expr> {
        let e = self.expr(target, Some(&Ty::Real(dim)))?;
        let observed = match &e.kind {
            ExprKind::Field(_) => true,
            ExprKind::Index(a, _) => matches!(a.kind, ExprKind::Field(_)),
            _ => false,
        };
        if !observed {
            bail!(
                self,
                e.span,
                Kind::InvalidTarget,
                "a Gaussian draws an observed real field, e.g. `x ~ g(c)` or `obs[i] ~ g(z[i])`"
            );
        }
        Some(e)
    }
}

/// Whether an expression names something a draw can generate.
fn is_drawable(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Hidden(_) | ExprKind::Field(_) | ExprKind::Symbol(_) => {
            !matches!(e.ty, Ty::Seq(_))
        }
        ExprKind::Index(a, _) => matches!(a.kind, ExprKind::Hidden(_) | ExprKind::Field(_)),
        _ => false,
    }
}
