//! M-step per family. Each family kind turns its slice of the expected counts into new
//! parameters for its slice of the parameter vector; the training driver does not know
//! which kinds exist. For the direct algorithm each kind also exposes free variables (log
//! probabilities or feature weights) and the gradient of its part of the objective.

mod categorical;
pub mod gaussian;
mod logistic;
mod seeding;
mod special;

pub use categorical::{Categorical, Rows};
pub use gaussian::Gaussian;
pub use logistic::Logistic;

use std::ops::Range;

use rand::Rng;

use seeding::Seeder;

use crate::data::Domains;
use crate::model::{FamilyKind, Model};
use crate::params::Layout;

/// What the M-step and the direct optimisation need from one family.
pub trait Estimator: Send + Sync {
    /// Replaces `theta` (this family's slice) by the maximiser of the expected complete-data
    /// log-likelihood plus the family's log prior, given `counts` (same layout).
    /// Returns warnings about rows it could not estimate (and left as they were).
    fn m_step(&self, counts: &[f64], theta: &mut [f64]) -> Vec<String>;
    /// The family's log prior at `theta` (0 for maximum likelihood), so the driver can check
    /// that the penalised objective never decreases.
    fn log_prior(&self, theta: &[f64]) -> f64;
    /// The free variables of the direct algorithm at `theta` (none for a fixed family).
    fn variables(&self, theta: &[f64]) -> Vec<f64>;
    /// Writes the parameters the variables `x` stand for into `theta`.
    fn set_variables(&self, x: &[f64], theta: &mut [f64]);
    /// The gradient in `x` of the expected complete-data log-likelihood plus log prior, given
    /// the E-step's `counts` at `theta` (= the marginal log-likelihood's, by Fisher's identity).
    fn gradient(&self, x: &[f64], counts: &[f64], theta: &[f64], grad: &mut [f64]);
    /// [`Estimator::m_step`] when some of the family's draws were restricted per line: the
    /// objective gains `- sum_S n_S log Z_S` over the `allowed` sets (indices in the slice).
    /// Families that cannot be restricted (the checker refuses them) ignore the sets.
    fn m_step_restricted(
        &self,
        counts: &[f64],
        _allowed: &[Allowed],
        theta: &mut [f64],
    ) -> Vec<String> {
        self.m_step(counts, theta)
    }
    /// [`Estimator::m_step_restricted`] (or `m_step`, with no `allowed` sets) over `buffer`,
    /// which holds the counts on entry and the next parameters on return; `old` are the
    /// parameters the counts were taken at. The same bits as the M-step into a copy of
    /// `old`; this one makes a copy of the counts, a family that can do without overrides it.
    fn m_step_in_place(&self, buffer: &mut [f64], allowed: &[Allowed], old: &[f64]) -> Vec<String> {
        let counts = buffer.to_vec();
        buffer.copy_from_slice(old);
        if allowed.is_empty() {
            self.m_step(&counts, buffer)
        } else {
            self.m_step_restricted(&counts, allowed, buffer)
        }
    }
    /// [`Estimator::gradient`] with restricted draws (see `m_step_restricted`).
    fn gradient_restricted(
        &self,
        x: &[f64],
        counts: &[f64],
        _allowed: &[Allowed],
        theta: &[f64],
        grad: &mut [f64],
    ) {
        self.gradient(x, counts, theta, grad)
    }
    /// Whether the family's parameters come from feature weights fitted to counts.
    fn fits_features(&self) -> bool {
        false
    }
    /// The first fit of a featurised family's weights to counts, from weights far from
    /// them: how the family starts. `rough`: the counts come from random probabilities, so
    /// the fit only needs to land near them (`logistic::ROUGH` says where the Logistic fit
    /// stops); otherwise it runs to convergence, whatever inexact stop the family's EM
    /// M-steps take.
    fn fit_restricted(&self, counts: &[f64], allowed: &[Allowed], theta: &mut [f64], _rough: bool) {
        self.m_step_restricted(counts, allowed, theta);
    }
    /// Whether the direct algorithm can optimise it (it has free variables and a gradient).
    fn supports_direct(&self) -> bool {
        true
    }
    /// Raises the family's probabilities (`probs`, the part of its slice that draws use) to
    /// the power `beta`, for an annealed E-step's posteriors `p(x, z)^beta`.
    fn temper(&self, beta: f64, probs: &mut [f64]) {
        probs.iter_mut().for_each(|p| *p = p.powf(beta));
    }
    /// The expected complete-data log-likelihood `E_q[log p(x, z | theta)]` of this family's
    /// events, from the counts of the E-step that defined `q`: `sum_k c_k log theta_k` over
    /// the probabilities (`probs`, `counts` alike), restricted rows apart.
    fn expected_log(&self, counts: &[f64], probs: &[f64]) -> f64 {
        // A count that decayed to the last subnormals can outlive its probability, which
        // the M-step's division underflows to zero: its term is that count times at most
        // 745, nothing, where `ln 0` would make the whole objective -inf.
        let smallest = f64::from_bits(1);
        (counts.iter().zip(probs))
            .filter(|(c, _)| **c != 0.0)
            .map(|(c, t)| c * t.max(smallest).ln())
            .sum()
    }
    /// Why mean-field variational Bayes cannot train the family (`None`: it can).
    fn vb_refusal(&self) -> Option<&'static str> {
        Some("variational Bayes needs a Dirichlet prior over a Categorical table")
    }
    /// VB's E-step weights `exp(E[log theta])` under `q(theta)`, a Dirichlet per row with
    /// parameters `posterior` (same layout as `theta`), written into `theta`.
    fn vb_weights(&self, _posterior: &[f64], _theta: &mut [f64]) {}
    /// The posterior means of `q(theta)`: what the run reports as parameters.
    fn vb_means(&self, _posterior: &[f64], _theta: &mut [f64]) {}
    /// `KL(q(theta) || p(theta))` with the symmetric Dirichlet prior of concentration `prior`.
    fn vb_kl(&self, _posterior: &[f64], _prior: f64) -> f64 {
        0.0
    }
}

