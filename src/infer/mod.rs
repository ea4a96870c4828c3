//! E-step engines. Each takes an unrolled instance and the current parameters and returns the
//! posterior over every factor's scope plus log P(instance); `accumulate` turns that into
//! expected event counts. `reference` is the slow, obviously correct engine every fast one is
//! tested against.

mod chain;
pub mod counts;
mod enumerate;
mod junction;
mod reference;
mod table;
mod tree;

pub use counts::CountStore;
pub use tree::{junction_tree, Clique, JunctionTree};

/// Whether the forward-backward engine can run this instance.
pub fn chain_applies(g: &InstanceGraph) -> bool {
    chain::applies(g)
}

use crate::data::{Dataset, FieldValue};
use crate::density;
use crate::graph::{Entry, InstanceGraph};

/// The exact algorithms emc knows, fastest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Every factor touches at most one hidden variable: each variable on its own.
    Enumerate,
    /// Factors touch one variable or two consecutive ones: forward-backward with scaling.
    Chain,
    /// Anything else: junction tree from a min-fill elimination order.
    JunctionTree,
    /// Sums over every joint value: for tests only.
    Reference,
    /// A structured story: a hypergraph of calls per line, inside-outside (`kernel::hypergraph`).
    /// No instance graph goes to it: `infer::posterior` treats it as the junction tree.
    Hypergraph,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Enumerate => "enumeration",
            Engine::Chain => "forward-backward",
            Engine::JunctionTree => "junction tree",
            Engine::Reference => "brute-force reference",
            Engine::Hypergraph => "structured: hypergraph per line, inside-outside",
        }
    }

    /// How general the engine is: each runs every instance that a less general one runs.
    pub fn generality(self) -> u8 {
        match self {
            Engine::Enumerate => 0,
            Engine::Chain => 1,
            Engine::JunctionTree => 2,
            Engine::Reference => 3,
            Engine::Hypergraph => 4,
        }
    }
}

/// The posterior of one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    pub log_z: f64,
    /// For each factor, the posterior over its scope's joint values (sums to 1).
    pub beliefs: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InferError {
    #[error("the instance on data line {line} has probability zero under the current parameters")]
    ZeroProbability { line: usize },
    #[error("the instance on data line {line} has a clique over {vars} with {states} joint values, more than the limit of {limit}")]
    CliqueTooLarge {
        line: usize,
        vars: String,
        states: String,
        limit: usize,
    },
    #[error("every data line has weight zero: there is nothing to train on")]
    NoWeight,
    #[error("the weights of the data lines sum to {total:e}, more than the limit of {limit:e}")]
    WeightOverflow { line: usize, total: f64, limit: f64 },
    #[error("the value {value:e} on data line {line} is beyond what a Gaussian scores (at most {limit:e} in size), where its weighted squares overflow")]
    ValueTooLarge { line: usize, value: f64, limit: f64 },
}

impl InferError {
    /// The data line the problem is on, when it is one line's.
    pub fn line(&self) -> Option<usize> {
        match self {
            InferError::ZeroProbability { line }
            | InferError::CliqueTooLarge { line, .. }
            | InferError::WeightOverflow { line, .. }
            | InferError::ValueTooLarge { line, .. } => Some(*line),
            InferError::NoWeight => None,
        }
    }

    pub fn hint(&self) -> &'static str {
        match self {
            InferError::ZeroProbability { .. } => "give the parameters some mass everywhere (e.g. `smoothing`), or fix the data line",
            InferError::CliqueTooLarge { .. } => "this instance couples too many hidden variables for exact inference",
            InferError::NoWeight => "give some lines a weight above zero (the weight field of a line counts it that many times)",
            InferError::WeightOverflow { .. } => "the log-likelihood is a weighted sum of the lines': scale the weights down (this line is where the sum passes the limit)",
            InferError::ValueTooLarge { .. } => "rescale the data (e.g. to other units) so that its values and their squares are finite numbers",
        }
    }
}

/// Largest sum of the data lines' weights: the log-likelihood, a weighted sum of lines' log
/// probabilities of a few thousand each at most, stays finite below it.
pub const MAX_TOTAL_WEIGHT: f64 = 1e200;

/// Largest magnitude of a value a Gaussian scores: its square and its products with the
/// others (the second moments an M-step sums) stay finite below it.
pub const MAX_GAUSSIAN_VALUE: f64 = 1e50;

/// Refuses data whose numbers no engine can score in floating point: weights that sum past
/// `MAX_TOTAL_WEIGHT` or are all zero (a log-likelihood of zero that "converges"), real
/// values past `MAX_GAUSSIAN_VALUE` (whose squares, weighted, overflow). Each limit is far
/// beyond any measured data, so only a mistake reaches it.
pub fn check_numbers(data: &Dataset) -> Result<(), InferError> {
    let mut total = 0.0;
    for inst in &data.instances {
        total += inst.weight;
        if total > MAX_TOTAL_WEIGHT {
            return Err(InferError::WeightOverflow {
                line: inst.line,
                total,
                limit: MAX_TOTAL_WEIGHT,
            });
        }
    }
    if !data.instances.is_empty() && total == 0.0 {
        return Err(InferError::NoWeight);
    }
    check_values(data)
}

