//! Termination of a structured story, checked before any data is read: every cycle of calls
//! must shrink a well-founded measure, or the call that starts it is refused with a located
//! error and a hint.
//!
//! The measures are the ones structured stories use: a span `k - i` that gets shorter (CKY:
//! `span(i, k)` calls `span(i, j)` and `span(j, k)` inside `for some j in i+1..k`), a position
//! that grows towards a bound tested before the call (`if i < len(words)`: `len(words) - i`),
//! and a count that falls towards one (`if d > 0`: `d`). Each is an integer clamped at a
//! constant below, so it can only shrink finitely often. Which measure shrinks may change
//! from call to call and from procedure to procedure, so the check is the size-change
//! principle (Lee, Jones and Ben-Amram 2001): each call site gets a graph of which measures
//! of the callee are at most (or strictly below) which of the caller, the graphs of every
//! path of calls are composed to a closure, and every path that comes back to where it
//! started in the same pattern (an idempotent graph) must strictly shrink some measure.
//! A call that cannot be shown to shrink anything is refused: the analysis is conservative.

use std::collections::{HashMap, HashSet, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

use super::bounds::{Lin, Var};
use super::calls::{Calls, Site};
use super::{CheckErrorKind as Kind, Checker};
use crate::model::*;

/// Most size-change graphs one group of mutually recursive procedures may produce.
const MAX_GRAPHS: usize = 4096;
/// Most arcs visited while composing graphs, for one group: the closure's time bound.
const MAX_WORK: usize = 1 << 26;
/// Integer parameters per procedure, and lengths, that measures are made of: more would
/// only slow the closure down (fewer measures can only refuse more, never prove wrongly).
const MAX_MEASURED_PARAMS: usize = 6;
const MAX_BASES: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// `base - p`: a position growing towards a bound.
    Up(Var),
    /// `p - base`: a count falling towards a bound.
    Down(Var),
    /// `q - p`: a span.
    Width,
}

/// A measure of a procedure: a shape over its integer parameters (by position).
#[derive(Clone, Copy, Debug)]
struct Measure {
    shape: Shape,
    a: usize,
    b: usize,
}

impl Measure {
    fn lin(&self, var: impl Fn(usize) -> Var) -> Option<Lin> {
        let (pa, pb) = (Lin::var(var(self.a)), Lin::var(var(self.b)));
        match self.shape {
            Shape::Up(base) => Lin::var(base).minus(&pa),
            Shape::Down(base) => pa.minus(&Lin::var(base)),
            Shape::Width => pb.minus(&pa),
        }
    }
}

fn measures(model: &Model, p: ProcId, bases: &[Var]) -> Vec<Measure> {
    let ints: Vec<usize> = model.procs[p]
        .params
        .iter()
        .enumerate()
        .filter(|(_, (_, t))| *t == Ty::Int)
        .map(|(k, _)| k)
        .take(MAX_MEASURED_PARAMS)
        .collect();
    let mut out = Vec::new();
    for &a in &ints {
        for &base in bases {
            out.push(Measure {
                shape: Shape::Up(base),
                a,
                b: a,
            });
            out.push(Measure {
                shape: Shape::Down(base),
                a,
                b: a,
            });
        }
        for &b in &ints {
            if a != b {
                out.push(Measure {
                    shape: Shape::Width,
                    a,
                    b,
                });
            }
        }
    }
    out
}

/// A size-change graph: from the caller's measures to the callee's, `true` for a strict
/// decrease.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Scg {
    from: ProcId,
    to: ProcId,
    arcs: Vec<(u16, u16, bool)>,
}

impl Scg {
    /// `self` then `next`; `work` counts the arcs visited.
    fn compose(&self, next: &Scg, work: &mut usize) -> Scg {
        let mut best: HashMap<(u16, u16), bool> = HashMap::new();
        // `next.arcs` is sorted by source: each arc of `self` meets its run.
        for &(a, b, s1) in &self.arcs {
            let from = next.arcs.partition_point(|(c, _, _)| *c < b);
            for &(_, d, s2) in next.arcs[from..].iter().take_while(|(c, _, _)| *c == b) {
                *work += 1;
                let e = best.entry((a, d)).or_insert(false);
                *e |= s1 || s2;
            }
        }
        let mut arcs: Vec<(u16, u16, bool)> =
            best.into_iter().map(|((a, d), s)| (a, d, s)).collect();
        arcs.sort_unstable();
        Scg {
            from: self.from,
            to: next.to,
            arcs,
        }
    }
}

