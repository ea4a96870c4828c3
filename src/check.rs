//! Syntax tree to checked model: resolves names, evaluates constants, types every expression of
//! the story, and validates options, tables and shapes. It reports every error it finds, not
//! only the first, each with the span it concerns and a hint.

use std::collections::HashMap;

use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::*;
use crate::syntax::ast::{self, BinOp, Span};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckErrorKind {
    #[error("unknown {what} `{name}`")]
    Unknown { what: &'static str, name: String },
    #[error("{what} `{name}` is declared twice")]
    Duplicate { what: &'static str, name: String },
    #[error("`{family}` takes {expected} argument(s), found {found}")]
    Arity {
        family: String,
        expected: usize,
        found: usize,
    },
    #[error("expected {expected}, found {found}")]
    Type { expected: String, found: String },
    #[error("invalid option `{key}`: {reason}")]
    Option { key: String, reason: String },
    #[error("`{0}` is not a valid number here")]
    Number(String),
    #[error("wrong shape for the initial values of `{family}`: {reason}")]
    Shape { family: String, reason: String },
    #[error("table `{table}` has no row for {missing}")]
    IncompleteTable { table: String, missing: String },
    #[error("table `{table}` has two rows for {row}")]
    DuplicateRow { table: String, row: String },
    #[error("only a hidden variable, a data value or a symbol can be drawn")]
    InvalidTarget,
    #[error("domain `{0}` is empty")]
    EmptyDomain(String),
    #[error("the model has no {0}")]
    Missing(&'static str),
    #[error("`{0}` must be declared at the top of the `model` block, outside loops")]
    NestedHidden(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("domain `{0}` is defined in terms of itself")]
    CyclicDomain(String),
    #[error("this integer arithmetic overflows")]
    Overflow,
    #[error("domain `{name}` has {size} values, more than the limit of {limit}")]
    DomainTooLarge {
        name: String,
        size: i128,
        limit: i64,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct CheckError {
    pub kind: CheckErrorKind,
    /// `None` for a problem on the command line (`--set`).
    pub span: Option<Span>,
    pub hint: Option<String>,
}

impl CheckError {
    fn new(kind: CheckErrorKind, span: Span) -> CheckError {
        CheckError {
            kind,
            span: Some(span),
            hint: None,
        }
    }

    fn hint(mut self, hint: Option<String>) -> CheckError {
        self.hint = hint;
        self
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = match self.span {
            Some(span) => Diagnostic::error(self.kind.to_string(), span),
            None => Diagnostic::unlocated(self.kind.to_string()),
        };
        d.with_hint_opt(self.hint.clone())
    }
}

/// The name of the stand-in domain for unresolved domain names (not a valid identifier).
const ERROR_DOMAIN: &str = "<unresolved>";

/// Largest range domain, in values.
pub const MAX_DOMAIN: i64 = 1 << 20;

/// `Real` or `Real[D]`, as the user writes it.
pub fn real_name(dim: usize) -> String {
    if dim == 1 {
        "Real".into()
    } else {
        format!("Real[{dim}]")
    }
}

/// Largest dimension of a real-valued field (a Gaussian's covariance has D^2 entries).
pub const MAX_REAL_DIM: i64 = 256;

/// A Gaussian family's `reg_covar` when it does not say (scikit-learn's default).
pub const DEFAULT_REG_COVAR: f64 = 1e-6;

/// kappa when a Logistic family does not say.
pub const DEFAULT_L2: f64 = 1.0;

const TEMPLATES_HINT: &str = "templates: word, suffix(n), prefix(n), digit, hyphen, capital, allcaps, shape, distance(n); wrap one in shared(...) or by(i, ...) to choose what it is conjoined with";

/// Checks a parsed file. `overrides` are `NAME=VALUE` settings of constants from the command line.
pub fn check(file: &ast::File, overrides: &[(String, String)]) -> Result<Model, Vec<CheckError>> {
    let mut c = Checker::default();
    c.consts(file, overrides);
    c.domains(file);
    c.data(file);
    c.vocabularies(file);
    c.families(file);
    c.tables(file);
    c.settings(file);
    c.story(file);
    if c.errors.is_empty() {
        Ok(c.model)
    } else {
        Err(c.errors)
    }
}

struct Checker {
    model: Model,
    errors: Vec<CheckError>,
    /// Closed domains' symbols, for tables and init shapes. Vocabulary domains are absent.
    closed: HashMap<DomainId, Vec<String>>,
    scopes: Vec<HashMap<String, LocalId>>,
    local_types: HashMap<LocalId, Ty>,
}

impl Default for Checker {
    fn default() -> Checker {
        Checker {
            model: Model {
                consts: Vec::new(),
                domains: Vec::new(),
                fields: Vec::new(),
                groups: Vec::new(),
                families: Vec::new(),
                tables: Vec::new(),
                hiddens: Vec::new(),
                locals: Vec::new(),
                story: Vec::new(),
                settings: Settings::default(),
            },
            errors: Vec::new(),
            closed: HashMap::new(),
            scopes: Vec::new(),
            local_types: HashMap::new(),
        }
    }
}

impl Checker {
    fn err(&mut self, kind: CheckErrorKind, span: Span, hint: Option<String>) {
        self.errors.push(CheckError::new(kind, span).hint(hint));
    }

    /// An error in a command-line setting, not in the file.
    fn err_unlocated(&mut self, kind: CheckErrorKind, hint: Option<String>) {
        self.errors.push(CheckError {
            kind,
            span: None,
            hint,
        });
    }

    // ---- constants ---------------------------------------------------------------------------

    fn consts(&mut self, file: &ast::File, overrides: &[(String, String)]) {
        for c in &file.consts {
            if self.model.consts.iter().any(|(n, _)| *n == c.name.name) {
                self.err(
                    CheckErrorKind::Duplicate {
                        what: "constant",
                        name: c.name.name.clone(),
                    },
                    c.name.span,
                    None,
                );
                continue;
            }
            match c.value.text.parse::<i64>() {
                Ok(v) => self.model.consts.push((c.name.name.clone(), v)),
                Err(_) => {
                    self.err(
                        CheckErrorKind::Number(c.value.text.clone()),
                        c.value.span,
                        Some("constants are integers, e.g. `const K = 45`".into()),
                    );
                    // Keep the name known so its uses do not report it again.
                    self.model.consts.push((c.name.name.clone(), 1));
                }
            }
        }
        for (name, value) in overrides {
            let known: Vec<&str> = self.model.consts.iter().map(|(n, _)| n.as_str()).collect();
            let hint = did_you_mean(name, known.iter().copied());
            match self.model.consts.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => match value.parse::<i64>() {
                    Ok(v) => slot.1 = v,
                    Err(_) => self.err_unlocated(
                        CheckErrorKind::Number(value.clone()),
                        Some(format!("`--set {name}=...` takes an integer")),
                    ),
                },
                None => self.err_unlocated(
                    CheckErrorKind::Unknown {
                        what: "constant (in --set)",
                        name: name.clone(),
                    },
                    hint,
                ),
            }
        }
    }

    fn const_value(&self, name: &str) -> Option<i64> {
        self.model
            .consts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    fn bad_integer(&mut self, text: &str, span: Span) {
        self.err(
            CheckErrorKind::Number(text.to_string()),
            span,
            Some("an integer here: a whole number between -2^63 and 2^63 - 1".into()),
        );
    }

    /// Evaluates an integer expression made of literals and constants.
    fn const_expr(&mut self, e: &ast::Expr) -> Option<i64> {
        match &e.kind {
            ast::ExprKind::Int(v) => Some(*v),
            ast::ExprKind::Name(n) => match self.const_value(n) {
                Some(v) => Some(v),
                None => {
                    let names: Vec<String> =
                        self.model.consts.iter().map(|(n, _)| n.clone()).collect();
                    let hint = did_you_mean(n, names.iter().map(String::as_str));
                    self.err(
                        CheckErrorKind::Unknown {
                            what: "constant",
                            name: n.clone(),
                        },
                        e.span,
                        hint,
                    );
                    None
                }
            },
            ast::ExprKind::BadNumber(text) => {
                self.bad_integer(text, e.span);
                None
            }
            ast::ExprKind::Binary(op, a, b) if *op != BinOp::Concat => {
                let (a, b) = (self.const_expr(a)?, self.const_expr(b)?);
                let v = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    _ => a.checked_mul(b),
                };
                if v.is_none() {
                    self.err(
                        CheckErrorKind::Overflow,
                        e.span,
                        Some("integers are 64-bit: between -2^63 and 2^63 - 1".into()),
                    );
                }
                v
            }
            _ => {
                self.err(
                    CheckErrorKind::Type {
                        expected: "an integer made of numbers and constants".into(),
                        found: "an expression that depends on the data".into(),
                    },
                    e.span,
                    Some("domain sizes are fixed before the data is read".into()),
                );
                None
            }
        }
    }

    // ---- domains -----------------------------------------------------------------------------

    fn domains(&mut self, file: &ast::File) {
        let mut ids: HashMap<String, DomainId> = HashMap::new();
        for d in &file.domains {
            if ids.contains_key(&d.name.name) {
                self.err(
                    CheckErrorKind::Duplicate {
                        what: "domain",
                        name: d.name.name.clone(),
                    },
                    d.name.span,
                    None,
                );
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
                        self.err(
                            CheckErrorKind::EmptyDomain(d.name.name.clone()),
                            r.span,
                            Some(format!("`{lo}..{hi}` has no values: the end is excluded")),
                        );
                    } else if size > i128::from(MAX_DOMAIN) {
                        self.err(
                            CheckErrorKind::DomainTooLarge {
                                name: d.name.name.clone(),
                                size,
                                limit: MAX_DOMAIN,
                            },
                            r.span,
                            Some("a domain's values are enumerated; use a smaller range".into()),
                        );
                    }
                    // After an error, a one-value stand-in keeps later checks quiet and cheap.
                    if size <= 0 || size > i128::from(MAX_DOMAIN) {
                        DomainBase::Range(lo, lo.saturating_add(1))
                    } else {
                        DomainBase::Range(lo, hi)
                    }
                }
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
                        self.err(
                            CheckErrorKind::Unknown {
                                what: "domain",
                                name: n.name.clone(),
                            },
                            n.span,
                            hint,
                        );
                        DomainBase::Symbols(Vec::new())
                    }
                },
            };
            self.model.domains[id].base = base;
        }
        self.reject_cycles();
        for id in 0..self.model.domains.len() {
            if let Some(symbols) = self.model.closed_symbols(id) {
                if symbols.is_empty() {
                    let d = &self.model.domains[id];
                    self.errors.push(CheckError::new(
                        CheckErrorKind::EmptyDomain(d.name.clone()),
                        d.span,
                    ));
                }
                self.closed.insert(id, symbols);
            }
        }
    }

    fn no_duplicate_symbols<'a>(&mut self, symbols: impl Iterator<Item = &'a ast::Ident>) {
        let mut seen = std::collections::HashSet::new();
        for s in symbols {
            if !seen.insert(s.name.clone()) {
                self.err(
                    CheckErrorKind::Duplicate {
                        what: "symbol",
                        name: s.name.clone(),
                    },
                    s.span,
                    None,
                );
            }
        }
    }

    fn reject_cycles(&mut self) {
        for start in 0..self.model.domains.len() {
            let mut d = start;
            for _ in 0..=self.model.domains.len() {
                match self.model.domains[d].base {
                    DomainBase::Extends(b) => d = b,
                    _ => break,
                }
                if d == start {
                    let dom = &self.model.domains[start];
                    self.errors.push(CheckError::new(
                        CheckErrorKind::CyclicDomain(dom.name.clone()),
                        dom.span,
                    ));
                    self.model.domains[start].base = DomainBase::Symbols(Vec::new());
                    break;
                }
            }
        }
    }

    /// A stand-in for a domain that could not be resolved, so that later checks index valid
    /// domains; it is only ever used when an error has been reported already.
    fn error_domain(&mut self) -> DomainId {
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

    fn domain_named(&mut self, name: &ast::Ident) -> Option<DomainId> {
        match self.model.domains.iter().position(|d| d.name == name.name) {
            Some(id) => Some(id),
            None => {
                let names: Vec<String> =
                    self.model.domains.iter().map(|d| d.name.clone()).collect();
                let hint = did_you_mean(&name.name, names.iter().map(String::as_str));
                self.err(
                    CheckErrorKind::Unknown {
                        what: "domain",
                        name: name.name.clone(),
                    },
                    name.span,
                    hint,
                );
                None
            }
        }
    }

    // ---- data --------------------------------------------------------------------------------

    fn data(&mut self, file: &ast::File) {
        let decl = match file.data.as_slice() {
            [] => {
                self.err(
                    CheckErrorKind::Missing("`data` declaration"),
                    Span::default(),
                    Some(
                        "say what one line of the data file holds, e.g. `data words : [Word]`"
                            .into(),
                    ),
                );
                return;
            }
            [d] => d,
            [_, second, ..] => {
                self.err(
                    CheckErrorKind::Duplicate {
                        what: "declaration",
                        name: "data".into(),
                    },
                    second.span,
                    Some(
                        "one `data` declaration describes a whole line; separate groups with `|||`"
                            .into(),
                    ),
                );
                &file.data[0]
            }
        };
        for group in &decl.groups {
            let mut ids = Vec::new();
            for (k, f) in group.iter().enumerate() {
                if self.model.fields.iter().any(|x| x.name == f.name.name) {
                    self.err(
                        CheckErrorKind::Duplicate {
                            what: "field",
                            name: f.name.name.clone(),
                        },
                        f.name.span,
                        None,
                    );
                    continue;
                }
                let kind = if f.sequence {
                    FieldKind::Sequence
                } else if f.ty.name == "weight" {
                    FieldKind::Weight
                } else {
                    FieldKind::Scalar
                };
                if kind == FieldKind::Sequence && k + 1 != group.len() {
                    self.err(
                        CheckErrorKind::Unsupported(format!(
                            "sequence field `{}` must be the last field of its group",
                            f.name.name
                        )),
                        f.name.span,
                        Some(
                            "separate sequences with `|||`, e.g. `data f : [F] ||| e : [E]`".into(),
                        ),
                    );
                }
                let real = f.real.as_ref().map(|r| self.real_dim(r));
                let domain = if kind == FieldKind::Weight || real.is_some() {
                    NO_DOMAIN
                } else {
                    self.domain_named(&f.ty)
                        .unwrap_or_else(|| self.error_domain())
                };
                ids.push(self.model.fields.len());
                self.model.fields.push(Field {
                    name: f.name.name.clone(),
                    kind,
                    domain,
                    real,
                    span: f.name.span,
                });
            }
            self.model.groups.push(ids);
        }
        let weights = self
            .model
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Weight)
            .count();
        if weights > 1 {
            self.err(
                CheckErrorKind::Duplicate {
                    what: "field of type",
                    name: "weight".into(),
                },
                decl.span,
                None,
            );
        }
    }

    fn field_named(&self, name: &str) -> Option<FieldId> {
        self.model.fields.iter().position(|f| f.name == name)
    }

    fn vocabularies(&mut self, file: &ast::File) {
        for d in &file.domains {
            let ast::DomainBase::Vocabulary {
                fields, options, ..
            } = &d.base
            else {
                continue;
            };
            let Some(id) = self
                .model
                .domains
                .iter()
                .position(|x| x.span == d.name.span)
            else {
                continue;
            };
            let mut vocab = Vocabulary {
                fields: Vec::new(),
                unknown: None,
                min_count: 1,
            };
            for f in fields {
                match self.field_named(&f.name) {
                    Some(fid) if self.model.fields[fid].domain == id => vocab.fields.push(fid),
                    Some(fid) if self.model.fields[fid].kind == FieldKind::Weight => self.err(
                        CheckErrorKind::Type {
                            expected: format!("a field of domain `{}`", d.name.name),
                            found: format!("the weight field `{}`", f.name),
                        },
                        f.span,
                        None,
                    ),
                    Some(fid) => {
                        let other = self.model.domains[self.model.fields[fid].domain]
                            .name
                            .clone();
                        self.err(
                            CheckErrorKind::Type {
                                expected: format!("a field of domain `{}`", d.name.name),
                                found: format!("field `{}` of domain `{other}`", f.name),
                            },
                            f.span,
                            Some(format!(
                                "declare the field as `{} : [{}]`",
                                f.name, d.name.name
                            )),
                        );
                    }
                    None => {
                        let names: Vec<String> =
                            self.model.fields.iter().map(|x| x.name.clone()).collect();
                        let hint = did_you_mean(&f.name, names.iter().map(String::as_str));
                        self.err(
                            CheckErrorKind::Unknown {
                                what: "data field",
                                name: f.name.clone(),
                            },
                            f.span,
                            hint,
                        );
                    }
                }
            }
            for o in options {
                match (o.key.name.as_str(), &o.value) {
                    ("unknown", Some(ast::Value::Str { text, .. })) => {
                        vocab.unknown = Some(text.clone())
                    }
                    ("min_count", Some(ast::Value::Number(n))) => match n.text.parse::<u64>() {
                        Ok(v) if v >= 1 => vocab.min_count = v,
                        _ => self.err(
                            CheckErrorKind::Number(n.text.clone()),
                            n.span,
                            Some("`min_count` is a whole number, at least 1".into()),
                        ),
                    },
                    (key, _) => self.err(
                        CheckErrorKind::Option {
                            key: key.into(),
                            reason: "a vocabulary takes `unknown = \"<unk>\"` and `min_count = N`"
                                .into(),
                        },
                        o.span,
                        did_you_mean(key, ["unknown", "min_count"]),
                    ),
                }
            }
            if vocab.min_count > 1 && vocab.unknown.is_none() {
                self.err(
                    CheckErrorKind::Option {
                        key: "min_count".into(),
                        reason: "rare words need a symbol to become".into(),
                    },
                    d.span,
                    Some("add `unknown = \"<unk>\"`".into()),
                );
            }
            self.model.domains[id].base = DomainBase::Vocabulary(vocab);
        }
    }

    // ---- families and tables -----------------------------------------------------------------

    fn families(&mut self, file: &ast::File) {
        for p in &file.params {
            if self.model.families.iter().any(|f| f.name == p.name.name) {
                self.err(
                    CheckErrorKind::Duplicate {
                        what: "family",
                        name: p.name.name.clone(),
                    },
                    p.name.span,
                    None,
                );
                continue;
            }
            // An unsupported or misspelt kind is reported, and the family is still declared
            // (as categorical) so that its uses are not reported as unknown names too.
            let mut kind = FamilyKind::Categorical;
            match p.kind.name.as_str() {
                "Categorical" => {}
                "Logistic" => {
                    kind = FamilyKind::Logistic(Logistic {
                        features: Vec::new(),
                        l2: DEFAULT_L2,
                    })
                }
                "Gaussian" => match &p.outcome_real {
                    Some(r) => {
                        kind = FamilyKind::Gaussian(Gaussian {
                            dim: self.real_dim(r),
                            covariance: Covariance::Full,
                            reg_covar: DEFAULT_REG_COVAR,
                            seeding: Seeding::KMeansPlusPlus,
                            init_means: None,
                            init_covariances: None,
                        })
                    }
                    None => self.err(
                        CheckErrorKind::Type {
                            expected: "`Real` or `Real[D]`".into(),
                            found: format!("domain `{}`", p.outcome.name),
                        },
                        p.outcome.span,
                        Some("a Gaussian is a density over real numbers, e.g. `Gaussian(Real[2] | Comp)`".into()),
                    ),
                },
                other => self.err(
                    CheckErrorKind::Unknown {
                        what: "family kind",
                        name: other.into(),
                    },
                    p.kind.span,
                    did_you_mean(other, ["Categorical", "Logistic", "Gaussian"]),
                ),
            }
            if p.outcome_real.is_some() && !matches!(kind, FamilyKind::Gaussian(_)) {
                self.err(
                    CheckErrorKind::Type {
                        expected: "a domain".into(),
                        found: "a real type".into(),
                    },
                    p.outcome.span,
                    Some("only a `Gaussian` family has a real-valued outcome".into()),
                );
            }
            let outcome = match kind {
                FamilyKind::Gaussian(_) => Some(NO_DOMAIN),
                _ if p.outcome_real.is_some() => None,
                _ => self.domain_named(&p.outcome),
            };
            let conditions: Vec<Option<DomainId>> =
                p.conditions.iter().map(|c| self.domain_named(c)).collect();
            let mut family = Family {
                name: p.name.name.clone(),
                kind,
                outcome: outcome.unwrap_or_else(|| self.error_domain()),
                conditions: conditions
                    .iter()
                    .map(|c| c.unwrap_or_else(|| self.error_domain()))
                    .collect(),
                fixed: false,
                init: None,
                smoothing: 0.0,
                storage: Storage::Auto,
                span: p.name.span,
            };
            if let Some(opts) = &p.options {
                match family.kind {
                    FamilyKind::Logistic(_) => self.logistic_options(&mut family, opts),
                    FamilyKind::Gaussian(_) => self.gaussian_options(&mut family, opts),
                    FamilyKind::Categorical => self.family_options(&mut family, opts),
                }
            }
            if let FamilyKind::Logistic(l) = &family.kind {
                for f in &l.features {
                    if let Template::Distance(_) = f.template {
                        let int = |d: Option<DomainId>| {
                            d.is_some_and(|d| {
                                matches!(self.model.domains[d].base, DomainBase::Range(..))
                            })
                        };
                        if !(int(outcome) && int(conditions.first().copied().flatten())) {
                            self.err(
                                CheckErrorKind::Option {
                                    key: "features".into(),
                                    reason: "`distance` compares integers: the outcome and the first condition must be range domains".into(),
                                },
                                f.span,
                                Some("declare them like `domain Pos = 0..50`".into()),
                            );
                        }
                    }
                }
                if l.features.is_empty() {
                    self.err(
                        CheckErrorKind::Option {
                            key: "features".into(),
                            reason: "a Logistic family needs feature templates".into(),
                        },
                        p.span,
                        Some("e.g. `{ features: [word, suffix(3), capital], l2: 1.0 }`".into()),
                    );
                }
            }
            if family.storage == Storage::Sparse && !family.can_be_sparse() {
                self.err(
                    CheckErrorKind::Option {
                        key: "storage".into(),
                        reason: "a sparse table keeps the entries no data reaches at zero, so it cannot be fixed, start from given values or take smoothing".into(),
                    },
                    p.span,
                    Some("drop `storage: sparse`, or the other option".into()),
                );
            }
            if family.fixed && family.init.is_none() {
                self.err(
                    CheckErrorKind::Option {
                        key: "fixed".into(),
                        reason: "a fixed family needs values".into(),
                    },
                    p.span,
                    Some("give them with `init: [...]`".into()),
                );
            }
            if outcome.is_some_and(|o| o != NO_DOMAIN) && conditions.iter().all(Option::is_some) {
                if let Some(init) = &family.init {
                    self.check_init_shape(&family, init);
                }
            }
            self.model.families.push(family);
        }
    }

    fn family_options(&mut self, family: &mut Family, opts: &ast::Options) {
        for o in &opts.items {
            match (o.key.name.as_str(), &o.value) {
                ("fixed", None) => family.fixed = true,
                ("init", Some(v)) => family.init = self.init_values(v),
                ("smoothing", Some(ast::Value::Number(n))) => match n.text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => family.smoothing = v,
                    _ => self.err(
                        CheckErrorKind::Number(n.text.clone()),
                        n.span,
                        Some("smoothing is a pseudo-count, a finite number >= 0".into()),
                    ),
                },
                ("storage", Some(ast::Value::Word(w))) => match w.name.as_str() {
                    "auto" => family.storage = Storage::Auto,
                    "dense" => family.storage = Storage::Dense,
                    "sparse" => family.storage = Storage::Sparse,
                    other => self.err(
                        CheckErrorKind::Option {
                            key: "storage".into(),
                            reason: format!("`{other}` is not a storage"),
                        },
                        w.span,
                        did_you_mean(other, ["auto", "dense", "sparse"]),
                    ),
                },
                (key, _) => self.err(
                    CheckErrorKind::Option {
                        key: key.into(),
                        reason: "a Categorical family takes `fixed`, `init: [...]`, `smoothing: x` and `storage: auto|dense|sparse`"
                                .into(),
                    },
                    o.span,
                    did_you_mean(key, ["fixed", "init", "smoothing", "storage"]),
                ),
            }
        }
    }

    fn gaussian_options(&mut self, family: &mut Family, opts: &ast::Options) {
        let FamilyKind::Gaussian(mut g) = family.kind.clone() else {
            return;
        };
        for o in &opts.items {
            match (o.key.name.as_str(), &o.value) {
                ("covariance", Some(ast::Value::Word(w))) => match w.name.as_str() {
                    "full" => g.covariance = Covariance::Full,
                    "diagonal" | "diag" => g.covariance = Covariance::Diagonal,
                    "spherical" => g.covariance = Covariance::Spherical,
                    "tied" => g.covariance = Covariance::Tied,
                    other => self.err(
                        CheckErrorKind::Unknown {
                            what: "covariance type",
                            name: other.into(),
                        },
                        w.span,
                        did_you_mean(other, ["full", "diagonal", "spherical", "tied"]),
                    ),
                },
                ("reg_covar", Some(ast::Value::Number(n))) => match n.text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => g.reg_covar = v,
                    _ => self.err(
                        CheckErrorKind::Number(n.text.clone()),
                        n.span,
                        Some("`reg_covar` is added to every variance: a finite number >= 0".into()),
                    ),
                },
                ("seeding", Some(ast::Value::Word(w))) => match w.name.as_str() {
                    "kmeans" => g.seeding = Seeding::KMeansPlusPlus,
                    "random" => g.seeding = Seeding::Random,
                    other => self.err(
                        CheckErrorKind::Unknown {
                            what: "seeding",
                            name: other.into(),
                        },
                        w.span,
                        Some("`seeding` is `kmeans` (k-means++ means) or `random` (random responsibilities)".into()),
                    ),
                },
                ("init_means", Some(v)) => g.init_means = self.real_matrix(v, 2),
                ("init_covariances", Some(v)) => {
                    g.init_covariances = self
                        .real_matrix(v, 3)
                        .map(|rows| rows.into_iter().map(|m| m.chunks(g.dim.max(1)).map(<[f64]>::to_vec).collect()).collect())
                }
                (key, _) => self.err(
                    CheckErrorKind::Option {
                        key: key.into(),
                        reason: "a Gaussian family takes `covariance: full|diagonal|spherical|tied`, `reg_covar: x`, `seeding: kmeans|random`, `init_means: [...]` and `init_covariances: [...]`".into(),
                    },
                    o.span,
                    did_you_mean(key, ["covariance", "reg_covar", "seeding", "init_means", "init_covariances"]),
                ),
            }
        }
        family.kind = FamilyKind::Gaussian(g);
    }

    /// A nested array of finite numbers, `depth` levels deep; rows are flattened below the
    /// first level (`[[1, 2], [3, 4]]` at depth 2 is two rows of two).
    fn real_matrix(&mut self, v: &ast::Value, depth: usize) -> Option<Vec<Vec<f64>>> {
        let ast::Value::Array { items, span } = v else {
            self.err(
                CheckErrorKind::Option {
                    key: "init".into(),
                    reason: "expected an array".into(),
                },
                v.span(),
                None,
            );
            return None;
        };
        let mut rows = Vec::with_capacity(items.len());
        for item in items {
            let mut flat = Vec::new();
            if !self.flatten_numbers(item, depth - 1, &mut flat) {
                return None;
            }
            rows.push(flat);
        }
        if rows.is_empty() {
            self.err(
                CheckErrorKind::Option {
                    key: "init".into(),
                    reason: "the array is empty".into(),
                },
                *span,
                None,
            );
            return None;
        }
        Some(rows)
    }

    fn flatten_numbers(&mut self, v: &ast::Value, depth: usize, out: &mut Vec<f64>) -> bool {
        match (v, depth) {
            (ast::Value::Number(n), 0) => match n.text.parse::<f64>() {
                Ok(x) if x.is_finite() => {
                    out.push(x);
                    true
                }
                _ => {
                    self.err(
                        CheckErrorKind::Number(n.text.clone()),
                        n.span,
                        Some("a finite number".into()),
                    );
                    false
                }
            },
            (ast::Value::Array { items, .. }, d) if d > 0 => {
                items.iter().all(|i| self.flatten_numbers(i, d - 1, out))
            }
            (other, _) => {
                self.err(
                    CheckErrorKind::Option {
                        key: "init".into(),
                        reason: "the nesting does not match: means are [[...] per row], covariances [[[...] per matrix row] per row]".into(),
                    },
                    other.span(),
                    None,
                );
                false
            }
        }
    }

    fn logistic_options(&mut self, family: &mut Family, opts: &ast::Options) {
        let n_cond = family.conditions.len();
        let FamilyKind::Logistic(mut l) = family.kind.clone() else {
            return;
        };
        for o in &opts.items {
            match (o.key.name.as_str(), &o.value) {
                ("init", Some(v)) => family.init = self.init_values(v),
                ("l2", Some(ast::Value::Number(n))) => match n.text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => l.l2 = v,
                    _ => self.err(
                        CheckErrorKind::Number(n.text.clone()),
                        n.span,
                        Some("`l2` is the penalty kappa * |w|^2: a finite number >= 0".into()),
                    ),
                },
                ("features", Some(ast::Value::Array { items, .. })) => {
                    for item in items {
                        if let Some(f) = self.feature(item, n_cond, (0..n_cond).collect()) {
                            l.features.push(f);
                        }
                    }
                }
                (key, _) => self.err(
                    CheckErrorKind::Option {
                        key: key.into(),
                        reason:
                            "a Logistic family takes `features: [...]`, `l2: x` and `init: [...]`"
                                .into(),
                    },
                    o.span,
                    did_you_mean(key, ["features", "l2", "init"]),
                ),
            }
        }
        family.kind = FamilyKind::Logistic(l);
    }

    /// One entry of `features: [...]`: a template, `shared(T)` (conjoined with no condition)
    /// or `by(i, .., T)` (conjoined with the listed condition parts only).
    fn feature(&mut self, v: &ast::Value, n_cond: usize, conjoin: Vec<usize>) -> Option<Feature> {
        let (name, args, span) = match v {
            ast::Value::Word(w) => (w.name.as_str(), &[][..], w.span),
            ast::Value::Call { name, args, span } => (name.name.as_str(), &args[..], *span),
            other => {
                self.err(
                    CheckErrorKind::Option {
                        key: "features".into(),
                        reason: "not a feature template".into(),
                    },
                    other.span(),
                    Some(TEMPLATES_HINT.into()),
                );
                return None;
            }
        };
        let whole = |t| {
            Some(Feature {
                template: t,
                conjoin: conjoin.clone(),
                span,
            })
        };
        let int_arg = |this: &mut Self, lo: i64| -> Option<i64> {
            match args {
                [ast::Value::Number(n)] => match n.text.parse::<i64>() {
                    Ok(k) if k >= lo && k <= 64 => Some(k),
                    _ => {
                        this.err(
                            CheckErrorKind::Number(n.text.clone()),
                            n.span,
                            Some(format!("`{name}` takes a whole number from {lo} to 64")),
                        );
                        None
                    }
                },
                _ => {
                    this.err(
                        CheckErrorKind::Option {
                            key: "features".into(),
                            reason: format!("`{name}` takes one whole number, like `{name}(3)`"),
                        },
                        span,
                        None,
                    );
                    None
                }
            }
        };
        let plain = |this: &mut Self, t: Template| {
            if args.is_empty() {
                whole(t)
            } else {
                this.err(
                    CheckErrorKind::Option {
                        key: "features".into(),
                        reason: format!("`{name}` takes no arguments"),
                    },
                    span,
                    None,
                );
                None
            }
        };
        match name {
            "word" => plain(self, Template::Word),
            "digit" => plain(self, Template::Digit),
            "hyphen" => plain(self, Template::Hyphen),
            "capital" => plain(self, Template::Capital),
            "allcaps" => plain(self, Template::AllCaps),
            "shape" => plain(self, Template::Shape),
            "suffix" => int_arg(self, 1).and_then(|n| whole(Template::Suffix(n as usize))),
            "prefix" => int_arg(self, 1).and_then(|n| whole(Template::Prefix(n as usize))),
            "distance" => int_arg(self, 0).and_then(|n| whole(Template::Distance(n))),
            "shared" => match args {
                [inner] => self.feature(inner, n_cond, Vec::new()),
                _ => {
                    self.err(
                        CheckErrorKind::Option {
                            key: "features".into(),
                            reason: "`shared` takes one template, like `shared(suffix(2))`".into(),
                        },
                        span,
                        None,
                    );
                    None
                }
            },
            "by" => {
                let Some((inner, parts)) = args.split_last() else {
                    self.err(
                        CheckErrorKind::Option {
                            key: "features".into(),
                            reason:
                                "`by` takes condition positions and a template, like `by(0, word)`"
                                    .into(),
                        },
                        span,
                        None,
                    );
                    return None;
                };
                let mut conj = Vec::new();
                for p in parts {
                    match p {
                        ast::Value::Number(n) => match n.text.parse::<usize>() {
                            Ok(i) if i < n_cond => conj.push(i),
                            _ => self.err(
                                CheckErrorKind::Number(n.text.clone()),
                                n.span,
                                Some(format!(
                                    "condition positions count from 0; this family has {n_cond} condition(s)"
                                )),
                            ),
                        },
                        other => self.err(
                            CheckErrorKind::Option {
                                key: "features".into(),
                                reason: "`by` lists condition positions (0, 1, ...) before the template"
                                    .into(),
                            },
                            other.span(),
                            None,
                        ),
                    }
                }
                conj.sort_unstable();
                conj.dedup();
                self.feature(inner, n_cond, conj)
            }
            other => {
                self.err(
                    CheckErrorKind::Unknown {
                        what: "feature template",
                        name: other.into(),
                    },
                    span,
                    did_you_mean(
                        other,
                        [
                            "word", "suffix", "prefix", "digit", "hyphen", "capital", "allcaps",
                            "shape", "distance", "shared", "by",
                        ],
                    )
                    .or_else(|| Some(TEMPLATES_HINT.into())),
                );
                None
            }
        }
    }

    fn init_values(&mut self, v: &ast::Value) -> Option<InitValues> {
        match v {
            ast::Value::Number(n) => match n.text.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Some(InitValues::Number(x, n.span)),
                _ => {
                    self.err(
                        CheckErrorKind::Number(n.text.clone()),
                        n.span,
                        Some("probabilities are finite numbers >= 0".into()),
                    );
                    None
                }
            },
            ast::Value::Array { items, span } => {
                let items: Option<Vec<InitValues>> =
                    items.iter().map(|i| self.init_values(i)).collect();
                Some(InitValues::Array(items?, *span))
            }
            other => {
                self.err(
                    CheckErrorKind::Type {
                        expected: "a number or an array of numbers".into(),
                        found: "a word".into(),
                    },
                    other.span(),
                    None,
                );
                None
            }
        }
    }

    /// Checks nesting depth and, for closed domains, lengths. Vocabulary lengths are checked
    /// when the data is known (`crate::params`).
    fn check_init_shape(&mut self, family: &Family, init: &InitValues) {
        let dims: Vec<DomainId> = family
            .conditions
            .iter()
            .chain(std::iter::once(&family.outcome))
            .copied()
            .collect();
        let sizes: Vec<Option<usize>> = dims
            .iter()
            .map(|d| self.closed.get(d).map(Vec::len))
            .collect();
        if let Err((reason, span)) = shape_ok(init, &sizes) {
            self.err(
                CheckErrorKind::Shape {
                    family: family.name.clone(),
                    reason,
                },
                span,
                Some(format!(
                    "nest the values by condition, then outcome: {} level(s) of `[...]`",
                    dims.len()
                )),
            );
        }
    }

    fn tables(&mut self, file: &ast::File) {
        for t in &file.tables {
            if self.model.tables.iter().any(|x| x.name == t.name.name) {
                self.err(
                    CheckErrorKind::Duplicate {
                        what: "table",
                        name: t.name.name.clone(),
                    },
                    t.name.span,
                    None,
                );
                continue;
            }
            let args: Vec<Option<DomainId>> = t.args.iter().map(|a| self.domain_named(a)).collect();
            let result = self.domain_named(&t.result);
            let (Some(args), Some(result)) = (args.into_iter().collect::<Option<Vec<_>>>(), result)
            else {
                continue;
            };
            let Some(values) = self.table_values(t, &args, result) else {
                continue;
            };
            self.model.tables.push(Table {
                name: t.name.name.clone(),
                args,
                result,
                values,
                span: t.name.span,
            });
        }
    }

    fn table_values(
        &mut self,
        t: &ast::TableDecl,
        args: &[DomainId],
        result: DomainId,
    ) -> Option<Vec<u32>> {
        let mut arg_symbols = Vec::new();
        for (a, ident) in args.iter().zip(&t.args) {
            match self.closed.get(a) {
                Some(s) => arg_symbols.push(s.clone()),
                None => {
                    self.err(
                        CheckErrorKind::Unsupported(
                            "a table's domains must be closed, not vocabularies".into(),
                        ),
                        ident.span,
                        None,
                    );
                    return None;
                }
            }
        }
        let out_symbols = self.closed.get(&result).cloned().unwrap_or_default();
        let total: usize = arg_symbols.iter().map(Vec::len).product();
        let mut values: Vec<Option<u32>> = vec![None; total];
        let mut ok = true;
        for row in &t.rows {
            if row.inputs.len() != args.len() {
                self.err(
                    CheckErrorKind::Arity {
                        family: t.name.name.clone(),
                        expected: args.len(),
                        found: row.inputs.len(),
                    },
                    row.span,
                    Some(format!(
                        "each row lists {} input symbol(s), `->`, the result",
                        args.len()
                    )),
                );
                ok = false;
                continue;
            }
            let mut index = 0;
            for (sym, symbols) in row.inputs.iter().zip(&arg_symbols) {
                match symbols.iter().position(|s| *s == sym.name) {
                    Some(p) => index = index * symbols.len() + p,
                    None => {
                        self.unknown_symbol(sym, symbols);
                        ok = false;
                    }
                }
            }
            let out = out_symbols.iter().position(|s| *s == row.output.name);
            if out.is_none() {
                self.unknown_symbol(&row.output, &out_symbols);
                ok = false;
            }
            if let (true, Some(out)) = (ok, out) {
                if values[index].is_some() {
                    self.err(
                        CheckErrorKind::DuplicateRow {
                            table: t.name.name.clone(),
                            row: row_text(&row.inputs),
                        },
                        row.span,
                        None,
                    );
                }
                values[index] = Some(out as u32);
            }
        }
        if !ok {
            return None;
        }
        let missing: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| combination(i, &arg_symbols))
            .collect();
        if !missing.is_empty() {
            let shown: Vec<String> = missing.iter().take(3).map(|m| format!("`{m}`")).collect();
            let more = if missing.len() > 3 {
                format!(" and {} more", missing.len() - 3)
            } else {
                String::new()
            };
            self.err(
                CheckErrorKind::IncompleteTable {
                    table: t.name.name.clone(),
                    missing: format!("{}{more}", shown.join(", ")),
                },
                t.name.span,
                Some("a table gives a result for every combination of its inputs".into()),
            );
            return None;
        }
        Some(values.into_iter().map(|v| v.unwrap_or(0)).collect())
    }

    fn unknown_symbol(&mut self, sym: &ast::Ident, symbols: &[String]) {
        let hint = did_you_mean(&sym.name, symbols.iter().map(String::as_str));
        self.err(
            CheckErrorKind::Unknown {
                what: "symbol",
                name: sym.name.clone(),
            },
            sym.span,
            hint,
        );
    }

    // ---- training settings -------------------------------------------------------------------

    fn settings(&mut self, file: &ast::File) {
        for opts in &file.trains {
            for o in &opts.items {
                self.setting(o);
            }
        }
    }

    fn setting(&mut self, o: &ast::OptionItem) {
        let s = &mut self.model.settings;
        let key = o.key.name.as_str();
        let number = match &o.value {
            Some(ast::Value::Number(n)) => Some(n),
            _ => None,
        };
        let ok = match (key, number, &o.value) {
            ("iterations", Some(n), _) => n.text.parse().map(|v| s.iterations = v).is_ok(),
            ("restarts", Some(n), _) => n
                .text
                .parse::<usize>()
                .ok()
                .filter(|v| *v >= 1)
                .map(|v| s.restarts = v)
                .is_some(),
            ("seed", Some(n), _) => n.text.parse().map(|v| s.seed = v).is_ok(),
            ("tolerance", Some(n), _) => n
                .text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| s.tolerance = v)
                .is_some(),
            ("init", _, Some(ast::Value::Word(w))) => match w.name.as_str() {
                "random" => {
                    s.init = InitMode::Random;
                    true
                }
                "uniform" => {
                    s.init = InitMode::Uniform;
                    true
                }
                _ => false,
            },
            ("algorithm", _, Some(ast::Value::Word(w))) => match w.name.as_str() {
                "em" => {
                    s.algorithm = Algorithm::Em;
                    true
                }
                "direct" => {
                    s.algorithm = Algorithm::Direct;
                    true
                }
                _ => false,
            },
            _ => {
                let known = [
                    "iterations",
                    "tolerance",
                    "restarts",
                    "seed",
                    "init",
                    "algorithm",
                ];
                if known.contains(&key) {
                    false
                } else {
                    self.err(
                        CheckErrorKind::Option {
                            key: key.into(),
                            reason: "not a training setting".into(),
                        },
                        o.key.span,
                        did_you_mean(key, known),
                    );
                    return;
                }
            }
        };
        if !ok {
            self.err(
                CheckErrorKind::Option {
                    key: key.into(),
                    reason: "bad value".into(),
                },
                o.span,
                Some(match key {
                    "init" => "`init` is `random` or `uniform`".into(),
                    "algorithm" => "`algorithm` is `em` or `direct`".into(),
                    "tolerance" => "a finite number >= 0".into(),
                    "restarts" => "a whole number >= 1".into(),
                    _ => "a whole number >= 0".into(),
                }),
            );
        }
    }

    // ---- the story ---------------------------------------------------------------------------

    fn story(&mut self, file: &ast::File) {
        let block = match file.models.as_slice() {
            [] => {
                self.err(
                    CheckErrorKind::Missing("`model` block"),
                    Span::default(),
                    Some("write the generative story in `model { ... }`".into()),
                );
                return;
            }
            [b, rest @ ..] => {
                if let Some(second) = rest.first() {
                    self.err(
                        CheckErrorKind::Duplicate {
                            what: "block",
                            name: "model".into(),
                        },
                        second.span,
                        None,
                    );
                }
                b
            }
        };
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

    fn hidden(
        &mut self,
        name: &ast::Ident,
        domain: &ast::DomainRef,
        length: Option<&ast::Expr>,
        span: Span,
    ) {
        if self.lookup_name(&name.name).is_some() {
            self.err(
                CheckErrorKind::Duplicate {
                    what: "name",
                    name: name.name.clone(),
                },
                name.span,
                None,
            );
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

    fn stmt(&mut self, s: &ast::Stmt) -> Option<Stmt> {
        match s {
            ast::Stmt::Hidden { name, .. } => {
                self.err(
                    CheckErrorKind::NestedHidden(name.name.clone()),
                    name.span,
                    None,
                );
                None
            }
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
            ast::Stmt::Draw { target, call, span } => self.draw(target, call, *span, false),
            ast::Stmt::Assign { target, call, span } => self.draw(target, call, *span, true),
        }
    }

    fn bind(&mut self, name: &ast::Ident, ty: Ty) -> LocalId {
        let id = self.model.locals.len();
        self.local_types.insert(id, ty);
        self.model.locals.push(name.name.clone());
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.name.clone(), id);
        }
        id
    }

    fn draw(
        &mut self,
        target: &ast::Expr,
        call: &ast::Call,
        span: Span,
        assign: bool,
    ) -> Option<Stmt> {
        let name = call.name.name.as_str();
        if let Some(fid) = self.model.family_named(name) {
            if assign {
                self.err(
                    CheckErrorKind::Type {
                        expected: "a table after `=`".into(),
                        found: format!("family `{name}`"),
                    },
                    call.name.span,
                    Some(format!("a family is drawn from: write `~ {name}(...)`")),
                );
                return None;
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
                span,
            });
        }
        if let Some(tid) = self.model.tables.iter().position(|t| t.name == name) {
            if !assign {
                self.err(
                    CheckErrorKind::Type {
                        expected: "a family after `~`".into(),
                        found: format!("table `{name}`"),
                    },
                    call.name.span,
                    Some(format!("a table is deterministic: write `= {name}(...)`")),
                );
                return None;
            }
            let table = self.model.tables[tid].clone();
            let args = self.args(call, &table.args, &table.name)?;
            let target = self.target(target, table.result)?;
            return Some(Stmt::Draw {
                target,
                dist: Dist::Table(tid, args),
                span,
            });
        }
        if name == "uniform" && !assign {
            if call.args.as_ref().is_some_and(|a| !a.is_empty()) {
                self.err(
                    CheckErrorKind::Arity {
                        family: "uniform".into(),
                        expected: 0,
                        found: call.args.as_ref().map_or(0, Vec::len),
                    },
                    call.span,
                    Some("`x ~ uniform` draws x uniformly from its own domain".into()),
                );
                return None;
            }
            let target = self.expr(target, None)?;
            if !is_drawable(&target) {
                self.err(CheckErrorKind::InvalidTarget, target.span, None);
                return None;
            }
            return Some(Stmt::Draw {
                target,
                dist: Dist::Uniform,
                span,
            });
        }
        let mut names: Vec<String> = self.model.families.iter().map(|f| f.name.clone()).collect();
        names.extend(self.model.tables.iter().map(|t| t.name.clone()));
        names.push("uniform".into());
        let hint = did_you_mean(name, names.iter().map(String::as_str));
        self.err(
            CheckErrorKind::Unknown {
                what: if assign { "table" } else { "family" },
                name: name.into(),
            },
            call.name.span,
            hint,
        );
        None
    }

    fn args(&mut self, call: &ast::Call, domains: &[DomainId], callee: &str) -> Option<Vec<Expr>> {
        let given = call.args.as_deref().unwrap_or(&[]);
        if given.len() != domains.len() {
            self.err(
                CheckErrorKind::Arity {
                    family: callee.into(),
                    expected: domains.len(),
                    found: given.len(),
                },
                call.span,
                Some(format!(
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
                )),
            );
            return None;
        }
        let mut out = Vec::new();
        for (a, d) in given.iter().zip(domains) {
            out.push(self.expr(a, Some(&Ty::Sym(*d))));
        }
        out.into_iter().collect()
    }

    fn target(&mut self, target: &ast::Expr, domain: DomainId) -> Option<Expr> {
        let e = self.expr(target, Some(&Ty::Sym(domain)))?;
        if !is_drawable(&e) {
            self.err(
                CheckErrorKind::InvalidTarget,
                e.span,
                Some("the left of `~` names what is generated, e.g. `z[i]` or `w[i]`".into()),
            );
            return None;
        }
        Some(e)
    }

    /// A Gaussian draw generates an observed real value: a real field or one of its elements.
    fn real_target(&mut self, target: &ast::Expr, dim: usize) -> Option<Expr> {
        let e = self.expr(target, Some(&Ty::Real(dim)))?;
        let observed = match &e.kind {
            ExprKind::Field(_) => true,
            ExprKind::Index(a, _) => matches!(a.kind, ExprKind::Field(_)),
            _ => false,
        };
        if !observed {
            self.err(
                CheckErrorKind::InvalidTarget,
                e.span,
                Some("a Gaussian draws an observed real field, e.g. `x ~ g(c)` or `obs[i] ~ g(z[i])`".into()),
            );
            return None;
        }
        Some(e)
    }

    /// The dimension of `Real` (1) or `Real[D]`.
    fn real_dim(&mut self, r: &ast::RealType) -> usize {
        let Some(e) = &r.dim else {
            return 1;
        };
        match self.const_expr(e) {
            Some(d) if (1..=MAX_REAL_DIM).contains(&d) => d as usize,
            Some(d) => {
                self.err(
                    CheckErrorKind::Number(d.to_string()),
                    e.span,
                    Some(format!("a real vector has 1 to {MAX_REAL_DIM} numbers")),
                );
                1
            }
            None => 1,
        }
    }

    // ---- expressions -------------------------------------------------------------------------

    fn lookup_name(&self, name: &str) -> Option<ExprKind> {
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

    fn type_of_kind(&self, kind: &ExprKind) -> Ty {
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
    fn expr(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> Option<Expr> {
        let typed = self.infer(e, expected)?;
        if let Some(want) = expected {
            if !self.fits(&typed.ty, want) {
                self.err(
                    CheckErrorKind::Type {
                        expected: self.ty_name(want),
                        found: self.ty_name(&typed.ty),
                    },
                    e.span,
                    self.mismatch_hint(&typed.ty, want),
                );
                return None;
            }
        }
        Some(typed)
    }

    fn fits(&self, found: &Ty, want: &Ty) -> bool {
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

    fn is_range(&self, d: DomainId) -> bool {
        match self.model.domains[d].base {
            DomainBase::Range(..) => self.model.domains[d].extra.is_empty(),
            DomainBase::Extends(b) => self.model.domains[d].extra.is_empty() && self.is_range(b),
            _ => false,
        }
    }

    fn mismatch_hint(&self, found: &Ty, want: &Ty) -> Option<String> {
        match (found, want) {
            (Ty::Sym(a), Ty::Sym(b)) => Some(format!(
                "`{}` values can stand for `{}` only if `{}` is declared as `{} + {{...}}`",
                self.model.domains[*a].name,
                self.model.domains[*b].name,
                self.model.domains[*b].name,
                self.model.domains[*a].name
            )),
            (Ty::Seq(_), _) => Some("index the sequence, e.g. `w[i]`".into()),
            _ => None,
        }
    }

    fn ty_name(&self, t: &Ty) -> String {
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

    fn infer(&mut self, e: &ast::Expr, expected: Option<&Ty>) -> Option<Expr> {
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
                    self.err(
                        CheckErrorKind::Type {
                            expected: "a sequence".into(),
                            found: self.ty_name(&a.ty),
                        },
                        a.span,
                        None,
                    );
                    return None;
                }
                (ExprKind::Len(Box::new(a)), Ty::Int)
            }
            ast::ExprKind::Index(a, i) => {
                let seq_expected = expected.map(|t| Ty::Seq(Box::new(t.clone())));
                let a = self.infer(a, seq_expected.as_ref())?;
                let i = self.expr(i, Some(&Ty::Int))?;
                let Ty::Seq(elem) = a.ty.clone() else {
                    self.err(
                        CheckErrorKind::Type {
                            expected: "a sequence to index".into(),
                            found: self.ty_name(&a.ty),
                        },
                        a.span,
                        None,
                    );
                    return None;
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
                    self.err(
                        CheckErrorKind::Unsupported("an empty list".into()),
                        span,
                        None,
                    );
                    return None;
                };
                let ty = first.ty.clone();
                for t in &typed[1..] {
                    if t.ty != ty {
                        self.err(
                            CheckErrorKind::Type {
                                expected: self.ty_name(&ty),
                                found: self.ty_name(&t.ty),
                            },
                            t.span,
                            Some("all items of a list have one type".into()),
                        );
                        return None;
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
                    self.err(
                        CheckErrorKind::Type {
                            expected: self.ty_name(&b.ty),
                            found: self.ty_name(&a.ty),
                        },
                        a.span,
                        Some("`++` joins two sequences of the same domain".into()),
                    );
                    return None;
                };
                if !matches!(ty, Ty::Seq(_)) {
                    self.err(
                        CheckErrorKind::Type {
                            expected: "a sequence".into(),
                            found: self.ty_name(&ty),
                        },
                        span,
                        Some("wrap a single value in a list: `[x] ++ s`".into()),
                    );
                    return None;
                }
                (
                    ExprKind::Binary(BinOp::Concat, Box::new(a), Box::new(b)),
                    ty,
                )
            }
            ast::ExprKind::Binary(op, a, b) => {
                let a = self.expr(a, Some(&Ty::Int))?;
                let b = self.expr(b, Some(&Ty::Int))?;
                (ExprKind::Binary(*op, Box::new(a), Box::new(b)), Ty::Int)
            }
        };
        Some(Expr { kind, ty, span })
    }

    fn name(&mut self, n: &str, span: Span, expected: Option<&Ty>) -> Option<Expr> {
        if let Some(kind) = self.lookup_name(n) {
            let ty = match &kind {
                ExprKind::Local(l) => self.local_types.get(l).cloned().unwrap_or(Ty::Int),
                k => self.type_of_kind(k),
            };
            if let ExprKind::Field(f) = kind {
                if self.model.fields[f].kind == FieldKind::Weight {
                    self.err(
                        CheckErrorKind::Type {
                            expected: "a value of the story".into(),
                            found: format!("the weight field `{n}`"),
                        },
                        span,
                        Some(
                            "a weight says how often a line counts; the story cannot use it".into(),
                        ),
                    );
                    return None;
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
        self.err(
            CheckErrorKind::Unknown {
                what: "name",
                name: n.into(),
            },
            span,
            hint,
        );
        None
    }

    /// The domain a bare symbol belongs to: the expected one if it declares the symbol,
    /// otherwise the only domain that declares it.
    fn symbol_domain(&self, n: &str, expected: Option<&Ty>) -> Option<DomainId> {
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

fn row_text(inputs: &[ast::Ident]) -> String {
    format!(
        "`{}`",
        inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn combination(mut index: usize, symbols: &[Vec<String>]) -> String {
    let mut parts = vec![String::new(); symbols.len()];
    for (k, s) in symbols.iter().enumerate().rev() {
        parts[k] = s[index % s.len()].clone();
        index /= s.len();
    }
    parts.join(" ")
}

/// Checks an init array against per-level sizes (`None`: a vocabulary, length unknown yet).
pub fn shape_ok(v: &InitValues, sizes: &[Option<usize>]) -> Result<(), (String, Span)> {
    match (v, sizes.split_first()) {
        (InitValues::Number(_, s), None) => {
            let _ = s;
            Ok(())
        }
        (InitValues::Number(_, s), Some(_)) => {
            Err(("expected an array here, found a number".into(), *s))
        }
        (InitValues::Array(_, s), None) => {
            Err(("expected a number here, found an array".into(), *s))
        }
        (InitValues::Array(items, s), Some((size, rest))) => {
            if let Some(n) = size {
                if items.len() != *n {
                    return Err((format!("expected {n} entries, found {}", items.len()), *s));
                }
            }
            items.iter().try_for_each(|i| shape_ok(i, rest))
        }
    }
}
