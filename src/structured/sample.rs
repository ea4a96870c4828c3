//! `emc sample` for a structured story: top-down (ancestral) sampling of one derivation per
//! line, with every sequence field `length` long.
//!
//! The story runs from the `model` block down, on an explicit stack of frames (never the
//! Rust stack): a draw of a hidden value or of an observed element samples it from its row
//! (a row of a family, a uniform, a table), a draw of a span `chars[i..j] ~ word` samples a
//! word of `j - i` elements in proportion to its probability and writes its elements, `for
//! some` picks one of its positions uniformly, and a draw whose outcome is a constant (an
//! end marker like `no ~ more`) is evidence and is skipped. A line whose derivation reaches a
//! branch with no way on (an empty `for some`, no word of the span's length) is drawn again.
//! Calls nest at most `MAX_DEPTH` deep and a line takes at most `MAX_STEPS` statements:
//! past either the line is refused with an error at the statement that passed the bound.

use std::rc::Rc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::Domains;
use crate::graph::{UnrollError, UnrollErrorKind};
use crate::model::*;
use crate::params::Params;
use crate::program::Program;
use crate::sample::SampleError;
use crate::syntax::ast::{BinOp, CmpOp, Span};

/// Deepest nesting of calls (and blocks) one derivation may reach.
pub const MAX_DEPTH: usize = 1 << 16;
/// Most statements one line's derivation may run.
pub const MAX_STEPS: usize = 1 << 22;
/// Draws of one line before it is given up.
const MAX_TRIES: usize = 1000;

#[derive(Clone, Debug)]
enum Val {
    Int(i64),
    Seq(Rc<Vec<i64>>),
}

enum Frame<'a> {
    Block(&'a [Stmt], usize),
    Loop {
        local: LocalId,
        next: i64,
        hi: i64,
        body: &'a [Stmt],
        span: Span,
    },
    /// The caller's locals, back when the callee's body is done.
    Return(Vec<Option<Val>>),
}

/// Why a draw of a line stopped.
enum Stop {
    /// A branch with no way on: draw the line again.
    Dead,
    Error(SampleError),
}

impl From<UnrollError> for Stop {
    fn from(e: UnrollError) -> Stop {
        Stop::Error(e.into())
    }
}

struct Line<'a> {
    model: &'a Model,
    domains: &'a Domains,
    program: &'a Program,
    theta: &'a [f64],
    /// Per field: its elements (`None`: not drawn yet); a scalar is one element.
    fields: Vec<Vec<Option<i64>>>,
    /// Per real field, its values as `fields` holds a symbolic field's.
    reals: Vec<Vec<Option<Vec<f64>>>>,
    env: Vec<Option<Val>>,
    /// Per substrings domain, per word: its elements (for span draws).
    words: &'a [Option<Vec<Vec<u32>>>],
}

/// `n` lines of a structured story under `params`.
pub fn sample(
    program: &Program,
    params: &Params,
    n: usize,
    length: usize,
    seed: u64,
) -> Result<Vec<String>, SampleError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let model = &program.model;
    let words: Vec<Option<Vec<Vec<u32>>>> = (0..model.domains.len())
        .map(|d| match model.domains[d].base {
            DomainBase::Substrings { field, .. } => {
                Some(split_words(&program.domains, d, model.fields[field].domain))
            }
            _ => None,
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let mut tries = 0;
        loop {
            let mut line = Line {
                model,
                domains: &program.domains,
                program,
                theta: &params.theta,
                fields: model
                    .fields
                    .iter()
                    .map(|f| match f.kind {
                        FieldKind::Sequence => vec![None; length],
                        _ => vec![None],
                    })
                    .collect(),
                reals: (model.fields.iter())
                    .map(|f| match (f.real, f.kind) {
                        (None, _) => Vec::new(),
                        (Some(_), FieldKind::Sequence) => vec![None; length],
                        (Some(_), _) => vec![None],
                    })
                    .collect(),
                env: vec![None; model.locals.len()],
                words: &words,
            };
            match line.run(&mut rng) {
                Ok(()) => {
                    out.push(line.render()?);
                    break;
                }
                Err(Stop::Dead) => {
                    tries += 1;
                    if tries >= MAX_TRIES {
                        return Err(SampleError::Bound {
                            what: format!(
                                "every one of {MAX_TRIES} draws of a line of length {length} reached a branch with no way on (an empty `for some`, or no word of a span's length)"
                            ),
                            span: super::story_span(model),
                        });
                    }
                }
                Err(Stop::Error(e)) => return Err(e),
            }
        }
    }
    Ok(out)
}

