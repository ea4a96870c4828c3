//! Categorical families: normalised expected counts, with an optional symmetric Dirichlet
//! prior given as a pseudo-count (add-lambda; the MAP estimate).

use super::Estimator;

pub struct Categorical {
    pub n_out: usize,
    /// Pseudo-count added to every event: Dirichlet(1 + smoothing).
    pub smoothing: f64,
    pub fixed: bool,
}

impl Estimator for Categorical {
    fn m_step(&self, counts: &[f64], theta: &mut [f64]) {
        if self.fixed {
            return;
        }
        for (c, t) in counts.chunks(self.n_out).zip(theta.chunks_mut(self.n_out)) {
            let total: f64 = c.iter().map(|x| x + self.smoothing).sum();
            // A condition never seen keeps its previous distribution rather than becoming 0/0.
            if total > 0.0 && total.is_finite() {
                t.iter_mut()
                    .zip(c)
                    .for_each(|(t, x)| *t = (x + self.smoothing) / total);
            }
        }
    }

    fn log_prior(&self, theta: &[f64]) -> f64 {
        if self.smoothing == 0.0 || self.fixed {
            return 0.0;
        }
        theta.iter().map(|t| self.smoothing * t.ln()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_rows_and_keeps_unseen_rows() {
        let est = Categorical {
            n_out: 2,
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
            n_out: 2,
            smoothing: 1.0,
            fixed: false,
        };
        let mut theta = vec![0.5, 0.5];
        est.m_step(&[3.0, 1.0], &mut theta);
        assert_eq!(theta, vec![4.0 / 6.0, 2.0 / 6.0]);
    }
}
