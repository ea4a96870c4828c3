//! The shape of a structured story, for `emc check`: its structure class (chain,
//! segmentation, span-based tree, general hypergraph) and its cost as a formula in the
//! lengths of a line's sequences, read off the procedures without data.
//!
//! The formula is an upper bound, derived as a whiteboard argument would: a procedure has at
//! most as many distinct calls (nodes) as its arguments have values (an integer bounded by
//! `len(words)` has O(n), one within a constant of another parameter O(1), a symbol |D|),
//! and each call at most as many hyperedges as its body has branches (a hidden draw
//! multiplies them by its domain's size, a `for some` by its range's length, an `if` adds
//! its two sides). Hyperedges in all are the sum over procedures of nodes times branches.
//! What bounds a position comes from the facts `calls.rs` collects.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::bounds::{Bounds, Var};
use super::calls::{analyse, Calls};
use crate::model::*;

/// A factor of a cost term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Factor {
    /// The length of a sequence field.
    Len(FieldId),
    /// The size of a domain.
    Domain(DomainId),
    /// A position the checker finds no bound for.
    Unbounded,
}

/// Most terms a formula keeps; past this its terms merge into one that bounds them all.
const MAX_TERMS: usize = 8;

/// A sum of products of factors, constants dropped (big-O), no term dominated by another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Poly(Vec<BTreeMap<Factor, u32>>);

impl Poly {
    pub fn one() -> Poly {
        Poly(vec![BTreeMap::new()])
    }

    fn factor(f: Factor) -> Poly {
        Poly(vec![BTreeMap::from([(f, 1)])])
    }

    fn is_one(&self) -> bool {
        self.0.iter().all(|m| m.is_empty())
    }

    fn prune(mut terms: Vec<BTreeMap<Factor, u32>>) -> Poly {
        let dominates = |a: &BTreeMap<Factor, u32>, b: &BTreeMap<Factor, u32>| {
            b.iter().all(|(f, k)| a.get(f).is_some_and(|j| j >= k))
        };
        terms.sort();
        terms.dedup();
        if terms.len() > MAX_TERMS {
            return Poly::bound(&terms);
        }
        let kept: Vec<_> = terms
            .iter()
            .filter(|b| !terms.iter().any(|a| a != *b && dominates(a, b)))
            .cloned()
            .collect();
        Poly(kept)
    }

    /// One term that dominates all of `terms` (each factor at its largest exponent): a
    /// looser bound, for formulas that would otherwise grow without end.
    fn bound(terms: &[BTreeMap<Factor, u32>]) -> Poly {
        let mut m: BTreeMap<Factor, u32> = BTreeMap::new();
        for t in terms {
            for (f, k) in t {
                let e = m.entry(*f).or_insert(0);
                *e = (*e).max(*k);
            }
        }
        Poly(vec![m])
    }

    pub fn times(&self, other: &Poly) -> Poly {
        let mut out = Vec::new();
        for a in &self.0 {
            for b in &other.0 {
                let mut m = a.clone();
                for (f, k) in b {
                    let e = m.entry(*f).or_insert(0);
                    *e = e.saturating_add(*k);
                }
                out.push(m);
            }
        }
        Poly::prune(out)
    }

    pub fn plus(&self, other: &Poly) -> Poly {
        Poly::prune(self.0.iter().chain(&other.0).cloned().collect())
    }

    /// The exponent of line lengths in the largest term: 3 for O(n^3 |NT|^3).
    pub fn degree(&self) -> u32 {
        self.0
            .iter()
            .map(|m| {
                m.iter()
                    .filter(|(f, _)| !matches!(f, Factor::Domain(_)))
                    .map(|(_, k)| k)
                    .sum()
            })
            .max()
            .unwrap_or(0)
    }
}

/// What `emc check` says of a structured story.
#[derive(Clone, Debug)]
pub struct Shape {
    pub class: Class,
    /// Distinct calls a line may make, and hyperedges; `None`: exponential in the length
    /// (a `for` loop whose body branches).
    pub nodes: Poly,
    pub edges: Option<Poly>,
    /// The most calls one branch of a procedure makes (the tails of a hyperedge).
    pub tails: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Chain,
    Segmentation,
    Tree,
    General,
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Class::Chain => "chain (each expansion makes at most one call)",
            Class::Segmentation => "segmentation (one call per expansion, drawing spans)",
            Class::Tree => "tree (span-based: an expansion splits its span among several calls)",
            Class::General => "general hypergraph",
        })
    }
}

