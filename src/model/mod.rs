//! The checked model: every name resolved to an id, every expression typed, every option
//! validated. It is independent of the data; vocabularies get their symbols later
//! (`data::Domains`), which depends on this module and not the other way round.

use crate::syntax::ast::{BinOp, Span};
use std::sync::Arc;

mod settings;
pub use settings::*;

pub type DomainId = usize;
pub type FieldId = usize;
pub type FamilyId = usize;
pub type TableId = usize;
pub type HiddenId = usize;
pub type LocalId = usize;
pub type ProcId = usize;

#[derive(Clone, Debug)]
pub struct Model {
    pub consts: Vec<(String, i64)>,
    pub domains: Vec<Domain>,
    pub fields: Vec<Field>,
    /// The data line's layout: groups separated by `|||`, each a list of fields.
    pub groups: Vec<Vec<FieldId>>,
    pub families: Vec<Family>,
    pub tables: Vec<Table>,
    pub hiddens: Vec<HiddenDecl>,
    /// Names of loop variables and `let` bindings, by `LocalId`.
    pub locals: Vec<String>,
    pub story: Vec<Stmt>,
    /// The story's procedures; not empty exactly when the story is structured.
    pub procs: Vec<Proc>,
    /// Whether the story uses procedures, `if` or `for some`: then every data line becomes a
    /// hypergraph of calls (`structured`), not a factor graph.
    pub structured: bool,
    pub settings: Settings,
}