/// The real values' part of [`check_numbers`], for decoding (where weights play no part).
pub fn check_values(data: &Dataset) -> Result<(), InferError> {
    for inst in &data.instances {
        let reals = inst.values.iter().flat_map(|v| match v {
            FieldValue::Real(x) => std::slice::from_ref(x),
            FieldValue::RealSequence(xs) => &xs[..],
            _ => &[],
        });
        for x in reals.flatten() {
            if x.abs() > MAX_GAUSSIAN_VALUE {
                return Err(InferError::ValueTooLarge {
                    line: inst.line,
                    value: *x,
                    limit: MAX_GAUSSIAN_VALUE,
                });
            }
        }
    }
    Ok(())
}

/// Largest clique table (joint values) an engine will build.
pub const MAX_CLIQUE_STATES: usize = 1 << 22;

/// Runs sum-product inference on one instance.
pub fn posterior(
    engine: Engine,
    g: &InstanceGraph,
    theta: &[f64],
) -> Result<Posterior, InferError> {
    let p = match engine {
        Engine::Enumerate if enumerate::applies(g) => enumerate::posterior(g, theta),
        Engine::Chain | Engine::Enumerate if chain::applies(g) => chain::posterior(g, theta),
        Engine::Reference => reference::posterior(g, theta)?,
        _ => junction::posterior(g, theta)?,
    };
    if p.log_z.is_finite() {
        Ok(p)
    } else {
        Err(InferError::ZeroProbability { line: g.line })
    }
}

/// The most probable joint value of the hidden variables and its log probability (joint with
/// the observed values).
pub fn map(
    engine: Engine,
    g: &InstanceGraph,
    theta: &[f64],
) -> Result<(Vec<u32>, f64), InferError> {
    let (assign, score) = match engine {
        Engine::Enumerate if enumerate::applies(g) => enumerate::map(g, theta),
        Engine::Chain | Engine::Enumerate if chain::applies(g) => chain::map(g, theta),
        Engine::Reference => reference::map(g, theta)?,
        _ => junction::map(g, theta)?,
    };
    if score.is_finite() {
        Ok((assign, score))
    } else {
        Err(InferError::ZeroProbability { line: g.line })
    }
}

/// Adds an instance's expected counts (scaled by its weight) to `counts`: event counts for
/// parameters, sufficient statistics for densities (which need `theta` only where the data
/// has missing coordinates).
pub fn accumulate(g: &InstanceGraph, p: &Posterior, counts: &mut CountStore, theta: &[f64]) {
    for (f, belief) in g.factors.iter().zip(&p.beliefs) {
        for (e, b) in f.entries.iter().zip(belief) {
            count_entry(g, *e, g.weight * b, counts, theta);
        }
    }
    counts.log_likelihood += g.weight * p.log_z;
    counts.instances += 1;
}

/// Adds `mass` of one factor entry of `g` to `counts`: the event's count for a parameter, the
/// row's sufficient statistics for a density. Shared by soft and hard (Viterbi) counting so
/// both count an entry the same way.
pub fn count_entry(g: &InstanceGraph, e: Entry, mass: f64, counts: &mut CountStore, theta: &[f64]) {
    match e {
        Entry::Param(k) => counts.expected[k as usize] += mass,
        Entry::Fixed(_) => {}
        Entry::Density { row, obs } => {
            let x = &g.observations[obs as usize];
            let row = row as usize;
            density::add_stats(
                &density::row(&theta[row..], x.len()),
                x,
                mass,
                &mut counts.expected[row..row + density::width(x.len())],
            );
        }
    }
}

/// Posterior marginal of every hidden variable, read off the first factor that contains it.
pub fn var_marginals(g: &InstanceGraph, p: &Posterior) -> Vec<Vec<f64>> {
    let cards = g.cards();
    let mut out: Vec<Option<Vec<f64>>> = vec![None; g.vars.len()];
    for (f, belief) in g.factors.iter().zip(&p.beliefs) {
        for (pos, v) in f.scope.iter().enumerate() {
            if out[*v as usize].is_some() {
                continue;
            }
            let scope_cards: Vec<usize> = f.scope.iter().map(|s| cards[*s as usize]).collect();
            let inner: usize = scope_cards[pos + 1..].iter().product();
            let mut m = vec![0.0; cards[*v as usize]];
            for (i, b) in belief.iter().enumerate() {
                m[(i / inner) % scope_cards[pos]] += b;
            }
            out[*v as usize] = Some(m);
        }
    }
    out.into_iter()
        .zip(cards)
        .map(|(m, c)| m.unwrap_or_else(|| vec![1.0 / c as f64; c]))
        .collect()
}

/// The distribution proportional to `exp(xs)` and the log of its normaliser. Each value is
/// divided by the sum of the shifted exponentials rather than shifted by the log normaliser:
/// at log-probabilities past about 1e16 in magnitude (a real value far from every mean) the
/// normaliser's `ln(sum)` vanishes in rounding, and `exp(x - log_z)` would give every tied
/// value probability 1. All `-inf` gives zeros and `-inf`.
fn softmax(xs: &[f64]) -> (Vec<f64>, f64) {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return (vec![0.0; xs.len()], m);
    }
    let mut p: Vec<f64> = xs.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = p.iter().sum();
    p.iter_mut().for_each(|x| *x /= s);
    (p, m + s.ln())
}

/// Scales `xs` to sum to 1 (unless all zero) and returns the old sum.
fn normalise(xs: &mut [f64]) -> f64 {
    let s: f64 = xs.iter().sum();
    if s > 0.0 {
        xs.iter_mut().for_each(|x| *x /= s);
    }
    s
}

/// Index of the largest value; the first on ties, so decoding is deterministic.
fn argmax(xs: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in xs.iter().enumerate() {
        if *x > xs[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests;
