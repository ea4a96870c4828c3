//! Categorical families: normalised expected counts, with an optional symmetric Dirichlet
//! prior given as a pseudo-count (add-lambda; the MAP estimate).

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use super::special::{digamma, ln_gamma};
use super::{Allowed, Estimator};
use crate::params::Support;

/// Entries a task of the M-step's normalisation takes at least: a few pages, so that a table
/// of many short rows is not split into tasks that each cost more to hand out than to do.
const ROWS_TASK_ENTRIES: usize = 16_384;

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

impl Categorical {
    /// Calls `f` on each row's slice of `rows` with the same row's slice of `with`, rows in
    /// parallel: they are independent, so this gives the bits of a serial pass. A large
    /// emission table is megabytes, and a serial pass over it stood between two parallel
    /// E-steps (1.2-1.6 ms of a 110 ms iteration of W1).
    fn par_rows(&self, rows: &mut [f64], with: &[f64], f: impl Fn(&mut [f64], &[f64]) + Sync) {
        let ranges = self.rows.ranges(rows.len());
        let per_task = (ROWS_TASK_ENTRIES * ranges.len() / rows.len().max(1)).max(1);
        let mut pairs = Vec::with_capacity(ranges.len());
        let (mut rest, mut at) = (rows, 0);
        for r in &ranges {
            let (_, from) = std::mem::take(&mut rest).split_at_mut(r.start - at);
            let (row, tail) = from.split_at_mut(r.len());
            pairs.push((row, &with[r.clone()]));
            (rest, at) = (tail, r.end);
        }
        pairs
            .into_par_iter()
            .with_min_len(per_task)
            .for_each(|(row, with)| f(row, with));
    }
}

impl Estimator for Categorical {
    fn m_step_restricted(
        &self,
        counts: &[f64],
        allowed: &[Allowed],
        theta: &mut [f64],
    ) -> Vec<String> {
        if self.fixed || allowed.is_empty() {
            return self.m_step(counts, theta);
        }
        let ranges = self.rows.ranges(theta.len());
        let rows = row_sets(&ranges, allowed);
        let mut rest = theta.to_vec();
        self.m_step(counts, &mut rest);
        for (r, range) in ranges.iter().enumerate() {
            let t = &mut theta[range.clone()];
            match rows.binary_search_by_key(&r, |(row, _)| *row) {
                Err(_) => t.copy_from_slice(&rest[range.clone()]),
                Ok(i) => {
                    let sets = &rows[i].1;
                    let c: Vec<f64> = counts[range.clone()]
                        .iter()
                        .map(|x| x + self.smoothing)
                        .collect();
                    let restricted: f64 = sets.iter().map(|(_, u)| u).sum();
                    let n_full = (c.iter().sum::<f64>() - restricted).max(0.0);
                    if c.iter().sum::<f64>() > 0.0 {
                        restricted_row(&c, n_full, sets, range.start as u32, t);
                    }
                }
            }
        }
        Vec::new()
    }

    /// With `theta = softmax(x)` per row, a draw restricted to S adds `-n_S log Z_S`, whose
    /// derivative in `x_o` is `-n_S t_o (1[o in S] / Z_S - 1)`.
    fn gradient_restricted(
        &self,
        x: &[f64],
        counts: &[f64],
        allowed: &[Allowed],
        theta: &[f64],
        grad: &mut [f64],
    ) {
        self.gradient(x, counts, theta, grad);
        if self.fixed {
            return;
        }
        let n = match self.rows {
            Rows::Dense(n) => n,
            Rows::Sparse(_) => return,
        };
        for a in allowed {
            let Some(&first) = a.set.first() else {
                continue;
            };
            let row = first as usize / n * n;
            let z: f64 = a.set.iter().map(|k| theta[*k as usize]).sum();
            for o in row..row + n {
                grad[o] += a.uses * theta[o];
            }
            if z > 0.0 {
                for k in &a.set {
                    grad[*k as usize] -= a.uses * theta[*k as usize] / z;
                }
            }
        }
    }

    fn m_step(&self, counts: &[f64], theta: &mut [f64]) -> Vec<String> {
        if self.fixed {
            return Vec::new();
        }
        self.par_rows(theta, counts, |t, c| {
            let total: f64 = c.iter().map(|x| x + self.smoothing).sum();
            // A condition never seen keeps its previous distribution rather than 0/0.
            if total > 0.0 && total.is_finite() {
                t.iter_mut()
                    .zip(c)
                    .for_each(|(t, x)| *t = (x + self.smoothing) / total);
            }
        });
        Vec::new()
    }

