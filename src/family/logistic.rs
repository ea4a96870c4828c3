//! Logistic (featurised) families, Berg-Kirkpatrick et al. (2010): each row is a softmax over
//! feature weights. The M-step (their Algorithm 1) maximises
//! `sum_{c,o} e[c,o] log theta_w[c,o] - kappa |w|^2` by L-BFGS, warm-started from the previous
//! weights; the same expression's gradient serves the direct optimisation (Algorithm 2), where
//! `e` are the expected counts at the current weights (Fisher's identity).
//!
//! The family's slice of the parameter vector is its probabilities (rows of `n_out`, what the
//! E-step reads) followed by its weights.

use std::sync::Arc;

use super::{Allowed, Estimator};
use crate::features::FeatureIndex;
use crate::optim::{minimize, Options};
use rayon::prelude::*;

/// Row blocks an objective evaluation is split into (fixed, for reproducible sums).
const BLOCKS: usize = 4;

pub struct Logistic {
    pub n_cond: usize,
    pub features: Arc<FeatureIndex>,
    pub l2: f64,
}

impl Logistic {
    fn n_probs(&self) -> usize {
        self.n_cond * self.features.n_out()
    }

    /// `-(sum e log theta_w) + kappa |w|^2` and its gradient; `probs` gets theta_w. Rows are
    /// scored in `BLOCKS` fixed blocks in parallel, summed in block order, so the result does
    /// not depend on the number of threads.
    fn objective(
        &self,
        counts: &[f64],
        sets: &[RowSet],
        w: &[f64],
        grad: &mut [f64],
        probs: &mut [f64],
    ) -> f64 {
        let n_out = self.features.n_out();
        let block = self.n_cond.div_ceil(BLOCKS).max(1) * n_out;
        let parts: Vec<(f64, Vec<f64>)> = probs
            .par_chunks_mut(block)
            .zip(counts.par_chunks(block))
            .enumerate()
            .map(|(b, (p, e))| self.block(b * block / n_out, e, sets, w, p))
            .collect();
        grad.iter_mut()
            .zip(w)
            .for_each(|(g, x)| *g = 2.0 * self.l2 * x);
        let mut value = self.l2 * w.iter().map(|x| x * x).sum::<f64>();
        for (v, g) in parts {
            value += v;
            grad.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
        }
        value
    }

    /// One block of rows from `first`: its part of the value and of the gradient.
    fn block(
        &self,
        first: usize,
        counts: &[f64],
        sets: &[RowSet],
        w: &[f64],
        probs: &mut [f64],
    ) -> (f64, Vec<f64>) {
        let n_out = self.features.n_out();
        let mut value = 0.0;
        let mut grad = vec![0.0; w.len()];
        let mut residual = vec![0.0; n_out];
        for (c, (e, p)) in counts
            .chunks_exact(n_out)
            .zip(probs.chunks_exact_mut(n_out))
            .enumerate()
        {
            let c = first + c;
            self.features.log_row(w, c, p);
            let total: f64 = e.iter().sum();
            for ((r, lp), x) in residual.iter_mut().zip(p.iter_mut()).zip(e) {
                if *x != 0.0 {
                    value -= x * *lp;
                }
                *lp = lp.exp();
                // d/dw of -(e . log theta) is -(e - total * theta) . g
                *r = total * *lp - x;
            }
            // A draw restricted to S scores `theta_o / Z_S`: it adds `n_S log Z_S` to the
            // value and moves its share of `total * theta` onto the softmax over S.
            let from = sets.partition_point(|(row, _, _)| *row < c);
            for (_, set, uses) in sets[from..].iter().take_while(|(row, _, _)| *row == c) {
                let z: f64 = set.iter().map(|o| p[*o as usize]).sum();
                if z > 0.0 {
                    value += uses * z.ln();
                    residual
                        .iter_mut()
                        .zip(p.iter())
                        .for_each(|(r, t)| *r -= uses * t);
                    for o in *set {
                        residual[*o as usize] += uses * p[*o as usize] / z;
                    }
                }
            }
            self.features.add_row(c, &residual, &mut grad);
        }
        (value, grad)
    }

    /// Probabilities from the weights.
    fn probabilities(&self, w: &[f64], probs: &mut [f64]) {
        let n_out = self.features.n_out();
        for (c, p) in probs.chunks_exact_mut(n_out).enumerate() {
            self.features.log_row(w, c, p);
            p.iter_mut().for_each(|x| *x = x.exp());
        }
    }
}

