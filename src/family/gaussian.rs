//! Gaussian families: a normal density per condition row over an observed real vector.
//!
//! A row of the parameter vector is `[mean (D), L (D x D, row-major, lower), log det Sigma]`,
//! with `Sigma = L L^T`: the M-step factorises each covariance once, so a density costs one
//! triangular solve. A row of the count store holds the E-step's sufficient statistics
//! `[mass, sum of mass * x (D), sum of mass * x x^T (D x D)]`: the same number of slots.
//! A coordinate given as `?` (NaN here) is marginalised: its density is the marginal over the
//! observed coordinates, and its statistics use the conditional mean and covariance.

use nalgebra::{DMatrix, DVector};

use super::Estimator;
use crate::model::Covariance;

pub const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// The parts of a parameter row.
pub struct Row<'a> {
    pub mean: &'a [f64],
    /// Lower-triangular Cholesky factor, row-major.
    pub chol: &'a [f64],
    pub log_det: f64,
}

pub fn row(theta: &[f64], dim: usize) -> Row<'_> {
    Row {
        mean: &theta[..dim],
        chol: &theta[dim..dim + dim * dim],
        log_det: theta[dim + dim * dim],
    }
}

/// The covariance is not positive definite (even after `reg_covar`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotPositiveDefinite;

/// Writes `[mean, chol(cov), log det cov]` into `out`.
pub fn write_row(mean: &[f64], cov: &[f64], out: &mut [f64]) -> Result<(), NotPositiveDefinite> {
    let dim = mean.len();
    let m = DMatrix::from_row_slice(dim, dim, cov);
    let chol = m.cholesky().ok_or(NotPositiveDefinite)?;
    let l = chol.l();
    out[..dim].copy_from_slice(mean);
    for i in 0..dim {
        for j in 0..dim {
            out[dim + i * dim + j] = l[(i, j)];
        }
    }
    out[dim + dim * dim] = 2.0 * (0..dim).map(|i| l[(i, i)].ln()).sum::<f64>();
    Ok(())
}

/// `Sigma = L L^T`, row-major.
pub fn covariance(r: &Row) -> Vec<f64> {
    let dim = r.mean.len();
    let mut out = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..=i {
            let v: f64 = (0..=j)
                .map(|k| r.chol[i * dim + k] * r.chol[j * dim + k])
                .sum();
            out[i * dim + j] = v;
            out[j * dim + i] = v;
        }
    }
    out
}

/// `log N(x | mean, Sigma)`, marginal over the coordinates of `x` that are NaN.
pub fn log_density(r: &Row, x: &[f64]) -> f64 {
    let dim = r.mean.len();
    if x.iter().all(|v| !v.is_nan()) {
        // Forward substitution: z = L^{-1} (x - mean), on the stack for common sizes since
        // this runs once per observation and component.
        let mut stack = [0.0; 16];
        let mut heap = Vec::new();
        let z: &mut [f64] = if dim <= stack.len() {
            &mut stack[..dim]
        } else {
            heap.resize(dim, 0.0);
            &mut heap
        };
        let mut q = 0.0;
        for i in 0..dim {
            let row = &r.chol[i * dim..i * dim + i];
            let known: f64 = row.iter().zip(&z[..i]).map(|(l, v)| l * v).sum();
            let zi = (x[i] - r.mean[i] - known) / r.chol[i * dim + i];
            z[i] = zi;
            q += zi * zi;
        }
        return -0.5 * (dim as f64 * LN_2PI + r.log_det + q);
    }
    let observed: Vec<usize> = (0..dim).filter(|i| !x[*i].is_nan()).collect();
    if observed.is_empty() {
        return 0.0;
    }
    let cov = covariance(r);
    let n = observed.len();
    let sub = DMatrix::from_fn(n, n, |a, b| cov[observed[a] * dim + observed[b]]);
    let Some(chol) = sub.cholesky() else {
        return f64::NEG_INFINITY;
    };
    let d = DVector::from_fn(n, |a, _| x[observed[a]] - r.mean[observed[a]]);
    let z = chol.l().solve_lower_triangular(&d).unwrap_or(d);
    let log_det = 2.0 * (0..n).map(|i| chol.l()[(i, i)].ln()).sum::<f64>();
    -0.5 * (n as f64 * LN_2PI + log_det + z.norm_squared())
}

