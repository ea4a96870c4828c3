//! Categorical families: normalised expected counts, with an optional symmetric Dirichlet
//! prior given as a pseudo-count (add-lambda; the MAP estimate).

use std::ops::Range;
use std::sync::Arc;

use super::Estimator;
use crate::params::Support;

pub struct Categorical {
    pub rows: Rows,
    /// Pseudo-count added to every event: Dirichlet(1 + smoothing).
    pub smoothing: f64,
    pub fixed: bool,
}

/// Where each condition's distribution lies in the family's slice.
pub enum Rows {
    /// Every outcome stored: rows of this many.
    Dense(usize),
    /// Only the entries the data reaches (smoothing is 0 then: see `Family::can_be_sparse`).
    Sparse(Arc<Support>),
}

impl Rows {
    /// The rows of a slice of `len` entries.
    fn ranges(&self, len: usize) -> Vec<Range<usize>> {
        match self {
            Rows::Dense(n) => (0..len / n).map(|r| r * n..(r + 1) * n).collect(),
            Rows::Sparse(s) => (0..s.rows()).map(|r| s.row(r)).collect(),
        }
    }
}

impl Estimator for Categorical {
    fn m_step(&self, counts: &[f64], theta: &mut [f64]) -> Vec<String> {
        if self.fixed {
            return Vec::new();
        }
        for r in self.rows.ranges(theta.len()) {
            let (c, t) = (&counts[r.clone()], &mut theta[r]);
            let total: f64 = c.iter().map(|x| x + self.smoothing).sum();
            // A condition never seen keeps its previous distribution rather than becoming 0/0.
            if total > 0.0 && total.is_finite() {
                t.iter_mut()
                    .zip(c)
                    .for_each(|(t, x)| *t = (x + self.smoothing) / total);
            }
        }
        Vec::new()
    }

    fn log_prior(&self, theta: &[f64]) -> f64 {
        if self.smoothing == 0.0 || self.fixed {
            return 0.0;
        }
        theta.iter().map(|t| self.smoothing * t.ln()).sum()
    }

    /// Log probabilities (rows are softmaxes of them); a zero becomes a very negative number
    /// so that the optimiser can move it.
    fn variables(&self, theta: &[f64]) -> Vec<f64> {
        if self.fixed {
            return Vec::new();
        }
        theta.iter().map(|t| t.ln().max(LOG_FLOOR)).collect()
    }

    fn set_variables(&self, x: &[f64], theta: &mut [f64]) {
        if self.fixed {
            return;
        }
        for r in self.rows.ranges(theta.len()) {
            let (v, t) = (&x[r.clone()], &mut theta[r]);
            let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = v.iter().map(|x| (x - m).exp()).sum();
            t.iter_mut()
                .zip(v)
                .for_each(|(t, x)| *t = (x - m).exp() / total);
        }
    }

    /// With `theta = softmax(x)` per row, the Dirichlet prior acts as `smoothing` extra counts
    /// of every outcome.
    fn gradient(&self, _x: &[f64], counts: &[f64], theta: &[f64], grad: &mut [f64]) {
        if self.fixed {
            return;
        }
        for r in self.rows.ranges(theta.len()) {
            let (e, t, g) = (&counts[r.clone()], &theta[r.clone()], &mut grad[r]);
            let total: f64 = e.iter().map(|x| x + self.smoothing).sum();
            for ((g, x), t) in g.iter_mut().zip(e).zip(t) {
                *g = x + self.smoothing - total * t;
            }
        }
    }
}

/// exp(-700) is about 1e-304: still a normal double.
const LOG_FLOOR: f64 = -700.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_rows_and_keeps_unseen_rows() {
        let est = Categorical {
            rows: Rows::Dense(2),
            smoothing: 0.0,
            fixed: false,
        };
        let mut theta = vec![0.5, 0.5, 0.3, 0.7];
        est.m_step(&[3.0, 1.0, 0.0, 0.0], &mut theta);
        assert_eq!(theta, vec![0.75, 0.25, 0.3, 0.7]);
    }

    #[test]
    fn smoothing_adds_pseudo_counts() {
        let est = Categorical {
            rows: Rows::Dense(2),
            smoothing: 1.0,
            fixed: false,
        };
        let mut theta = vec![0.5, 0.5];
        est.m_step(&[3.0, 1.0], &mut theta);
        assert_eq!(theta, vec![4.0 / 6.0, 2.0 / 6.0]);
    }

    #[test]
    fn sparse_rows_normalise_over_their_stored_entries() {
        // Two rows of three outcomes; row 0 stores outcomes 0 and 2, row 1 only outcome 1.
        let support = Support::from_indices(2, 3, vec![2, 0, 4, 2]);
        let est = Categorical {
            rows: Rows::Sparse(Arc::new(support)),
            smoothing: 0.0,
            fixed: false,
        };
        let mut theta = vec![0.1, 0.1, 0.1];
        est.m_step(&[1.0, 3.0, 2.0], &mut theta);
        assert_eq!(theta, vec![0.25, 0.75, 1.0]);
    }
}