/// A cost term's text: `n^3 |NT|^2`, with `n` the only sequence's length, else `n_words`.
pub fn render(model: &Model, p: &Poly) -> String {
    let seqs = model
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Sequence)
        .count();
    let terms: Vec<String> =
        p.0.iter()
            .map(|m| {
                if m.is_empty() {
                    return "1".to_string();
                }
                let parts: Vec<String> = m
                    .iter()
                    .map(|(f, k)| {
                        let base = match f {
                            Factor::Len(_) if seqs == 1 => "n".to_string(),
                            Factor::Len(fld) => format!("n_{}", model.fields[*fld].name),
                            Factor::Domain(d) => format!("|{}|", model.domains[*d].name),
                            Factor::Unbounded => "m".to_string(),
                        };
                        if *k == 1 {
                            base
                        } else {
                            format!("{base}^{k}")
                        }
                    })
                    .collect();
                parts.join(" ")
            })
            .collect();
    format!("O({})", terms.join(" + "))
}

/// What the letters of a formula stand for.
pub fn legend(model: &Model, p: &Poly) -> Vec<String> {
    let mut out = Vec::new();
    let seqs: Vec<FieldId> = (0..model.fields.len())
        .filter(|f| model.fields[*f].kind == FieldKind::Sequence)
        .collect();
    let used = |f: Factor| p.0.iter().any(|m| m.contains_key(&f));
    for f in &seqs {
        if used(Factor::Len(*f)) {
            let name = &model.fields[*f].name;
            out.push(if seqs.len() == 1 {
                format!("n = len({name})")
            } else {
                format!("n_{name} = len({name})")
            });
        }
    }
    if used(Factor::Unbounded) {
        out.push("m = a position the checker finds no bound for".into());
    }
    out
}

/// The shape of a structured story (checked, so its recursion ends).
pub fn shape(model: &Model) -> Shape {
    let calls = analyse(model);
    let ranges: HashMap<(usize, usize), &Bounds> = calls
        .ranges
        .iter()
        .map(|r| ((r.span.start, r.span.end), &r.bounds))
        .collect();
    let mut w = Walk {
        calls: &calls,
        ranges,
        tails: 0,
        spans: false,
    };
    let mut nodes = Poly::one();
    let mut edges = w.branches(&model.story);
    // The model block is one hyperedge, whatever it calls: the class is the procedures'.
    w.tails = 0;
    for (p, proc) in model.procs.iter().enumerate() {
        let Some(entry) = &calls.entry[p] else {
            continue;
        };
        let n = proc_nodes(&calls, proc, entry);
        nodes = nodes.plus(&n);
        let b = w.branches(&proc.body);
        edges = match (edges, b) {
            (Some(e), Some(b)) => Some(e.plus(&n.times(&b))),
            _ => None,
        };
    }
    let ints = |p: &Proc| p.params.iter().filter(|(_, t)| *t == Ty::Int).count();
    let class = if edges.is_none() {
        Class::General
    } else if w.tails <= 1 {
        if w.spans {
            Class::Segmentation
        } else {
            Class::Chain
        }
    } else if (0..model.procs.len())
        .all(|p| ints(&model.procs[p]) >= 2 || !calls.sites.iter().any(|s| s.caller == Some(p)))
    {
        Class::Tree
    } else {
        Class::General
    };
    Shape {
        class,
        nodes,
        edges,
        tails: w.tails,
    }
}

/// How many distinct calls of a procedure a line may make: its arguments' values.
fn proc_nodes(calls: &Calls, proc: &Proc, entry: &Bounds) -> Poly {
    let mut out = Poly::one();
    let mut counted: Vec<Var> = vec![Var::Zero];
    for (l, ty) in &proc.params {
        let f = match ty {
            Ty::Sym(d) => Some(Factor::Domain(*d)),
            _ => {
                let v = Var::Local(*l);
                let near = counted
                    .iter()
                    .any(|q| entry.upper(v, *q).is_some() && entry.upper(*q, v).is_some());
                counted.push(v);
                if near {
                    None
                } else {
                    let below = entry.upper(Var::Zero, v).is_some()
                        || calls
                            .lengths
                            .iter()
                            .any(|f| entry.upper(Var::Len(*f), v).is_some());
                    calls
                        .lengths
                        .iter()
                        .find(|f| below && entry.upper(v, Var::Len(**f)).is_some())
                        .map(|f| Factor::Len(*f))
                        .or(Some(Factor::Unbounded))
                }
            }
        };
        if let Some(f) = f {
            out = out.times(&Poly::factor(f));
        }
    }
    out
}