/// Adds `mass` times the sufficient statistics of `x` to `stats`; missing coordinates take
/// their conditional mean given the observed ones, and their conditional covariance adds to
/// the second moment.
pub fn add_stats(r: &Row, x: &[f64], mass: f64, stats: &mut [f64]) {
    let dim = r.mean.len();
    if x.iter().any(|v| v.is_nan()) {
        let (filled, extra) = conditional(r, x);
        add_moments(&filled, mass, stats);
        for (s, c) in stats[1 + dim..].iter_mut().zip(&extra) {
            *s += mass * c;
        }
        return;
    }
    add_moments(x, mass, stats);
}

fn add_moments(x: &[f64], mass: f64, stats: &mut [f64]) {
    let dim = x.len();
    stats[0] += mass;
    let (first, second) = stats[1..].split_at_mut(dim);
    for (s, xi) in first.iter_mut().zip(x) {
        *s += mass * xi;
    }
    for (row, xi) in second.chunks_exact_mut(dim).zip(x) {
        let mx = mass * xi;
        for (s, xj) in row.iter_mut().zip(x) {
            *s += mx * xj;
        }
    }
}

/// `x` with its missing coordinates replaced by their conditional mean, and the conditional
/// covariance of the missing block (zero elsewhere), both given the observed coordinates.
fn conditional(r: &Row, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let dim = r.mean.len();
    let cov = covariance(r);
    let obs: Vec<usize> = (0..dim).filter(|i| !x[*i].is_nan()).collect();
    let mis: Vec<usize> = (0..dim).filter(|i| x[*i].is_nan()).collect();
    let s_mm = DMatrix::from_fn(mis.len(), mis.len(), |a, b| cov[mis[a] * dim + mis[b]]);
    let s_mo = DMatrix::from_fn(mis.len(), obs.len(), |a, b| cov[mis[a] * dim + obs[b]]);
    let s_oo = DMatrix::from_fn(obs.len(), obs.len(), |a, b| cov[obs[a] * dim + obs[b]]);
    let d = DVector::from_fn(obs.len(), |a, _| x[obs[a]] - r.mean[obs[a]]);
    let (shift, cond) = match s_oo.cholesky() {
        Some(ch) if !obs.is_empty() => {
            let gain = s_mo.clone() * ch.inverse();
            (&gain * d, s_mm - &gain * s_mo.transpose())
        }
        _ => (DVector::zeros(mis.len()), s_mm),
    };
    let mut filled = x.to_vec();
    for (a, i) in mis.iter().enumerate() {
        filled[*i] = r.mean[*i] + shift[a];
    }
    let mut extra = vec![0.0; dim * dim];
    for (a, i) in mis.iter().enumerate() {
        for (b, j) in mis.iter().enumerate() {
            extra[i * dim + j] = cond[(a, b)];
        }
    }
    (filled, extra)
}

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
        1 + self.dim + self.dim * self.dim
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

    fn row_of(mean: &[f64], cov: &[f64]) -> Vec<f64> {
        let d = mean.len();
        let mut out = vec![0.0; 1 + d + d * d];
        write_row(mean, cov, &mut out).unwrap();
        out
    }

    #[test]
    fn densities_match_the_formula_and_marginalise_missing_coordinates() {
        let r = row_of(&[1.0, -1.0], &[2.0, 0.5, 0.5, 1.0]);
        let rw = row(&r, 2);
        // Hand-computed: det = 1.75, inverse = [1, -0.5; -0.5, 2] / 1.75.
        let x = [2.0, 0.0];
        let q = (1.0 * 1.0 - 2.0 * 0.5 * 1.0 * 1.0 + 2.0 * 1.0 * 1.0) / 1.75;
        let expected = -0.5 * (2.0 * LN_2PI + 1.75f64.ln() + q);
        assert!((log_density(&rw, &x) - expected).abs() < 1e-12);
        // x2 missing: N(2 | 1, 2).
        let marginal = -0.5 * (LN_2PI + 2f64.ln() + 0.5);
        assert!((log_density(&rw, &[2.0, f64::NAN]) - marginal).abs() < 1e-12);
    }

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
