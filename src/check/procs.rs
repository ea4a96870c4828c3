//! Structured stories: procedures, calls, `if`, `for some` and hidden scalar locals. A story
//! that uses any of them runs per data line as a memoised program whose calls become the
//! nodes of a hypergraph (`structured`), so what it may say is checked here: calls by name,
//! arity and argument types, conditions typed, hidden values scalar and local, and the
//! storage and families that the hypergraph path supports.

use std::collections::HashMap;

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, CmpOp, Span};

/// Whether the file's story is structured: it declares a procedure, or its model block
/// branches or calls.
pub(super) fn is_structured(file: &ast::File) -> bool {
    fn uses(stmts: &[ast::Stmt]) -> bool {
        stmts.iter().any(|s| match s {
            ast::Stmt::If { .. } | ast::Stmt::Some { .. } | ast::Stmt::Call(_) => true,
            ast::Stmt::For { body, .. } => uses(body),
            _ => false,
        })
    }
    !file.procs.is_empty() || file.models.iter().any(|b| uses(&b.stmts))
}

impl Checker {
    /// Declares every procedure (so that calls may come before the callee's text), then
    /// checks their bodies.
    pub(super) fn procs(&mut self, file: &ast::File) {
        let mut declared: Vec<Option<usize>> = Vec::new();
        for p in &file.procs {
            if self.model.procs.iter().any(|q| q.name == p.name.name) {
                error!(
                    self,
                    p.name.span,
                    Kind::duplicate("procedure", &p.name.name),
                    "a call names one procedure: rename one of them, or merge their bodies with `if`"
                );
                declared.push(None);
                continue;
            }
            if self.model.family_named(&p.name.name).is_some()
                || self.model.tables.iter().any(|t| t.name == p.name.name)
            {
                error!(
                    self,
                    p.name.span,
                    Kind::duplicate("name", &p.name.name),
                    "a procedure needs a name of its own, not a family's or a table's"
                );
                declared.push(None);
                continue;
            }
            let mut params = Vec::new();
            let mut names: Vec<&str> = Vec::new();
            for (name, dom) in &p.params {
                if names.contains(&name.name.as_str()) {
                    error!(self, name.span, Kind::duplicate("parameter", &name.name));
                }
                names.push(&name.name);
                let ty = match dom {
                    None => Ty::Int,
                    Some(d) => match self.domain_named(d) {
                        Some(id) => Ty::Sym(id),
                        None => Ty::Int,
                    },
                };
                let id = self.model.locals.len();
                self.model.locals.push(name.name.clone());
                self.local_types.insert(id, ty.clone());
                params.push((id, ty));
            }
            declared.push(Some(self.model.procs.len()));
            self.model.procs.push(Proc {
                name: p.name.name.clone(),
                params,
                body: Vec::new(),
                span: p.name.span,
            });
        }
        for (p, id) in file.procs.iter().zip(declared) {
            let Some(id) = id else { continue };
            let scope: HashMap<String, LocalId> = p
                .params
                .iter()
                .zip(&self.model.procs[id].params)
                .map(|((n, _), (l, _))| (n.name.clone(), *l))
                .collect();
            self.scopes.push(scope);
            let body = self.block(&p.body.stmts);
            self.scopes.pop();
            self.model.procs[id].body = body;
        }
    }

    /// A block in its own scope: hidden locals and `let`s end with it.
    pub(super) fn block(&mut self, stmts: &[ast::Stmt]) -> Vec<Stmt> {
        self.scopes.push(HashMap::new());
        let out = stmts.iter().filter_map(|s| self.stmt(s)).collect();
        self.scopes.pop();
        out
    }

    /// `hidden x : D` in a structured story: a scalar local, drawn later in its block.
    pub(super) fn hidden_local(
        &mut self,
        name: &ast::Ident,
        domain: &ast::DomainRef,
        length: Option<&ast::Expr>,
        span: Span,
    ) -> Option<Stmt> {
        if length.is_some() {
            bail!(
                self,
                span,
                Kind::unsupported(format!(
                    "a hidden array `{}` in a structured story",
                    name.name
                )),
                "a structured story draws hidden values one at a time: declare `hidden x : D` in the procedure that draws it, and pass it on as an argument"
            );
        }
        let domain = match domain {
            ast::DomainRef::Named(d) => self.domain_named(d)?,
            ast::DomainRef::Range(r) => bail!(
                self,
                r.span,
                Kind::unsupported("a hidden position in a structured story"),
                "choose a position with `for some j in lo..hi { ... }`, or declare a range domain and draw from a family over it"
            ),
        };
        let local = self.bind(name, Ty::Sym(domain));
        self.hidden_locals.insert(local);
        Some(Stmt::HiddenLocal {
            local,
            domain,
            span,
        })
    }