/// L-BFGS settings for one M-step. Warm-started, so any number of iterations improves the
/// expected complete-data objective and EM stays monotone; the tolerance makes indicator
/// features reproduce categorical EM to 1e-6, and the cap bounds an M-step's cost while the
/// weights are still far from converged.
const M_STEP: Options = Options {
    // Each pair is two vectors as long as the weights: few pairs keep the two-loop recursion
    // from dominating an M-step over hundreds of thousands of weights.
    memory: 5,
    max_iterations: 300,
    max_evaluations: 600,
    gradient_tolerance: 1e-8,
    relative_tolerance: 0.0,
};

/// A row's draws restricted to an allowed set: (row, outcomes in the row, uses).
type RowSet<'a> = (usize, &'a [u32], f64);

impl Logistic {
    /// The allowed sets by row, in row order (outcome indices within the row).
    fn row_sets(&self, allowed: &[Allowed]) -> (Vec<Vec<u32>>, Vec<(usize, f64)>) {
        let n_out = self.features.n_out() as u32;
        let mut v: Vec<(usize, Vec<u32>, f64)> = allowed
            .iter()
            .filter_map(|a| {
                let row = *a.set.first()? / n_out;
                let set = a.set.iter().map(|k| k - row * n_out).collect();
                Some((row as usize, set, a.uses))
            })
            .collect();
        v.sort_by_key(|(row, _, _)| *row);
        v.into_iter().map(|(r, s, u)| (s, (r, u))).unzip()
    }
}

fn row_set_refs<'a>(outcomes: &'a [Vec<u32>], rows: &[(usize, f64)]) -> Vec<RowSet<'a>> {
    outcomes
        .iter()
        .zip(rows)
        .map(|(s, (r, u))| (*r, s.as_slice(), *u))
        .collect()
}

impl Estimator for Logistic {
    fn vb_refusal(&self) -> Option<&'static str> {
        Some(
            "a Logistic family's weights have no conjugate prior, so variational Bayes (over \
             Dirichlet-Categorical tables) cannot train it: use `em` (Algorithm 1) or `direct`",
        )
    }

    fn m_step(&self, counts: &[f64], theta: &mut [f64]) -> Vec<String> {
        self.m_step_restricted(counts, &[], theta)
    }

    fn m_step_restricted(
        &self,
        counts: &[f64],
        allowed: &[Allowed],
        theta: &mut [f64],
    ) -> Vec<String> {
        let (outcomes, rows) = self.row_sets(allowed);
        let sets = row_set_refs(&outcomes, &rows);
        let (probs, w) = theta.split_at_mut(self.n_probs());
        let counts = &counts[..self.n_probs()];
        let mut scratch = vec![0.0; probs.len()];
        minimize(
            |x, g| self.objective(counts, &sets, x, g, &mut scratch),
            w,
            &M_STEP,
        );
        self.probabilities(w, probs);
        Vec::new()
    }

    fn gradient_restricted(
        &self,
        x: &[f64],
        counts: &[f64],
        allowed: &[Allowed],
        _theta: &[f64],
        grad: &mut [f64],
    ) {
        let (outcomes, rows) = self.row_sets(allowed);
        let sets = row_set_refs(&outcomes, &rows);
        let mut probs = vec![0.0; self.n_probs()];
        self.objective(&counts[..self.n_probs()], &sets, x, grad, &mut probs);
        grad.iter_mut().for_each(|g| *g = -*g);
    }

    fn log_prior(&self, theta: &[f64]) -> f64 {
        let w = &theta[self.n_probs()..];
        -self.l2 * w.iter().map(|x| x * x).sum::<f64>()
    }

    fn variables(&self, theta: &[f64]) -> Vec<f64> {
        theta[self.n_probs()..].to_vec()
    }

    fn set_variables(&self, x: &[f64], theta: &mut [f64]) {
        let (probs, w) = theta.split_at_mut(self.n_probs());
        w.copy_from_slice(x);
        self.probabilities(x, probs);
    }

    fn gradient(&self, x: &[f64], counts: &[f64], theta: &[f64], grad: &mut [f64]) {
        // `objective` is the negated, penalised expected log-likelihood.
        self.gradient_restricted(x, counts, &[], theta, grad)
    }

    fn fits_features(&self) -> bool {
        true
    }
}
