//! One call's body run on every branch: statements map a list of partial branches to the
//! next one (a draw of a hidden local multiplies them, an `if` routes each, a `for some`
//! multiplies them by the positions, a call names its callee as a tail).

mod draw;
mod entries;
pub(super) mod observed;

pub use entries::Densities;
mod restrict;

use std::rc::Rc;

use rustc_hash::FxHashMap as HashMap;

use super::{Budget, Key};
use crate::data::{Domains, FieldValue, Instance};
use crate::graph::{DiscoveredKey, UnrollError, UnrollErrorKind};
use crate::model::*;
use crate::params::Layout;
use crate::syntax::ast::{BinOp, CmpOp, Span};

/// Elements an `output` array may have (as hidden arrays).
const MAX_OUTPUT: i64 = 1 << 20;

/// Most loop passes (`for`) the story may make while running one line's calls.
const MAX_STEPS: u64 = 1 << 22;

/// What a hyperedge drew, for decoding: a hidden value's symbol, after `after` of the
/// hyperedge's tails (so that a walk of the derivation prints values in story order).
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub after: usize,
    pub text: String,
    /// A span of an observed sequence (a word of a segmentation), not a hidden value.
    pub span: bool,
    /// A position drawn within the positions of the line (`from`, `within`): an alignment
    /// link when the story draws nothing else.
    pub position: bool,
    /// What an `output` statement recorded (then `text` is empty).
    pub output: Option<Printed>,
}

/// What an `output` statement recorded on a derivation.
#[derive(Clone, Debug, PartialEq)]
pub enum Printed {
    /// Element `index` of the array `name` is `value` (an integer or a symbol's name).
    At {
        name: String,
        index: i64,
        value: String,
    },
    /// A constituent `label` over elements `lo..hi` of sequence field `field`.
    Bracket {
        label: String,
        field: FieldId,
        lo: i64,
        hi: i64,
    },
}

#[derive(Clone, Debug)]
enum Val {
    Int(i64),
    Seq(Rc<Vec<i64>>),
}

/// A partial branch: the values bound so far and what it has drawn and called.
#[derive(Clone)]
pub(super) struct Branch {
    env: Vec<Option<Val>>,
    pub tails: Vec<Key>,
    /// The call statement of each tail, for errors.
    pub tail_spans: Vec<Span>,
    pub entries: Vec<u32>,
    /// Ids (into `Exec::sets`) of the allowed sets the branch's restricted draws divide by.
    pub norms: Vec<u32>,
    pub log_const: f64,
    pub labels: Vec<Label>,
    /// The data values the branch draws (`Exec::observed`), with the draw statements.
    pub observed: Vec<(u32, u32, Span)>,
}

pub(super) struct Exec<'a> {
    model: &'a Model,
    domains: &'a Domains,
    layout: &'a Layout,
    line: usize,
    /// By field; `None` for a field that has a `?` (or is not symbolic).
    fields: Vec<Option<Val>>,
    budget: Budget,
    record: bool,
    /// Calls met since the last `take_named`, with the statement that made them.
    named: Vec<(Key, Span)>,
    /// Hyperedges of the calls finished before this one.
    done_edges: usize,
    steps: u64,
    /// The allowed sets of restricted draws on this line, numbered in order of first use.
    sets: Vec<Vec<u32>>,
    set_ids: HashMap<Vec<u32>, u32>,
    /// Where each drawn field's values are numbered (`observed::bases`).
    bases: Vec<Option<(u32, u32)>>,
    /// While finding sparse supports: every entry of a sparse family a draw reaches (the
    /// layout has no supports yet, so such draws get a placeholder entry).
    discovered: Option<Vec<DiscoveredKey>>,
    inst: &'a Instance,
    /// The densities the line's Gaussian draws score, in order of first use: (the
    /// parameter index where the row starts, the observation).
    densities: Vec<(u32, u32)>,
    density_ids: HashMap<(u32, u32), u32>,
    /// The real observations drawn from Gaussian families, with where they are.
    observations: Vec<((FieldId, u32), Vec<f64>)>,
    observation_ids: HashMap<(FieldId, u32), u32>,
}

/// A row of a family: which family, and the row's number in its dense numbering.
#[derive(Clone, Copy, Debug)]
pub(super) struct Row {
    family: FamilyId,
    row: usize,
}