/// Rows restricted per line: the allowed sets of parameter indices the E-step met and the
/// expected number of draws from each (`CountStore::norm_sets`, `norm_uses`); empty for
/// models without `within` or `from`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Norms<'a> {
    pub sets: &'a [Vec<u32>],
    pub uses: &'a [f64],
}

/// One allowed set of a family: its entries as indices into the family's slice (one row's,
/// ascending) and `n_S`, the expected number of draws restricted to it.
#[derive(Clone, Debug, PartialEq)]
pub struct Allowed {
    pub set: Vec<u32>,
    pub uses: f64,
}

struct Slot {
    name: String,
    params: Range<usize>,
    /// Where the probabilities end and the weights (if any) begin.
    probs_end: usize,
    variables: Range<usize>,
    estimator: Box<dyn Estimator>,
    /// How the family starts from the data when it has no given values.
    seeder: Option<Seeder>,
}

/// One estimator per family of the model, with the parameter range it owns.
pub struct Estimators {
    families: Vec<Slot>,
}

impl Estimators {
    pub fn new(model: &Model, layout: &Layout, domains: &Domains) -> Estimators {
        let mut families = Vec::with_capacity(model.families.len());
        let mut n_variables = 0;
        for (index, (f, slot)) in model.families.iter().zip(&layout.families).enumerate() {
            let range = slot.offset..slot.offset + slot.n_probs() + slot.n_weights;
            let (estimator, n): (Box<dyn Estimator>, usize) = match (&f.kind, &slot.features) {
                (FamilyKind::Gaussian(g), _) => (
                    Box::new(Gaussian {
                        dim: g.dim,
                        covariance: g.covariance,
                        reg_covar: g.reg_covar,
                        rows: (0..slot.n_cond)
                            .map(|r| {
                                layout
                                    .condition_symbols(model, domains, index, r)
                                    .join(", ")
                            })
                            .collect(),
                    }),
                    0,
                ),
                (FamilyKind::Logistic(l), Some(features)) => (
                    Box::new(Logistic::new(
                        slot.n_cond,
                        features.clone(),
                        l.l2,
                        l.m_step_tolerance,
                    )),
                    slot.n_weights,
                ),
                _ => (
                    Box::new(Categorical {
                        rows: match &slot.support {
                            None => Rows::Dense(slot.n_out),
                            Some(s) => Rows::Sparse(s.clone()),
                        },
                        smoothing: f.smoothing,
                        fixed: f.fixed,
                    }),
                    if f.fixed { 0 } else { slot.n_probs() },
                ),
            };
            let seeder = match &f.kind {
                FamilyKind::Gaussian(g) if g.init_means.is_none() => Some(Seeder {
                    seeding: g.seeding,
                    dim: g.dim,
                    covariance: g.covariance,
                    reg_covar: g.reg_covar,
                    n_cond: slot.n_cond,
                    n_out: slot.n_out,
                }),
                _ => None,
            };
            families.push(Slot {
                name: f.name.clone(),
                params: range,
                probs_end: slot.offset + slot.n_probs(),
                variables: n_variables..n_variables + n,
                estimator,
                seeder,
            });
            n_variables += n;
        }
        Estimators { families }
    }