struct Walk<'a> {
    calls: &'a Calls,
    ranges: HashMap<(usize, usize), &'a Bounds>,
    tails: usize,
    spans: bool,
}

impl Walk<'_> {
    /// How long a range may be: a constant (`Err`), O(n) or unbounded.
    fn range(&self, span: crate::syntax::ast::Span) -> Result<Factor, i64> {
        let Some(b) = self.ranges.get(&(span.start, span.end)) else {
            return Err(0);
        };
        let (hi, lo) = (Var::Arg(0), Var::Arg(1));
        if b.is_empty() {
            return Err(0);
        }
        if let Some(c) = b.upper(hi, lo) {
            return Err(c.max(0));
        }
        let low = b.upper(Var::Zero, lo).is_some();
        Ok(self
            .calls
            .lengths
            .iter()
            .find(|f| low && b.upper(hi, Var::Len(**f)).is_some())
            .map(|f| Factor::Len(*f))
            .unwrap_or(Factor::Unbounded))
    }

    /// Branches of a block, and (in `self.tails`) the most calls a branch makes.
    fn branches(&mut self, stmts: &[Stmt]) -> Option<Poly> {
        let (b, t) = self.block(stmts)?;
        self.tails = self.tails.max(t);
        Some(b)
    }

    fn block(&mut self, stmts: &[Stmt]) -> Option<(Poly, usize)> {
        let mut out = Poly::one();
        let mut tails = 0usize;
        for s in stmts {
            let (b, t) = match s {
                Stmt::Draw { target, .. } => {
                    if matches!(target.kind, ExprKind::Slice(..)) {
                        self.spans = true;
                    }
                    match (&target.kind, &target.ty) {
                        // Only hidden locals are drawn as locals: each value a branch.
                        (ExprKind::Local(_), Ty::Sym(d)) => (Poly::factor(Factor::Domain(*d)), 0),
                        _ => (Poly::one(), 0),
                    }
                }
                Stmt::Call { .. } => (Poly::one(), 1),
                Stmt::If {
                    then, otherwise, ..
                } => {
                    let (a, ta) = self.block(then)?;
                    let (b, tb) = self.block(otherwise)?;
                    (a.plus(&b), ta.max(tb))
                }
                Stmt::Some { body, span, .. } => {
                    let (b, t) = self.block(body)?;
                    let r = self.range(*span).map_or(Poly::one(), Poly::factor);
                    (r.times(&b), t)
                }
                Stmt::For { body, span, .. } => {
                    let (b, t) = self.block(body)?;
                    match self.range(*span) {
                        // A loop of constant length: its body's branches to that power.
                        Err(c) if b.is_one() || c <= 16 => {
                            let mut p = Poly::one();
                            for _ in 0..c {
                                p = p.times(&b);
                            }
                            let c = usize::try_from(c).unwrap_or(0);
                            (p, t.saturating_mul(c))
                        }
                        // Branches in a loop over positions multiply per pass: exponential.
                        _ if !b.is_one() => return None,
                        _ => (Poly::one(), if t > 0 { 2 } else { 0 }),
                    }
                }
                _ => (Poly::one(), 0),
            };
            out = out.times(&b);
            tails += t;
        }
        Some((out, tails))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_keeps_only_the_terms_no_other_dominates() {
        let n = Poly::factor(Factor::Len(0));
        let d = Poly::factor(Factor::Domain(1));
        let n3d = n.times(&n).times(&n).times(&d);
        let sum = n3d.plus(&n.times(&d)).plus(&Poly::one());
        assert_eq!(sum, n3d);
        let two = n.times(&n).plus(&d);
        assert_eq!(two.0.len(), 2);
        assert_eq!(two.degree(), 2);
    }
}
