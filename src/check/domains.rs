//! Domains: symbol sets, ranges, vocabularies and extensions, their cycles and sizes.

use std::collections::HashMap;

use super::{CheckErrorKind as Kind, Checker, ERROR_DOMAIN};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, Span};
use crate::syntax::MAX_DEPTH;

impl Checker {
    pub(super) fn domains(&mut self, file: &ast::File) {
        let mut ids: HashMap<String, DomainId> = HashMap::new();
        for d in &file.domains {
            if ids.contains_key(&d.name.name) {
                error!(self, d.name.span, Kind::duplicate("domain", &d.name.name));
                continue;
            }
            ids.insert(d.name.name.clone(), self.model.domains.len());
            self.model.domains.push(Domain {
                name: d.name.name.clone(),
                base: DomainBase::Symbols(Vec::new()),
                extra: d.extra.iter().map(|i| i.name.clone()).collect(),
                span: d.name.span,
            });
        }
        for d in &file.domains {
            let Some(&id) = ids.get(&d.name.name) else {
                continue;
            };
            if self.model.domains[id].span != d.name.span {
                continue;
            }
            let base = match &d.base {
                ast::DomainBase::Symbols(s) => {
                    self.no_duplicate_symbols(s.iter().chain(&d.extra));
                    DomainBase::Symbols(s.iter().map(|i| i.name.clone()).collect())
                }
                ast::DomainBase::Range(r) => {
                    let lo = self.const_expr(&r.lo).unwrap_or(0);
                    let hi = self.const_expr(&r.hi).unwrap_or(lo.saturating_add(1));
                    let size = i128::from(hi) - i128::from(lo);
                    if size <= 0 {
                        error!(
                            self,
                            r.span,
                            Kind::EmptyDomain(d.name.name.clone()),
                            format!("`{lo}..{hi}` has no values: the end is excluded")
                        );
                    } else if size > i128::from(MAX_DOMAIN) {
                        error!(
                            self,
                            r.span,
                            Kind::DomainTooLarge {
                                name: d.name.name.clone(),
                                size,
                                limit: MAX_DOMAIN,
                            },
                            "a domain's values are enumerated; use a smaller range"
                        );
                    }
                    // After an error, a one-value stand-in keeps later checks quiet and cheap.
                    if size <= 0 || size > i128::from(MAX_DOMAIN) {
                        DomainBase::Range(lo, lo.saturating_add(1))
                    } else {
                        DomainBase::Range(lo, hi)
                    }
                }
                // The field is declared later in the file; `vocabularies` fills this in.
                ast::DomainBase::Substrings { .. } => DomainBase::Substrings {
                    field: 0,
                    max_len: 1,
                },
                // Fields are declared later in the file; `vocabularies` fills this in.
                ast::DomainBase::Vocabulary { .. } => DomainBase::Vocabulary(Vocabulary {
                    fields: Vec::new(),
                    unknown: None,
                    min_count: 1,
                }),
                ast::DomainBase::Named(n) => match ids.get(&n.name) {
                    Some(&b) => DomainBase::Extends(b),
                    None => {
                        let hint = did_you_mean(&n.name, ids.keys().map(String::as_str));
                        error!(self, n.span, Kind::unknown("domain", &n.name), hint);
                        DomainBase::Symbols(Vec::new())
                    }
                },
            };
            self.model.domains[id].base = base;
        }
        self.reject_cycles();
        self.no_repeated_extensions(file, &ids);
        for id in 0..self.model.domains.len() {
            if self.closed_and_empty(id) {
                let d = &self.model.domains[id];
                error!(self, d.span, Kind::EmptyDomain(d.name.clone()));
            }
        }
    }

    /// A closed domain without symbols, found without listing them: a model may declare
    /// thousands of domains, each extending the one before.
    fn closed_and_empty(&self, id: DomainId) -> bool {
        let mut d = id;
        for _ in 0..=self.model.domains.len() {
            let dom = &self.model.domains[d];
            if !dom.extra.is_empty() {
                return false;
            }
            match &dom.base {
                DomainBase::Symbols(s) => return s.is_empty(),
                DomainBase::Extends(b) => d = *b,
                _ => return false,
            }
        }
        false
    }

    /// Lists the symbols of these domains in `closed` (tables and initial values need them),
    /// once each.
    pub(super) fn ensure_closed(&mut self, ds: impl IntoIterator<Item = DomainId>) {
        for d in ds {
            if d < self.model.domains.len() && !self.closed.contains_key(&d) {
                if let Some(symbols) = self.model.closed_symbols(d) {
                    self.closed.insert(d, symbols);
                }
            }
        }
    }