    /// The allowed sets of each family, in its slice's indices (empty without any).
    fn allowed(&self, norms: Norms) -> Vec<Vec<Allowed>> {
        let mut out: Vec<Vec<Allowed>> = self.families.iter().map(|_| Vec::new()).collect();
        for (set, uses) in norms.sets.iter().zip(norms.uses) {
            let Some(&first) = set.first() else { continue };
            let first = first as usize;
            if let Some(f) = self
                .families
                .iter()
                .position(|s| s.params.start <= first && first < s.probs_end)
            {
                let start = self.families[f].params.start as u32;
                out[f].push(Allowed {
                    set: set.iter().map(|k| k - start).collect(),
                    uses: *uses,
                });
            }
        }
        out
    }

    /// The M-step of every family; warnings name the family. `norms` are the E-step's
    /// restricted rows (see [`Norms`]).
    pub fn m_step(&self, counts: &[f64], norms: Norms, theta: &mut [f64]) -> Vec<String> {
        let mut warnings = Vec::new();
        let allowed = self.allowed(norms);
        for (s, a) in self.families.iter().zip(&allowed) {
            let (c, t) = (&counts[s.params.clone()], &mut theta[s.params.clone()]);
            let w = if a.is_empty() {
                s.estimator.m_step(c, t)
            } else {
                s.estimator.m_step_restricted(c, a, t)
            };
            warnings.extend(w.into_iter().map(|w| format!("`{}`: {w}", s.name)));
        }
        warnings
    }

    /// [`Estimators::m_step`] turning the counts into the next parameters in place, so that
    /// an EM iteration holds two parameter-sized vectors rather than three (IBM Model 1 on
    /// the Hansards: 9 MB each). `old` are the parameters the counts were taken at; what no
    /// family owns is copied from them. The same bits as `m_step` into a copy of `old`.
    pub fn m_step_in_place(&self, buffer: &mut [f64], norms: Norms, old: &[f64]) -> Vec<String> {
        let mut warnings = Vec::new();
        let allowed = self.allowed(norms);
        for (s, a) in self.families.iter().zip(&allowed) {
            let range = s.params.clone();
            let w = s
                .estimator
                .m_step_in_place(&mut buffer[range.clone()], a, &old[range]);
            warnings.extend(w.into_iter().map(|w| format!("`{}`: {w}", s.name)));
        }
        let mut owned: Vec<Range<usize>> = self.families.iter().map(|s| s.params.clone()).collect();
        owned.sort_by_key(|r| r.start);
        let mut at = 0;
        for r in owned.iter().chain([&(old.len()..old.len())]) {
            if r.start > at {
                buffer[at..r.start].copy_from_slice(&old[at..r.start]);
            }
            at = at.max(r.end);
        }
        warnings
    }

    /// Whether some family starts from the observations it scores ([`Estimators::seed`]).
    pub fn seeds(&self) -> bool {
        self.families.iter().any(|s| s.seeder.is_some())
    }

    /// Seeds the families that start from the data: `points[f]` are observations that
    /// family `f`'s densities score. Families are seeded in model order from one `rng`, so
    /// the draws are the same for a given seed.
    pub fn seed(&self, points: &[Vec<Vec<f64>>], theta: &mut [f64], rng: &mut impl Rng) {
        for (s, points) in self.families.iter().zip(points) {
            if let Some(seeder) = &s.seeder {
                let probs = s.params.start..s.probs_end;
                seeder.seed(points, &mut theta[probs], rng);
            }
        }
    }

    pub fn supports_direct(&self) -> bool {
        self.families.iter().all(|s| s.estimator.supports_direct())
    }

    /// The M-step of the feature-weighted families only, except the `given` ones (by
    /// family index): how they start, fitted to the expected counts under the initial
    /// probabilities; `rough` when those are random (see [`Estimator::fit_restricted`]).
    pub fn fit_features(
        &self,
        counts: &[f64],
        norms: Norms,
        theta: &mut [f64],
        given: &[usize],
        rough: bool,
    ) {
        let allowed = self.allowed(norms);
        for (f, s) in self.fitted(given) {
            s.estimator.fit_restricted(
                &counts[s.params.clone()],
                &allowed[f],
                &mut theta[s.params.clone()],
                rough,
            );
        }
    }

