//! Structured stories run on one data line: the story and its procedures execute with
//! memoisation on (procedure, argument values), and every call becomes a node of an acyclic
//! AND/OR [`Hypergraph`] whose hyperedges are the call's branches.
//!
//! A branch is one way through a procedure's body: every hidden local it draws has one
//! value, every `if` goes one way, every `for some` picks one position. Drawing a hidden
//! local splits the branch into one per value (so branches are mutually exclusive by
//! construction), and a draw adds its parameter entry to the branch (the same index a
//! factor entry would use). A call adds the callee's node as a tail. The body's finished
//! branches are the call's hyperedges.
//!
//! Nothing here recurses on the Rust stack in proportion to the data: a call met while
//! running a body is only named (given a number, queued), and expanded later from a work
//! list; the order of the nodes comes from a depth-first walk with an explicit stack, which
//! is also where a call that depends on itself (a cycle) is found. Budgets on calls and
//! hyperedges are checked as they grow, before anything is allocated for them.

pub mod decode;
pub mod dot;
mod exec;
pub mod posterior;
pub mod sample;

use rustc_hash::FxHashMap as HashMap;

use crate::data::{Domains, Instance};
use crate::graph::{DiscoveredKey, UnrollError, UnrollErrorKind};
use crate::hypergraph::{Builder, Hypergraph};
use crate::model::{Model, ProcId};
use crate::params::Layout;
use crate::program::Program;
use crate::syntax::ast::Span;

pub use exec::{Densities, Label, Printed};

/// Most hyperedges one line's hypergraph may have.
pub const MAX_EDGES: usize = 1 << 24;

/// Most calls (nodes) one line may make: a recursion that does not stop soon hits this.
pub const MAX_CALLS: usize = 1 << 22;

/// Budgets of one line; tests set smaller ones.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub edges: usize,
    pub calls: usize,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            edges: MAX_EDGES,
            calls: MAX_CALLS,
        }
    }
}

/// A line's hypergraph and, when asked for, what each hyperedge drew (for decoding).
pub struct LineGraph {
    pub graph: Hypergraph,
    /// Per hyperedge, in the graph's order.
    pub labels: Option<Vec<Vec<Label>>>,
    /// The allowed sets the graph's normaliser ids name: per id, the sorted parameter
    /// indices of a row restricted to the outcomes this line allows (`within`, `from`).
    pub sets: Vec<Vec<u32>>,
    /// Per node, the call as written (`span(S, 0, 4)`; the goal is `model`), when recorded.
    pub calls: Option<Vec<String>>,
    /// What the entries past the parameters stand for: densities of the line's real values.
    pub densities: Densities,
}

impl LineGraph {
    /// Hyperedge log-weights under `theta`, each divided by its normalisers.
    pub fn log_weights(&self, theta: &[f64]) -> Vec<f64> {
        let log_norm = crate::hypergraph::log_norms(&self.sets, theta);
        let log_density = self.densities.log_values(theta);
        let first = self.densities.first as usize;
        self.graph.log_weights_normed_with(
            |k| match (k as usize).checked_sub(first) {
                Some(d) => log_density[d],
                None => theta[k as usize].ln(),
            },
            &log_norm,
        )
    }
}

impl Densities {
    /// The log-density of each of the line's densities under `theta`.
    pub fn log_values(&self, theta: &[f64]) -> Vec<f64> {
        (self.densities.iter())
            .map(|(row, obs)| {
                let x = &self.observations[*obs as usize].1;
                crate::density::log_density(
                    &crate::density::row(&theta[*row as usize..], x.len()),
                    x,
                )
            })
            .collect()
    }
}

/// A call: the procedure (`None`: the model block) and its argument values.
type Key = (Option<ProcId>, Vec<i64>);

/// One finished branch of a call: a hyperedge, with its tails as call numbers.
struct Edge {
    tails: Vec<u32>,
    tail_spans: Vec<Span>,
    entries: Vec<u32>,
    norms: Vec<u32>,
    log_const: f64,
    labels: Vec<Label>,
    /// The data values the branch draws itself, with the draw statements.
    observed: Vec<(u32, u32, Span)>,
}

/// Runs the story on one line and builds its hypergraph; `record` keeps every hyperedge's
/// labels. The goal (the model block) is the last node.
pub fn execute(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    inst: &Instance,
    budget: Budget,
    record: bool,
) -> Result<LineGraph, UnrollError> {
    let ex = exec::Exec::new(model, domains, layout, inst, budget, record)?;
    run_line(ex, budget, record).map(|(g, _)| g)
}

/// [`execute`] for a line of `program`'s data, within the default budget: how training,
/// decoding and the other commands run a line.
pub fn execute_line(
    program: &Program,
    inst: &Instance,
    record: bool,
) -> Result<LineGraph, UnrollError> {
    execute(
        &program.model,
        &program.domains,
        &program.layout,
        inst,
        Budget::default(),
        record,
    )
}

