//! M-step per family. Each family kind turns its slice of the expected counts into new
//! parameters for its slice of the parameter vector; the training driver does not know
//! which kinds exist. A featurised (logistic) or Gaussian family is one more implementation
//! of `Estimator`.

mod categorical;

pub use categorical::Categorical;

use crate::model::{FamilyKind, Model};
use crate::params::Layout;

/// What the M-step needs from one family.
pub trait Estimator: Send + Sync {
    /// Replaces `theta` (this family's rows) by the maximiser of the expected complete-data
    /// log-likelihood plus the family's log prior, given `counts` (same layout).
    fn m_step(&self, counts: &[f64], theta: &mut [f64]);
    /// The family's log prior at `theta` (0 for maximum likelihood), so the driver can check
    /// that the penalised objective never decreases.
    fn log_prior(&self, theta: &[f64]) -> f64;
}

/// One estimator per family of the model, with the parameter range it owns.
pub struct Estimators {
    families: Vec<(std::ops::Range<usize>, Box<dyn Estimator>)>,
}

impl Estimators {
    pub fn new(model: &Model, layout: &Layout) -> Estimators {
        let families = model
            .families
            .iter()
            .zip(&layout.families)
            .map(|(f, slot)| {
                let range = slot.offset..slot.offset + slot.n_cond * slot.n_out;
                let est: Box<dyn Estimator> = match f.kind {
                    FamilyKind::Categorical => Box::new(Categorical {
                        n_out: slot.n_out,
                        smoothing: f.smoothing,
                        fixed: f.fixed,
                    }),
                };
                (range, est)
            })
            .collect();
        Estimators { families }
    }

    pub fn m_step(&self, counts: &[f64], theta: &mut [f64]) {
        for (range, est) in &self.families {
            est.m_step(&counts[range.clone()], &mut theta[range.clone()]);
        }
    }

    pub fn log_prior(&self, theta: &[f64]) -> f64 {
        self.families
            .iter()
            .map(|(range, est)| est.log_prior(&theta[range.clone()]))
            .sum()
    }
}
