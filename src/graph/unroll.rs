//! Runs the story of the checked model on one data instance and records what it draws.
//!
//! Values are either known integers (symbol indices, positions) or functions of hidden
//! variables, tabulated over their joint values (`Dep`). A draw turns its slots into a factor
//! whose scope is the union of the hidden variables its slots depend on.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

use super::{Entry, Factor, InstanceGraph, Var, VarDomain, VarId, VarOrigin};
use crate::data::{Dataset, Domains, FieldValue, Instance};
use crate::diagnostic::Diagnostic;
use crate::model::*;
use crate::params::Layout;
use crate::syntax::ast::{BinOp, Span};

/// Most loop passes the story may make on one instance.
const MAX_STEPS: u64 = 1 << 22;

/// Most values of one hidden variable, and most elements of one hidden array.
const MAX_VALUES: usize = 1 << 20;

/// Largest table one factor may have before the instance is refused.
const MAX_FACTOR_ENTRIES: usize = 1 << 24;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnrollErrorKind {
    #[error("index {index} is out of range for a sequence of length {len}")]
    Index { index: i64, len: usize },
    #[error("{value} is not a value of `{domain}` ({values})")]
    Domain {
        value: i64,
        domain: String,
        values: String,
    },
    #[error("this integer arithmetic overflows")]
    Overflow,
    #[error("this needs a known integer, but it depends on a hidden variable")]
    NotKnown,
    #[error("`{0}` is never drawn")]
    NotDrawn(String),
    #[error("`{0}` is drawn more than once")]
    DrawnTwice(String),
    #[error("the story makes more than {0} loop passes on one instance")]
    TooManySteps(u64),
    #[error("`{0}` is used as a condition before it is drawn")]
    UsedBeforeDrawn(String),
    #[error("the left of `~` must be a hidden variable itself, a data value or a symbol")]
    NotAVariable,
    #[error("`{name}` would have {size} values, more than the limit of {limit}")]
    TooManyValues {
        name: String,
        size: String,
        limit: usize,
    },
    #[error("a negative length {0}")]
    Negative(i64),
    #[error("an empty domain for `{0}`")]
    Empty(String),
    #[error("a factor over {vars} would have {entries} entries")]
    TooLarge { vars: String, entries: String },
    #[error("`uniform` needs a single hidden variable or a symbol on its left")]
    Uniform,
    #[error("`{0}` is not a symbol of its domain")]
    Symbol(String),
}

/// An error that arises only when the story runs on a particular line of data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{kind} (data line {line})")]
pub struct UnrollError {
    pub kind: UnrollErrorKind,
    /// In the model file.
    pub span: Span,
    /// 1-based data line; 0 for the probe instance.
    pub line: usize,
}

impl UnrollError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        let where_ = if self.line == 0 {
            format!("on a probe instance (sequences of length {PROBE_LENGTH})")
        } else {
            format!("on data line {}", self.line)
        };
        let hint = match self.kind {
            UnrollErrorKind::NotDrawn(_) => "every hidden variable and every `?` in the data needs exactly one `~` that generates it",
            UnrollErrorKind::DrawnTwice(_) => "a variable is generated once, here a second time; condition on it elsewhere instead",
            UnrollErrorKind::UsedBeforeDrawn(_) => "write the story in generative order: draw a variable before conditioning on it",
            UnrollErrorKind::NotAVariable => "draw the variable and condition on it, e.g. `a ~ uniform` then `f[j] ~ t(e[a])`",
            UnrollErrorKind::TooManyValues { .. } => "exact inference enumerates every value: use a smaller range or array",
            UnrollErrorKind::TooManySteps(_) => "loops run once per pass: bound them by `len(...)` of the data",
            UnrollErrorKind::Index { .. } => "check the loop bounds against `len(...)`",
            UnrollErrorKind::TooLarge { .. } => "a draw that depends on many hidden variables at once is exponential in their number",
            UnrollErrorKind::Overflow => "integers are 64-bit: between -2^63 and 2^63 - 1",
            _ if self.line == 0 => "check the loop bounds and indices of the story",
            _ => "check the story against this data line",
        };
        Diagnostic::error(format!("{} {where_}", self.kind), self.span)
            .with_label("while running this")
            .with_hint(hint)
    }
}

/// A function of hidden variables, tabulated row-major over `vars` (the last fastest).
#[derive(Debug)]
struct Dep {
    vars: Vec<VarId>,
    cards: Vec<usize>,
    table: Vec<i64>,
}

#[derive(Clone, Debug)]
enum Scalar {
    Known(i64),
    Dep(Rc<Dep>),
}

#[derive(Clone, Debug)]
enum Value {
    Scalar(Scalar),
    Seq(Rc<Vec<Scalar>>),
}

struct Unroller<'a, 'c> {
    model: &'a Model,
    domains: &'a Domains,
    layout: &'a Layout,
    instance: &'a Instance,
    vars: Vec<Var>,
    draws: Vec<u32>,
    var_spans: Vec<Span>,
    factors: Vec<Factor>,
    locals: Vec<Option<Value>>,
    hiddens: Vec<Option<Value>>,
    fields: Vec<Value>,
    /// Loop passes so far, against `MAX_STEPS`.
    steps: u64,
    /// Factor tables already built, by what determines their entries (see `table_key`).
    tables: &'c mut TableCache,
    /// Real vectors of the line; a real field's values are their indices here.
    observations: Vec<Vec<f64>>,
}

