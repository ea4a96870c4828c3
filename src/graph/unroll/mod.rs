//! Runs the story of the checked model on one data instance and records what it draws.
//!
//! Values are either known integers (symbol indices, positions) or functions of hidden
//! variables, tabulated over their joint values (`Dep`). A draw turns its slots into a factor
//! whose scope is the union of the hidden variables its slots depend on.

mod cache;
mod draw;
mod probe;

pub use cache::{
    unplaced_entry, DenseNumbers, DiscoveredKey, Discovering, TableCache, UnplacedGraph, UNPLACED,
};
pub use probe::{probe_dataset, PROBE_LENGTH};

use rustc_hash::FxHashMap as HashMap;
use smallvec::{smallvec, SmallVec};
use std::rc::Rc;

use super::{Entry, Factor, InstanceGraph, Var, VarDomain, VarId, VarName, VarOrigin};
use crate::data::{Domains, FieldValue, Instance};
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
    #[error(
        "this statement belongs to a structured story, which does not unroll into a factor graph"
    )]
    Structured,
    #[error("the call `{call}` depends on itself with the same arguments")]
    Cycle { call: String },
    #[error(
        "the line's hypergraph would have more than {limit} {what} (at least {estimate} so far)"
    )]
    Budget {
        what: &'static str,
        limit: usize,
        estimate: usize,
    },
    #[error("a missing value `?` in a structured story")]
    Missing,
    #[error("the story has no derivation of this line")]
    NoDerivation,
    #[error("the data value `{0}` is drawn a second time")]
    ObservedTwice(String),
    #[error("the data value `{0}` is never drawn")]
    ObservedNotDrawn(String),
    #[error("the branches of `{call}` draw different data values (`{value}` in some only)")]
    ObservedUneven { call: String, value: String },
    #[error("this weight is exp({0}), not a finite positive number")]
    Weight(String),
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
            UnrollErrorKind::Cycle { .. } => "every recursive call must make progress (a shorter span, a later position): a call that reaches itself with the same arguments would never finish",
            UnrollErrorKind::Budget { what: "calls", .. } => "the recursion does not stop soon enough: bound it by a position that grows to `len(...)`",
            UnrollErrorKind::Budget { .. } => "each call's branches multiply within it: draw fewer hidden values per procedure, or split it into calls",
            UnrollErrorKind::ObservedTwice(_) => "each data value is generated once: a second draw would count it twice in the likelihood",
            UnrollErrorKind::ObservedNotDrawn(_) => "the story draws this field, so every value of it must be drawn once on each line: check the loop bounds against `len(...)` (a field only conditioned on is never drawn)",
            UnrollErrorKind::ObservedUneven { .. } => "every branch of a call must cover the same data values: pass the bounds of what it covers as arguments (as `seg(i)` covers `i..len(chars)`); a branch that stops early makes a shorter line",
            UnrollErrorKind::Weight(_) => "a weight's exponent must be a finite number on every derivation: a negative base to a fractional power (`(i - j) ^ 1.6` with i < j) has none",
            UnrollErrorKind::Missing => "structured stories need every observed value: remove the `?` from the data line",
            UnrollErrorKind::Structured => "this is a bug in emc: a structured story should not be unrolled",
            _ if self.line == 0 => "check the loop bounds and indices of the story",
            _ => "check the story against this data line",
        };
        let label = match self.kind {
            UnrollErrorKind::ObservedNotDrawn(_) => "declared here",
            _ => "while running this",
        };
        Diagnostic::error(format!("{} {where_}", self.kind), self.span)
            .with_label(label)
            .with_hint(hint)
    }
}

/// A function of hidden variables, tabulated row-major over `vars` (the last fastest).
/// Nearly every one depends on a single variable (an alignment, a state), so its variables
/// are held inline.
#[derive(Debug)]
struct Dep {
    vars: Small<VarId>,
    cards: Small<usize>,
    table: Vec<i64>,
}

/// A short vector held inline: a draw's slots, a value's variables, an assignment.
type Small<T> = SmallVec<[T; 4]>;

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
    /// Per field the story draws (`Field::generated`), how often each of its values was
    /// drawn on this line; empty for the other fields.
    observed_draws: Vec<Vec<u8>>,
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
        observed_draws: Vec::new(),
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

