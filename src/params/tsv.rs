//! `params.tsv`: one row per probability, for reading in a spreadsheet, pandas or R.
//!
//! Words are data, so they may hold a `"`: a field is quoted as RFC 4180 says (inside double
//! quotes, inner quotes doubled) when it holds a quote, a tab or a line break, which is how
//! `pandas.read_csv(p, sep="\t")` and R's `read.delim(p)` read fields by default. Other
//! fields are written as they are.

use std::borrow::Cow;
use std::io::Write;

use super::{Layout, Params};
use crate::data::Domains;
use crate::density;
use crate::model::{FamilyKind, Model};

/// `params.tsv`: one row per probability, `family condition outcome value` (a sparse
/// family's stored ones).
pub fn to_tsv(model: &Model, domains: &Domains, layout: &Layout, params: &Params) -> String {
    let mut out = Vec::new();
    write_tsv(model, domains, layout, params, &mut out).expect("writing into memory succeeds");
    String::from_utf8(out).expect("every field is UTF-8")
}

/// `to_tsv` into `out` as it is made, rather than held whole: a translation table's file
/// runs to tens of megabytes.
pub fn write_tsv(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    params: &Params,
    out: &mut impl Write,
) -> std::io::Result<()> {
    out.write_all(b"family\tcondition\toutcome\tvalue\n")?;
    for (f, fam) in model.families.iter().enumerate() {
        let slot = &layout.families[f];
        for r in 0..slot.n_cond {
            let cond = layout.condition_symbols(model, domains, f, r).join(",");
            let cond = field(&cond);
            let cond = if cond.is_empty() { "-".into() } else { cond };
            if let FamilyKind::Gaussian(g) = &fam.kind {
                let start = slot.offset + r * slot.n_out;
                let row = density::row(&params.theta[start..start + slot.n_out], g.dim);
                for (i, m) in row.mean.iter().enumerate() {
                    writeln!(out, "{}\t{cond}\tmean[{i}]\t{m:?}", fam.name)?;
                }
                let cov = density::covariance(&row);
                for i in 0..g.dim {
                    for j in 0..g.dim {
                        let v = cov[i * g.dim + j];
                        writeln!(out, "{}\t{cond}\tcov[{i},{j}]\t{v:?}", fam.name)?;
                    }
                }
                continue;
            }
            for (o, k) in slot.row_entries(r) {
                let v = params.theta[k];
                let outcome = field(domains.name(fam.outcome, o as u32));
                writeln!(out, "{}\t{cond}\t{outcome}\t{v:?}", fam.name)?;
            }
        }
    }
    Ok(())
}

/// `s` as one TSV field: quoted when a reader would otherwise split it or take a quote in
/// it for the start of a quoted field.
fn field(s: &str) -> Cow<'_, str> {
    if s.contains(['"', '\t', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_with_quotes_tabs_or_line_breaks_are_quoted() {
        assert_eq!(field("word"), "word");
        assert_eq!(field("\""), "\"\"\"\"");
        assert_eq!(field("a\"b"), "\"a\"\"b\"");
        assert_eq!(field("a\tb"), "\"a\tb\"");
        assert_eq!(field("a\nb"), "\"a\nb\"");
        assert_eq!(field("it's"), "it's");
    }
}