fn site_graph(model: &Model, s: &Site, caller: ProcId, all: &[Vec<Measure>]) -> Scg {
    let b = &s.bounds;
    let local = |k: usize| Var::Local(model.procs[caller].params[k].0);
    let mut arcs = Vec::new();
    for (i, t) in all[caller].iter().enumerate() {
        let Some(lp) = t.lin(local) else { continue };
        let positive = b.bounded_below(&lp);
        for (j, u) in all[s.callee].iter().enumerate() {
            if t.shape != u.shape {
                continue;
            }
            let Some(lq) = u.lin(Var::Arg) else { continue };
            let Some(diff) = lp.minus(&lq) else { continue };
            let strict = positive && diff.shift(-1).is_some_and(|d| b.implies(&d));
            if strict || b.implies(&diff) {
                arcs.push((i as u16, j as u16, strict));
            }
        }
    }
    arcs.sort_unstable();
    Scg {
        from: caller,
        to: s.callee,
        arcs,
    }
}

impl Checker {
    /// Refuses every cycle of calls that is not shown to shrink a measure.
    pub(super) fn termination(&mut self, calls: &Calls) {
        let model = &self.model;
        let mut bases = vec![Var::Zero];
        bases.extend(calls.lengths.iter().map(|f| Var::Len(*f)));
        bases.truncate(MAX_BASES);
        let all: Vec<Vec<Measure>> = (0..model.procs.len())
            .map(|p| measures(model, p, &bases))
            .collect();
        let mut g: DiGraph<ProcId, usize> = DiGraph::new();
        let nodes: Vec<_> = (0..model.procs.len()).map(|p| g.add_node(p)).collect();
        for (k, s) in calls.sites.iter().enumerate() {
            if let Some(p) = s.caller {
                // A call under facts that cannot hold never runs.
                if calls.entry[p].is_some() && !s.bounds.is_empty() {
                    g.add_edge(nodes[p], nodes[s.callee], k);
                }
            }
        }
        let mut errors = Vec::new();
        for scc in tarjan_scc(&g) {
            let members: HashSet<ProcId> = scc.iter().map(|n| g[*n]).collect();
            let sites: Vec<usize> = g
                .edge_indices()
                .filter(|e| {
                    let (a, b) = g.edge_endpoints(*e).expect("an edge of the graph");
                    members.contains(&g[a]) && members.contains(&g[b])
                })
                .map(|e| g[e])
                .collect();
            if sites.is_empty() {
                continue;
            }
            if let Some(e) = self.scc_terminates(calls, &sites, &all) {
                errors.push(e);
            }
        }
        for (kind, span, hint) in errors {
            error!(self, span, kind, hint);
        }
    }

    /// The closure of one group's size-change graphs; the first path found that comes back
    /// without shrinking anything, as an error.
    fn scc_terminates(
        &self,
        calls: &Calls,
        sites: &[usize],
        all: &[Vec<Measure>],
    ) -> Option<(Kind, crate::syntax::ast::Span, String)> {
        let model = &self.model;
        let base: Vec<(Scg, usize)> = sites
            .iter()
            .map(|&k| {
                let s = &calls.sites[k];
                let caller = s.caller.expect("a site inside a procedure");
                (site_graph(model, s, caller, all), k)
            })
            .collect();
        let mut seen: HashMap<Scg, Vec<usize>> = HashMap::new();
        // Breadth first, in site order: the shortest cycle that fails, from the first site.
        let mut work: VecDeque<Scg> = VecDeque::new();
        for (g, k) in &base {
            if !seen.contains_key(g) {
                seen.insert(g.clone(), vec![*k]);
                work.push_back(g.clone());
            }
        }
        let mut spent = 0usize;
        while let Some(g) = work.pop_front() {
            if g.from == g.to
                && g.compose(&g, &mut spent) == g
                && !g.arcs.iter().any(|(a, b, s)| a == b && *s)
            {
                return Some(self.refusal(calls, &seen[&g]));
            }
            for (e, k) in &base {
                if e.from != g.to {
                    continue;
                }
                let h = g.compose(e, &mut spent);
                if !seen.contains_key(&h) {
                    if seen.len() >= MAX_GRAPHS || spent > MAX_WORK {
                        let s = &calls.sites[sites[0]];
                        let name = model.procs[s.callee].name.clone();
                        return Some((
                            Kind::TooComplex(name),
                            s.span,
                            "simplify the recursion: fewer procedures calling each other, or fewer integer parameters".into(),
                        ));
                    }
                    let mut path = seen[&g].clone();
                    path.push(*k);
                    seen.insert(h.clone(), path);
                    work.push_back(h);
                }
            }
        }
        None
    }