impl<'a> Exec<'a> {
    pub(super) fn new(
        model: &'a Model,
        domains: &'a Domains,
        layout: &'a Layout,
        inst: &'a Instance,
        budget: Budget,
        record: bool,
    ) -> Result<Exec<'a>, UnrollError> {
        let fields = inst
            .values
            .iter()
            .map(|v| match v {
                FieldValue::Scalar(Some(x)) => Some(Val::Int(i64::from(*x))),
                FieldValue::Sequence(s) => s
                    .iter()
                    .map(|x| x.map(i64::from))
                    .collect::<Option<Vec<i64>>>()
                    .map(|s| Val::Seq(Rc::new(s))),
                // Only `len` reads a real sequence as a value (the checker types its elements
                // as reals, which nothing compares): its elements stand in as zeros.
                FieldValue::RealSequence(s) => Some(Val::Seq(Rc::new(vec![0; s.len()]))),
                _ => None,
            })
            .collect();
        let bases = observed::bases(model, inst);
        Ok(Exec {
            model,
            domains,
            layout,
            line: inst.line,
            fields,
            budget,
            record,
            named: Vec::new(),
            done_edges: 0,
            steps: 0,
            sets: Vec::new(),
            set_ids: HashMap::default(),
            bases,
            discovered: None,
            inst,
            densities: Vec::new(),
            density_ids: HashMap::default(),
            observations: Vec::new(),
            observation_ids: HashMap::default(),
        })
    }

    pub(super) fn error(&self, kind: UnrollErrorKind, span: Span) -> UnrollError {
        UnrollError {
            kind,
            span,
            line: self.line,
        }
    }

    /// A call as the user would write it: symbols by name.
    pub(super) fn describe(&self, key: &Key) -> String {
        let Some(p) = key.0 else {
            return "model".into();
        };
        let proc = &self.model.procs[p];
        let args: Vec<String> = proc
            .params
            .iter()
            .zip(&key.1)
            .map(|((_, ty), v)| match ty {
                Ty::Sym(d) => self.domains.name(*d, *v as u32).to_string(),
                _ => v.to_string(),
            })
            .collect();
        format!("{}({})", proc.name, args.join(", "))
    }

    pub(super) fn take_sets(&mut self) -> Vec<Vec<u32>> {
        std::mem::take(&mut self.sets)
    }

    pub(super) fn take_named(&mut self) -> Vec<(Key, Span)> {
        std::mem::take(&mut self.named)
    }

    /// The branches of one call's body: its hyperedges.
    pub(super) fn run_call(&mut self, key: &Key, done: usize) -> Result<Vec<Branch>, UnrollError> {
        self.done_edges = done;
        let mut env = vec![None; self.model.locals.len()];
        let body = match key.0 {
            Some(p) => {
                let proc = &self.model.procs[p];
                for ((l, _), v) in proc.params.iter().zip(&key.1) {
                    env[*l] = Some(Val::Int(*v));
                }
                &proc.body
            }
            None => &self.model.story,
        };
        let start = Branch {
            env,
            tails: Vec::new(),
            tail_spans: Vec::new(),
            entries: Vec::new(),
            norms: Vec::new(),
            log_const: 0.0,
            labels: Vec::new(),
            observed: Vec::new(),
        };
        self.run(body, vec![start])
    }

    fn run(
        &mut self,
        stmts: &[Stmt],
        mut branches: Vec<Branch>,
    ) -> Result<Vec<Branch>, UnrollError> {
        for s in stmts {
            if branches.is_empty() {
                break;
            }
            branches = self.stmt(s, branches)?;
        }
        Ok(branches)
    }

    /// Refuses a call whose hyperedges would pass the budget, before they are made.
    fn grow(&self, n: usize, span: Span) -> Result<(), UnrollError> {
        let estimate = self.done_edges.saturating_add(n);
        if estimate > self.budget.edges {
            return Err(self.error(
                UnrollErrorKind::Budget {
                    what: "hyperedges",
                    limit: self.budget.edges,
                    estimate,
                },
                span,
            ));
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt, mut branches: Vec<Branch>) -> Result<Vec<Branch>, UnrollError> {
        // Statements that keep each branch one branch change them where they are: moving
        // every branch into a new vector per statement was much of the copying that took a
        // sixth of the time building the DMV's hypergraphs (7-10% faster without it).
        let mut out = Vec::new();
        match s {
            Stmt::Hidden(_) => unreachable!("a structured story has no top-level hidden arrays"),
            Stmt::HiddenLocal { local, .. } => {
                for b in &mut branches {
                    b.env[*local] = None;
                }
                out = branches;
            }
            Stmt::Let { local, value, .. } => {
                for b in &mut branches {
                    b.env[*local] = Some(self.eval(value, &b.env)?);
                }
                out = branches;
            }
            Stmt::For {
                local,
                lo,
                hi,
                body,
                span,
            } => {
                out.reserve(branches.len());
                for b in branches {
                    let lo = self.int(lo, &b.env)?;
                    let hi = self.int(hi, &b.env)?;
                    let passes = u64::try_from(i128::from(hi) - i128::from(lo)).unwrap_or(0);
                    self.steps = self.steps.saturating_add(passes);
                    if self.steps > MAX_STEPS {
                        return Err(self.error(UnrollErrorKind::TooManySteps(MAX_STEPS), *span));
                    }
                    let mut cur = vec![b];
                    for i in lo..hi {
                        for c in &mut cur {
                            c.env[*local] = Some(Val::Int(i));
                        }
                        cur = self.run(body, cur)?;
                    }
                    out.extend(cur);
                }
            }
            Stmt::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                let (mut yes, mut no) = (Vec::new(), Vec::new());
                for b in branches {
                    if self.cond(cond, &b.env)? {
                        yes.push(b);
                    } else {
                        no.push(b);
                    }
                }
                out = self.run(then, yes)?;
                out.extend(self.run(otherwise, no)?);
            }
            Stmt::Some {
                local,
                lo,
                hi,
                body,
                span,
            } => {
                // Every branch's range first, so that a split over the budget is refused
                // before any of it is made.
                let mut ranges = Vec::with_capacity(branches.len());
                let mut total = 0usize;
                for b in &branches {
                    let lo = self.int(lo, &b.env)?;
                    let hi = self.int(hi, &b.env)?;
                    let n = usize::try_from(i128::from(hi) - i128::from(lo)).unwrap_or(0);
                    total = total.saturating_add(n);
                    ranges.push((lo, hi));
                }
                self.grow(total, *span)?;
                let mut split = Vec::with_capacity(total);
                for (b, (lo, hi)) in branches.into_iter().zip(ranges) {
                    for j in lo..hi.max(lo) {
                        let mut c = b.clone();
                        c.env[*local] = Some(Val::Int(j));
                        split.push(c);
                    }
                }
                out = self.run(body, split)?;
            }
            Stmt::Call { proc, args, span } => {
                let params = &self.model.procs[*proc].params;
                for b in &mut branches {
                    let mut values = Vec::with_capacity(args.len());
                    for (a, (_, ty)) in args.iter().zip(params) {
                        let v = self.int(a, &b.env)?;
                        values.push(match ty {
                            Ty::Sym(d) => self.symbol_index(v, a, *d)? as i64,
                            _ => v,
                        });
                    }
                    let key = (Some(*proc), values);
                    self.named.push((key.clone(), *span));
                    b.tails.push(key);
                    b.tail_spans.push(*span);
                }
                out = branches;
            }
            Stmt::Output { what, .. } => {
                for b in &mut branches {
                    // Only decoding reads what a derivation prints.
                    if self.record {
                        let printed = self.printed(what, &b.env)?;
                        b.labels.push(Label {
                            after: b.tails.len(),
                            text: String::new(),
                            span: false,
                            position: false,
                            output: Some(printed),
                        });
                    }
                }
                out = branches;
            }
            Stmt::Weight { terms, span } => {
                for b in &mut branches {
                    let mut log = 0.0;
                    for t in terms {
                        let x = self.int(&t.base, &b.env)? as f64;
                        log += t.coef * x.powf(t.power);
                    }
                    if !log.is_finite() {
                        return Err(self.error(UnrollErrorKind::Weight(format!("{log}")), *span));
                    }
                    b.log_const += log;
                }
                out = branches;
            }
            Stmt::Draw {
                target,
                dist,
                restrict: Some(r),
                span,
            } => {
                out.reserve(branches.len());
                for b in branches {
                    self.draw_restricted(target, dist, r, *span, b, &mut out)?;
                }
            }
            Stmt::Draw {
                target, dist, span, ..
            } => {
                // A hidden local splits every branch by its values: refuse a split over the
                // budget before making it.
                if let (ExprKind::Local(l), Ty::Sym(d)) = (&target.kind, &target.ty) {
                    if branches.first().is_some_and(|b| b.env[*l].is_none()) {
                        let n = self.domains.size(*d);
                        self.grow(branches.len().saturating_mul(n), *span)?;
                    }
                }
                out.reserve(branches.len());
                for b in branches {
                    self.draw(target, dist, *span, b, &mut out)?;
                }
            }
        }
        self.grow(out.len(), s_span(s))?;
        Ok(out)
    }

    fn printed(&self, what: &Output, env: &[Option<Val>]) -> Result<Printed, UnrollError> {
        Ok(match what {
            Output::At { name, index, value } => {
                let v = self.int(value, env)?;
                // Decoding allocates the array up to its largest index: bound it first.
                let i = self.int(index, env)?;
                if !(0..MAX_OUTPUT).contains(&i) {
                    return Err(self.error(
                        UnrollErrorKind::Index {
                            index: i,
                            len: MAX_OUTPUT as usize,
                        },
                        index.span,
                    ));
                }
                Printed::At {
                    name: name.clone(),
                    index: i,
                    value: match value.ty {
                        Ty::Sym(d) => self
                            .domains
                            .name(d, self.symbol_index(v, value, d)? as u32)
                            .to_string(),
                        _ => v.to_string(),
                    },
                }
            }
            Output::Bracket {
                label,
                field,
                lo,
                hi,
            } => {
                let Ty::Sym(d) = label.ty else {
                    unreachable!("the checker types a constituent's label as a symbol")
                };
                let v = self.int(label, env)?;
                Printed::Bracket {
                    label: self
                        .domains
                        .name(d, self.symbol_index(v, label, d)? as u32)
                        .to_string(),
                    field: *field,
                    lo: self.int(lo, env)?,
                    hi: self.int(hi, env)?,
                }
            }
        })
    }

    /// The index of value `v` of `e` in domain `d`: integers count from a range domain's
    /// start; symbols are indices already.
    fn symbol_index(&self, v: i64, e: &Expr, d: DomainId) -> Result<usize, UnrollError> {
        let lo = range_start(self.model, d);
        let idx = if e.ty == Ty::Int {
            v - lo.unwrap_or(0)
        } else {
            v
        };
        let size = self.domains.size(d);
        usize::try_from(idx)
            .ok()
            .filter(|i| *i < size)
            .ok_or_else(|| {
                let values = match lo {
                    Some(lo) => format!("{lo}..{}", lo + size as i64),
                    None => format!("{size} symbols"),
                };
                self.error(
                    UnrollErrorKind::Domain {
                        value: v,
                        domain: self.model.domains[d].name.clone(),
                        values,
                    },
                    e.span,
                )
            })
    }

    fn cond(&self, c: &Cond, env: &[Option<Val>]) -> Result<bool, UnrollError> {
        Ok(match c {
            Cond::And(a, b) => self.cond(a, env)? && self.cond(b, env)?,
            Cond::Or(a, b) => self.cond(a, env)? || self.cond(b, env)?,
            Cond::Not(a) => !self.cond(a, env)?,
            Cond::Compare(op, a, b) => {
                let (mut x, mut y) = (self.int(a, env)?, self.int(b, env)?);
                // Integers against a range domain's symbols compare as the integers they
                // stand for; two symbols compare as indices (an extension keeps its base's).
                if a.ty == Ty::Int || b.ty == Ty::Int {
                    x += self.offset(&a.ty);
                    y += self.offset(&b.ty);
                }
                match op {
                    CmpOp::Eq => x == y,
                    CmpOp::Ne => x != y,
                    CmpOp::Lt => x < y,
                    CmpOp::Le => x <= y,
                    CmpOp::Gt => x > y,
                    CmpOp::Ge => x >= y,
                }
            }
        })
    }

    fn offset(&self, ty: &Ty) -> i64 {
        match ty {
            Ty::Sym(d) => range_start(self.model, *d).unwrap_or(0),
            _ => 0,
        }
    }

    fn int(&self, e: &Expr, env: &[Option<Val>]) -> Result<i64, UnrollError> {
        match self.eval(e, env)? {
            Val::Int(v) => Ok(v),
            Val::Seq(_) => Err(self.error(UnrollErrorKind::NotKnown, e.span)),
        }
    }

    fn eval(&self, e: &Expr, env: &[Option<Val>]) -> Result<Val, UnrollError> {
        Ok(match &e.kind {
            ExprKind::Int(v) => Val::Int(*v),
            ExprKind::Symbol(name) => {
                let Ty::Sym(d) = e.ty else {
                    unreachable!("symbols are typed by the checker")
                };
                let i = self
                    .domains
                    .lookup(d, name)
                    .ok_or_else(|| self.error(UnrollErrorKind::Symbol(name.clone()), e.span))?;
                Val::Int(i64::from(i))
            }
            ExprKind::Local(l) => env[*l].clone().ok_or_else(|| {
                self.error(
                    UnrollErrorKind::UsedBeforeDrawn(self.model.locals[*l].clone()),
                    e.span,
                )
            })?,
            ExprKind::Field(f) => self.fields[*f]
                .clone()
                .ok_or_else(|| self.error(UnrollErrorKind::Missing, e.span))?,
            ExprKind::Hidden(_) => return Err(self.error(UnrollErrorKind::Structured, e.span)),
            ExprKind::Len(a) => match self.eval(a, env)? {
                Val::Seq(s) => Val::Int(s.len() as i64),
                Val::Int(_) => unreachable!("the checker types len's argument as a sequence"),
            },
            ExprKind::Index(a, i) => {
                let Val::Seq(s) = self.eval(a, env)? else {
                    unreachable!("the checker types indexed values as sequences")
                };
                let i = self.int(i, env)? + self.offset(&i.ty);
                let v = usize::try_from(i)
                    .ok()
                    .and_then(|k| s.get(k))
                    .ok_or_else(|| {
                        self.error(
                            UnrollErrorKind::Index {
                                index: i,
                                len: s.len(),
                            },
                            e.span,
                        )
                    })?;
                Val::Int(*v)
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.int(it, env)?);
                }
                Val::Seq(Rc::new(out))
            }
            ExprKind::Binary(BinOp::Concat, a, b) => {
                let (Val::Seq(x), Val::Seq(y)) = (self.eval(a, env)?, self.eval(b, env)?) else {
                    unreachable!("the checker types `++` over sequences")
                };
                Val::Seq(Rc::new(x.iter().chain(y.iter()).copied().collect()))
            }
            ExprKind::Binary(op, a, b) => {
                let (x, y) = (self.int(a, env)?, self.int(b, env)?);
                let v = match op {
                    BinOp::Add => x.checked_add(y),
                    BinOp::Sub => x.checked_sub(y),
                    _ => x.checked_mul(y),
                };
                Val::Int(v.ok_or_else(|| self.error(UnrollErrorKind::Overflow, e.span))?)
            }
            ExprKind::Slice(..) => return Err(self.error(UnrollErrorKind::NotKnown, e.span)),
            ExprKind::MinMax(min, a, b) => {
                let (x, y) = (self.int(a, env)?, self.int(b, env)?);
                Val::Int(if *min { x.min(y) } else { x.max(y) })
            }
        })
    }
}

fn s_span(s: &Stmt) -> Span {
    match s {
        Stmt::Hidden(_) => Span::default(),
        Stmt::For { span, .. }
        | Stmt::Let { span, .. }
        | Stmt::Draw { span, .. }
        | Stmt::HiddenLocal { span, .. }
        | Stmt::If { span, .. }
        | Stmt::Some { span, .. }
        | Stmt::Call { span, .. }
        | Stmt::Output { span, .. }
        | Stmt::Weight { span, .. } => *span,
    }
}

fn range_start(model: &Model, d: DomainId) -> Option<i64> {
    match model.domains[d].base {
        DomainBase::Range(lo, _) => Some(lo),
        DomainBase::Extends(b) => range_start(model, b),
        _ => None,
    }
}
