//! Expressions and their types: names, symbols, indexing, lists and arithmetic.

use super::{CheckErrorKind as Kind, Checker, ERROR_DOMAIN};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, BinOp, Span};

impl Checker {
    pub(super) fn lookup_name(&self, name: &str) -> Option<ExprKind> {
        for scope in self.scopes.iter().rev() {
            if let Some(&l) = scope.get(name) {
                return Some(ExprKind::Local(l));
            }
        }
        if let Some(h) = self.model.hidden_named(name) {
            return Some(ExprKind::Hidden(h));
        }
        if let Some(f) = self.field_named(name) {
            return Some(ExprKind::Field(f));
        }
        None
    }

    pub(super) fn type_of_kind(&self, kind: &ExprKind) -> Ty {
        match kind {
            ExprKind::Hidden(h) => {
                let decl = &self.model.hiddens[*h];
                let elem = match decl.domain {
                    HiddenDomain::Domain(d) => Ty::Sym(d),
                    HiddenDomain::Range(..) => Ty::Int,
                };
                if decl.length.is_some() {
                    Ty::Seq(Box::new(elem))
                } else {
                    elem
                }
            }
            ExprKind::Field(f) => {
                let field = &self.model.fields[*f];
                let elem = match field.real {
                    Some(d) => Ty::Real(d),
                    None => Ty::Sym(field.domain),
                };
                match field.kind {
                    FieldKind::Sequence => Ty::Seq(Box::new(elem)),
                    _ => elem,
                }
            }
            _ => Ty::Int,
        }
    }

