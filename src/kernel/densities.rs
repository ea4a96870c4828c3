//! Gaussian densities and statistics for a batch of observations at once, as matrix
//! products: worth it from a few dimensions on, where per-point loops cost D^2 scalar
//! operations per point and component.

use nalgebra::DMatrix;
use rustc_hash::FxHashMap as HashMap;

use super::gemm::{gemm, View};
use crate::density::{self, Row, LN_2PI};
use crate::graph::Entry;

/// `L^{-1}` (lower triangular, row-major), for scoring many points with one product.
pub fn inverse_factor(r: &Row) -> Vec<f64> {
    let dim = r.mean.len();
    let l = DMatrix::from_row_slice(dim, dim, r.chol);
    let inv = l
        .solve_lower_triangular(&DMatrix::identity(dim, dim))
        .unwrap_or_else(|| DMatrix::identity(dim, dim));
    let mut out = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..dim {
            out[i * dim + j] = inv[(i, j)];
        }
    }
    out
}

/// Log densities of the rows of `x` (points of dimension `dim`, back to back) under each
/// row of `rows` (Density entries), into `out` (point-major, one value per row): for each
/// row, `z = (x - mean) L^{-T}` as one matrix product.
pub fn batch_log_densities(
    x: &[f64],
    dim: usize,
    rows: &[Entry],
    theta: &[f64],
    inverses: &HashMap<u32, Vec<f64>>,
    out: &mut Vec<f64>,
    scratch: &mut Vec<f64>,
) {
    let n = x.len() / dim;
    let k = rows.len();
    out.resize(n * k, 0.0);
    scratch.resize(2 * n * dim, 0.0);
    let (centred, z) = scratch.split_at_mut(n * dim);
    for (s, e) in rows.iter().enumerate() {
        let Entry::Density { row, .. } = e else {
            continue;
        };
        let r = row_of(theta, *row, dim);
        for (c, p) in centred.chunks_exact_mut(dim).zip(x.chunks_exact(dim)) {
            c.iter_mut()
                .zip(p)
                .zip(r.mean)
                .for_each(|((c, v), m)| *c = v - m);
        }
        let inv = &inverses[row];
        gemm(
            View::new(centred, n, dim),
            View::new(inv, dim, dim).t(),
            0.0,
            z,
        );
        let constant = dim as f64 * LN_2PI + r.log_det;
        for (i, zi) in z.chunks_exact(dim).enumerate() {
            let q: f64 = zi.iter().map(|v| v * v).sum();
            out[i * k + s] = -0.5 * (constant + q);
        }
    }
}

/// Adds the statistics of the rows of `x` under posteriors `gamma` (point-major, one value
/// per row of `rows`) to `stats` (indexed like theta): per row, the mass, `gamma^T x` and
/// `x^T diag(gamma) x`, the last as one matrix product.
pub fn batch_stats(
    x: &[f64],
    dim: usize,
    rows: &[Entry],
    gamma: &[f64],
    stats: &mut [f64],
    scratch: &mut Vec<f64>,
) {
    let n = x.len() / dim;
    let k = rows.len();
    scratch.resize(n * dim, 0.0);
    for (s, e) in rows.iter().enumerate() {
        let Entry::Density { row, .. } = e else {
            continue;
        };
        let row = *row as usize;
        let out = &mut stats[row..row + density::width(dim)];
        for (i, (sx, p)) in scratch
            .chunks_exact_mut(dim)
            .zip(x.chunks_exact(dim))
            .enumerate()
        {
            let g = gamma[i * k + s];
            out[0] += g;
            for ((o, y), v) in out[1..1 + dim].iter_mut().zip(sx.iter_mut()).zip(p) {
                *y = g * v;
                *o += *y;
            }
        }
        gemm(
            View::new(scratch, n, dim).t(),
            View::new(x, n, dim),
            1.0,
            &mut out[1 + dim..],
        );
    }
}

fn row_of(theta: &[f64], row: u32, dim: usize) -> Row<'_> {
    density::row(&theta[row as usize..], dim)
}
