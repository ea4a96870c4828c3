//! Gaussian families: a normal density per condition row over an observed real vector. The
//! row layout, the density and the sufficient statistics are [`crate::density`]'s; this is the
//! M-step over them and the k-means++ seeding.

use nalgebra::DMatrix;

use super::Estimator;
pub use crate::density::{
    add_stats, covariance, log_density, row, width, write_row, NotPositiveDefinite, Row, LN_2PI,
};
use crate::model::Covariance;

pub struct Gaussian {
    pub dim: usize,
    pub covariance: Covariance,
    pub reg_covar: f64,
    /// Each condition row's symbols, to name components in warnings.
    pub rows: Vec<String>,
}

/// A variance below this fraction of the row's mean square (before `reg_covar`) means the
/// component sits on a point or a constant coordinate.
const COLLAPSED: f64 = 1e-12;

impl Gaussian {
    fn width(&self) -> usize {
        width(self.dim)
    }

    /// The maximum-likelihood mean and covariance of each row from its statistics (as
    /// scikit-learn's GaussianMixture computes them), `None` for a row with no mass.
    /// Rows whose variance along some coordinate (before `reg_covar`) is nil: all their mass
    /// on one value there.
    fn collapsed(&self, counts: &[f64]) -> Vec<(usize, usize)> {
        let (d, w) = (self.dim, self.width());
        let mut out = Vec::new();
        for (r, c) in counts.chunks_exact(w).enumerate() {
            let n = c[0];
            if n <= 0.0 {
                continue;
            }
            for i in 0..d {
                let mean = c[1 + i] / n;
                let square = c[1 + d + i * d + i] / n;
                if square - mean * mean <= COLLAPSED * square.max(f64::MIN_POSITIVE) {
                    out.push((r, i));
                }
            }
        }
        out
    }

    fn name(&self, r: usize) -> String {
        match self.rows.get(r) {
            Some(n) if !n.is_empty() => format!("component `{n}`"),
            _ => format!("component {}", r + 1),
        }
    }

    fn estimates(&self, counts: &[f64]) -> Vec<Option<(Vec<f64>, Vec<f64>)>> {
        let (d, w) = (self.dim, self.width());
        let mut out: Vec<Option<(Vec<f64>, Vec<f64>)>> = counts
            .chunks_exact(w)
            .map(|c| {
                let n = c[0];
                if n <= f64::MIN_POSITIVE * 1e3 || !n.is_finite() {
                    return None;
                }
                let mean: Vec<f64> = c[1..1 + d].iter().map(|s| s / n).collect();
                let mut cov = vec![0.0; d * d];
                for i in 0..d {
                    for j in 0..d {
                        cov[i * d + j] = c[1 + d + i * d + j] / n - mean[i] * mean[j];
                    }
                }
                Some((mean, cov))
            })
            .collect();
        match self.covariance {
            Covariance::Full => {}
            Covariance::Diagonal => out
                .iter_mut()
                .flatten()
                .for_each(|(_, c)| keep_diagonal(c, d)),
            Covariance::Spherical => out.iter_mut().flatten().for_each(|(_, c)| {
                keep_diagonal(c, d);
                let v = (0..d).map(|i| c[i * d + i]).sum::<f64>() / d as f64;
                (0..d).for_each(|i| c[i * d + i] = v);
            }),
            Covariance::Tied => {
                // The scatter pooled over rows, divided by the total mass.
                let total: f64 = counts.chunks_exact(w).map(|c| c[0]).sum();
                let mut pooled = vec![0.0; d * d];
                for (c, e) in counts.chunks_exact(w).zip(&out) {
                    if let Some((_, cov)) = e {
                        pooled.iter_mut().zip(cov).for_each(|(p, v)| *p += c[0] * v);
                    }
                }
                pooled.iter_mut().for_each(|p| *p /= total);
                out.iter_mut()
                    .flatten()
                    .for_each(|(_, c)| c.copy_from_slice(&pooled));
            }
        }
        for (_, c) in out.iter_mut().flatten() {
            (0..d).for_each(|i| c[i * d + i] += self.reg_covar);
        }
        out
    }
}

