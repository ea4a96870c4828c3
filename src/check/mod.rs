//! Syntax tree to checked model: resolves names, evaluates constants, types every expression of
//! the story, and validates options, tables and shapes. It reports every error it finds, not
//! only the first, each with the span it concerns and a hint.
//!
//! One `Checker` holds the model being built and the errors found; each concern has its file:
//! `consts`, `domains`, `fields` (the data line and the fields vocabularies collect), `families`
//! (kinds, Categorical options, initial values), `gaussian` and `logistic` (their options and
//! feature templates), `tables`, `settings`, `story` (statements and draws) and `exprs`
//! (expressions and their types). `check` runs them in that order, since later concerns look
//! up what earlier ones declared. Errors are raised with `error!` and `bail!` below.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::model::*;
use crate::syntax::ast::{self, Span};

/// Records an error at a span, with an optional hint, where the checker finds it:
/// `error!(self, span, Kind::unknown("domain", name), did_you_mean(name, known))`.
/// The hint is text or an `Option<String>` (a suggestion that may not exist).
macro_rules! error {
    ($c:expr, $span:expr, $kind:expr $(,)?) => {{
        let e = $crate::check::CheckError::new($kind, $span);
        $c.errors.push(e);
    }};
    ($c:expr, $span:expr, $kind:expr, $hint:expr $(,)?) => {{
        let e = $crate::check::CheckError::new($kind, $span)
            .hint($crate::check::IntoHint::into_hint($hint));
        $c.errors.push(e);
    }};
}

/// As `error!`, then returns `None`: what was being checked has no meaning to return.
macro_rules! bail {
    ($($args:tt)+) => {{
        error!($($args)+);
        return None;
    }};
}

mod bounds;
pub mod calls;
mod consts;
pub mod contract;
mod domains;
mod exprs;
mod families;
mod fields;
mod gaussian;
mod logistic;
mod output;
mod procs;
mod restrict;
mod settings;
pub mod shape;
mod story;
mod substrings;
mod tables;
mod termination;

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
    #[error("the initial values of `{family}` for condition {condition} sum to {sum}, not 1")]
    NotNormalised {
        family: String,
        condition: String,
        sum: f64,
    },
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
    #[error("this call of `{callee}` may recurse without end: along {cycle}, no span gets shorter and no position is shown to move towards a bound")]
    NonTerminating { callee: String, cycle: String },
    #[error("a unary cycle: along {cycle}, `{callee}` is called again {same}, so its derivations need never end")]
    UnaryCycle {
        callee: String,
        cycle: String,
        /// "on the same positions (i, k)", or that it has none.
        same: String,
    },
    #[error("the recursion through `{0}` has too many call patterns to be shown to end")]
    TooComplex(String),
    #[error("data field `{0}` is never used by the story")]
    UnusedField(String),
    #[error("{0} more error(s) not shown")]
    More(usize),
    #[error("domain `{name}` has {size} values, more than the limit of {limit}")]
    DomainTooLarge {
        name: String,
        size: i128,
        limit: i64,
    },
}

/// Short constructors for the kinds most raise sites use.
impl CheckErrorKind {
    fn unknown(what: &'static str, name: impl Into<String>) -> CheckErrorKind {
        CheckErrorKind::Unknown {
            what,
            name: name.into(),
        }
    }

    fn duplicate(what: &'static str, name: impl Into<String>) -> CheckErrorKind {
        CheckErrorKind::Duplicate {
            what,
            name: name.into(),
        }
    }

    fn option(key: impl Into<String>, reason: impl Into<String>) -> CheckErrorKind {
        CheckErrorKind::Option {
            key: key.into(),
            reason: reason.into(),
        }
    }

    fn ty(expected: impl Into<String>, found: impl Into<String>) -> CheckErrorKind {
        CheckErrorKind::Type {
            expected: expected.into(),
            found: found.into(),
        }
    }

    fn number(text: impl Into<String>) -> CheckErrorKind {
        CheckErrorKind::Number(text.into())
    }