impl Unroller<'_, '_> {
    fn new_var(
        &mut self,
        name: VarName,
        card: usize,
        origin: VarOrigin,
        domain: VarDomain,
        span: Span,
    ) -> Result<Scalar, UnrollError> {
        if card == 0 {
            return Err(self.error(UnrollErrorKind::Empty(name.to_string()), span));
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
            vars: smallvec![id],
            cards: smallvec![card],
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
                FieldValue::Scalar(s) => Value::Scalar(self.observed(*s, fid, None, card, f)?),
                FieldValue::Sequence(items) => {
                    let seq: Vec<Scalar> = items
                        .iter()
                        .enumerate()
                        .map(|(i, s)| self.observed(s, fid, Some(i), card, f))
                        .collect::<Result<_, _>>()?;
                    Value::Seq(Rc::new(seq))
                }
                FieldValue::Weight(w) => Value::Scalar(Scalar::Known(*w as i64)),
                FieldValue::Real(x) => Value::Scalar(self.observation(x)),
                FieldValue::RealSequence(xs) => {
                    Value::Seq(Rc::new(xs.iter().map(|x| self.observation(x)).collect()))
                }
            };
            let drawn = match v {
                _ if !f.generated => 0,
                FieldValue::Sequence(items) => items.len(),
                FieldValue::RealSequence(xs) => xs.len(),
                _ => 1,
            };
            self.observed_draws.push(vec![0; drawn]);
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
    /// A data value: known, or (a `?`) a variable named after its field and index. The name
    /// is made only for a missing value: making it for every token took a twelfth of
    /// compiling IBM Model 1 on the Hansards.
    fn observed(
        &mut self,
        v: Option<u32>,
        field: usize,
        index: Option<usize>,
        card: usize,
        f: &Field,
    ) -> Result<Scalar, UnrollError> {
        match v {
            Some(v) => Ok(Scalar::Known(i64::from(v))),
            None => {
                let name = VarName::new(self.tables.name(&f.name), index);
                self.new_var(
                    name,
                    card,
                    VarOrigin::Missing { field, index },
                    VarDomain::Symbols(f.domain),
                    f.span,
                )
            }
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
        let base = self.tables.name(&decl.name);
        let value = match &decl.length {
            None => Value::Scalar(self.new_var(
                VarName::new(base, None),
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
                        VarName::new(base.clone(), Some(i)),
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
                Stmt::Draw {
                    target, dist, span, ..
                } => self.draw(target, dist, *span)?,
                // A structured story never reaches the unroller: it runs as a hypergraph
                // (`structured::execute`); only an unstructured model is unrolled.
                Stmt::HiddenLocal { span, .. }
                | Stmt::If { span, .. }
                | Stmt::Some { span, .. }
                | Stmt::Call { span, .. }
                | Stmt::Output { span, .. }
                | Stmt::Weight { span, .. } => {
                    return Err(self.error(UnrollErrorKind::Structured, *span))
                }
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
            // The checker allows spans only in structured stories, which are not unrolled.
            ExprKind::Slice(..) => return Err(self.error(UnrollErrorKind::Structured, e.span)),
            ExprKind::MinMax(min, a, b) => {
                let a = self.scalar(a)?;
                let b = self.scalar(b)?;
                let min = *min;
                Value::Scalar(self.combine(&[a, b], e.span, |v| {
                    Ok(if min { v[0].min(v[1]) } else { v[0].max(v[1]) })
                })?)
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
            let vals: Small<i64> = inputs
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
        let mut vals: Small<i64> = smallvec![0; inputs.len()];
        for_each_assignment(&cards, |assign| {
            for (v, s) in vals.iter_mut().zip(inputs) {
                *v = value_at(s, &vars, assign);
            }
            table.push(f(&vals)?);
            Ok(())
        })?;
        Ok(Scalar::Dep(Rc::new(Dep { vars, cards, table })))
    }

    fn union_scope(&self, inputs: &[Scalar]) -> (Small<VarId>, Small<usize>) {
        let mut vars: Small<VarId> = SmallVec::new();
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
}

fn range_start(model: &Model, d: DomainId) -> Option<i64> {
    match model.domains[d].base {
        DomainBase::Range(lo, _) => Some(lo),
        DomainBase::Extends(b) => range_start(model, b),
        _ => None,
    }
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
    let mut assign: Small<usize> = smallvec![0; cards.len()];
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