    pub(super) fn if_stmt(
        &mut self,
        cond: &ast::Cond,
        then: &[ast::Stmt],
        otherwise: &[ast::Stmt],
        span: Span,
    ) -> Option<Stmt> {
        let cond = self.cond(cond);
        let then = self.block(then);
        let otherwise = self.block(otherwise);
        Some(Stmt::If {
            cond: cond?,
            then,
            otherwise,
            span,
        })
    }

    pub(super) fn some_stmt(
        &mut self,
        var: &ast::Ident,
        lo: &ast::Expr,
        hi: &ast::Expr,
        body: &[ast::Stmt],
        span: Span,
    ) -> Option<Stmt> {
        let lo = self.expr(lo, Some(&Ty::Int));
        let hi = self.expr(hi, Some(&Ty::Int));
        self.scopes.push(HashMap::new());
        let local = self.bind(var, Ty::Int);
        let body = self.block(body);
        self.scopes.pop();
        Some(Stmt::Some {
            local,
            lo: lo?,
            hi: hi?,
            body,
            span,
        })
    }

    pub(super) fn call_stmt(&mut self, call: &ast::Call) -> Option<Stmt> {
        let name = call.name.name.as_str();
        let Some(proc) = self.model.procs.iter().position(|p| p.name == name) else {
            let hint = if self.model.family_named(name).is_some() {
                Some(format!(
                    "`{name}` is a family: draw from it with `x ~ {name}(...)`"
                ))
            } else {
                did_you_mean(name, self.model.procs.iter().map(|p| p.name.as_str()))
                    .or_else(|| Some("declare it with `proc NAME(i, x : Domain) { ... }`".into()))
            };
            bail!(self, call.name.span, Kind::unknown("procedure", name), hint);
        };
        let params: Vec<Ty> = self.model.procs[proc]
            .params
            .iter()
            .map(|(_, t)| t.clone())
            .collect();
        let given = call.args.as_deref().unwrap_or(&[]);
        if given.len() != params.len() {
            let names: Vec<String> = params.iter().map(|t| self.ty_name(t)).collect();
            bail!(
                self,
                call.span,
                Kind::Arity {
                    family: name.into(),
                    expected: params.len(),
                    found: given.len(),
                },
                if names.is_empty() {
                    format!("`{name}` takes no arguments: write `{name}()`")
                } else {
                    format!("`{name}` takes {}", names.join(", "))
                }
            );
        }
        let mut args = Vec::new();
        for (a, t) in given.iter().zip(&params) {
            args.push(self.expr(a, Some(t)));
        }
        Some(Stmt::Call {
            proc,
            args: args.into_iter().collect::<Option<_>>()?,
            span: call.span,
        })
    }

    fn cond(&mut self, c: &ast::Cond) -> Option<Cond> {
        match c {
            ast::Cond::And(a, b) => {
                let (a, b) = (self.cond(a), self.cond(b));
                Some(Cond::And(Box::new(a?), Box::new(b?)))
            }
            ast::Cond::Or(a, b) => {
                let (a, b) = (self.cond(a), self.cond(b));
                Some(Cond::Or(Box::new(a?), Box::new(b?)))
            }
            ast::Cond::Not(a) => Some(Cond::Not(Box::new(self.cond(a)?))),
            ast::Cond::Compare(op, a, b, span) => self.compare(*op, a, b, *span),
        }
    }

    /// A comparison of two integers, or (for `==` and `!=`) of two symbols of one domain
    /// (or a domain and one that extends it).
    fn compare(&mut self, op: CmpOp, a: &ast::Expr, b: &ast::Expr, span: Span) -> Option<Cond> {
        // A bare symbol finds its domain from the other side: type the side that is not one
        // first.
        let bare = |e: &ast::Expr| matches!(&e.kind, ast::ExprKind::Name(_));
        let (a, b) = if bare(a) && !bare(b) {
            let b = self.expr(b, None)?;
            let a = self.expr(a, Some(&b.ty))?;
            (a, b)
        } else {
            let a = self.expr(a, None)?;
            let b = self.infer(b, Some(&a.ty))?;
            (a, b)
        };
        let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        let ok = match (&a.ty, &b.ty) {
            (Ty::Int, Ty::Int) => true,
            (Ty::Int, Ty::Sym(d)) | (Ty::Sym(d), Ty::Int) => self.is_range(*d),
            (Ty::Sym(x), Ty::Sym(y)) => {
                (self.fits(&a.ty, &b.ty) || self.fits(&b.ty, &a.ty))
                    && (!ordered || (self.is_range(*x) && self.is_range(*y)))
            }
            _ => false,
        };
        if !ok {
            bail!(
                self,
                span,
                Kind::ty(
                    format!(
                        "two values of one type to compare, with {}",
                        self.ty_name(&a.ty)
                    ),
                    self.ty_name(&b.ty)
                ),
                if ordered {
                    "`<`, `<=`, `>` and `>=` compare integers; `==` and `!=` also compare symbols of one domain"
                } else {
                    "compare integers with integers, or symbols with symbols of the same domain"
                }
            );
        }
        Some(Cond::Compare(op, a, b))
    }
}