/// Each word of a substrings domain as its elements: the text split into element names,
/// longest name first (the way the domain joined them).
fn split_words(domains: &Domains, words: DomainId, elem: DomainId) -> Vec<Vec<u32>> {
    let names: Vec<(String, u32)> = (0..domains.size(elem) as u32)
        .map(|e| (domains.name(elem, e).to_string(), e))
        .collect();
    (0..domains.size(words) as u32)
        .map(|w| {
            let text = domains.name(words, w);
            let mut out = Vec::new();
            let mut rest = text;
            while !rest.is_empty() {
                let Some((name, e)) = names
                    .iter()
                    .filter(|(n, _)| !n.is_empty() && rest.starts_with(n.as_str()))
                    .max_by_key(|(n, _)| n.len())
                else {
                    break;
                };
                out.push(*e);
                rest = &rest[name.len()..];
            }
            out
        })
        .collect()
}

impl<'a> Line<'a> {
    fn error(&self, kind: UnrollErrorKind, span: Span) -> Stop {
        Stop::Error(
            UnrollError {
                kind,
                span,
                line: 0,
            }
            .into(),
        )
    }

    fn run(&mut self, rng: &mut impl Rng) -> Result<(), Stop> {
        let mut stack: Vec<Frame<'a>> = vec![Frame::Block(&self.model.story, 0)];
        let mut steps = 0usize;
        while let Some(top) = stack.last_mut() {
            let stmt = match top {
                Frame::Block(stmts, next) => {
                    let Some(s) = stmts.get(*next) else {
                        stack.pop();
                        continue;
                    };
                    *next += 1;
                    s
                }
                Frame::Loop {
                    local,
                    next,
                    hi,
                    body,
                    span,
                } => {
                    if *next >= *hi {
                        stack.pop();
                        continue;
                    }
                    // A pass counts as a statement, so an empty loop body cannot run on.
                    steps += 1;
                    if steps > MAX_STEPS {
                        return Err(Stop::Error(SampleError::Bound {
                            what: format!("the derivation went past the sampler's bound of {MAX_STEPS} statements on one line"),
                            span: *span,
                        }));
                    }
                    self.env[*local] = Some(Val::Int(*next));
                    *next += 1;
                    let body: &'a [Stmt] = body;
                    stack.push(Frame::Block(body, 0));
                    continue;
                }
                Frame::Return(_) => {
                    if let Some(Frame::Return(env)) = stack.pop() {
                        self.env = env;
                    }
                    continue;
                }
            };
            steps += 1;
            if steps > MAX_STEPS || stack.len() > MAX_DEPTH {
                let what = if steps > MAX_STEPS {
                    format!("{MAX_STEPS} statements on one line")
                } else {
                    format!("calls nested {MAX_DEPTH} deep")
                };
                return Err(Stop::Error(SampleError::Bound {
                    what: format!("the derivation went past the sampler's bound of {what}"),
                    span: s_span(stmt),
                }));
            }
            self.stmt(stmt, &mut stack, rng)?;
        }
        Ok(())
    }