    fn unsupported(what: impl Into<String>) -> CheckErrorKind {
        CheckErrorKind::Unsupported(what.into())
    }
}

/// What `error!` accepts as a hint: text, or a suggestion that may not exist.
trait IntoHint {
    fn into_hint(self) -> Option<String>;
}

impl IntoHint for &str {
    fn into_hint(self) -> Option<String> {
        Some(self.to_string())
    }
}

impl IntoHint for String {
    fn into_hint(self) -> Option<String> {
        Some(self)
    }
}

impl IntoHint for Option<String> {
    fn into_hint(self) -> Option<String> {
        self
    }
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

/// Most errors reported for one model file.
const MAX_ERRORS: usize = 50;

/// The name of the stand-in domain for unresolved domain names (not a valid identifier).
const ERROR_DOMAIN: &str = "<unresolved>";

/// Checks a parsed file. `overrides` are `NAME=VALUE` settings of constants from the command line.
pub fn check(file: &ast::File, overrides: &[(String, String)]) -> Result<Model, Vec<CheckError>> {
    check_inner(file, overrides, true)
}

/// As [`check`], without the termination check of structured stories: for tests of the
/// run-time guards (the call budget, the cycle found while ordering a line's calls), which a
/// checked story never reaches.
#[doc(hidden)]
pub fn check_without_termination(
    file: &ast::File,
    overrides: &[(String, String)],
) -> Result<Model, Vec<CheckError>> {
    check_inner(file, overrides, false)
}

fn check_inner(
    file: &ast::File,
    overrides: &[(String, String)],
    termination: bool,
) -> Result<Model, Vec<CheckError>> {
    let mut c = Checker::default();
    c.consts(file, overrides);
    c.domains(file);
    c.data(file);
    c.vocabularies(file);
    c.families(file);
    c.tables(file);
    c.settings(file);
    c.model.structured = procs::is_structured(file);
    if c.model.structured {
        c.procs(file);
    }
    c.story(file);
    // Termination is about a well-typed story: checked only when the rest is.
    if termination && c.model.structured && c.errors.is_empty() {
        let calls = calls::analyse(&c.model);
        c.termination(&calls);
    }
    // After termination, so that a story with an unused field still has its recursion checked.
    if !file.models.is_empty() {
        c.contract();
    }
    if c.errors.is_empty() {
        Ok(c.model)
    } else {
        // A generated file can hold a million mistakes; the first ones are what helps.
        let more = c.errors.len().saturating_sub(MAX_ERRORS);
        if more > 0 {
            c.errors.truncate(MAX_ERRORS);
            c.errors.push(CheckError {
                kind: CheckErrorKind::More(more),
                span: None,
                hint: Some("fix these first".into()),
            });
        }
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
    /// Hidden scalar locals of a structured story: the locals a draw may generate.
    hidden_locals: std::collections::HashSet<LocalId>,
    /// Fields the story names anywhere (`contract.rs` refuses a field it never names).
    used_fields: std::collections::HashSet<FieldId>,
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
                procs: Vec::new(),
                structured: false,
                settings: Settings::default(),
            },
            errors: Vec::new(),
            closed: HashMap::new(),
            scopes: Vec::new(),
            local_types: HashMap::new(),
            hidden_locals: Default::default(),
            used_fields: Default::default(),
        }
    }
}

impl Checker {
    /// Reports every key given a second time in one option block; true if there was one.
    fn repeated_keys(&mut self, items: &[ast::OptionItem]) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut repeated = false;
        for o in items {
            if !seen.insert(o.key.name.as_str()) {
                error!(
                    self,
                    o.key.span,
                    CheckErrorKind::duplicate("option", &o.key.name),
                    "each option is given once: keep one of the two"
                );
                repeated = true;
            }
        }
        repeated
    }

    /// An error in a command-line setting, not in the file.
    fn err_unlocated(&mut self, kind: CheckErrorKind, hint: Option<String>) {
        self.errors.push(CheckError {
            kind,
            span: None,
            hint,
        });
    }
}