    /// Types `e`; `expected` lets bare symbols find their domain and is checked when given.
    pub(super) fn expr(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> Option<Expr> {
        let typed = self.infer(e, expected)?;
        if let Some(want) = expected {
            if !self.fits(&typed.ty, want) {
                bail!(
                    self,
                    e.span,
                    Kind::ty(self.ty_name(want), self.ty_name(&typed.ty)),
                    self.mismatch_hint(&typed.ty, want)
                );
            }
        }
        Some(typed)
    }

    pub(super) fn fits(&self, found: &Ty, want: &Ty) -> bool {
        // An unresolved domain was reported already: anything fits it, so no cascade.
        let unresolved = |d: &DomainId| self.model.domains[*d].name == ERROR_DOMAIN;
        match (found, want) {
            (Ty::Sym(a), _) if unresolved(a) => true,
            (_, Ty::Sym(b)) if unresolved(b) => true,
            (Ty::Int, Ty::Int) => true,
            (Ty::Sym(a), Ty::Sym(b)) => self.model.embeds(*a, *b),
            // Integers index range domains directly (`State = 0..K`).
            (Ty::Int, Ty::Sym(b)) => self.is_range(*b),
            (Ty::Seq(a), Ty::Seq(b)) => self.fits(a, b),
            (Ty::Real(a), Ty::Real(b)) => a == b,
            _ => false,
        }
    }

    pub(super) fn is_range(&self, d: DomainId) -> bool {
        match self.model.domains[d].base {
            DomainBase::Range(..) => self.model.domains[d].extra.is_empty(),
            DomainBase::Extends(b) => self.model.domains[d].extra.is_empty() && self.is_range(b),
            _ => false,
        }
    }

    pub(super) fn mismatch_hint(&self, found: &Ty, want: &Ty) -> Option<String> {
        match (found, want) {
            (Ty::Sym(a), Ty::Sym(b)) => Some(format!(
                "`{}` values can stand for `{}` only if `{}` is declared as `{} + {{...}}`",
                self.model.domains[*a].name,
                self.model.domains[*b].name,
                self.model.domains[*b].name,
                self.model.domains[*a].name
            )),
            (Ty::Seq(_), _) => Some("index the sequence, e.g. `w[i]`".into()),
            (Ty::Int, Ty::Sym(b)) => Some(format!(
                "an integer stands only for a value of a range domain; a procedure parameter without a domain is an integer: declare it `name : {}`",
                self.model.domains[*b].name
            )),
            (Ty::Sym(a), Ty::Int) => Some(format!(
                "a `{}` is a symbol, not a number: a parameter that takes it is declared `name : {}`",
                self.model.domains[*a].name, self.model.domains[*a].name
            )),
            _ => None,
        }
    }

    pub(super) fn ty_name(&self, t: &Ty) -> String {
        match t {
            Ty::Int => "an integer".into(),
            Ty::Sym(d) => format!("a `{}`", self.model.domains[*d].name),
            Ty::Seq(e) => match e.as_ref() {
                Ty::Int => "a sequence of integers".into(),
                Ty::Sym(d) => format!("a sequence of `{}`", self.model.domains[*d].name),
                Ty::Seq(_) => "a sequence of sequences".into(),
                Ty::Real(d) => format!("a sequence of `{}`", real_name(*d)),
            },
            Ty::Real(d) => format!("a `{}`", real_name(*d)),
        }
    }

    pub(super) fn infer(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> Option<Expr> {
        let span = e.span;
        let (kind, ty) = match &e.kind {
            ast::ExprKind::Int(v) => (ExprKind::Int(*v), Ty::Int),
            ast::ExprKind::BadNumber(text) => {
                self.bad_integer(text, span);
                return None;
            }
            ast::ExprKind::Name(n) => return self.name(n, span, expected),
            ast::ExprKind::Len(a) => {
                let a = self.infer(a, None)?;
                if !matches!(a.ty, Ty::Seq(_)) {
                    bail!(self, a.span, Kind::ty("a sequence", self.ty_name(&a.ty)));
                }
                (ExprKind::Len(Box::new(a)), Ty::Int)
            }
            ast::ExprKind::Index(a, i) => {
                let seq_expected = expected.map(|t| Ty::Seq(Box::new(t.clone())));
                let a = self.infer(a, seq_expected.as_ref())?;
                // A structured story indexes by a hidden position too (`src[a]`, a : Pos).
                let i = if self.model.structured {
                    self.position(i)?
                } else {
                    self.expr(i, Some(&Ty::Int))?
                };
                let Ty::Seq(elem) = a.ty.clone() else {
                    bail!(
                        self,
                        a.span,
                        Kind::ty("a sequence to index", self.ty_name(&a.ty))
                    );
                };
                (ExprKind::Index(Box::new(a), Box::new(i)), *elem)
            }
            ast::ExprKind::List(items) => {
                let elem_expected = match expected {
                    Some(Ty::Seq(t)) => Some(t.as_ref().clone()),
                    _ => None,
                };
                let mut typed = Vec::new();
                for it in items {
                    typed.push(self.infer(it, elem_expected.as_ref()));
                }
                let typed: Vec<Expr> = typed.into_iter().collect::<Option<_>>()?;
                let Some(first) = typed.first() else {
                    bail!(self, span, Kind::unsupported("an empty list"));
                };
                let ty = first.ty.clone();
                // Values of the story are scalars; nothing downstream holds a sequence of
                // sequences, so refuse it here rather than meet it while unrolling.
                if let Some(inner) = typed.iter().find(|t| matches!(t.ty, Ty::Seq(_))) {
                    bail!(
                        self,
                        inner.span,
                        Kind::ty("a single value", self.ty_name(&inner.ty)),
                        "a list holds single values; join sequences with `++`, e.g. `[H] ++ s`"
                    );
                }
                for t in &typed[1..] {
                    if t.ty != ty {
                        bail!(
                            self,
                            t.span,
                            Kind::ty(self.ty_name(&ty), self.ty_name(&t.ty)),
                            "all items of a list have one type"
                        );
                    }
                }
                (ExprKind::List(typed), Ty::Seq(Box::new(ty)))
            }
            ast::ExprKind::Binary(BinOp::Concat, a, b) => {
                // The right side usually names the domain (`[NULL] ++ e`): type it first.
                let b = self.infer(b, expected)?;
                let a = self.infer(a, Some(expected.unwrap_or(&b.ty)))?;
                let ty = if self.fits(&a.ty, &b.ty) {
                    b.ty.clone()
                } else if self.fits(&b.ty, &a.ty) {
                    a.ty.clone()
                } else {
                    bail!(
                        self,
                        a.span,
                        Kind::ty(self.ty_name(&b.ty), self.ty_name(&a.ty)),
                        "`++` joins two sequences of the same domain"
                    );
                };
                if !matches!(ty, Ty::Seq(_)) {
                    bail!(
                        self,
                        span,
                        Kind::ty("a sequence", self.ty_name(&ty)),
                        "wrap a single value in a list: `[x] ++ s`"
                    );
                }
                (
                    ExprKind::Binary(BinOp::Concat, Box::new(a), Box::new(b)),
                    ty,
                )
            }
            ast::ExprKind::MinMax(min, a, b) => {
                let a = self.expr(a, Some(&Ty::Int))?;
                let b = self.expr(b, Some(&Ty::Int))?;
                (ExprKind::MinMax(*min, Box::new(a), Box::new(b)), Ty::Int)
            }
            ast::ExprKind::Slice(a, lo, hi) => return self.slice(a, lo, hi, span, expected),
            ast::ExprKind::Binary(op, a, b) => {
                let a = self.expr(a, Some(&Ty::Int))?;
                let b = self.expr(b, Some(&Ty::Int))?;
                (ExprKind::Binary(*op, Box::new(a), Box::new(b)), Ty::Int)
            }
        };
        Some(Expr { kind, ty, span })
    }

    pub(super) fn name(&mut self, n: &str, span: Span, expected: Option<&Ty>) -> Option<Expr> {
        if let Some(kind) = self.lookup_name(n) {
            let ty = match &kind {
                ExprKind::Local(l) => self.local_types.get(l).cloned().unwrap_or(Ty::Int),
                k => self.type_of_kind(k),
            };
            if let ExprKind::Field(f) = kind {
                self.used_fields.insert(f);
                if self.model.fields[f].kind == FieldKind::Weight {
                    bail!(
                        self,
                        span,
                        Kind::ty("a value of the story", format!("the weight field `{n}`")),
                        Some(
                            "a weight says how often a line counts; the story cannot use it".into(),
                        )
                    );
                }
            }
            return Some(Expr { kind, ty, span });
        }
        if let Some(v) = self.const_value(n) {
            return Some(Expr {
                kind: ExprKind::Int(v),
                ty: Ty::Int,
                span,
            });
        }
        if let Some(d) = self.symbol_domain(n, expected) {
            return Some(Expr {
                kind: ExprKind::Symbol(n.to_string()),
                ty: Ty::Sym(d),
                span,
            });
        }
        let mut names: Vec<String> = self.scopes.iter().flat_map(|s| s.keys().cloned()).collect();
        names.extend(self.model.hiddens.iter().map(|h| h.name.clone()));
        names.extend(self.model.fields.iter().map(|f| f.name.clone()));
        names.extend(self.model.consts.iter().map(|c| c.0.clone()));
        let hint = did_you_mean(n, names.iter().map(String::as_str));
        error!(self, span, Kind::unknown("name", n), hint);
        None
    }

    /// The domain a bare symbol belongs to: the expected one if it declares the symbol,
    /// otherwise the only domain that declares it.
    pub(super) fn symbol_domain(&self, n: &str, expected: Option<&Ty>) -> Option<DomainId> {
        let declares = |d: DomainId| -> bool {
            let dom = &self.model.domains[d];
            dom.extra.iter().any(|x| x == n)
                || matches!(&dom.base, DomainBase::Symbols(s) if s.iter().any(|x| x == n))
        };
        if let Some(Ty::Sym(want)) = expected {
            let mut d = *want;
            loop {
                if declares(d) {
                    return Some(d);
                }
                match self.model.domains[d].base {
                    DomainBase::Extends(b) => d = b,
                    _ => break,
                }
            }
        }
        let owners: Vec<DomainId> = (0..self.model.domains.len())
            .filter(|d| declares(*d))
            .collect();
        match owners.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }
}
