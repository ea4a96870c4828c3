//! The Gaussian row: how a normal density over a real vector is laid out in the parameter
//! vector, its density, and the sufficient statistics an E-step adds for it. The factor graph,
//! the engines and the kernels score observations with it, and the Gaussian family's M-step
//! writes it; it sits below all of them and depends on none.
//!
//! A row of the parameter vector is `[mean (D), L (D x D, row-major, lower), log det Sigma]`,
//! with `Sigma = L L^T`: the M-step factorises each covariance once, so a density costs one
//! triangular solve. A row of the count store holds the E-step's sufficient statistics
//! `[mass, sum of mass * x (D), sum of mass * x x^T (D x D)]`: the same number of slots,
//! [`width`]. A coordinate given as `?` (NaN here) is marginalised: its density is the
//! marginal over the observed coordinates, and its statistics use the conditional mean and
//! covariance.

use nalgebra::{DMatrix, DVector};

pub const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Numbers in a row of dimension `dim`, of parameters and of statistics alike. The one place
/// the layout's size is written: every reader slices rows with it.
pub const fn width(dim: usize) -> usize {
    1 + dim + dim * dim
}

/// The parts of a parameter row.
pub struct Row<'a> {
    pub mean: &'a [f64],
    /// Lower-triangular Cholesky factor, row-major.
    pub chol: &'a [f64],
    pub log_det: f64,
}

/// The row of dimension `dim` that starts `theta`.
pub fn row(theta: &[f64], dim: usize) -> Row<'_> {
    let (mean, rest) = theta[..width(dim)].split_at(dim);
    let (chol, log_det) = rest.split_at(dim * dim);
    Row {
        mean,
        chol,
        log_det: log_det[0],
    }
}

/// The covariance is not positive definite (even after `reg_covar`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotPositiveDefinite;

/// Writes `[mean, chol(cov), log det cov]` into the first [`width`] numbers of `out`.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row_of(mean: &[f64], cov: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; width(mean.len())];
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

    /// A row is exactly as wide as the statistics it collects: mass, then the first moments,
    /// then the second, with the log determinant last in the parameter row.
    #[test]
    fn statistics_fill_a_row_of_the_layout_width() {
        let r = row_of(&[0.0, 0.0], &[1.0, 0.0, 0.0, 1.0]);
        let mut stats = vec![0.0; width(2)];
        add_stats(&row(&r, 2), &[1.0, 2.0], 0.5, &mut stats);
        assert_eq!(stats, [0.5, 0.5, 1.0, 0.5, 1.0, 1.0, 2.0]);
        assert_eq!(row(&r, 2).log_det, r[width(2) - 1]);
    }
}