    fn m_step_in_place(&self, buffer: &mut [f64], allowed: &[Allowed], old: &[f64]) -> Vec<String> {
        if !allowed.is_empty() {
            let counts = buffer.to_vec();
            buffer.copy_from_slice(old);
            return self.m_step_restricted(&counts, allowed, buffer);
        }
        if self.fixed {
            buffer.copy_from_slice(old);
            return Vec::new();
        }
        // As `m_step`, a row at a time: its total is taken before any of it is overwritten.
        self.par_rows(buffer, old, |row, old| {
            let total: f64 = row.iter().map(|x| x + self.smoothing).sum();
            if total > 0.0 && total.is_finite() {
                row.iter_mut()
                    .for_each(|x| *x = (*x + self.smoothing) / total);
            } else {
                row.copy_from_slice(old);
            }
        });
        Vec::new()
    }

    fn vb_refusal(&self) -> Option<&'static str> {
        (self.smoothing > 0.0 && !self.fixed).then_some(
            "`smoothing` is a MAP estimate's pseudo-count; variational Bayes takes its \
             Dirichlet prior from the `prior` setting: remove `smoothing`",
        )
    }

    fn vb_weights(&self, posterior: &[f64], theta: &mut [f64]) {
        if self.fixed {
            return;
        }
        for r in self.rows.ranges(theta.len()) {
            let total = digamma(posterior[r.clone()].iter().sum());
            for (t, a) in theta[r.clone()].iter_mut().zip(&posterior[r]) {
                *t = (digamma(*a) - total).exp();
            }
        }
    }

    fn vb_means(&self, posterior: &[f64], theta: &mut [f64]) {
        if self.fixed {
            return;
        }
        for r in self.rows.ranges(theta.len()) {
            let total: f64 = posterior[r.clone()].iter().sum();
            for (t, a) in theta[r.clone()].iter_mut().zip(&posterior[r]) {
                *t = a / total;
            }
        }
    }

    /// `ln Γ(a0) - Σ ln Γ(a_k) - ln Γ(α0) + Σ ln Γ(α_k) + Σ (a_k - α_k)(ψ(a_k) - ψ(a0))` per row.
    fn vb_kl(&self, posterior: &[f64], prior: f64) -> f64 {
        if self.fixed {
            return 0.0;
        }
        let mut kl = 0.0;
        for r in self.rows.ranges(posterior.len()) {
            let a = &posterior[r];
            let n = a.len() as f64;
            let a0: f64 = a.iter().sum();
            let psi0 = digamma(a0);
            kl += ln_gamma(a0) - ln_gamma(n * prior) + n * ln_gamma(prior);
            for &ak in a {
                kl += -ln_gamma(ak) + (ak - prior) * (digamma(ak) - psi0);
            }
        }
        kl
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

/// Fixed-point steps of the restricted M-step per row: each step cannot decrease the
/// objective, so any number keeps EM monotone; this many reach 1e-12 on jump tables.
const MM_STEPS: usize = 200;

/// A row's restricted draws: per allowed set, its entries (indices into the row) and uses.
type RowSets<'a> = Vec<(&'a [u32], f64)>;

