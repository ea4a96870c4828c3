//! The call sites of a structured story and what is known of the integers at each: the
//! bounds of the `for` and `for some` positions around it, the `if` tests it sits under, and
//! what holds of its procedure's parameters on entry (joined over every site that calls it,
//! to a fixed point). Termination (`termination.rs`) and the cost formula of `emc check`
//! (`cost.rs`) read them.

use std::collections::HashMap;

use super::bounds::{Bounds, Lin, Var};
use crate::model::*;
use crate::syntax::ast::{BinOp, CmpOp, Span};

/// One call statement, with the facts that hold where it runs.
#[derive(Clone, Debug)]
pub struct Site {
    /// `None`: the `model` block.
    pub caller: Option<ProcId>,
    pub callee: ProcId,
    pub span: Span,
    /// Per parameter of the callee: the argument as a linear form, for integers.
    pub args: Vec<Option<Lin>>,
    /// The facts in scope (each `lin >= 0`), local to the body.
    facts: Vec<Lin>,
    /// Entry facts of the caller, the local facts and `Var::Arg(k) == args[k]`, closed.
    pub bounds: Bounds,
}

/// A `for` or `for some` statement: how many positions it may range over is read off
/// `bounds`, where `Var::Arg(0)` is its end and `Var::Arg(1)` its start.
#[derive(Clone, Debug)]
pub struct Range {
    pub owner: Option<ProcId>,
    pub span: Span,
    ends: Vec<Option<Lin>>,
    facts: Vec<Lin>,
    pub bounds: Bounds,
}

/// Everything the analysis found.
pub struct Calls {
    pub sites: Vec<Site>,
    pub ranges: Vec<Range>,
    /// Per procedure, what holds of its integer parameters on entry (over `Zero`, the
    /// lengths and its parameters' locals); `None` when nothing calls it.
    pub entry: Vec<Option<Bounds>>,
    /// The sequence fields: the lengths a bound may refer to.
    pub lengths: Vec<FieldId>,
}

/// Rounds of the fixed point before bounds that still move are dropped (widening).
const WIDEN_AFTER: usize = 3;
/// Rounds at most; then every procedure is assumed to know nothing on entry.
const MAX_ROUNDS: usize = 64;

pub fn analyse(model: &Model) -> Calls {
    let lengths: Vec<FieldId> = (0..model.fields.len())
        .filter(|f| model.fields[*f].kind == FieldKind::Sequence)
        .collect();
    let mut w = Walker {
        lets: HashMap::new(),
        fresh: 0,
        sites: Vec::new(),
        ranges: Vec::new(),
        caller: None,
    };
    collect_lets(&model.story, &mut w.lets);
    for p in &model.procs {
        collect_lets(&p.body, &mut w.lets);
    }
    w.block(model, &model.story, &mut Vec::new());
    for (p, proc) in model.procs.iter().enumerate() {
        w.caller = Some(p);
        w.block(model, &proc.body, &mut Vec::new());
    }
    let mut sites = w.sites;
    let mut ranges = w.ranges;
    let mut entry: Vec<Option<Bounds>> = vec![None; model.procs.len()];
    let mut updates = vec![0usize; model.procs.len()];
    let mut converged = false;
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for s in &sites {
            let Some(b) = site_bounds(model, s, &entry, &lengths) else {
                continue;
            };
            if b.is_empty() {
                continue;
            }
            let keep = keep_of(model, s.callee, &lengths, true);
            let projected = b.project(&keep);
            let widen = updates[s.callee] >= WIDEN_AFTER;
            let moved = match &mut entry[s.callee] {
                Some(e) => e.join(&projected, widen),
                e @ None => {
                    *e = Some(projected);
                    true
                }
            };
            if moved {
                updates[s.callee] += 1;
                changed = true;
            }
        }
        if !changed {
            converged = true;
            break;
        }
    }
    if !converged {
        for e in entry.iter_mut().flatten() {
            *e = Bounds::default();
        }
    } else {
        // Narrowing: widening dropped bounds that still moved (`d <= 5` of a depth tested
        // with `d < 5`); one more pass from the fixed point recovers what every site gives,
        // and stays sound, since it starts above the least fixed point.
        for _ in 0..2 {
            let mut next: Vec<Option<Bounds>> = vec![None; model.procs.len()];
            for s in &sites {
                let Some(b) = site_bounds(model, s, &entry, &lengths) else {
                    continue;
                };
                if b.is_empty() {
                    continue;
                }
                let projected = b.project(&keep_of(model, s.callee, &lengths, true));
                match &mut next[s.callee] {
                    Some(e) => {
                        e.join(&projected, false);
                    }
                    e @ None => *e = Some(projected),
                }
            }
            entry = next;
        }
    }
    for r in ranges.iter_mut() {
        r.bounds = facts_bounds(model, r.owner, &r.facts, &r.ends, &entry, &lengths)
            .unwrap_or_else(unreachable_bounds);
    }
    for s in sites.iter_mut() {
        let b = site_bounds(model, s, &entry, &lengths);
        s.bounds = b.unwrap_or_else(unreachable_bounds);
    }
    Calls {
        sites,
        ranges,
        entry,
        lengths,
    }
}