fn keep_diagonal(c: &mut [f64], d: usize) {
    for i in 0..d {
        for j in 0..d {
            if i != j {
                c[i * d + j] = 0.0;
            }
        }
    }
}

impl Estimator for Gaussian {
    fn m_step(&self, counts: &[f64], theta: &mut [f64]) -> Vec<String> {
        let w = self.width();
        let mut warnings: Vec<String> = self
            .collapsed(counts)
            .into_iter()
            .map(|(r, i)| {
                format!(
                    "{} has no spread along coordinate {i} (a constant coordinate or repeated points): its variance there is `reg_covar` = {}",
                    self.name(r),
                    self.reg_covar
                )
            })
            .collect();
        for (r, (est, out)) in self
            .estimates(counts)
            .into_iter()
            .zip(theta.chunks_exact_mut(w))
            .enumerate()
        {
            match est {
                // A row that lost all its mass keeps its previous parameters.
                None => warnings.push(format!(
                    "{} has no mass: it keeps its previous mean and covariance",
                    self.name(r)
                )),
                Some((mean, cov)) => {
                    if write_row(&mean, &cov, out).is_err() {
                        warnings.push(format!(
                            "{} has a singular covariance: it keeps its previous parameters; raise `reg_covar`",
                            self.name(r)
                        ));
                    }
                }
            }
        }
        warnings
    }

    fn log_prior(&self, _theta: &[f64]) -> f64 {
        0.0
    }

    fn variables(&self, _theta: &[f64]) -> Vec<f64> {
        Vec::new()
    }

    fn set_variables(&self, _x: &[f64], _theta: &mut [f64]) {}

    fn gradient(&self, _x: &[f64], _counts: &[f64], _theta: &[f64], _grad: &mut [f64]) {}

    /// `beta log N(x | mean, Sigma)` is `log N(x | mean, Sigma / beta)` once the row's log
    /// determinant absorbs the constants: `beta log|Sigma| + (beta - 1) D log 2 pi`.
    fn temper(&self, beta: f64, probs: &mut [f64]) {
        let d = self.dim;
        let scale = beta.sqrt().recip();
        for row in probs.chunks_exact_mut(self.width()) {
            row[d..d + d * d].iter_mut().for_each(|l| *l *= scale);
            let log_det = &mut row[d + d * d];
            *log_det = beta * *log_det + (beta - 1.0) * d as f64 * LN_2PI;
        }
    }

    /// Per row `-1/2 (mass (D log 2 pi + log|Sigma|) + tr(Sigma^-1 M))` with
    /// `M = S2 - mean S1^T - S1 mean^T + mass mean mean^T` from the statistics.
    fn expected_log(&self, counts: &[f64], probs: &[f64]) -> f64 {
        let d = self.dim;
        let w = self.width();
        let mut total = 0.0;
        for (stats, theta) in counts.chunks_exact(w).zip(probs.chunks_exact(w)) {
            let mass = stats[0];
            if mass == 0.0 {
                continue;
            }
            let r = crate::density::row(theta, d);
            let s1 = &stats[1..1 + d];
            let s2 = &stats[1 + d..];
            let m = DMatrix::from_fn(d, d, |i, j| {
                s2[i * d + j] - r.mean[i] * s1[j] - s1[i] * r.mean[j] + mass * r.mean[i] * r.mean[j]
            });
            let l = DMatrix::from_fn(d, d, |i, j| r.chol[i * d + j]);
            // tr(Sigma^-1 M) = tr(L^-1 M L^-T), by two triangular solves.
            let Some(x) = l.solve_lower_triangular(&m) else {
                return f64::NEG_INFINITY;
            };
            let Some(y) = l.solve_lower_triangular(&x.transpose()) else {
                return f64::NEG_INFINITY;
            };
            total += -0.5 * (mass * (d as f64 * LN_2PI + r.log_det) + y.trace());
        }
        total
    }