/// Factor tables already built, by what determines their entries (see `table_key`), which
/// does not depend on the instance: unrolling many instances with one cache builds an HMM's
/// transition table once instead of once per line.
#[derive(Default)]
pub struct TableCache {
    tables: HashMap<Vec<i64>, Rc<[Entry]>>,
    names: HashMap<String, Rc<str>>,
    /// Lookups and hits per draw statement (by its span's start): a draw whose tables
    /// rarely repeat (a translation table indexed through the words of a sentence) is not
    /// worth hashing its key and keeping its tables.
    use_by_draw: HashMap<usize, (u32, u32)>,
    /// When finding sparse families' supports: the entries of theirs that factors use, as
    /// `discovered_key`s, one per use. Graphs unrolled meanwhile point at them with
    /// `Entry::Param(UNPLACED | number)`, to be placed once every support is known.
    discovered: Option<RefCell<Vec<u64>>>,
}

/// A sparse family's entry as one number: the family in the top 16 bits, its dense position
/// (`row * n_out + out`, below 2^48: `params` checks) in the rest.
pub fn discovered_key(family: usize, rel: usize) -> u64 {
    (family as u64) << 48 | rel as u64
}

/// Marks an `Entry::Param` that numbers a discovered entry rather than a parameter (the
/// parameter vector is far shorter than 2^31).
pub const UNPLACED: u32 = 1 << 31;

/// Tables a cache keeps before it starts afresh, bounding its memory on huge vocabularies.
const CACHE_TABLES: usize = 1 << 16;

/// Lookups of one draw statement's tables before its hit rate decides whether to go on.
const CACHE_TRIAL: u32 = 1024;
const CACHE_HIT_RATE: u32 = 8;

impl TableCache {
    /// A cache that records which entries of sparse families the unrolled graphs use.
    pub fn discovering() -> TableCache {
        TableCache {
            discovered: Some(RefCell::new(Vec::new())),
            ..TableCache::default()
        }
    }

    /// The `discovered_key` of every use of a sparse family's entry so far: use `n` is what
    /// `Entry::Param(UNPLACED | n)` stands for.
    pub fn take_discovered(&mut self) -> Vec<u64> {
        self.discovered
            .as_mut()
            .map(|d| std::mem::take(d.get_mut()))
            .unwrap_or_default()
    }

    fn get(&mut self, draw: usize, key: &[i64]) -> Option<Rc<[Entry]>> {
        let found = self.tables.get(key).cloned();
        let (lookups, hits) = self.use_by_draw.entry(draw).or_default();
        *lookups += 1;
        *hits += u32::from(found.is_some());
        found
    }

    /// Whether tables of this draw statement are worth caching: until `CACHE_TRIAL` lookups,
    /// yes; after them, if at least one in `CACHE_HIT_RATE` hit.
    fn worth_caching(&self, draw: usize) -> bool {
        self.use_by_draw.get(&draw).is_none_or(|(lookups, hits)| {
            *lookups < CACHE_TRIAL || hits * CACHE_HIT_RATE >= *lookups
        })
    }

    fn insert(&mut self, key: Vec<i64>, entries: Rc<[Entry]>) {
        if self.tables.len() >= CACHE_TABLES {
            self.tables.clear();
        }
        self.tables.insert(key, entries);
    }

    /// One shared copy of each family's or table's name for the factors drawn from it.
    fn name(&mut self, name: &str) -> Rc<str> {
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        let n: Rc<str> = name.into();
        self.names.insert(name.to_string(), n.clone());
        n
    }
}

/// Unrolls the story on one instance.
pub fn unroll(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    instance: &Instance,
) -> Result<InstanceGraph, UnrollError> {
    unroll_cached(model, domains, layout, instance, &mut TableCache::default())
}

/// Unrolls the story on one instance, reusing tables built for earlier instances.
pub fn unroll_cached(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    instance: &Instance,
    tables: &mut TableCache,
) -> Result<InstanceGraph, UnrollError> {
    let mut u = Unroller {
        model,
        domains,
        layout,
        instance,
        vars: Vec::new(),
        draws: Vec::new(),
        var_spans: Vec::new(),
        factors: Vec::new(),
        locals: vec![None; model.locals.len()],
        hiddens: vec![None; model.hiddens.len()],
        fields: Vec::new(),
        tables,
        steps: 0,
        observations: Vec::new(),
    };
    u.bind_fields()?;
    u.block(&model.story)?;
    u.check_draws()?;
    Ok(InstanceGraph {
        vars: u.vars,
        factors: u.factors,
        weight: instance.weight,
        line: instance.line,
        observations: u.observations,
    })
}