/// Bounds of code that never runs.
fn unreachable_bounds() -> Bounds {
    let mut b = Bounds::default();
    b.le(Var::Zero, Var::Zero, -1);
    b.close();
    b
}

/// The variables a procedure's entry facts are about: `Zero`, the lengths and its integer
/// parameters (`from_args`: as the `Arg`s of a site that calls it).
fn keep_of(model: &Model, p: ProcId, lengths: &[FieldId], from_args: bool) -> Vec<(Var, Var)> {
    let mut keep = vec![(Var::Zero, Var::Zero)];
    keep.extend(lengths.iter().map(|f| (Var::Len(*f), Var::Len(*f))));
    for (k, (l, ty)) in model.procs[p].params.iter().enumerate() {
        if *ty == Ty::Int {
            let from = if from_args {
                Var::Arg(k)
            } else {
                Var::Local(*l)
            };
            keep.push((from, Var::Local(*l)));
        }
    }
    keep
}

/// A site's closed bounds under the current entry facts; `None` when its caller is not
/// reached.
fn site_bounds(
    model: &Model,
    s: &Site,
    entry: &[Option<Bounds>],
    lengths: &[FieldId],
) -> Option<Bounds> {
    facts_bounds(model, s.caller, &s.facts, &s.args, entry, lengths)
}

fn facts_bounds(
    model: &Model,
    caller: Option<ProcId>,
    facts: &[Lin],
    args: &[Option<Lin>],
    entry: &[Option<Bounds>],
    lengths: &[FieldId],
) -> Option<Bounds> {
    let mut b = match caller {
        None => Bounds::default(),
        Some(p) => {
            let e = entry[p].as_ref()?;
            let keep: Vec<(Var, Var)> = keep_of(model, p, lengths, false)
                .into_iter()
                .map(|(_, v)| (v, v))
                .collect();
            e.project(&keep)
        }
    };
    for f in lengths {
        b.le(Var::Zero, Var::Len(*f), 0);
    }
    for f in facts {
        b.assume(f);
    }
    for (k, a) in args.iter().enumerate() {
        if let Some(a) = a {
            if let Some(eq) = a.minus(&Lin::var(Var::Arg(k))) {
                b.assume(&eq);
                if let Some(neg) = eq.scale(-1) {
                    b.assume(&neg);
                }
            }
        }
    }
    b.close();
    Some(b)
}

fn collect_lets<'a>(stmts: &'a [Stmt], out: &mut HashMap<LocalId, &'a Expr>) {
    for s in stmts {
        match s {
            Stmt::Let { local, value, .. } => {
                out.insert(*local, value);
            }
            Stmt::For { body, .. } | Stmt::Some { body, .. } => collect_lets(body, out),
            Stmt::If {
                then, otherwise, ..
            } => {
                collect_lets(then, out);
                collect_lets(otherwise, out);
            }
            _ => {}
        }
    }
}