    pub(super) fn no_duplicate_symbols<'a>(
        &mut self,
        symbols: impl Iterator<Item = &'a ast::Ident>,
    ) {
        let mut seen = std::collections::HashSet::new();
        for s in symbols {
            if !seen.insert(s.name.clone()) {
                error!(self, s.span, Kind::duplicate("symbol", &s.name));
            }
        }
    }

    /// `E + {X}` where `E` has `X` already would drop the repeat silently: refuse it, and a
    /// symbol repeated within the braces, for every kind of base.
    fn no_repeated_extensions(&mut self, file: &ast::File, ids: &HashMap<String, DomainId>) {
        for d in &file.domains {
            let Some(&id) = ids.get(&d.name.name) else {
                continue;
            };
            if self.model.domains[id].span != d.name.span {
                continue;
            }
            if !matches!(d.base, ast::DomainBase::Symbols(_)) {
                self.no_duplicate_symbols(d.extra.iter());
            }
            let base = match self.model.domains[id].base {
                DomainBase::Extends(b) => b,
                DomainBase::Range(..) => id,
                _ => continue,
            };
            let base_name = self.model.domains[base].name.clone();
            for x in &d.extra {
                let known = if base == id {
                    range_has(&self.model.domains[id].base, &x.name)
                } else {
                    self.has_symbol(base, &x.name)
                };
                if known {
                    error!(
                        self,
                        x.span,
                        Kind::duplicate("symbol", &x.name),
                        format!(
                            "`{base_name}` has `{}` already; an extension adds new values only",
                            x.name
                        )
                    );
                }
            }
        }
    }

    /// Whether a closed domain has the symbol, walking its extensions without listing them.
    fn has_symbol(&self, id: DomainId, name: &str) -> bool {
        let mut d = id;
        for _ in 0..=self.model.domains.len() {
            let dom = &self.model.domains[d];
            if dom.extra.iter().any(|x| x == name) {
                return true;
            }
            match &dom.base {
                DomainBase::Symbols(s) => return s.iter().any(|x| x == name),
                DomainBase::Extends(b) => d = *b,
                base => return range_has(base, name),
            }
        }
        false
    }

    pub(super) fn reject_cycles(&mut self) {
        for start in 0..self.model.domains.len() {
            let mut d = start;
            for steps in 0..=self.model.domains.len() {
                match self.model.domains[d].base {
                    DomainBase::Extends(b) => d = b,
                    _ => break,
                }
                // Later stages follow the chain recursively: bound it like nesting.
                if steps >= MAX_DEPTH && d != start {
                    let dom = &self.model.domains[start];
                    error!(
                        self,
                        dom.span,
                        Kind::unsupported(format!(
                            "domain `{}` extends a chain of more than {MAX_DEPTH} domains",
                            dom.name
                        )),
                        format!("extend a domain at most {MAX_DEPTH} times in a row")
                    );
                    self.model.domains[start].base = DomainBase::Symbols(Vec::new());
                    break;
                }
                if d == start {
                    let dom = &self.model.domains[start];
                    error!(self, dom.span, Kind::CyclicDomain(dom.name.clone()));
                    self.model.domains[start].base = DomainBase::Symbols(Vec::new());
                    break;
                }
            }
        }
    }

    /// A stand-in for a domain that could not be resolved, so that later checks index valid
    /// domains; it is only ever used when an error has been reported already.
    pub(super) fn error_domain(&mut self) -> DomainId {
        if let Some(d) = self
            .model
            .domains
            .iter()
            .position(|d| d.name == ERROR_DOMAIN)
        {
            return d;
        }
        self.model.domains.push(Domain {
            name: ERROR_DOMAIN.into(),
            base: DomainBase::Symbols(Vec::new()),
            extra: Vec::new(),
            span: Span::default(),
        });
        self.model.domains.len() - 1
    }

    pub(super) fn domain_named(&mut self, name: &ast::Ident) -> Option<DomainId> {
        match self.model.domains.iter().position(|d| d.name == name.name) {
            Some(id) => Some(id),
            None => {
                let names: Vec<String> =
                    self.model.domains.iter().map(|d| d.name.clone()).collect();
                let hint = did_you_mean(&name.name, names.iter().map(String::as_str));
                error!(self, name.span, Kind::unknown("domain", &name.name), hint);
                None
            }
        }
    }
}

/// Whether a range base has the value `name` names (`2` in `0..3`).
fn range_has(base: &DomainBase, name: &str) -> bool {
    match base {
        DomainBase::Range(lo, hi) => name.parse::<i64>().is_ok_and(|v| (*lo..*hi).contains(&v)),
        _ => false,
    }
}