    /// Whether some family other than the `given` ones is fitted to features.
    pub fn has_features(&self, given: &[usize]) -> bool {
        self.fitted(given).next().is_some()
    }

    fn fitted<'a>(&'a self, given: &'a [usize]) -> impl Iterator<Item = (usize, &'a Slot)> {
        self.families
            .iter()
            .enumerate()
            .filter(move |(f, s)| s.estimator.fits_features() && !given.contains(f))
    }

    /// `theta` with every family's draws raised to the power `beta` (see
    /// [`Estimator::temper`]).
    pub fn temper(&self, theta: &[f64], beta: f64) -> Vec<f64> {
        let mut out = theta.to_vec();
        for s in &self.families {
            s.estimator
                .temper(beta, &mut out[s.params.start..s.probs_end]);
        }
        out
    }

    /// `E_q[log p(x, z | theta)]` for the `q` whose expected counts are `counts` (and whose
    /// restricted draws are `norms`), plus nothing else: with the entropy of `q` it is Neal
    /// and Hinton's free energy.
    pub fn expected_log(&self, counts: &[f64], norms: Norms, theta: &[f64]) -> f64 {
        let draws: f64 = (self.families.iter())
            .map(|s| {
                let r = s.params.start..s.probs_end;
                s.estimator.expected_log(&counts[r.clone()], &theta[r])
            })
            .sum();
        let restricted: f64 = (norms.sets.iter().zip(norms.uses))
            .filter(|(_, u)| **u != 0.0)
            .map(|(set, u)| u * set.iter().map(|k| theta[*k as usize]).sum::<f64>().ln())
            .sum();
        draws - restricted
    }

    /// The first family variational Bayes cannot train, with why.
    pub fn vb_refusal(&self) -> Option<(usize, &'static str)> {
        (self.families.iter().enumerate())
            .find_map(|(f, s)| s.estimator.vb_refusal().map(|why| (f, why)))
    }

    /// `q(theta)`'s Dirichlet parameters from expected counts: `prior + counts` (the entries
    /// of fixed families are left as they come).
    pub fn vb_posterior(&self, counts: &[f64], prior: f64) -> Vec<f64> {
        counts.iter().map(|c| c + prior).collect()
    }

    /// See [`Estimator::vb_weights`].
    pub fn vb_weights(&self, posterior: &[f64], theta: &mut [f64]) {
        for s in &self.families {
            let r = s.params.clone();
            s.estimator.vb_weights(&posterior[r.clone()], &mut theta[r]);
        }
    }

    /// See [`Estimator::vb_means`].
    pub fn vb_means(&self, posterior: &[f64], theta: &mut [f64]) {
        for s in &self.families {
            let r = s.params.clone();
            s.estimator.vb_means(&posterior[r.clone()], &mut theta[r]);
        }
    }

    /// See [`Estimator::vb_kl`]; summed over the families.
    pub fn vb_kl(&self, posterior: &[f64], prior: f64) -> f64 {
        (self.families.iter())
            .map(|s| s.estimator.vb_kl(&posterior[s.params.clone()], prior))
            .sum()
    }

    pub fn log_prior(&self, theta: &[f64]) -> f64 {
        self.families
            .iter()
            .map(|s| s.estimator.log_prior(&theta[s.params.clone()]))
            .sum()
    }

    pub fn variables(&self, theta: &[f64]) -> Vec<f64> {
        self.families
            .iter()
            .flat_map(|s| s.estimator.variables(&theta[s.params.clone()]))
            .collect()
    }

    pub fn set_variables(&self, x: &[f64], theta: &mut [f64]) {
        for s in &self.families {
            s.estimator
                .set_variables(&x[s.variables.clone()], &mut theta[s.params.clone()]);
        }
    }

    pub fn gradient(
        &self,
        x: &[f64],
        counts: &[f64],
        norms: Norms,
        theta: &[f64],
        grad: &mut [f64],
    ) {
        let allowed = self.allowed(norms);
        for (s, a) in self.families.iter().zip(&allowed) {
            s.estimator.gradient_restricted(
                &x[s.variables.clone()],
                &counts[s.params.clone()],
                a,
                &theta[s.params.clone()],
                &mut grad[s.variables.clone()],
            );
        }
    }
}