struct Walker<'a> {
    lets: HashMap<LocalId, &'a Expr>,
    fresh: u32,
    sites: Vec<Site>,
    ranges: Vec<Range>,
    caller: Option<ProcId>,
}

impl<'a> Walker<'a> {
    fn block(&mut self, model: &'a Model, stmts: &'a [Stmt], facts: &mut Vec<Lin>) {
        for s in stmts {
            match s {
                Stmt::For {
                    local,
                    lo,
                    hi,
                    body,
                    span,
                }
                | Stmt::Some {
                    local,
                    lo,
                    hi,
                    body,
                    span,
                } => {
                    let n = facts.len();
                    let x = Lin::var(Var::Local(*local));
                    let lo = self.lin(lo, facts);
                    let hi = self.lin(hi, facts);
                    self.ranges.push(Range {
                        owner: self.caller,
                        span: *span,
                        ends: vec![Some(hi.clone()), Some(lo.clone())],
                        facts: facts.clone(),
                        bounds: Bounds::default(),
                    });
                    facts.extend(x.minus(&lo));
                    facts.extend(hi.minus(&x).and_then(|d| d.shift(-1)));
                    self.block(model, body, facts);
                    facts.truncate(n);
                }
                Stmt::If {
                    cond,
                    then,
                    otherwise,
                    ..
                } => {
                    let n = facts.len();
                    self.cond(cond, true, facts);
                    self.block(model, then, facts);
                    facts.truncate(n);
                    self.cond(cond, false, facts);
                    self.block(model, otherwise, facts);
                    facts.truncate(n);
                }
                Stmt::Call { proc, args, span } => {
                    for a in args {
                        self.index_facts(a, facts);
                    }
                    let mut facts = facts.clone();
                    let args = args
                        .iter()
                        .zip(&model.procs[*proc].params)
                        .map(|(a, (_, ty))| (*ty == Ty::Int).then(|| self.lin(a, &mut facts)))
                        .collect();
                    self.sites.push(Site {
                        caller: self.caller,
                        callee: *proc,
                        span: *span,
                        args,
                        facts,
                        bounds: Bounds::default(),
                    });
                }
                // What runs past a draw or a `let` indexed its sequences within bounds (an
                // index out of range stops the line): `words[i] ~ emit(z)` gives
                // `0 <= i < len(words)` to the statements after it.
                Stmt::Draw { target, dist, .. } => {
                    self.index_facts(target, facts);
                    if let Dist::Family(_, args) | Dist::Table(_, args) = dist {
                        for a in args {
                            self.index_facts(a, facts);
                        }
                    }
                }
                Stmt::Let { value, .. } => self.index_facts(value, facts),
                _ => {}
            }
        }
    }

    /// The bounds every index and span of `e` must satisfy for it to be evaluated.
    fn index_facts(&mut self, e: &'a Expr, facts: &mut Vec<Lin>) {
        match &e.kind {
            ExprKind::Index(seq, i) => {
                self.index_facts(seq, facts);
                self.index_facts(i, facts);
                if matches!(seq.ty, Ty::Seq(_)) {
                    let len = self.len(seq, facts);
                    let i = self.lin(i, facts);
                    facts.push(i.clone());
                    facts.extend(len.minus(&i).and_then(|d| d.shift(-1)));
                }
            }
            ExprKind::Slice(seq, lo, hi) => {
                for x in [lo, hi] {
                    self.index_facts(x, facts);
                }
                let len = self.len(seq, facts);
                for x in [lo, hi] {
                    let x = self.lin(x, facts);
                    facts.push(x.clone());
                    facts.extend(len.minus(&x));
                }
            }
            ExprKind::Len(a) => self.index_facts(a, facts),
            ExprKind::Binary(_, a, b) | ExprKind::MinMax(_, a, b) => {
                self.index_facts(a, facts);
                self.index_facts(b, facts);
            }
            ExprKind::List(items) => {
                for it in items {
                    self.index_facts(it, facts);
                }
            }
            _ => {}
        }
    }