/// `proc name(params) { body }`.
#[derive(Clone, Debug)]
pub struct Proc {
    pub name: String,
    /// The locals the arguments bind, in order, with their types.
    pub params: Vec<(LocalId, Ty)>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Domain {
    pub name: String,
    pub base: DomainBase,
    /// Symbols appended by `+ {X}`; they come after the base's symbols.
    pub extra: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum DomainBase {
    Symbols(Vec<String>),
    /// Integers `lo..hi`, `hi` excluded.
    Range(i64, i64),
    /// Symbols seen in the data fields, in order of first appearance.
    Vocabulary(Vocabulary),
    /// Another domain's symbols first, so its values embed unchanged.
    Extends(DomainId),
    /// The spans of a sequence field the data holds, of length 1 to `max_len`, in order of
    /// first appearance; a span's symbol is its elements' symbols joined.
    Substrings {
        field: FieldId,
        max_len: usize,
    },
}

#[derive(Clone, Debug)]
pub struct Vocabulary {
    pub fields: Vec<FieldId>,
    /// A symbol that words outside the vocabulary (or rarer than `min_count`) become; without
    /// one, such a word is an error.
    pub unknown: Option<String>,
    pub min_count: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Scalar,
    Sequence,
    /// How many times the line counts (e.g. a phenotype and its frequency).
    Weight,
}

/// The domain of a `weight` field, which holds numbers, not symbols.
pub const NO_DOMAIN: DomainId = usize::MAX;

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    /// `NO_DOMAIN` for `Weight` and real fields.
    pub domain: DomainId,
    /// For real-valued fields, the numbers per value (1 for `Real`).
    pub real: Option<usize>,
    pub span: Span,
    /// The story draws this field itself (`w[i] ~ ...`, `x ~ ...`): on every line each of its
    /// values must then be drawn exactly once, which the unroller checks.
    pub generated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FamilyKind {
    Categorical,
    /// `theta[c, o] = exp(w . g(c, o)) / sum_o' exp(w . g(c, o'))` over feature templates.
    Logistic(Logistic),
    /// A (multivariate) normal density per condition row over a real-valued outcome.
    Gaussian(Gaussian),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    pub dim: usize,
    pub covariance: Covariance,
    /// Added to the diagonal of every covariance the M-step estimates (scikit-learn's
    /// `reg_covar`), so that a component on few or identical points stays positive definite.
    pub reg_covar: f64,
    /// How rows without given values start.
    pub seeding: Seeding,
    /// Given initial means (one per condition row) and covariances (full matrices).
    pub init_means: Option<Vec<Vec<f64>>>,
    pub init_covariances: Option<Vec<Vec<Vec<f64>>>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seeding {
    /// Means are observations picked by k-means++; covariances the data's.
    KMeansPlusPlus,
    /// Every observation gets random responsibilities; the first M-step starts from them.
    Random,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Covariance {
    Full,
    Diagonal,
    /// One variance per condition row.
    Spherical,
    /// One full covariance shared by all condition rows.
    Tied,
}

impl Covariance {
    pub fn name(self) -> &'static str {
        match self {
            Covariance::Full => "full",
            Covariance::Diagonal => "diagonal",
            Covariance::Spherical => "spherical",
            Covariance::Tied => "tied",
        }
    }
}

impl FamilyKind {
    pub fn name(&self) -> &'static str {
        match self {
            FamilyKind::Categorical => "Categorical",
            FamilyKind::Logistic(_) => "Logistic",
            FamilyKind::Gaussian(_) => "Gaussian",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Logistic {
    pub features: Vec<Feature>,
    /// L2 strength kappa: the penalty is `kappa * |w|^2`.
    pub l2: f64,
    /// Algorithm 1's M-step stops once the gradient is this fraction of its size at the
    /// M-step's (warm) start; 0 runs it to convergence.
    pub m_step_tolerance: f64,
}

/// One feature template and the condition parts it is conjoined with.
#[derive(Clone, Debug, PartialEq)]
pub struct Feature {
    pub template: Template,
    /// Indices into the family's conditions; each distinct value of these parts gets its own
    /// copy of the template's weights.
    pub conjoin: Vec<usize>,
    /// Per entry of `conjoin`: the coarse classes its symbols are read through, if any
    /// (`by(coarse(1, "NOUN PROPN"), word)`), so that a feature can back off from a head's
    /// tag to its class without the model drawing the class.
    pub coarse: Vec<Option<Groups>>,
    pub span: Span,
}

/// Coarse classes of a domain's symbols: each group is its members, space-separated. A
/// symbol in no group is a class of its own.
pub type Groups = Arc<[Arc<str>]>;

/// The class of `symbol` under `groups`: its group's members joined by `+`, or the symbol.
pub fn coarse_class(groups: &Groups, symbol: &str) -> String {
    groups
        .iter()
        .find(|g| g.split_whitespace().any(|m| m == symbol))
        .map_or_else(
            || symbol.to_string(),
            |g| g.split_whitespace().collect::<Vec<_>>().join("+"),
        )
}

/// What a feature looks at. All but `Distance` and the pair templates (`CommonPrefix`,
/// `EditDistance`, `PrefixPair`: the outcome against the first condition's symbol) read the
/// outcome's symbol text (for a span of an observed sequence, its elements joined).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Template {
    /// The outcome itself.
    Word,
    /// The last `n` characters (words shorter than `n` have none); with a class, each
    /// character as `V` (in the class) or `C` (not).
    Suffix(usize, Option<Arc<str>>),
    /// The first `n` characters, or their classes as for `Suffix`.
    Prefix(usize, Option<Arc<str>>),
    /// Contains a digit.
    Digit,
    /// Contains a hyphen.
    Hyphen,
    /// Starts with an upper-case letter.
    Capital,
    /// Has letters, all upper-case.
    AllCaps,
    /// Character classes (`Xx`, `d`, punctuation kept), runs collapsed: `McDonald's` is `XxXx'x`.
    Shape,
    /// The number of characters (a word's length: a segmentation's length penalty).
    Length,
    /// How many characters are in the class (a word's vowels).
    Count(Arc<str>),
    /// Outcome minus the first condition as integers, clamped to `-n..=n` (alignment distortion).
    Distance(i64),
    /// The outcome's coarse class (a tag's: noun-like, verb-like), see [`coarse_class`].
    Coarse(Groups),
    /// The length of the prefix the outcome shares with the first condition's symbol, clamped
    /// to `n` (orthographic similarity of a translation pair: cognates).
    CommonPrefix(usize),
    /// The Levenshtein distance between the outcome and the first condition's symbol, in
    /// characters, clamped to `n` (0: the same word).
    EditDistance(usize),
    /// The pair (the outcome's first `n` characters, the first condition's first `n`), each
    /// the whole symbol when shorter: stem pairs of a translation table. Conjoined with that
    /// pair's condition side only.
    PrefixPair(usize),
}

/// The groups as a template's arguments are written: `"NOUN PROPN", "VERB AUX"`.
pub fn groups_text(groups: &Groups) -> String {
    let quoted: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
    quoted.join(", ")
}

impl Template {
    pub fn name(&self) -> String {
        let class = |c: &Option<Arc<str>>| match c {
            Some(c) => format!(", {c:?}"),
            None => String::new(),
        };
        match self {
            Template::Word => "word".into(),
            Template::Suffix(n, c) => format!("suffix({n}{})", class(c)),
            Template::Prefix(n, c) => format!("prefix({n}{})", class(c)),
            Template::Digit => "digit".into(),
            Template::Hyphen => "hyphen".into(),
            Template::Capital => "capital".into(),
            Template::AllCaps => "allcaps".into(),
            Template::Shape => "shape".into(),
            Template::Length => "length".into(),
            Template::Count(c) => format!("count({c:?})"),
            Template::Distance(n) => format!("distance({n})"),
            Template::Coarse(g) => format!("coarse({})", groups_text(g)),
            Template::CommonPrefix(n) => format!("common_prefix({n})"),
            Template::EditDistance(n) => format!("edit_distance({n})"),
            Template::PrefixPair(n) => format!("prefix_pair({n})"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Family {
    pub name: String,
    pub kind: FamilyKind,
    pub outcome: DomainId,
    pub conditions: Vec<DomainId>,
    /// Not learned: keeps its initial values.
    pub fixed: bool,
    /// Initial values, nested by condition then outcome.
    pub init: Option<InitValues>,
    /// Dirichlet pseudo-count added to every expected count (add-lambda); 0 is plain ML.
    pub smoothing: f64,
    /// How a Categorical family's table is stored.
    pub storage: Storage,
    pub span: Span,
}

impl Family {
    pub fn is_gaussian(&self) -> bool {
        matches!(self.kind, FamilyKind::Gaussian(_))
    }

    /// Whether the family can be stored sparse: its unstored entries must be able to stay at
    /// zero, so it learns (not fixed), starts from no given values and adds no pseudo-counts.
    pub fn can_be_sparse(&self) -> bool {
        !self.fixed && self.init.is_none() && self.smoothing == 0.0
    }
}

/// A Categorical table stored whole, or only the entries the data can reach (the rest of a
/// row never gets counts, so EM keeps it at zero): a translation table over two
/// vocabularies has hundreds of millions of entries, of which a corpus reaches a few million.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// Sparse when the whole table would have `params::SPARSE_FROM` entries or more.
    Auto,
    Dense,
    Sparse,
}

/// A nested array literal from the model file, kept with spans for shape errors.
#[derive(Clone, Debug)]
pub enum InitValues {
    Number(f64, Span),
    Array(Vec<InitValues>, Span),
}

impl InitValues {
    pub fn span(&self) -> Span {
        match self {
            InitValues::Number(_, s) | InitValues::Array(_, s) => *s,
        }
    }
}

/// A deterministic function of symbols, e.g. the ABO phenotype of a genotype.
#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub args: Vec<DomainId>,
    pub result: DomainId,
    /// Row-major over the arguments' symbols: the result symbol's index.
    pub values: Vec<u32>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct HiddenDecl {
    pub name: String,
    pub domain: HiddenDomain,
    /// `Some` for arrays `[D; n]`.
    pub length: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum HiddenDomain {
    Domain(DomainId),
    /// An index `lo..hi` whose bounds may depend on the instance (`0..len(src)`).
    Range(Expr, Expr),
}

#[derive(Clone, Debug)]
pub enum Stmt {
    /// Creates the hidden variables of a declaration (top level only).
    Hidden(HiddenId),
    For {
        local: LocalId,
        lo: Expr,
        hi: Expr,
        body: Vec<Stmt>,
        span: Span,
    },
    Let {
        local: LocalId,
        value: Expr,
        span: Span,
    },
    Draw {
        target: Expr,
        dist: Dist,
        /// `from` / `within` after a family draw of a structured story.
        restrict: Option<Box<Restriction>>,
        span: Span,
    },
    /// A hidden scalar local of a structured story, drawn later in its block: drawing it
    /// splits the branch into one branch per value.
    HiddenLocal {
        local: LocalId,
        domain: DomainId,
        span: Span,
    },
    If {
        cond: Cond,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
        span: Span,
    },
    /// `for some local in lo..hi { body }`: one branch per value, unweighted.
    Some {
        local: LocalId,
        lo: Expr,
        hi: Expr,
        body: Vec<Stmt>,
        span: Span,
    },
    Call {
        proc: ProcId,
        args: Vec<Expr>,
        span: Span,
    },
    /// What decoding prints of a derivation that runs it; no weight, no event.
    Output { what: Output, span: Span },
    /// `weight exp(...)`: a derivation that runs it is multiplied by
    /// `exp(sum of coef * base ^ power)` over `terms`, a fixed factor that is neither a
    /// probability nor learned, and is no event (structured stories only).
    Weight { terms: Vec<WeightTerm>, span: Span },
}

/// A term `coef * base ^ power` of a `weight` exponent; `base` is a known integer.
#[derive(Clone, Debug)]
pub struct WeightTerm {
    pub coef: f64,
    pub base: Expr,
    pub power: f64,
}

/// The forms of `output` (structured stories only).
#[derive(Clone, Debug)]
pub enum Output {
    /// Element `index` of the line's array `name` is `value` (an integer or a symbol).
    At {
        name: String,
        index: Expr,
        value: Expr,
    },
    /// A constituent labelled by a symbol over elements `lo..hi` of a sequence field.
    Bracket {
        label: Expr,
        field: FieldId,
        lo: Expr,
        hi: Expr,
    },
}

/// A draw's row normalised over the outcomes the line allows: the drawn value is `from`
/// plus the family's outcome (both integers; `from` absent: 0), and the values it may take
/// are those of `domain` (the target's) within `lo .. hi`. The row is divided by the sum of
/// the entries those values reach, so a jump distribution over widths is normalised over
/// the positions of this sentence.
#[derive(Clone, Debug)]
pub struct Restriction {
    pub from: Option<Expr>,
    pub within: Option<(Expr, Expr)>,
    /// The domain of the drawn value (a range, or an extension of one).
    pub domain: DomainId,
    pub span: Span,
}

/// A condition on known values (integers or symbols).
#[derive(Clone, Debug)]
pub enum Cond {
    Compare(crate::syntax::ast::CmpOp, Expr, Expr),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

#[derive(Clone, Debug)]
pub enum Dist {
    Family(FamilyId, Vec<Expr>),
    Uniform,
    Table(TableId, Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Sym(DomainId),
    Seq(Box<Ty>),
    /// An observed real number or vector (its dimension): only ever drawn from a Gaussian.
    Real(usize),
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Ty,
    pub span: Span,
}

impl Expr {
    /// The data field a draw's target is, or an element of (`x`, `w[i]`).
    pub fn drawn_field(&self) -> Option<FieldId> {
        match &self.kind {
            ExprKind::Field(f) => Some(*f),
            ExprKind::Index(a, _) => match a.kind {
                ExprKind::Field(f) => Some(f),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    /// A symbol of the domain in `ty`, by name (vocabulary indices exist only with data).
    Symbol(String),
    Local(LocalId),
    Field(FieldId),
    Hidden(HiddenId),
    Len(Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    /// `s[lo..hi]` of a sequence field: a span, only ever the outcome of a draw from a
    /// family over a `substrings` domain of that field.
    Slice(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `min(a, b)` (`true`) or `max(a, b)` of integers.
    MinMax(bool, Box<Expr>, Box<Expr>),
    List(Vec<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

impl Model {
    /// Whether some draw is restricted per line (`within`, `from`): its row divides by a sum
    /// over the allowed outcomes.
    pub fn restricts(&self) -> bool {
        self.any_stmt(&|s| {
            matches!(
                s,
                Stmt::Draw {
                    restrict: Some(_),
                    ..
                }
            )
        })
    }

    /// The span of a `weight` statement, if the story has one.
    pub fn weight_span(&self) -> Option<Span> {
        let found = std::cell::Cell::new(None);
        self.any_stmt(&|s| match s {
            Stmt::Weight { span, .. } => {
                found.set(Some(*span));
                true
            }
            _ => false,
        });
        found.get()
    }

    /// Whether `test` holds for some statement of the story or its procedures.
    fn any_stmt(&self, test: &dyn Fn(&Stmt) -> bool) -> bool {
        fn any(stmts: &[Stmt], test: &dyn Fn(&Stmt) -> bool) -> bool {
            stmts.iter().any(|s| {
                test(s)
                    || match s {
                        Stmt::For { body, .. } | Stmt::Some { body, .. } => any(body, test),
                        Stmt::If {
                            then, otherwise, ..
                        } => any(then, test) || any(otherwise, test),
                        _ => false,
                    }
            })
        }
        any(&self.story, test) || self.procs.iter().any(|p| any(&p.body, test))
    }

    /// The first integer of a range domain (or of the range an extension starts with);
    /// `None` for symbols and vocabularies.
    pub fn range_start(&self, d: DomainId) -> Option<i64> {
        match self.domains[d].base {
            DomainBase::Range(lo, _) => Some(lo),
            DomainBase::Extends(b) => self.range_start(b),
            _ => None,
        }
    }

    /// Whether values of `value` may stand where `expected` is wanted: the same domain, or a
    /// domain that extends it (`Next = State + {STOP}` accepts a `State`).
    pub fn embeds(&self, value: DomainId, expected: DomainId) -> bool {
        let mut d = expected;
        loop {
            if d == value {
                return true;
            }
            match self.domains[d].base {
                DomainBase::Extends(b) => d = b,
                _ => return false,
            }
        }
    }

    /// The symbols of a domain that does not depend on the data; `None` for vocabularies and
    /// the domains that extend them. Extra symbols already in the base are not repeated.
    pub fn closed_symbols(&self, d: DomainId) -> Option<Vec<String>> {
        // The chain of extensions, innermost last; the checker bounds its length and refuses
        // cycles. Walked without recursion, and deduplicated through a set: a model may
        // declare thousands of domains.
        let mut chain = vec![d];
        let mut base = d;
        while let DomainBase::Extends(b) = self.domains[base].base {
            base = b;
            chain.push(b);
            if chain.len() > self.domains.len() {
                return None;
            }
        }
        let mut symbols = match &self.domains[base].base {
            DomainBase::Symbols(s) => s.clone(),
            DomainBase::Range(lo, hi) => (*lo..*hi).map(|v| v.to_string()).collect(),
            DomainBase::Vocabulary(_) | DomainBase::Substrings { .. } | DomainBase::Extends(_) => {
                return None
            }
        };
        let mut seen: std::collections::HashSet<String> = symbols.iter().cloned().collect();
        for dom in chain.iter().rev() {
            for x in &self.domains[*dom].extra {
                if seen.insert(x.clone()) {
                    symbols.push(x.clone());
                }
            }
        }
        Some(symbols)
    }

    pub fn hidden_named(&self, name: &str) -> Option<HiddenId> {
        self.hiddens.iter().position(|h| h.name == name)
    }

    pub fn family_named(&self, name: &str) -> Option<FamilyId> {
        self.families.iter().position(|f| f.name == name)
    }
}

// ---- limits and defaults the checker applies and later stages rely on ----------------------

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

/// How far a row of given initial values may sum from 1. `emc check` and the start of training
/// both refuse a row beyond it, so a model that checks also starts.
pub const INIT_SUM_TOLERANCE: f64 = 1e-6;

/// Checks an init array against per-level sizes (`None`: a vocabulary, length unknown yet).
pub fn shape_ok(v: &InitValues, sizes: &[Option<usize>]) -> Result<(), (String, Span)> {
    match (v, sizes.split_first()) {
        (InitValues::Number(..), None) => Ok(()),
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
