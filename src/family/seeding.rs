//! How a Gaussian family without given means starts: from the observations it scores, by
//! k-means++ or by one M-step under random responsibilities. The driver hands every family
//! the points its densities score and asks [`super::Estimators::seed`]; only the families
//! built with a [`Seeder`] use them.

use rand::Rng;

use super::gaussian::{self, Gaussian};
use super::Estimator;
use crate::model::{Covariance, Seeding};

/// A Gaussian family's seeding settings and row shape.
pub(super) struct Seeder {
    pub seeding: Seeding,
    pub dim: usize,
    pub covariance: Covariance,
    pub reg_covar: f64,
    pub n_cond: usize,
    pub n_out: usize,
}

impl Seeder {
    /// Overwrites the placeholder `rows` (this family's probabilities) with seeded ones;
    /// without usable points they stay as they were.
    pub fn seed(&self, points: &[Vec<f64>], rows: &mut [f64], rng: &mut impl Rng) {
        match self.seeding {
            Seeding::KMeansPlusPlus => {
                let Some((means, cov)) =
                    gaussian::seed(points, self.n_cond, self.covariance, self.reg_covar, rng)
                else {
                    return;
                };
                for (mean, row) in means.iter().zip(rows.chunks_exact_mut(self.n_out)) {
                    // `seed` returns a positive definite covariance, so this cannot fail;
                    // if it did, the placeholder row would stay.
                    let _ = gaussian::write_row(mean, &cov, row);
                }
            }
            Seeding::Random => {
                // Statistics under random responsibilities, then one M-step from them.
                let mut stats = vec![0.0; rows.len()];
                let placeholder = rows.to_vec();
                for x in points.iter().filter(|x| x.iter().all(|v| !v.is_nan())) {
                    let weights: Vec<f64> = (0..self.n_cond).map(|_| rng.gen::<f64>()).collect();
                    let total: f64 = weights.iter().sum();
                    for (r, w) in weights.iter().enumerate() {
                        let at = r * self.n_out;
                        gaussian::add_stats(
                            &gaussian::row(&placeholder[at..], self.dim),
                            x,
                            w / total,
                            &mut stats[at..at + self.n_out],
                        );
                    }
                }
                let estimator = Gaussian {
                    dim: self.dim,
                    covariance: self.covariance,
                    reg_covar: self.reg_covar,
                    rows: Vec::new(),
                };
                estimator.m_step(&stats, rows);
            }
        }
    }
}