/// A stand-in data set for analysing a model without data: every sequence has `PROBE_LENGTH` and
/// every vocabulary two placeholder words.
pub fn probe_dataset(model: &Model) -> Dataset {
    let symbols: Vec<Vec<String>> = (0..model.domains.len())
        .map(|d| probe_symbols(model, d))
        .collect();
    let values = model
        .fields
        .iter()
        .map(|f| match f.kind {
            FieldKind::Scalar if f.real.is_some() => {
                FieldValue::Real(vec![0.0; f.real.unwrap_or(1)])
            }
            FieldKind::Sequence if f.real.is_some() => {
                FieldValue::RealSequence(vec![vec![0.0; f.real.unwrap_or(1)]; PROBE_LENGTH])
            }
            FieldKind::Scalar => FieldValue::Scalar(Some(0)),
            FieldKind::Sequence => FieldValue::Sequence(vec![Some(0); PROBE_LENGTH]),
            FieldKind::Weight => FieldValue::Weight(1.0),
        })
        .collect();
    Dataset {
        instances: vec![Instance {
            line: 0,
            values,
            weight: 1.0,
        }],
        domains: Domains::new(symbols),
    }
}

/// Length of every sequence of the probe instance.
pub const PROBE_LENGTH: usize = 4;

/// A domain's symbols for the probe: vocabularies get two placeholder words (after their
/// unknown-word symbol), then the extra symbols of the domains built on them.
fn probe_symbols(model: &Model, d: DomainId) -> Vec<String> {
    if let Some(s) = model.closed_symbols(d) {
        return s;
    }
    let dom = &model.domains[d];
    let mut s = match &dom.base {
        DomainBase::Vocabulary(v) => {
            let mut s: Vec<String> = v.unknown.iter().cloned().collect();
            s.extend(["<word1>".to_string(), "<word2>".to_string()]);
            s
        }
        DomainBase::Extends(b) => probe_symbols(model, *b),
        DomainBase::Symbols(_) | DomainBase::Range(..) => Vec::new(),
    };
    for x in &dom.extra {
        if !s.contains(x) {
            s.push(x.clone());
        }
    }
    s
}

impl Unroller<'_, '_> {
    fn new_var(
        &mut self,
        name: String,
        card: usize,
        origin: VarOrigin,
        domain: VarDomain,
        span: Span,
    ) -> Result<Scalar, UnrollError> {
        if card == 0 {
            return Err(self.error(UnrollErrorKind::Empty(name), span));
        }
        let id = self.vars.len() as VarId;
        self.vars.push(Var {
            name,
            card: card as u32,
            origin,
            domain,
        });
        self.draws.push(0);
        self.var_spans.push(span);
        let offset = match domain {
            VarDomain::Integers(lo) => lo,
            VarDomain::Symbols(_) => 0,
        };
        Ok(Scalar::Dep(Rc::new(Dep {
            vars: vec![id],
            cards: vec![card],
            table: (0..card as i64).map(|v| v + offset).collect(),
        })))
    }

    /// Refuses a hidden variable with too many values, or an array with too many elements,
    /// before anything is allocated for it.
    fn check_count(&self, name: &str, n: usize, span: Span) -> Result<(), UnrollError> {
        if n <= MAX_VALUES {
            return Ok(());
        }
        Err(self.error(
            UnrollErrorKind::TooManyValues {
                name: name.to_string(),
                size: n.to_string(),
                limit: MAX_VALUES,
            },
            span,
        ))
    }

    fn error(&self, kind: UnrollErrorKind, span: Span) -> UnrollError {
        UnrollError {
            kind,
            span,
            line: self.instance.line,
        }
    }

    fn bind_fields(&mut self) -> Result<(), UnrollError> {
        for (fid, (f, v)) in self
            .model
            .fields
            .iter()
            .zip(&self.instance.values)
            .enumerate()
        {
            let card = if f.kind == FieldKind::Weight || f.real.is_some() {
                0
            } else {
                self.domains.size(f.domain)
            };
            let value = match v {
                FieldValue::Scalar(s) => {
                    Value::Scalar(self.observed(*s, &f.name, fid, None, card, f)?)
                }
                FieldValue::Sequence(items) => {
                    let seq: Vec<Scalar> = items
                        .iter()
                        .enumerate()
                        .map(|(i, s)| {
                            self.observed(*s, &format!("{}[{i}]", f.name), fid, Some(i), card, f)
                        })
                        .collect::<Result<_, _>>()?;
                    Value::Seq(Rc::new(seq))
                }
                FieldValue::Weight(w) => Value::Scalar(Scalar::Known(*w as i64)),
                FieldValue::Real(x) => Value::Scalar(self.observation(x)),
                FieldValue::RealSequence(xs) => {
                    Value::Seq(Rc::new(xs.iter().map(|x| self.observation(x)).collect()))
                }
            };
            self.fields.push(value);
        }
        Ok(())
    }

    /// A real vector of the line, as the index the story carries around for it.
    fn observation(&mut self, x: &[f64]) -> Scalar {
        self.observations.push(x.to_vec());
        Scalar::Known(self.observations.len() as i64 - 1)
    }

    /// A data value, or a new hidden variable where the data says `?`.
    fn observed(
        &mut self,
        v: Option<u32>,
        name: &str,
        field: usize,
        index: Option<usize>,
        card: usize,
        f: &Field,
    ) -> Result<Scalar, UnrollError> {
        match v {
            Some(v) => Ok(Scalar::Known(i64::from(v))),
            None => self.new_var(
                name.to_string(),
                card,
                VarOrigin::Missing { field, index },
                VarDomain::Symbols(f.domain),
                f.span,
            ),
        }
    }