    fn stmt(
        &mut self,
        s: &'a Stmt,
        stack: &mut Vec<Frame<'a>>,
        rng: &mut impl Rng,
    ) -> Result<(), Stop> {
        match s {
            Stmt::Hidden(_) => {}
            Stmt::HiddenLocal { local, .. } => self.env[*local] = None,
            Stmt::Let { local, value, .. } => self.env[*local] = Some(self.eval(value)?),
            Stmt::For {
                local,
                lo,
                hi,
                body,
                span,
            } => {
                let (lo, hi) = (self.int(lo)?, self.int(hi)?);
                stack.push(Frame::Loop {
                    local: *local,
                    next: lo,
                    hi,
                    body,
                    span: *span,
                });
            }
            Stmt::Some {
                local,
                lo,
                hi,
                body,
                ..
            } => {
                let (lo, hi) = (self.int(lo)?, self.int(hi)?);
                if hi <= lo {
                    return Err(Stop::Dead);
                }
                self.env[*local] = Some(Val::Int(rng.gen_range(lo..hi)));
                stack.push(Frame::Block(body, 0));
            }
            Stmt::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                let body = if self.cond(cond)? { then } else { otherwise };
                stack.push(Frame::Block(body, 0));
            }
            Stmt::Call { proc, args, .. } => {
                let p = &self.model.procs[*proc];
                let mut env = vec![None; self.model.locals.len()];
                for (a, (l, ty)) in args.iter().zip(&p.params) {
                    let v = self.int(a)?;
                    let v = match ty {
                        Ty::Sym(d) => self.index(v, a, *d)? as i64,
                        _ => v,
                    };
                    env[*l] = Some(Val::Int(v));
                }
                // A call that ends its caller's body (a tail call, as a chain's recursion
                // is) needs no frame to come back to: the stack stays as deep as the
                // derivation's nesting, not its length.
                while matches!(stack.last(), Some(Frame::Block(st, n)) if *n >= st.len()) {
                    stack.pop();
                }
                let tail = matches!(stack.last(), None | Some(Frame::Return(_)));
                let saved = std::mem::replace(&mut self.env, env);
                if !tail {
                    stack.push(Frame::Return(saved));
                }
                stack.push(Frame::Block(&p.body, 0));
            }
            Stmt::Draw {
                restrict: Some(_),
                span,
                ..
            } => {
                // Drawing from a row restricted to a line's positions needs the row
                // renormalised over them, which the sampler does not do yet: refuse rather
                // than draw from the unrestricted row.
                return Err(Stop::Error(SampleError::Unsupported {
                    what: "a draw restricted to the values a line allows (`within`, `from`)".into(),
                    span: *span,
                }));
            }
            Stmt::Draw {
                target,
                dist: Dist::Family(f, args),
                span,
                ..
            } if matches!(self.model.families[*f].kind, FamilyKind::Gaussian(_)) => {
                self.draw_real(target, *f, args, *span, rng)?
            }
            Stmt::Draw {
                target, dist, span, ..
            } => self.draw(target, dist, *span, rng)?,
            // Only decoding reads what a derivation prints.
            Stmt::Output { .. } => {}
            // Drawing top-down would ignore the factor, and with it the distribution the
            // story's weights define: refused rather than sampled from another model.
            Stmt::Weight { span, .. } => {
                return Err(Stop::Error(SampleError::Unsupported {
                    what: "a fixed factor (`weight`), which ancestral sampling cannot honour"
                        .into(),
                    span: *span,
                }));
            }
        }
        Ok(())
    }

    /// The weights of a draw's outcomes (a row of probabilities).
    fn row(&self, dist: &Dist, domain: DomainId) -> Result<Vec<f64>, Stop> {
        Ok(match dist {
            Dist::Family(f, args) => {
                let fam = &self.model.families[*f];
                let slot = &self.program.layout.families[*f];
                let mut row = 0usize;
                for (k, (a, d)) in args.iter().zip(&fam.conditions).enumerate() {
                    let v = self.int(a)?;
                    row = row * slot.cond_sizes[k] + self.index(v, a, *d)?;
                }
                // A sparse row's unstored outcomes have probability zero.
                let mut w = vec![0.0; slot.n_out];
                for (o, k) in slot.row_entries(row) {
                    w[o] = self.theta[k];
                }
                w
            }
            Dist::Uniform => vec![1.0; self.domains.size(domain)],
            Dist::Table(t, args) => {
                let table = &self.model.tables[*t];
                let mut idx = 0usize;
                for (a, d) in args.iter().zip(&table.args) {
                    let v = self.int(a)?;
                    idx = idx * self.domains.size(*d) + self.index(v, a, *d)?;
                }
                let mut w = vec![0.0; self.domains.size(domain)];
                w[table.values[idx] as usize] = 1.0;
                w
            }
        })
    }

    fn draw(
        &mut self,
        target: &Expr,
        dist: &Dist,
        span: Span,
        rng: &mut impl Rng,
    ) -> Result<(), Stop> {
        let domain = match (dist, &target.ty) {
            (Dist::Family(f, _), _) => self.model.families[*f].outcome,
            (Dist::Table(t, _), _) => self.model.tables[*t].result,
            (Dist::Uniform, Ty::Sym(d)) => *d,
            (Dist::Uniform, _) => return Err(self.error(UnrollErrorKind::Uniform, span)),
        };
        let mut w = self.row(dist, domain)?;
        match &target.kind {
            ExprKind::Local(l) => {
                if self.env[*l].is_some() {
                    let name = self.model.locals[*l].clone();
                    return Err(self.error(UnrollErrorKind::DrawnTwice(name), span));
                }
                let v = pick(&w, rng).ok_or(Stop::Dead)?;
                self.env[*l] = Some(Val::Int(v as i64));
            }
            ExprKind::Field(f) => {
                self.fields[*f][0] = Some(pick(&w, rng).ok_or(Stop::Dead)? as i64);
            }
            ExprKind::Index(seq, i) => {
                let ExprKind::Field(f) = seq.kind else {
                    return Err(self.error(UnrollErrorKind::NotAVariable, span));
                };
                let i = self.int(i)?;
                let len = self.fields[f].len();
                let k = usize::try_from(i)
                    .ok()
                    .filter(|k| *k < len)
                    .ok_or_else(|| self.error(UnrollErrorKind::Index { index: i, len }, span))?;
                if self.fields[f][k].is_some() {
                    let name = format!("{}[{k}]", self.model.fields[f].name);
                    return Err(self.error(UnrollErrorKind::DrawnTwice(name), span));
                }
                self.fields[f][k] = Some(pick(&w, rng).ok_or(Stop::Dead)? as i64);
            }
            ExprKind::Slice(seq, lo, hi) => {
                let ExprKind::Field(f) = seq.kind else {
                    return Err(self.error(UnrollErrorKind::NotAVariable, span));
                };
                let (lo, hi) = (self.int(lo)?, self.int(hi)?);
                let len = self.fields[f].len();
                for k in [lo, hi] {
                    if k < 0 || k as usize > len {
                        return Err(self.error(UnrollErrorKind::Index { index: k, len }, span));
                    }
                }
                let words = self.words[domain].as_ref().ok_or(Stop::Dead)?;
                let n = usize::try_from(hi - lo).unwrap_or(0);
                for (wt, elems) in w.iter_mut().zip(words) {
                    if elems.len() != n {
                        *wt = 0.0;
                    }
                }
                let word = pick(&w, rng).ok_or(Stop::Dead)?;
                for (k, e) in words[word].iter().enumerate() {
                    self.fields[f][lo as usize + k] = Some(i64::from(*e));
                }
            }
            // A constant outcome is evidence (an end marker): nothing to generate.
            _ => {}
        }
        Ok(())
    }

    /// A real value drawn from the Gaussian row `f(args)`.
    fn draw_real(
        &mut self,
        target: &Expr,
        f: FamilyId,
        args: &[Expr],
        span: Span,
        rng: &mut impl Rng,
    ) -> Result<(), Stop> {
        let (field, k) = match &target.kind {
            ExprKind::Field(field) => (*field, 0),
            ExprKind::Index(seq, i) => match seq.kind {
                ExprKind::Field(field) => {
                    let i = self.int(i)?;
                    let len = self.reals[field].len();
                    let k = usize::try_from(i)
                        .ok()
                        .filter(|k| *k < len)
                        .ok_or_else(|| {
                            self.error(UnrollErrorKind::Index { index: i, len }, span)
                        })?;
                    (field, k)
                }
                _ => return Err(self.error(UnrollErrorKind::NotAVariable, span)),
            },
            _ => return Err(self.error(UnrollErrorKind::NotAVariable, span)),
        };
        if self.reals[field][k].is_some() {
            let name = &self.model.fields[field].name;
            let name = match self.model.fields[field].kind {
                FieldKind::Sequence => format!("{name}[{k}]"),
                _ => name.clone(),
            };
            return Err(self.error(UnrollErrorKind::DrawnTwice(name), span));
        }
        let fam = &self.model.families[f];
        let slot = &self.program.layout.families[f];
        let mut row = 0usize;
        for (c, (a, d)) in args.iter().zip(&fam.conditions).enumerate() {
            let v = self.int(a)?;
            row = row * slot.cond_sizes[c] + self.index(v, a, *d)?;
        }
        let dim = self.model.fields[field].real.unwrap_or(1);
        let start = slot.offset + row * slot.n_out;
        let x = crate::sample::gaussian_value(&self.theta[start..], dim, rng);
        self.reals[field][k] = Some(x);
        Ok(())
    }

    fn render(&self) -> Result<String, SampleError> {
        let model = self.model;
        let mut groups = Vec::new();
        for group in &model.groups {
            let mut parts = Vec::new();
            for f in group {
                let field = &model.fields[*f];
                if field.kind == FieldKind::Weight {
                    parts.push("1".to_string());
                    continue;
                }
                if field.real.is_some() {
                    let sep = match field.kind {
                        FieldKind::Sequence => ",",
                        _ => " ",
                    };
                    let mut elems = Vec::new();
                    for x in &self.reals[*f] {
                        let Some(x) = x else {
                            return Err(SampleError::NotGenerated {
                                name: field.name.clone(),
                                span: field.span,
                            });
                        };
                        elems.push(crate::sample::format_real(x, sep));
                    }
                    parts.push(elems.join(" "));
                    continue;
                }
                let mut elems = Vec::new();
                for v in &self.fields[*f] {
                    let Some(v) = v else {
                        return Err(SampleError::NotGenerated {
                            name: field.name.clone(),
                            span: field.span,
                        });
                    };
                    elems.push(self.domains.name(field.domain, *v as u32).to_string());
                }
                parts.push(elems.join(" "));
            }
            groups.push(parts.join(" "));
        }
        Ok(groups.join(" ||| "))
    }

    fn index(&self, v: i64, e: &Expr, d: DomainId) -> Result<usize, Stop> {
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
                self.error(
                    UnrollErrorKind::Domain {
                        value: v,
                        domain: self.model.domains[d].name.clone(),
                        values: format!("{size} values"),
                    },
                    e.span,
                )
            })
    }

    fn cond(&self, c: &Cond) -> Result<bool, Stop> {
        Ok(match c {
            Cond::And(a, b) => self.cond(a)? && self.cond(b)?,
            Cond::Or(a, b) => self.cond(a)? || self.cond(b)?,
            Cond::Not(a) => !self.cond(a)?,
            Cond::Compare(op, a, b) => {
                let (mut x, mut y) = (self.int(a)?, self.int(b)?);
                if a.ty == Ty::Int || b.ty == Ty::Int {
                    x += offset(self.model, &a.ty);
                    y += offset(self.model, &b.ty);
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

    fn int(&self, e: &Expr) -> Result<i64, Stop> {
        match self.eval(e)? {
            Val::Int(v) => Ok(v),
            Val::Seq(_) => Err(self.error(UnrollErrorKind::NotKnown, e.span)),
        }
    }

    fn field(&self, f: FieldId, span: Span) -> Result<Rc<Vec<i64>>, Stop> {
        let name = &self.model.fields[f].name;
        let v: Option<Vec<i64>> = self.fields[f].iter().copied().collect();
        v.map(Rc::new)
            .ok_or_else(|| self.error(UnrollErrorKind::UsedBeforeDrawn(name.clone()), span))
    }

    fn eval(&self, e: &Expr) -> Result<Val, Stop> {
        Ok(match &e.kind {
            ExprKind::Int(v) => Val::Int(*v),
            ExprKind::Symbol(name) => {
                let Ty::Sym(d) = e.ty else {
                    return Err(self.error(UnrollErrorKind::Symbol(name.clone()), e.span));
                };
                let i = self
                    .domains
                    .lookup(d, name)
                    .ok_or_else(|| self.error(UnrollErrorKind::Symbol(name.clone()), e.span))?;
                Val::Int(i64::from(i))
            }
            ExprKind::Local(l) => self.env[*l].clone().ok_or_else(|| {
                self.error(
                    UnrollErrorKind::UsedBeforeDrawn(self.model.locals[*l].clone()),
                    e.span,
                )
            })?,
            ExprKind::Field(f) => match self.model.fields[*f].kind {
                FieldKind::Sequence => Val::Seq(self.field(*f, e.span)?),
                _ => Val::Int(self.fields[*f][0].ok_or_else(|| {
                    self.error(
                        UnrollErrorKind::UsedBeforeDrawn(self.model.fields[*f].name.clone()),
                        e.span,
                    )
                })?),
            },
            ExprKind::Len(a) => match &a.kind {
                // A field's length is fixed before anything is drawn.
                ExprKind::Field(f) => Val::Int(self.fields[*f].len() as i64),
                _ => match self.eval(a)? {
                    Val::Seq(s) => Val::Int(s.len() as i64),
                    Val::Int(_) => return Err(self.error(UnrollErrorKind::NotKnown, e.span)),
                },
            },
            ExprKind::Index(a, i) => {
                let i = self.int(i)?;
                let value = match &a.kind {
                    ExprKind::Field(f) => {
                        let len = self.fields[*f].len();
                        let k = usize::try_from(i)
                            .ok()
                            .filter(|k| *k < len)
                            .ok_or_else(|| {
                                self.error(UnrollErrorKind::Index { index: i, len }, e.span)
                            })?;
                        self.fields[*f][k].ok_or_else(|| {
                            let name = format!("{}[{k}]", self.model.fields[*f].name);
                            self.error(UnrollErrorKind::UsedBeforeDrawn(name), e.span)
                        })?
                    }
                    _ => {
                        let Val::Seq(s) = self.eval(a)? else {
                            return Err(self.error(UnrollErrorKind::NotKnown, e.span));
                        };
                        let len = s.len();
                        *usize::try_from(i)
                            .ok()
                            .and_then(|k| s.get(k))
                            .ok_or_else(|| {
                                self.error(UnrollErrorKind::Index { index: i, len }, e.span)
                            })?
                    }
                };
                Val::Int(value)
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    out.push(self.int(it)?);
                }
                Val::Seq(Rc::new(out))
            }
            ExprKind::Binary(BinOp::Concat, a, b) => {
                let (Val::Seq(x), Val::Seq(y)) = (self.eval(a)?, self.eval(b)?) else {
                    return Err(self.error(UnrollErrorKind::NotKnown, e.span));
                };
                Val::Seq(Rc::new(x.iter().chain(y.iter()).copied().collect()))
            }
            ExprKind::Binary(op, a, b) => {
                let (x, y) = (self.int(a)?, self.int(b)?);
                let v = match op {
                    BinOp::Add => x.checked_add(y),
                    BinOp::Sub => x.checked_sub(y),
                    _ => x.checked_mul(y),
                };
                Val::Int(v.ok_or_else(|| self.error(UnrollErrorKind::Overflow, e.span))?)
            }
            ExprKind::MinMax(min, a, b) => {
                let (x, y) = (self.int(a)?, self.int(b)?);
                Val::Int(if *min { x.min(y) } else { x.max(y) })
            }
            ExprKind::Hidden(_) | ExprKind::Slice(..) => {
                return Err(self.error(UnrollErrorKind::NotKnown, e.span))
            }
        })
    }
}

/// An outcome drawn in proportion to `w`; `None` when every weight is zero.
fn pick(w: &[f64], rng: &mut impl Rng) -> Option<usize> {
    let total: f64 = w.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return None;
    }
    let mut u = rng.gen::<f64>() * total;
    for (i, x) in w.iter().enumerate() {
        if u < *x {
            return Some(i);
        }
        u -= x;
    }
    w.iter().rposition(|x| *x > 0.0)
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

fn offset(model: &Model, ty: &Ty) -> i64 {
    match ty {
        Ty::Sym(d) => range_start(model, *d).unwrap_or(0),
        _ => 0,
    }
}

fn range_start(model: &Model, d: DomainId) -> Option<i64> {
    match model.domains[d].base {
        DomainBase::Range(lo, _) => Some(lo),
        DomainBase::Extends(b) => range_start(model, b),
        _ => None,
    }
}