/// The allowed sets of each row that has some (`ranges`: the rows' entries in the family's
/// slice, ascending), as indices into the slice.
fn row_sets<'a>(ranges: &[Range<usize>], allowed: &'a [Allowed]) -> Vec<(usize, RowSets<'a>)> {
    let mut rows: Vec<RowSets> = vec![Vec::new(); ranges.len()];
    for a in allowed {
        if let Some(&k) = a.set.first() {
            // An allowed set lies in one row: the row whose entries end past its first.
            let r = ranges.partition_point(|range| range.end <= k as usize);
            rows[r].push((&a.set, a.uses));
        }
    }
    rows.into_iter()
        .enumerate()
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

/// The restricted M-step of one row: maximises `sum_k c_k log t_k - sum_S n_S log Z_S -
/// n_full log Z_row` (the row's unrestricted draws divide by the whole row; smoothing is in
/// `c` and `n_full`). The objective does not change when `t` is scaled, so the
/// minorise-maximise step `t_k <- c_k / (n_full / Z_row + sum_{S ∋ k} n_S / Z_S)` followed
/// by renormalising never decreases it.
fn restricted_row(c: &[f64], n_full: f64, sets: &[(&[u32], f64)], row_start: u32, t: &mut [f64]) {
    let mut a = vec![0.0; t.len()];
    for _ in 0..MM_STEPS {
        let z_row: f64 = t.iter().sum();
        a.fill(n_full / z_row);
        for (set, uses) in sets {
            let z: f64 = set.iter().map(|k| t[(k - row_start) as usize]).sum();
            if z > 0.0 {
                for k in *set {
                    a[(k - row_start) as usize] += uses / z;
                }
            }
        }
        let mut next: Vec<f64> = c
            .iter()
            .zip(&a)
            .zip(t.iter())
            .map(|((c, a), old)| match (*c > 0.0, *a > 0.0) {
                (false, _) => 0.0,
                (true, true) => c / a,
                // Counted but in no set: cannot happen (a count comes from a draw).
                (true, false) => *old,
            })
            .collect();
        let total: f64 = next.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return;
        }
        next.iter_mut().for_each(|x| *x /= total);
        let change = next
            .iter()
            .zip(t.iter())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        t.copy_from_slice(&next);
        if change <= 1e-14 {
            return;
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

    /// `sum_k c_k log t_k - sum_S n_S log Z_S - n_row log Z_row` of one row.
    fn restricted_objective(c: &[f64], n_row: f64, sets: &[(Vec<u32>, f64)], t: &[f64]) -> f64 {
        let z = |s: &[u32]| s.iter().map(|k| t[*k as usize]).sum::<f64>();
        c.iter().zip(t).map(|(c, t)| c * t.ln()).sum::<f64>()
            - sets.iter().map(|(s, n)| n * z(s).ln()).sum::<f64>()
            - n_row * t.iter().sum::<f64>().ln()
    }

    #[test]
    fn restricted_rows_climb_to_the_stationary_point() {
        // One row of four outcomes: draws restricted to {0, 1}, to {1, 2, 3}, and whole.
        let est = Categorical {
            rows: Rows::Dense(4),
            smoothing: 0.0,
            fixed: false,
        };
        let counts = [3.0, 1.0, 2.0, 4.0];
        let sets = vec![(vec![0, 1], 3.0), (vec![1, 2, 3], 5.0)];
        let allowed: Vec<Allowed> = sets
            .iter()
            .map(|(s, n)| Allowed {
                set: s.clone(),
                uses: *n,
            })
            .collect();
        let n_row = counts.iter().sum::<f64>() - 8.0;
        let mut theta = vec![0.25; 4];
        let mut before = restricted_objective(&counts, n_row, &sets, &theta);
        for _ in 0..5 {
            est.m_step_restricted(&counts, &allowed, &mut theta);
            let after = restricted_objective(&counts, n_row, &sets, &theta);
            assert!(after >= before - 1e-12, "{before} -> {after}");
            before = after;
        }
        // At the maximum every entry satisfies c_k / t_k = n_row / Z_row + sum_{S ∋ k} n_S / Z_S.
        let z = |s: &[u32]| s.iter().map(|k| theta[*k as usize]).sum::<f64>();
        for k in 0..4u32 {
            let a = n_row
                + sets
                    .iter()
                    .filter(|(s, _)| s.contains(&k))
                    .map(|(s, n)| n / z(s))
                    .sum::<f64>();
            let c = counts[k as usize] / theta[k as usize];
            assert!((c - a).abs() < 1e-6 * a, "entry {k}: {c} against {a}");
        }
        assert!((theta.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    /// The M-step over the counts' own vector gives the bits of the M-step into a copy of
    /// the old parameters: rows normalised (with and without smoothing, dense and sparse,
    /// with rows too many for one task), unseen rows kept, a fixed family left alone,
    /// restricted draws as `m_step_restricted` fits them.
    #[test]
    fn in_place_m_step_gives_the_bits_of_the_copying_one() {
        let sparse = Support::from_indices(2, 3, vec![2, 0, 4, 2]);
        let cases = [
            (Rows::Dense(3), 0.0, false),
            (Rows::Dense(3), 0.5, false),
            (Rows::Dense(3), 0.0, true),
            (Rows::Sparse(Arc::new(sparse)), 0.0, false),
        ];
        for (rows, smoothing, fixed) in cases {
            let est = Categorical {
                rows,
                smoothing,
                fixed,
            };
            let n = match &est.rows {
                Rows::Dense(_) => 3 * 40_000,
                Rows::Sparse(_) => 3,
            };
            // Every seventh row unseen; the rest uneven counts.
            let counts: Vec<f64> = (0..n)
                .map(|k| {
                    if (k / 3) % 7 == 3 {
                        0.0
                    } else {
                        (k % 5) as f64 * 0.37 + 0.1
                    }
                })
                .collect();
            let old: Vec<f64> = (0..n).map(|k| 1.0 / (1.0 + (k % 11) as f64)).collect();
            for allowed in [
                vec![],
                vec![Allowed {
                    set: vec![0, 1],
                    uses: 0.4,
                }],
            ] {
                let mut copied = old.clone();
                let warned = if allowed.is_empty() {
                    est.m_step(&counts, &mut copied)
                } else {
                    est.m_step_restricted(&counts, &allowed, &mut copied)
                };
                let mut buffer = counts.clone();
                assert_eq!(est.m_step_in_place(&mut buffer, &allowed, &old), warned);
                let bits = |x: &[f64]| x.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&buffer), bits(&copied));
            }
        }
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