    fn fresh(&mut self) -> Lin {
        self.fresh += 1;
        Lin::var(Var::Fresh(self.fresh))
    }

    /// An integer expression as a linear form; what it cannot follow becomes a fresh
    /// variable, with the facts it knows of it (`min(a, b) <= a`) added to `facts`.
    fn lin(&mut self, e: &'a Expr, facts: &mut Vec<Lin>) -> Lin {
        let out = match &e.kind {
            ExprKind::Int(v) => Some(Lin::constant(*v)),
            ExprKind::Local(l) => match self.lets.get(l).copied() {
                Some(v) if v.ty == Ty::Int => Some(self.lin(v, facts)),
                _ => Some(Lin::var(Var::Local(*l))),
            },
            ExprKind::Len(s) => Some(self.len(s, facts)),
            ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) => {
                let (a, b) = (self.lin(a, facts), self.lin(b, facts));
                a.plus(if *op == BinOp::Add { 1 } else { -1 }, &b)
            }
            ExprKind::Binary(BinOp::Mul, a, b) => {
                let (a, b) = (self.lin(a, facts), self.lin(b, facts));
                match (a.terms.is_empty(), b.terms.is_empty()) {
                    (true, _) => b.scale(a.c),
                    (_, true) => a.scale(b.c),
                    _ => None,
                }
            }
            ExprKind::MinMax(min, a, b) => {
                let (a, b) = (self.lin(a, facts), self.lin(b, facts));
                let t = self.fresh();
                for x in [a, b] {
                    let d = if *min { x.minus(&t) } else { t.minus(&x) };
                    facts.extend(d);
                }
                Some(t)
            }
            _ => None,
        };
        out.unwrap_or_else(|| self.fresh())
    }

    /// `len(s)`: a field's length is a variable of the line; a literal's and a
    /// concatenation's follow from their parts.
    fn len(&mut self, s: &'a Expr, facts: &mut Vec<Lin>) -> Lin {
        let out = match &s.kind {
            ExprKind::Field(f) => Some(Lin::var(Var::Len(*f))),
            ExprKind::List(items) => Some(Lin::constant(items.len() as i64)),
            ExprKind::Binary(BinOp::Concat, a, b) => {
                let (a, b) = (self.len(a, facts), self.len(b, facts));
                a.plus(1, &b)
            }
            ExprKind::Local(l) => self.lets.get(l).copied().map(|v| self.len(v, facts)),
            _ => None,
        };
        out.unwrap_or_else(|| {
            let t = self.fresh();
            facts.push(t.clone());
            t
        })
    }

    /// The facts a condition gives where it holds (`positive`) or where it fails.
    fn cond(&mut self, c: &'a Cond, positive: bool, facts: &mut Vec<Lin>) {
        match (c, positive) {
            (Cond::Not(a), _) => self.cond(a, !positive, facts),
            (Cond::And(a, b), true) | (Cond::Or(a, b), false) => {
                self.cond(a, positive, facts);
                self.cond(b, positive, facts);
            }
            // A disjunction of facts is not a difference bound: nothing is kept.
            (Cond::And(..), false) | (Cond::Or(..), true) => {}
            (Cond::Compare(op, a, b), _) => {
                if a.ty != Ty::Int || b.ty != Ty::Int {
                    return;
                }
                let op = if positive { *op } else { negate(*op) };
                let (a, b) = (self.lin(a, facts), self.lin(b, facts));
                // Each as `x >= 0`.
                let (ab, ba) = (a.minus(&b), b.minus(&a));
                match op {
                    CmpOp::Lt => facts.extend(ba.and_then(|d| d.shift(-1))),
                    CmpOp::Le => facts.extend(ba),
                    CmpOp::Gt => facts.extend(ab.and_then(|d| d.shift(-1))),
                    CmpOp::Ge => facts.extend(ab),
                    CmpOp::Eq => facts.extend(ab.into_iter().chain(ba)),
                    CmpOp::Ne => {}
                }
            }
        }
    }
}

fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
    }
}
