//! `params.tsv`: one row per probability, for reading in a spreadsheet, pandas or R.

use super::{Layout, Params};
use crate::data::Domains;
use crate::family::gaussian;
use crate::model::{FamilyKind, Model};

/// `params.tsv`: one row per probability, `family condition outcome value` (a sparse
/// family's stored ones).
pub fn to_tsv(model: &Model, domains: &Domains, layout: &Layout, params: &Params) -> String {
    let mut out = String::from("family\tcondition\toutcome\tvalue\n");
    for (f, fam) in model.families.iter().enumerate() {
        let slot = &layout.families[f];
        for r in 0..slot.n_cond {
            let cond = layout.condition_symbols(model, domains, f, r).join(",");
            let cond = if cond.is_empty() {
                "-".to_string()
            } else {
                cond
            };
            if let FamilyKind::Gaussian(g) = &fam.kind {
                let start = slot.offset + r * slot.n_out;
                let row = gaussian::row(&params.theta[start..start + slot.n_out], g.dim);
                for (i, m) in row.mean.iter().enumerate() {
                    out.push_str(&format!("{}\t{cond}\tmean[{i}]\t{m:?}\n", fam.name));
                }
                let cov = gaussian::covariance(&row);
                for i in 0..g.dim {
                    for j in 0..g.dim {
                        let v = cov[i * g.dim + j];
                        out.push_str(&format!("{}\t{cond}\tcov[{i},{j}]\t{v:?}\n", fam.name));
                    }
                }
                continue;
            }
            for (o, k) in slot.row_entries(r) {
                let v = params.theta[k];
                out.push_str(&format!(
                    "{}\t{cond}\t{}\t{v:?}\n",
                    fam.name,
                    domains.name(fam.outcome, o as u32)
                ));
            }
        }
    }
    out
}