    fn declare_hidden(&mut self, h: HiddenId) -> Result<(), UnrollError> {
        let decl = &self.model.hiddens[h];
        let (card, domain) = match &decl.domain {
            HiddenDomain::Domain(d) => (self.domains.size(*d) as i64, VarDomain::Symbols(*d)),
            HiddenDomain::Range(lo, hi) => {
                let lo = self.known_int(lo)?;
                let hi = self.known_int(hi)?;
                let card = hi
                    .checked_sub(lo)
                    .ok_or_else(|| self.error(UnrollErrorKind::Overflow, decl.span))?;
                (card, VarDomain::Integers(lo))
            }
        };
        let card = usize::try_from(card)
            .map_err(|_| self.error(UnrollErrorKind::Negative(card), decl.span))?;
        self.check_count(&decl.name, card, decl.span)?;
        let value = match &decl.length {
            None => Value::Scalar(self.new_var(
                decl.name.clone(),
                card,
                VarOrigin::Hidden {
                    decl: h,
                    index: None,
                },
                domain,
                decl.span,
            )?),
            Some(len) => {
                let n = self.known_int(len)?;
                let n = usize::try_from(n)
                    .map_err(|_| self.error(UnrollErrorKind::Negative(n), len.span))?;
                self.check_count(&decl.name, n, len.span)?;
                let mut seq = Vec::with_capacity(n);
                for i in 0..n {
                    seq.push(self.new_var(
                        format!("{}[{i}]", decl.name),
                        card,
                        VarOrigin::Hidden {
                            decl: h,
                            index: Some(i),
                        },
                        domain,
                        decl.span,
                    )?);
                }
                Value::Seq(Rc::new(seq))
            }
        };
        self.hiddens[h] = Some(value);
        Ok(())
    }

    fn block(&mut self, stmts: &[Stmt]) -> Result<(), UnrollError> {
        for s in stmts {
            match s {
                Stmt::Hidden(h) => self.declare_hidden(*h)?,
                Stmt::For {
                    local,
                    lo,
                    hi,
                    body,
                    span,
                } => {
                    let lo = self.known_int(lo)?;
                    let hi = self.known_int(hi)?;
                    // Every pass counts against a budget, so a huge loop is an error, not a hang.
                    let passes = u64::try_from(i128::from(hi) - i128::from(lo)).unwrap_or(0);
                    self.steps = self.steps.saturating_add(passes);
                    if self.steps > MAX_STEPS {
                        return Err(self.error(UnrollErrorKind::TooManySteps(MAX_STEPS), *span));
                    }
                    for i in lo..hi {
                        self.locals[*local] = Some(Value::Scalar(Scalar::Known(i)));
                        self.block(body)?;
                    }
                }
                Stmt::Let { local, value, .. } => {
                    let v = self.eval(value)?;
                    self.locals[*local] = Some(v);
                }
                Stmt::Draw { target, dist, span } => self.draw(target, dist, *span)?,
            }
        }
        Ok(())
    }

    fn known_int(&mut self, e: &Expr) -> Result<i64, UnrollError> {
        match self.eval(e)? {
            Value::Scalar(Scalar::Known(v)) => Ok(v),
            _ => Err(self.error(UnrollErrorKind::NotKnown, e.span)),
        }
    }