    fn vb_refusal(&self) -> Option<&'static str> {
        Some(
            "variational Bayes here puts Dirichlet priors on Categorical tables; a Gaussian \
             family would need a Normal-Wishart prior, which emc does not have: train it with \
             `em` (or `hard`, `stepwise`, `incremental`)",
        )
    }

    fn supports_direct(&self) -> bool {
        false
    }
}

/// Starting means and covariances for `rows` components from observed points: k-means++
/// seeding of the means (the first uniformly, each next one with probability proportional to
/// its squared distance from the nearest chosen), every covariance the points' overall
/// covariance (of the family's type) plus `reg_covar`. Points with missing coordinates are
/// left out.
pub fn seed(
    points: &[Vec<f64>],
    rows: usize,
    covariance: Covariance,
    reg_covar: f64,
    rng: &mut impl rand::Rng,
) -> Option<(Vec<Vec<f64>>, Vec<f64>)> {
    let points: Vec<&Vec<f64>> = points
        .iter()
        .filter(|p| p.iter().all(|v| !v.is_nan()))
        .collect();
    let first = points.first()?;
    let d = first.len();
    let mut means: Vec<Vec<f64>> = vec![points[rng.gen_range(0..points.len())].clone()];
    let mut nearest: Vec<f64> = points.iter().map(|p| distance2(p, &means[0])).collect();
    while means.len() < rows {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let mut u = rng.gen::<f64>() * total;
            nearest
                .iter()
                .position(|w| {
                    u -= w;
                    u < 0.0
                })
                .unwrap_or(points.len() - 1)
        } else {
            rng.gen_range(0..points.len())
        };
        let m = points[pick].clone();
        nearest
            .iter_mut()
            .zip(&points)
            .for_each(|(n, p)| *n = n.min(distance2(p, &m)));
        means.push(m);
    }
    let n = points.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|i| points.iter().map(|p| p[i]).sum::<f64>() / n)
        .collect();
    let mut cov = vec![0.0; d * d];
    for p in &points {
        for i in 0..d {
            for j in 0..d {
                cov[i * d + j] += (p[i] - mean[i]) * (p[j] - mean[j]) / n;
            }
        }
    }
    match covariance {
        Covariance::Full | Covariance::Tied => {}
        Covariance::Diagonal => keep_diagonal(&mut cov, d),
        Covariance::Spherical => {
            let v = (0..d).map(|i| cov[i * d + i]).sum::<f64>() / d as f64;
            keep_diagonal(&mut cov, d);
            (0..d).for_each(|i| cov[i * d + i] = v);
        }
    }
    // A constant coordinate has no spread to start from: give it unit variance.
    for i in 0..d {
        if cov[i * d + i] <= 0.0 {
            cov[i * d + i] = 1.0;
        }
        cov[i * d + i] += reg_covar;
    }
    if DMatrix::from_row_slice(d, d, &cov).cholesky().is_none() {
        keep_diagonal(&mut cov, d);
    }
    Some((means, cov))
}

fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_m_step_gives_weighted_moments_and_keeps_empty_rows() {
        let g = Gaussian {
            dim: 1,
            covariance: Covariance::Full,
            reg_covar: 0.0,
            rows: vec!["a".into(), "b".into()],
        };
        // Row 1: points 1 and 3 with mass 1 each; row 2: no mass.
        let counts = [2.0, 4.0, 10.0, 0.0, 0.0, 0.0];
        let mut theta = [0.0, 1.0, 0.0, 5.0, 2.0, 2f64.ln() * 2.0];
        let warnings = g.m_step(&counts, &mut theta);
        assert_eq!(theta[0], 2.0);
        assert!((theta[1] - 1.0).abs() < 1e-12); // variance (10/2 - 4) = 1
        assert_eq!(&theta[3..], &[5.0, 2.0, 2f64.ln() * 2.0]);
        assert_eq!(warnings.len(), 1);
    }
}