/// The entries of sparse families (whose `layout` has no supports yet) that the story
/// reaches on one line, each once, ascending. The line runs in full, so it fails as
/// [`execute`] would.
pub fn discover(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    inst: &Instance,
) -> Result<Vec<DiscoveredKey>, UnrollError> {
    let budget = Budget::default();
    let mut ex = exec::Exec::new(model, domains, layout, inst, budget, false)?;
    ex.discover();
    let (_, mut keys) = run_line(ex, budget, false)?;
    keys.sort_unstable();
    keys.dedup();
    Ok(keys)
}

fn run_line(
    mut ex: exec::Exec,
    budget: Budget,
    record: bool,
) -> Result<(LineGraph, Vec<DiscoveredKey>), UnrollError> {
    let mut keys: HashMap<Key, u32> = HashMap::default();
    // Per call: its key, the span of the first call statement that named it, its edges.
    let mut calls: Vec<(Key, Span)> = vec![((None, Vec::new()), Span::default())];
    keys.insert((None, Vec::new()), 0);
    let mut edges: Vec<Vec<Edge>> = Vec::new();
    let mut total_edges = 0usize;
    let mut next = 0usize;
    while next < calls.len() {
        let (key, _) = calls[next].clone();
        let named = ex.run_call(&key, total_edges)?;
        for (callee, span) in ex.take_named() {
            if !keys.contains_key(&callee) {
                if calls.len() >= budget.calls {
                    return Err(ex.error(
                        UnrollErrorKind::Budget {
                            what: "calls",
                            limit: budget.calls,
                            estimate: calls.len() + 1,
                        },
                        span,
                    ));
                }
                keys.insert(callee.clone(), calls.len() as u32);
                calls.push((callee, span));
            }
        }
        let mut out = Vec::with_capacity(named.len());
        for b in named {
            out.push(Edge {
                tails: b.tails.iter().map(|k| keys[k]).collect(),
                tail_spans: b.tail_spans,
                entries: b.entries,
                norms: b.norms,
                log_const: b.log_const,
                labels: b.labels,
                observed: b.observed,
            });
        }
        total_edges += out.len();
        edges.push(out);
        next += 1;
    }
    let order = topological(&edges, &calls, &ex)?;
    exec::observed::check(&edges, &order, &calls, &ex)?;
    let mut node_of = vec![u32::MAX; calls.len()];
    let mut b = Builder::new();
    let mut labels = record.then(Vec::new);
    let mut names = record.then(Vec::new);
    for &c in &order {
        if let Some(n) = names.as_mut() {
            n.push(ex.describe(&calls[c].0));
        }
        for e in &edges[c] {
            let tails: Vec<u32> = e.tails.iter().map(|t| node_of[*t as usize]).collect();
            b.edge_normed(&tails, &e.entries, &e.norms, e.log_const)
                .map_err(|_| ex.error(budget_error(budget, total_edges), calls[c].1))?;
            if let Some(l) = labels.as_mut() {
                l.push(e.labels.clone());
            }
        }
        node_of[c] = b
            .finish_node()
            .map_err(|_| ex.error(budget_error(budget, total_edges), calls[c].1))?;
    }
    let graph = b
        .build()
        .map_err(|_| ex.error(UnrollErrorKind::NoDerivation, Span::default()))?;
    let line = LineGraph {
        graph,
        labels,
        sets: ex.take_sets(),
        calls: names,
        densities: ex.take_densities(),
    };
    Ok((line, ex.take_discovered()))
}

fn budget_error(budget: Budget, estimate: usize) -> UnrollErrorKind {
    UnrollErrorKind::Budget {
        what: "hyperedges",
        limit: budget.edges,
        estimate,
    }
}

/// The calls in an order where every tail comes before its head (depth-first post-order from
/// the goal, children left to right), or the first call found to depend on itself.
fn topological(
    edges: &[Vec<Edge>],
    calls: &[(Key, Span)],
    ex: &exec::Exec,
) -> Result<Vec<usize>, UnrollError> {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; calls.len()];
    let mut order = Vec::with_capacity(calls.len());
    // (call, the tails it still has to visit with their call statements, flattened over
    // its edges)
    let mut stack: Vec<(usize, Vec<(u32, Span)>)> = Vec::new();
    let children = |c: usize| -> Vec<(u32, Span)> {
        let mut v: Vec<(u32, Span)> = edges[c]
            .iter()
            .flat_map(|e| e.tails.iter().copied().zip(e.tail_spans.iter().copied()))
            .collect();
        v.reverse();
        v
    };
    state[0] = OPEN;
    stack.push((0, children(0)));
    while let Some((c, pending)) = stack.last_mut() {
        match pending.pop() {
            Some((t, at)) => {
                let t = t as usize;
                match state[t] {
                    NEW => {
                        state[t] = OPEN;
                        let ch = children(t);
                        stack.push((t, ch));
                    }
                    // Reached again while it is still being expanded: the call statement at
                    // `at` closes a cycle.
                    OPEN => {
                        return Err(ex.error(
                            UnrollErrorKind::Cycle {
                                call: ex.describe(&calls[t].0),
                            },
                            at,
                        ));
                    }
                    _ => {}
                }
            }
            None => {
                let c = *c;
                state[c] = DONE;
                order.push(c);
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// Where to point when a command refuses a structured story: its first procedure, else the
/// start of the file.
pub fn story_span(model: &Model) -> Span {
    model.procs.first().map_or(Span::default(), |p| p.span)
}
