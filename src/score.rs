//! Scoring data under given parameters, for `emc score` and `emc select`: the number of free
//! parameters a model has, the information criteria built on it (BIC, AIC), the sizes they
//! divide by, and each line's log-likelihood.
//!
//! The total log-likelihood is the E-step's (`pipeline::Compiled::log_likelihood`): the same
//! kernels, so the number `trace.tsv` reports for the same parameters and data. Per line, the
//! kernels keep no record (they sum lines in units), so each line is scored on its own by the
//! exact engines the kernels are tested against (`infer::posterior`, or inside on a
//! structured line's hypergraph); the lines' values sum to the total up to rounding.

use rayon::prelude::*;

use crate::data::{Dataset, FieldValue};
use crate::error::Error;
use crate::graph::unroll;
use crate::hypergraph::inside::inside;
use crate::infer::{posterior, InferError};
use crate::model::{Covariance, Family, FamilyKind, Model};
use crate::params::{FamilySlot, Layout, Params};
use crate::program::Program;
use crate::structured::{execute, Budget};

/// Free parameters of one family: the numbers training chooses, less the constraints that
/// tie them. A family is counted once however many draws share it.
///
/// - `fixed`: none (its values are the model's, not estimated).
/// - Categorical, dense: `n - 1` per condition row of `n` outcomes (each row sums to one);
///   rows restricted per line (`within`, `from`) the same, since the row is still one
///   distribution that the restriction divides.
/// - Categorical, sparse: per row, its stored entries less one (a row storing none adds 0):
///   the unstored entries are held at zero, not estimated.
/// - Gaussian over `Real[d]`: `d` per row for the mean, and for the covariance `d(d+1)/2` per
///   row (full), `d` per row (diagonal), 1 per row (spherical), `d(d+1)/2` once (tied), as
///   scikit-learn's `GaussianMixture` counts them.
/// - Logistic: its feature weights (the probabilities are a function of them).
pub fn family_free_parameters(family: &Family, slot: &FamilySlot) -> usize {
    if family.fixed {
        return 0;
    }
    match &family.kind {
        FamilyKind::Gaussian(g) => gaussian_free_parameters(g.dim, g.covariance, slot.n_cond),
        FamilyKind::Logistic(_) => slot.n_weights,
        FamilyKind::Categorical => match &slot.support {
            None => slot.n_cond * slot.n_out.saturating_sub(1),
            Some(s) => (0..s.rows())
                .map(|r| s.row(r).len().saturating_sub(1))
                .sum(),
        },
    }
}

/// Means and covariances of `rows` Gaussian rows of dimension `d`.
pub fn gaussian_free_parameters(d: usize, covariance: Covariance, rows: usize) -> usize {
    let matrix = d * (d + 1) / 2;
    let covariances = match covariance {
        Covariance::Full => rows * matrix,
        Covariance::Diagonal => rows * d,
        Covariance::Spherical => rows,
        Covariance::Tied => matrix,
    };
    rows * d + covariances
}

/// Free parameters per family of the model, in the model's order, over `layout` (whose sparse
/// supports are the stored entries counted).
pub fn free_parameters(model: &Model, layout: &Layout) -> Vec<usize> {
    model
        .families
        .iter()
        .zip(&layout.families)
        .map(|(f, s)| family_free_parameters(f, s))
        .collect()
}

/// How much data a log-likelihood is over. A weighted line counts as many samples as its
/// weight, as it counts in the log-likelihood.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Size {
    /// Data lines.
    pub lines: usize,
    /// Samples: the lines' weights summed (the number of lines when the data has no weights).
    pub samples: f64,
    /// Elements of the sequence fields the story draws, weighted like the lines (0 without
    /// such fields).
    pub tokens: f64,
}

impl Size {
    /// Tokens are the elements of the sequence fields the story draws: IBM Model 1's English
    /// words, not the French ones it conditions on, so a mean per token is per modelled word.
    pub fn of(model: &Model, data: &Dataset) -> Size {
        let tokens = |values: &[FieldValue]| -> usize {
            values
                .iter()
                .zip(&model.fields)
                .filter(|(_, f)| f.generated)
                .map(|(v, _)| match v {
                    FieldValue::Sequence(s) => s.len(),
                    FieldValue::RealSequence(s) => s.len(),
                    _ => 0,
                })
                .sum()
        };
        Size {
            lines: data.instances.len(),
            samples: data.instances.iter().map(|i| i.weight).sum(),
            tokens: data
                .instances
                .iter()
                .map(|i| i.weight * tokens(&i.values) as f64)
                .sum(),
        }
    }
}

/// A log-likelihood with what the information criteria need. `n` in both is the number of
/// samples (lines), as scikit-learn's `GaussianMixture.bic` takes `X.shape[0]`; hmmlearn's
/// HMMs take the number of observations (tokens) instead, which `Size::tokens` gives.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Criteria {
    pub log_likelihood: f64,
    pub free_parameters: usize,
    pub samples: f64,
}

impl Criteria {
    /// `-2 log L + k ln n`.
    pub fn bic(&self) -> f64 {
        -2.0 * self.log_likelihood + self.free_parameters as f64 * self.samples.ln()
    }

    /// `-2 log L + 2 k`.
    pub fn aic(&self) -> f64 {
        -2.0 * self.log_likelihood + 2.0 * self.free_parameters as f64
    }
}

/// Each line's log-likelihood (of the line once, its weight aside), in data order, as
/// (1-based data line, log-likelihood). A line of probability zero is an error naming it.
pub fn line_log_likelihoods(
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
) -> Result<Vec<(usize, f64)>, Error> {
    crate::infer::check_values(data)?;
    let (model, domains, layout) = (&program.model, &program.domains, &program.layout);
    let theta = &params.theta;
    let one = |inst: &crate::data::Instance| -> Result<(usize, f64), Error> {
        let log_z = if model.structured {
            let lg = execute(model, domains, layout, inst, Budget::default(), false)?;
            inside(&lg.graph, &lg.log_weights(theta)).log_z()
        } else {
            let g = unroll(model, domains, layout, inst)?;
            posterior(program.plan.engine, &g, theta)?.log_z
        };
        if !log_z.is_finite() {
            return Err(InferError::ZeroProbability { line: inst.line }.into());
        }
        Ok((inst.line, log_z))
    };
    pool.install(|| data.instances.par_iter().map(one).collect())
}

#[cfg(test)]
mod tests;