    fn eval(&mut self, e: &Expr) -> Result<Value, UnrollError> {
        Ok(match &e.kind {
            ExprKind::Int(v) => Value::Scalar(Scalar::Known(*v)),
            ExprKind::Symbol(name) => {
                let Ty::Sym(d) = e.ty else {
                    unreachable!("symbols are typed by the checker")
                };
                let i = self
                    .domains
                    .lookup(d, name)
                    .ok_or_else(|| self.error(UnrollErrorKind::Symbol(name.clone()), e.span))?;
                Value::Scalar(Scalar::Known(i64::from(i)))
            }
            ExprKind::Local(l) => self.locals[*l]
                .clone()
                .expect("checker binds locals before use"),
            ExprKind::Field(f) => self.fields[*f].clone(),
            ExprKind::Hidden(h) => self.hiddens[*h]
                .clone()
                .expect("hidden variables are declared first"),
            ExprKind::Len(a) => match self.eval(a)? {
                Value::Seq(s) => Value::Scalar(Scalar::Known(s.len() as i64)),
                Value::Scalar(_) => unreachable!("checker types len's argument as a sequence"),
            },
            ExprKind::Index(a, i) => {
                let seq = match self.eval(a)? {
                    Value::Seq(s) => s,
                    Value::Scalar(_) => unreachable!("checker types indexed values as sequences"),
                };
                let idx = self.scalar(i)?;
                Value::Scalar(self.index(&seq, idx, e.span)?)
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.scalar(it)?);
                }
                Value::Seq(Rc::new(out))
            }
            ExprKind::Binary(BinOp::Concat, a, b) => {
                let left = self.sequence_as(a, &e.ty)?;
                let right = self.sequence_as(b, &e.ty)?;
                Value::Seq(Rc::new(left.iter().chain(right.iter()).cloned().collect()))
            }
            ExprKind::Binary(op, a, b) => {
                let a = self.scalar(a)?;
                let b = self.scalar(b)?;
                let op = *op;
                let overflow = self.error(UnrollErrorKind::Overflow, e.span);
                Value::Scalar(self.combine(&[a, b], e.span, |v| {
                    match op {
                        BinOp::Add => v[0].checked_add(v[1]),
                        BinOp::Sub => v[0].checked_sub(v[1]),
                        _ => v[0].checked_mul(v[1]),
                    }
                    .ok_or_else(|| overflow.clone())
                })?)
            }
        })
    }

    /// Evaluates a `++` operand for a result of type `ty`. Integers joined to a sequence of a
    /// range domain become that domain's indices (in `1..4`, the integer 1 is index 0).
    fn sequence_as(&mut self, e: &Expr, ty: &Ty) -> Result<Rc<Vec<Scalar>>, UnrollError> {
        let Value::Seq(items) = self.eval(e)? else {
            unreachable!("checker types `++` operands as sequences")
        };
        let lo = match (&e.ty, ty) {
            (Ty::Seq(from), Ty::Seq(to)) => match (from.as_ref(), to.as_ref()) {
                (Ty::Int, Ty::Sym(d)) => range_start(self.model, *d).unwrap_or(0),
                _ => 0,
            },
            _ => 0,
        };
        if lo == 0 {
            return Ok(items);
        }
        let shifted = items
            .iter()
            .map(|s| self.combine(std::slice::from_ref(s), e.span, |v| Ok(v[0] - lo)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Rc::new(shifted))
    }

    fn scalar(&mut self, e: &Expr) -> Result<Scalar, UnrollError> {
        match self.eval(e)? {
            Value::Scalar(s) => Ok(s),
            Value::Seq(_) => unreachable!("checker types this as a scalar"),
        }
    }

    fn index(&self, seq: &[Scalar], idx: Scalar, span: Span) -> Result<Scalar, UnrollError> {
        let get = |i: i64| -> Result<&Scalar, UnrollError> {
            usize::try_from(i)
                .ok()
                .and_then(|i| seq.get(i))
                .ok_or_else(|| {
                    self.error(
                        UnrollErrorKind::Index {
                            index: i,
                            len: seq.len(),
                        },
                        span,
                    )
                })
        };
        match idx {
            Scalar::Known(i) => Ok(get(i)?.clone()),
            Scalar::Dep(d) => {
                // Most often every element the index can choose is known (the words of a
                // sentence): the result is a table over the index's variables. The first
                // error is the general path's, which meets the same indices in this order.
                let mut table = Vec::with_capacity(d.table.len());
                for &i in &d.table {
                    match get(i)? {
                        Scalar::Known(v) => table.push(*v),
                        Scalar::Dep(_) => break,
                    }
                }
                if table.len() == d.table.len() {
                    return Ok(Scalar::Dep(Rc::new(Dep {
                        vars: d.vars.clone(),
                        cards: d.cards.clone(),
                        table,
                    })));
                }
                // The element chosen by a hidden index may itself be hidden: the result then
                // depends on the index and on every hidden element it can choose.
                let mut inputs = vec![Scalar::Dep(d.clone())];
                // For each sequence position the index can take: its known value, or the slot
                // in `inputs` of its hidden element.
                let mut slot_of: HashMap<i64, Result<i64, usize>> = HashMap::default();
                for &i in &d.table {
                    if slot_of.contains_key(&i) {
                        continue;
                    }
                    let el = get(i)?;
                    let slot = match el {
                        Scalar::Known(v) => Ok(*v),
                        Scalar::Dep(_) => {
                            inputs.push(el.clone());
                            Err(inputs.len() - 1)
                        }
                    };
                    slot_of.insert(i, slot);
                }
                self.combine(&inputs, span, move |v| {
                    Ok(match slot_of[&v[0]] {
                        Ok(known) => known,
                        Err(slot) => v[slot],
                    })
                })
            }
        }
    }

    /// Applies `f` to the values of `inputs` at every joint value of the hidden variables they
    /// depend on.
    fn combine(
        &self,
        inputs: &[Scalar],
        span: Span,
        f: impl Fn(&[i64]) -> Result<i64, UnrollError>,
    ) -> Result<Scalar, UnrollError> {
        if inputs.iter().all(|s| matches!(s, Scalar::Known(_))) {
            let vals: Vec<i64> = inputs
                .iter()
                .map(|s| match s {
                    Scalar::Known(v) => *v,
                    Scalar::Dep(_) => 0,
                })
                .collect();
            return Ok(Scalar::Known(f(&vals)?));
        }
        let (vars, cards) = self.union_scope(inputs);
        self.check_size(&vars, &cards, span)?;
        let mut table = Vec::new();
        for_each_assignment(&cards, |assign| {
            let vals: Vec<i64> = inputs.iter().map(|s| value_at(s, &vars, assign)).collect();
            table.push(f(&vals)?);
            Ok(())
        })?;
        Ok(Scalar::Dep(Rc::new(Dep { vars, cards, table })))
    }

    fn union_scope(&self, inputs: &[Scalar]) -> (Vec<VarId>, Vec<usize>) {
        let mut vars: Vec<VarId> = Vec::new();
        for s in inputs {
            if let Scalar::Dep(d) = s {
                vars.extend_from_slice(&d.vars);
            }
        }
        vars.sort_unstable();
        vars.dedup();
        let cards = vars
            .iter()
            .map(|v| self.vars[*v as usize].card as usize)
            .collect();
        (vars, cards)
    }

    fn check_size(&self, vars: &[VarId], cards: &[usize], span: Span) -> Result<(), UnrollError> {
        let entries = cards.iter().try_fold(1usize, |acc, c| acc.checked_mul(*c));
        match entries {
            Some(n) if n <= MAX_FACTOR_ENTRIES => Ok(()),
            _ => Err(self.error(
                UnrollErrorKind::TooLarge {
                    vars: self.names(vars),
                    entries: entries.map_or("more than 2^64".into(), |n| n.to_string()),
                },
                span,
            )),
        }
    }

    fn names(&self, vars: &[VarId]) -> String {
        vars.iter()
            .map(|v| format!("`{}`", self.vars[*v as usize].name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn draw(&mut self, target: &Expr, dist: &Dist, span: Span) -> Result<(), UnrollError> {
        if let Dist::Family(f, args) = dist {
            if let FamilyKind::Gaussian(_) = self.model.families[*f].kind {
                return self.gaussian_draw(target, *f, args, span);
            }
        }
        let t = self.scalar(target)?;
        let drawn = match &t {
            Scalar::Known(_) => None,
            Scalar::Dep(d) => Some(self.drawn_variable(d, span)?),
        };
        let model = self.model;
        let (slots, label_name): (Vec<Scalar>, &str) = match dist {
            Dist::Family(f, args) | Dist::Table(f, args) => {
                let mut slots = Vec::with_capacity(args.len() + 1);
                for a in args {
                    let slot = self.scalar(a)?;
                    self.require_drawn(&slot, a.span)?;
                    slots.push(slot);
                }
                slots.push(t);
                let name = match dist {
                    Dist::Family(..) => model.families[*f].name.as_str(),
                    _ => model.tables[*f].name.as_str(),
                };
                (slots, name)
            }
            Dist::Uniform => (vec![t], "uniform"),
        };
        let offsets = self.slot_offsets(dist, target);
        let (scope, cards) = self.union_scope(&slots);
        self.check_size(&scope, &cards, span)?;
        let key = self
            .tables
            .worth_caching(span.start)
            .then(|| table_key(span, &scope, &cards, &slots));
        let cached = key.as_ref().and_then(|k| self.tables.get(span.start, k));
        let entries = match cached {
            Some(e) => e,
            None => {
                let entries = match self
                    .family_over_one(dist, &slots, &offsets, &scope, &cards, span)?
                {
                    Some(e) => {
                        // The shortcut must build what the general evaluation builds (which
                        // numbers discovered entries anew, so is not compared then).
                        debug_assert!(
                            self.tables.discovered.is_some()
                                || Some(&e)
                                    == self
                                        .entries(
                                            dist, target, &slots, &offsets, &scope, &cards, span
                                        )
                                        .ok()
                                        .as_ref()
                        );
                        e
                    }
                    None => self.entries(dist, target, &slots, &offsets, &scope, &cards, span)?,
                };
                let entries: Rc<[Entry]> = entries.into();
                if let Some(key) = key {
                    self.tables.insert(key, entries.clone());
                }
                entries
            }
        };
        let name = self.tables.name(label_name);
        self.factors.push(Factor {
            scope,
            entries,
            origin: span,
            name,
            target: drawn,
        });
        Ok(())
    }

    /// An observed real vector drawn from a Gaussian family: a factor over the hidden
    /// variables of the conditions whose entries are densities under each condition row.
    fn gaussian_draw(
        &mut self,
        target: &Expr,
        f: FamilyId,
        args: &[Expr],
        span: Span,
    ) -> Result<(), UnrollError> {
        let Scalar::Known(obs) = self.scalar(target)? else {
            unreachable!("the checker makes a Gaussian's target an observed real field")
        };
        let mut slots = Vec::with_capacity(args.len());
        for a in args {
            let slot = self.scalar(a)?;
            self.require_drawn(&slot, a.span)?;
            slots.push(slot);
        }
        let fam = &self.model.families[f];
        let offsets: Vec<i64> = args
            .iter()
            .zip(&fam.conditions)
            .map(|(e, d)| match e.ty {
                Ty::Int => range_start(self.model, *d).unwrap_or(0),
                _ => 0,
            })
            .collect();
        let (scope, cards) = self.union_scope(&slots);
        self.check_size(&scope, &cards, span)?;
        let slot = &self.layout.families[f];
        let mut entries = Vec::with_capacity(cards.iter().product());
        for_each_assignment(&cards, |assign| {
            let mut cond = 0usize;
            for (k, (s, o)) in slots.iter().zip(&offsets).enumerate() {
                let v = value_at(s, &scope, assign) - o;
                cond = cond * slot.cond_sizes[k] + self.symbol_index(v, fam.conditions[k], span)?;
            }
            entries.push(Entry::Density {
                row: (slot.offset + cond * slot.n_out) as u32,
                obs: obs as u32,
            });
            Ok(())
        })?;
        let name = self.tables.name(&fam.name);
        self.factors.push(Factor {
            scope,
            entries: entries.into(),
            origin: span,
            name,
            target: None,
        });
        Ok(())
    }

    /// Every joint value's entry, by evaluating the slots at each assignment.
    #[allow(clippy::too_many_arguments)]
    fn entries(
        &self,
        dist: &Dist,
        target: &Expr,
        slots: &[Scalar],
        offsets: &[i64],
        scope: &[VarId],
        cards: &[usize],
        span: Span,
    ) -> Result<Vec<Entry>, UnrollError> {
        let mut entries = Vec::with_capacity(cards.iter().product());
        let mut vals = vec![0i64; slots.len()];
        for_each_assignment(cards, |assign| {
            for ((v, s), o) in vals.iter_mut().zip(slots).zip(offsets) {
                *v = value_at(s, scope, assign) - o;
            }
            entries.push(self.entry(dist, target, &vals, span)?);
            Ok(())
        })?;
        Ok(entries)
    }

    /// The common case of a family draw over one hidden variable (an emission, a mixture
    /// component), without the general per-assignment evaluation: every slot is a constant
    /// or a table over that variable. Same entries, same first error, as `entries`.
    fn family_over_one(
        &self,
        dist: &Dist,
        slots: &[Scalar],
        offsets: &[i64],
        scope: &[VarId],
        cards: &[usize],
        span: Span,
    ) -> Result<Option<Vec<Entry>>, UnrollError> {
        let (Dist::Family(f, _), [_], [card]) = (dist, scope, cards) else {
            return Ok(None);
        };
        let fam = &self.model.families[*f];
        let slot = &self.layout.families[*f];
        let n_cond = fam.conditions.len();
        let mut entries = Vec::with_capacity(*card);
        for a in 0..*card {
            // Row-major over the conditions, then the outcome (Horner's rule).
            let mut rel = 0;
            for (k, s) in slots.iter().enumerate() {
                let v = match s {
                    Scalar::Known(v) => *v,
                    Scalar::Dep(d) => d.table[a],
                };
                let (domain, size) = if k < n_cond {
                    (fam.conditions[k], slot.cond_sizes[k])
                } else {
                    (fam.outcome, slot.n_out)
                };
                rel = rel * size + self.symbol_index(v - offsets[k], domain, span)?;
            }
            entries.push(self.param(*f, rel));
        }
        Ok(Some(entries))
    }

    /// The entry for probability `rel` (`row * n_out + out`) of family `f`. A sparse family's
    /// entry that its support lacks has probability zero: the support holds every entry the
    /// training data reaches, and EM leaves the others at zero.
    fn param(&self, f: usize, rel: usize) -> Entry {
        let slot = &self.layout.families[f];
        if slot.support.is_some() {
            if let Some(found) = &self.tables.discovered {
                let mut found = found.borrow_mut();
                found.push(discovered_key(f, rel));
                return Entry::Param(UNPLACED | (found.len() - 1) as u32);
            }
        }
        match slot.index(rel) {
            Some(k) => Entry::Param(k as u32),
            None => Entry::Fixed(0.0),
        }
    }

    /// The variable a draw generates: its left side must be a hidden variable itself, not a
    /// function of one (`f[a] ~ t` would give `a` no distribution), and not drawn before.
    fn drawn_variable(&mut self, d: &Dep, span: Span) -> Result<VarId, UnrollError> {
        let identity = d
            .table
            .iter()
            .enumerate()
            .all(|(k, v)| *v == d.table[0] + k as i64);
        let [v] = d.vars[..] else {
            return Err(self.error(UnrollErrorKind::NotAVariable, span));
        };
        if !identity {
            return Err(self.error(UnrollErrorKind::NotAVariable, span));
        }
        if self.draws[v as usize] > 0 {
            let name = self.vars[v as usize].name.clone();
            return Err(self.error(UnrollErrorKind::DrawnTwice(name), span));
        }
        self.draws[v as usize] += 1;
        Ok(v)
    }

    /// Conditions may only use variables already drawn, so the story is a proper generative
    /// order (a cycle such as `a ~ t(b); b ~ t(a)` defines no distribution).
    fn require_drawn(&self, slot: &Scalar, span: Span) -> Result<(), UnrollError> {
        if let Scalar::Dep(d) = slot {
            if let Some(v) = d.vars.iter().find(|v| self.draws[**v as usize] == 0) {
                let name = self.vars[*v as usize].name.clone();
                return Err(self.error(UnrollErrorKind::UsedBeforeDrawn(name), span));
            }
        }
        Ok(())
    }

    /// Story integers (positions) that stand for a range domain's values are shifted to its
    /// indices: in `1..4`, the integer 1 is index 0. Symbol-typed values are indices already.
    fn slot_offsets(&self, dist: &Dist, target: &Expr) -> Vec<i64> {
        let (args, domains, outcome) = match dist {
            Dist::Family(f, args) => {
                let fam = &self.model.families[*f];
                (args, &fam.conditions, fam.outcome)
            }
            Dist::Table(t, args) => {
                let table = &self.model.tables[*t];
                (args, &table.args, table.result)
            }
            Dist::Uniform => return vec![0],
        };
        args.iter()
            .zip(domains.iter().copied())
            .chain([(target, outcome)])
            .map(|(e, d)| match e.ty {
                Ty::Int => range_start(self.model, d).unwrap_or(0),
                _ => 0,
            })
            .collect()
    }

    /// The factor entry for one joint value of a draw's slots (conditions, then outcome).
    fn entry(
        &self,
        dist: &Dist,
        target: &Expr,
        vals: &[i64],
        span: Span,
    ) -> Result<Entry, UnrollError> {
        match dist {
            Dist::Family(f, _) => {
                let fam = &self.model.families[*f];
                let slot = &self.layout.families[*f];
                let mut cond = 0usize;
                for (k, (&v, &d)) in vals.iter().zip(&fam.conditions).enumerate() {
                    cond = cond * slot.cond_sizes[k] + self.symbol_index(v, d, span)?;
                }
                let out = self.symbol_index(vals[vals.len() - 1], fam.outcome, span)?;
                Ok(self.param(*f, cond * slot.n_out + out))
            }
            Dist::Table(t, _) => {
                let table = &self.model.tables[*t];
                let mut idx = 0usize;
                for (&v, &d) in vals.iter().zip(&table.args) {
                    idx = idx * self.domains.size(d) + self.symbol_index(v, d, span)?;
                }
                let out = self.symbol_index(vals[vals.len() - 1], table.result, span)?;
                Ok(Entry::Fixed(if table.values[idx] as usize == out {
                    1.0
                } else {
                    0.0
                }))
            }
            Dist::Uniform => {
                let n = match (&target.ty, self.domain_of_target(target)) {
                    (_, Some(card)) => card,
                    (Ty::Sym(d), None) => self.domains.size(*d),
                    _ => return Err(self.error(UnrollErrorKind::Uniform, span)),
                };
                Ok(Entry::Fixed(1.0 / n as f64))
            }
        }
    }

    /// The cardinality of a drawn hidden variable (uniform draws are over its own values).
    fn domain_of_target(&self, target: &Expr) -> Option<usize> {
        let hid = match &target.kind {
            ExprKind::Hidden(h) => *h,
            ExprKind::Index(a, _) => match a.kind {
                ExprKind::Hidden(h) => h,
                _ => return None,
            },
            _ => return None,
        };
        self.vars.iter().find_map(|v| match v.origin {
            VarOrigin::Hidden { decl, .. } if decl == hid => Some(v.card as usize),
            _ => None,
        })
    }

    /// Checks a symbol index against its domain.
    fn symbol_index(&self, v: i64, d: DomainId, span: Span) -> Result<usize, UnrollError> {
        let size = self.domains.size(d);
        usize::try_from(v)
            .ok()
            .filter(|i| *i < size)
            .ok_or_else(|| {
                // Report the value as the user wrote it: range domains count from their start.
                let lo = range_start(self.model, d);
                let values = match lo {
                    Some(lo) => format!("{lo}..{}", lo + size as i64),
                    None => format!("{size} symbols"),
                };
                self.error(
                    UnrollErrorKind::Domain {
                        value: v + lo.unwrap_or(0),
                        domain: self.model.domains[d].name.clone(),
                        values,
                    },
                    span,
                )
            })
    }

    fn check_draws(&self) -> Result<(), UnrollError> {
        for (i, n) in self.draws.iter().enumerate() {
            let kind = match n {
                0 => UnrollErrorKind::NotDrawn(self.vars[i].name.clone()),
                1 => continue,
                _ => UnrollErrorKind::DrawnTwice(self.vars[i].name.clone()),
            };
            return Err(self.error(kind, self.var_spans[i]));
        }
        Ok(())
    }
}

fn range_start(model: &Model, d: DomainId) -> Option<i64> {
    match model.domains[d].base {
        DomainBase::Range(lo, _) => Some(lo),
        DomainBase::Extends(b) => range_start(model, b),
        _ => None,
    }
}

/// What a draw's table depends on: the statement, the cardinalities of its scope, and each
/// slot as a known value or a tabulated function of scope positions. Two draws with equal keys
/// have equal tables, whichever variables they touch.
fn table_key(span: Span, scope: &[VarId], cards: &[usize], slots: &[Scalar]) -> Vec<i64> {
    let mut key = vec![span.start as i64, cards.len() as i64];
    key.extend(cards.iter().map(|c| *c as i64));
    for s in slots {
        match s {
            Scalar::Known(v) => key.extend([-1, *v]),
            Scalar::Dep(d) => {
                key.extend([-2, d.vars.len() as i64]);
                key.extend(
                    d.vars
                        .iter()
                        .map(|v| scope.binary_search(v).map_or(-1, |p| p as i64)),
                );
                key.extend(d.table.iter().copied());
            }
        }
    }
    key
}

/// The value of `s` at the joint assignment `assign` of `scope` (a superset of its variables).
fn value_at(s: &Scalar, scope: &[VarId], assign: &[usize]) -> i64 {
    match s {
        Scalar::Known(v) => *v,
        Scalar::Dep(d) => {
            let mut idx = 0;
            for (v, c) in d.vars.iter().zip(&d.cards) {
                let pos = scope
                    .binary_search(v)
                    .expect("scope contains the input's variables");
                idx = idx * c + assign[pos];
            }
            d.table[idx]
        }
    }
}

/// Calls `f` for every joint value, row-major (the last variable fastest).
fn for_each_assignment(
    cards: &[usize],
    mut f: impl FnMut(&[usize]) -> Result<(), UnrollError>,
) -> Result<(), UnrollError> {
    let mut assign = vec![0usize; cards.len()];
    loop {
        f(&assign)?;
        let mut k = cards.len();
        loop {
            if k == 0 {
                return Ok(());
            }
            k -= 1;
            assign[k] += 1;
            if assign[k] < cards[k] {
                break;
            }
            assign[k] = 0;
        }
    }
}