    /// The error for a cycle of calls (site indices, in order) that shrinks nothing.
    fn refusal(&self, calls: &Calls, path: &[usize]) -> (Kind, crate::syntax::ast::Span, String) {
        let model = &self.model;
        let first = &calls.sites[path[0]];
        let start = first.caller.expect("a site inside a procedure");
        let mut names = vec![model.procs[start].name.clone()];
        names.extend(
            path.iter()
                .map(|k| model.procs[calls.sites[*k].callee].name.clone()),
        );
        let cycle = names.join(" -> ");
        let callee = model.procs[first.callee].name.clone();
        // Per parameter of the procedure reached so far: which of the start's integer
        // parameters it holds unchanged, if any.
        let ints: Vec<usize> = int_params(model, start);
        let mut orig: Vec<Option<usize>> = (0..model.procs[start].params.len())
            .map(|k| ints.contains(&k).then_some(k))
            .collect();
        for &k in path {
            let s = &calls.sites[k];
            let caller = s.caller.expect("a site inside a procedure");
            orig = s
                .args
                .iter()
                .map(|a| {
                    let a = a.as_ref()?;
                    let (v, coef) = a.terms.iter().next()?;
                    if a.terms.len() != 1 || *coef != 1 || a.c != 0 {
                        return None;
                    }
                    let q = model.procs[caller]
                        .params
                        .iter()
                        .position(|(l, _)| Var::Local(*l) == *v)?;
                    orig.get(q).copied().flatten()
                })
                .collect();
        }
        let unary = ints
            .iter()
            .all(|k| orig.get(*k).copied().flatten() == Some(*k));
        if unary {
            let params: Vec<String> = ints
                .iter()
                .map(|k| model.locals[model.procs[start].params[*k].0].clone())
                .collect();
            return (
                Kind::UnaryCycle {
                    callee: model.procs[start].name.clone(),
                    cycle,
                    same: if params.is_empty() {
                        "with no position that could shrink".into()
                    } else {
                        format!("on the same positions ({})", params.join(", "))
                    },
                },
                first.span,
                "a derivation could go round this cycle for ever without using up any input: make every recursive rule shorten the span (e.g. split it with `for some j in i+1..k`), or give unary rules a procedure of their own that does not call back".into(),
            );
        }
        let hint = self.hint_for(calls, first).unwrap_or_else(|| {
            "every recursive call must shrink something bounded: a span `k - i` made shorter (e.g. inside `for some j in i+1..k`), a position that grows to a bound tested before the call (`if i < len(...)`), or a count that falls to a bound (`if d > 0`)".into()
        });
        (Kind::NonTerminating { callee, cycle }, first.span, hint)
    }

    /// A hint for a call that moves a parameter one way without a bound on that side.
    fn hint_for(&self, calls: &Calls, s: &Site) -> Option<String> {
        let model = &self.model;
        let caller = s.caller?;
        if caller != s.callee {
            return None;
        }
        let b = &s.bounds;
        let len = calls.lengths.first().map_or("len(...)".to_string(), |f| {
            format!("len({})", model.fields[*f].name)
        });
        for k in int_params(model, caller) {
            let l = model.procs[caller].params[k].0;
            let (p, arg) = (Lin::var(Var::Local(l)), Lin::var(Var::Arg(k)));
            let name = &model.locals[l];
            let grows = arg
                .minus(&p)
                .and_then(|d| d.shift(-1))
                .is_some_and(|d| b.implies(&d));
            let shrinks = p
                .minus(&arg)
                .and_then(|d| d.shift(-1))
                .is_some_and(|d| b.implies(&d));
            let above = std::iter::once(Var::Zero)
                .chain(calls.lengths.iter().map(|f| Var::Len(*f)))
                .any(|base| b.upper(Var::Local(l), base).is_some());
            let below = std::iter::once(Var::Zero)
                .chain(calls.lengths.iter().map(|f| Var::Len(*f)))
                .any(|base| b.upper(base, Var::Local(l)).is_some());
            if grows && !above {
                return Some(format!(
                    "`{name}` grows at this call, but nothing bounds it from above where the call is made: test it first, e.g. `if {name} < {len} {{ ... }}`"
                ));
            }
            if shrinks && !below {
                return Some(format!(
                    "`{name}` shrinks at this call, but nothing bounds it from below where the call is made: test it first, e.g. `if {name} > 0 {{ ... }}`"
                ));
            }
        }
        None
    }
}

fn int_params(model: &Model, p: ProcId) -> Vec<usize> {
    model.procs[p]
        .params
        .iter()
        .enumerate()
        .filter(|(_, (_, t))| *t == Ty::Int)
        .map(|(k, _)| k)
        .collect()
}
