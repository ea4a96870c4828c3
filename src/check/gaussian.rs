//! Options of Gaussian families: covariance type, regularisation, seeding, given means and
//! covariances.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast;

impl Checker {
    pub(super) fn gaussian_options(&mut self, family: &mut Family, opts: &ast::Options) {
        let FamilyKind::Gaussian(mut g) = family.kind.clone() else {
            return;
        };
        for o in &opts.items {
            match (o.key.name.as_str(), &o.value) {
                ("covariance", Some(ast::Value::Word(w))) => match w.name.as_str() {
                    "full" => g.covariance = Covariance::Full,
                    "diagonal" | "diag" => g.covariance = Covariance::Diagonal,
                    "spherical" => g.covariance = Covariance::Spherical,
                    "tied" => g.covariance = Covariance::Tied,
                    other => error!(
                        self,
                        w.span,
                        Kind::unknown("covariance type", other),
                        did_you_mean(other, ["full", "diagonal", "spherical", "tied"])
                    ),
                },
                ("reg_covar", Some(ast::Value::Number(n))) => match n.text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => g.reg_covar = v,
                    _ => error!(
                        self,
                        n.span,
                        Kind::number(&n.text),
                        "`reg_covar` is added to every variance: a finite number >= 0"
                    ),
                },
                ("seeding", Some(ast::Value::Word(w))) => match w.name.as_str() {
                    "kmeans" => g.seeding = Seeding::KMeansPlusPlus,
                    "random" => g.seeding = Seeding::Random,
                    other => error!(
                        self,
                        w.span,
                        Kind::unknown("seeding", other),
                        "`seeding` is `kmeans` (k-means++ means) or `random` (random responsibilities)"
                    ),
                },
                ("init_means", Some(v)) => g.init_means = self.real_matrix(v, 2),
                ("init_covariances", Some(v)) => {
                    g.init_covariances = self
                        .real_matrix(v, 3)
                        .map(|rows| rows.into_iter().map(|m| m.chunks(g.dim.max(1)).map(<[f64]>::to_vec).collect()).collect());
                    // Only the lower triangle reaches the Cholesky factor: an upper one that
                    // differs would be dropped without a word.
                    let asymmetric = g.init_covariances.iter().flatten().enumerate().find_map(|(r, m)| {
                        let at = |i: usize, j: usize| m.get(i).and_then(|row| row.get(j)).copied();
                        (0..m.len()).flat_map(|i| (0..i).map(move |j| (i, j))).find_map(|(i, j)| {
                            let (a, b) = (at(i, j)?, at(j, i)?);
                            ((a - b).abs() > 1e-12 * a.abs().max(b.abs()).max(1.0)).then_some((r, i, j, a, b))
                        })
                    });
                    if let Some((r, i, j, a, b)) = asymmetric {
                        error!(
                            self,
                            v.span(),
                            Kind::option("init_covariances", format!("a symmetric matrix per row: row {} has {a} at [{i}][{j}] but {b} at [{j}][{i}]", r + 1)),
                            "a covariance matrix equals its transpose: write the same value on both sides of the diagonal"
                        );
                    }
                }
                (key, _) => error!(
                    self,
                    o.span,
                    Kind::option(key, "a Gaussian family takes `covariance: full|diagonal|spherical|tied`, `reg_covar: x`, `seeding: kmeans|random`, `init_means: [...]` and `init_covariances: [...]`"),
                    did_you_mean(key, ["covariance", "reg_covar", "seeding", "init_means", "init_covariances"])
                ),
            }
        }
        family.kind = FamilyKind::Gaussian(g);
    }

    /// A nested array of finite numbers, `depth` levels deep; rows are flattened below the
    /// first level (`[[1, 2], [3, 4]]` at depth 2 is two rows of two).
    pub(super) fn real_matrix(&mut self, v: &ast::Value, depth: usize) -> Option<Vec<Vec<f64>>> {
        let ast::Value::Array { items, span } = v else {
            bail!(self, v.span(), Kind::option("init", "expected an array"));
        };
        let mut rows = Vec::with_capacity(items.len());
        for item in items {
            let mut flat = Vec::new();
            if !self.flatten_numbers(item, depth - 1, &mut flat) {
                return None;
            }
            rows.push(flat);
        }
        if rows.is_empty() {
            bail!(self, *span, Kind::option("init", "the array is empty"));
        }
        Some(rows)
    }

    pub(super) fn flatten_numbers(
        &mut self,
        v: &ast::Value,
        depth: usize,
        out: &mut Vec<f64>,
    ) -> bool {
        match (v, depth) {
            (ast::Value::Number(n), 0) => match n.text.parse::<f64>() {
                Ok(x) if x.is_finite() => {
                    out.push(x);
                    true
                }
                _ => {
                    error!(self, n.span, Kind::number(&n.text), "a finite number");
                    false
                }
            },
            (ast::Value::Array { items, .. }, d) if d > 0 => {
                items.iter().all(|i| self.flatten_numbers(i, d - 1, out))
            }
            (other, _) => {
                error!(
                    self,
                    other.span(),
                    Kind::option("init", "the nesting does not match: means are [[...] per row], covariances [[[...] per matrix row] per row]")
                );
                false
            }
        }
    }
}
