//! `params.json`: the parameters with the domains they index, reloadable by `decode`,
//! `sample` and `run --init`; and a file's values mapped onto another layout.

use serde::{Deserialize, Serialize};

use super::FamilySlot;
use super::{gaussian_row, Layout, Params, ParamsError, Support};
use crate::data::Domains;
use crate::density;
use crate::model::{Family, FamilyKind, Gaussian, Model};

const FORMAT: &str = "emc-params-1";

#[derive(Serialize, Deserialize)]
struct ParamsFile {
    format: String,
    domains: Vec<DomainSymbols>,
    families: Vec<FamilyValues>,
}

#[derive(Serialize, Deserialize)]
struct DomainSymbols {
    name: String,
    symbols: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct FamilyValues {
    name: String,
    kind: String,
    outcome: String,
    conditions: Vec<String>,
    /// One row per condition (row-major over the condition domains), one value per outcome.
    values: Vec<Vec<f64>>,
    /// A sparse family's stored entries, by condition (rows that store none are left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sparse: Vec<SparseRow>,
    /// A Logistic family's feature weights by feature name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    weights: Vec<(String, f64)>,
    /// A Gaussian family's covariance type, and per condition row its mean and (full)
    /// covariance matrix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    covariance: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    means: Vec<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    covariances: Vec<Vec<Vec<f64>>>,
}

#[derive(Serialize, Deserialize)]
struct SparseRow {
    condition: Vec<String>,
    outcomes: Vec<String>,
    values: Vec<f64>,
}

fn sparse_rows(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    f: usize,
    theta: &[f64],
) -> Vec<SparseRow> {
    let slot = &layout.families[f];
    let Some(support) = &slot.support else {
        return Vec::new();
    };
    let outcome = model.families[f].outcome;
    (0..support.rows())
        .filter(|r| !support.row(*r).is_empty())
        .map(|r| SparseRow {
            condition: layout.condition_symbols(model, domains, f, r),
            outcomes: support
                .outcomes(r)
                .iter()
                .map(|o| domains.name(outcome, *o).to_string())
                .collect(),
            values: theta[support.row(r)].to_vec(),
        })
        .collect()
}

type GaussianValues = (Option<String>, Vec<Vec<f64>>, Vec<Vec<Vec<f64>>>);

fn gaussian_values(g: &Gaussian, rows: &[f64]) -> GaussianValues {
    let d = g.dim;
    let mut means = Vec::new();
    let mut covariances = Vec::new();
    for row in rows.chunks_exact(gaussian_row(d)) {
        let r = density::row(row, d);
        means.push(r.mean.to_vec());
        covariances.push(
            density::covariance(&r)
                .chunks(d)
                .map(<[f64]>::to_vec)
                .collect(),
        );
    }
    (Some(g.covariance.name().into()), means, covariances)
}

/// `Real[2]` for a Gaussian family, else the outcome domain's name.
fn outcome_name(model: &Model, fam: &Family) -> String {
    match &fam.kind {
        FamilyKind::Gaussian(g) => crate::model::real_name(g.dim),
        _ => model.domains[fam.outcome].name.clone(),
    }
}

/// `params.json`: everything needed to reload the parameters, domains included.
pub fn to_json(model: &Model, domains: &Domains, layout: &Layout, params: &Params) -> String {
    let mut out = Vec::new();
    write_json(model, domains, layout, params, &mut out).expect("writing into memory succeeds");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// `to_json` into `out` as it is serialised, rather than held whole (a translation table's
/// file runs to tens of megabytes).
pub fn write_json(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    params: &Params,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let file = ParamsFile {
        format: FORMAT.into(),
        domains: model
            .domains
            .iter()
            .enumerate()
            .map(|(d, dom)| DomainSymbols {
                name: dom.name.clone(),
                symbols: domains.symbols[d].clone(),
            })
            .collect(),
        families: model
            .families
            .iter()
            .enumerate()
            .map(|(f, fam)| {
                let slot = &layout.families[f];
                let rows = &params.theta[slot.offset..slot.offset + slot.n_probs()];
                let (values, gaussian) = match &fam.kind {
                    FamilyKind::Gaussian(g) => (Vec::new(), Some(gaussian_values(g, rows))),
                    _ if slot.support.is_some() => (Vec::new(), None),
                    _ => (rows.chunks(slot.n_out).map(<[f64]>::to_vec).collect(), None),
                };
                let (covariance, means, covariances) = gaussian.unwrap_or_default();
                FamilyValues {
                    name: fam.name.clone(),
                    kind: fam.kind.name().into(),
                    outcome: outcome_name(model, fam),
                    covariance,
                    means,
                    covariances,
                    conditions: fam
                        .conditions
                        .iter()
                        .map(|d| model.domains[*d].name.clone())
                        .collect(),
                    values,
                    sparse: sparse_rows(model, domains, layout, f, rows),
                    weights: weights(slot, params),
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &file)?;
    out.write_all(b"\n")
}

fn weights(slot: &FamilySlot, params: &Params) -> Vec<(String, f64)> {
    let Some(features) = &slot.features else {
        return Vec::new();
    };
    let start = slot.offset + slot.n_probs();
    features
        .weight_names()
        .into_iter()
        .zip(params.theta[start..start + slot.n_weights].iter().copied())
        .collect()
}

/// A parameter file as read: its domains, its layout (a sparse family's stored entries are
/// the file's) and its values.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub domains: Domains,
    pub layout: Layout,
    pub params: Params,
}

impl Loaded {
    /// The values in another layout over the same domains: the same, unless the supports of
    /// sparse families differ (new data reaches other entries). An entry the file does not
    /// store gets its share of what the file's row leaves (zero once trained).
    pub fn params_for(&self, layout: &Layout) -> Params {
        if *layout == self.layout {
            return self.params.clone();
        }
        let mut theta = vec![0.0; layout.total];
        for (from, to) in self.layout.families.iter().zip(&layout.families) {
            let old = &self.params.theta;
            if to.support.is_none() && from.support.is_none() {
                let n = from.n_probs() + from.n_weights;
                theta[to.offset..to.offset + n].copy_from_slice(&old[from.offset..from.offset + n]);
                continue;
            }
            for r in 0..to.n_cond {
                let rest = unstored_share(from, r, old);
                for (o, k) in to.row_entries(r) {
                    theta[k] = from.index(r * from.n_out + o).map_or(rest, |i| old[i]);
                }
            }
        }
        Params { theta }
    }
}

/// What each entry that a sparse row does not store has: the row's remaining mass, shared.
fn unstored_share(slot: &FamilySlot, r: usize, theta: &[f64]) -> f64 {
    let stored = slot.row_entries(r);
    let unstored = slot.n_out - stored.len();
    if unstored == 0 {
        return 0.0;
    }
    let mass: f64 = stored.iter().map(|(_, k)| theta[*k]).sum();
    (1.0 - mass).max(0.0) / unstored as f64
}

fn parse(text: &str) -> Result<ParamsFile, ParamsError> {
    let file: ParamsFile =
        serde_json::from_str(text).map_err(|e| ParamsError::Json(e.to_string()))?;
    if file.format != FORMAT {
        return Err(ParamsError::Json(format!(
            "format `{}`, expected `{FORMAT}`",
            file.format
        )));
    }
    Ok(file)
}

/// Reads `params.json`: the domains it was trained with and the parameters. It must have
/// every domain and family of the model.
pub fn from_json(model: &Model, text: &str) -> Result<Loaded, ParamsError> {
    let file = parse(text)?;
    let mut symbols = Vec::with_capacity(model.domains.len());
    for dom in &model.domains {
        let found = file
            .domains
            .iter()
            .find(|d| d.name == dom.name)
            .ok_or_else(|| ParamsError::Mismatch(format!("no domain `{}`", dom.name)))?;
        symbols.push(found.symbols.clone());
    }
    check_domains(model, &symbols)?;
    let domains = Domains::new(symbols);
    let mut found = Vec::with_capacity(model.families.len());
    for fam in &model.families {
        found.push(Some(
            file.families
                .iter()
                .find(|x| x.name == fam.name)
                .ok_or_else(|| ParamsError::Mismatch(format!("no family `{}`", fam.name)))?,
        ));
    }
    let (layout, theta) = read_families(model, &domains, &found)?;
    Ok(Loaded {
        domains,
        layout,
        params: Params { theta },
    })
}

/// A parameter file read to start a run from (`emc run --init`): it may have only some of
/// the model's families (IBM Model 1's translation table for an HMM aligner), and then only
/// their domains; each family it has must be one of the model's, of the same shape.
pub struct InitFile {
    file: ParamsFile,
}

/// An outcome's name for comparing a file's family with the model's: a one-dimensional real
/// outcome is `Real` in the model and may be `Real[1]` in a file written by another tool
/// (emc itself writes `Real`, and the older loader took either), so both mean one thing.
fn outcome_key(name: &str) -> &str {
    if name == "Real[1]" {
        "Real"
    } else {
        name
    }
}

/// Reads a parameter file for `--init` (see [`InitFile`]).
pub fn read_init(model: &Model, text: &str) -> Result<InitFile, ParamsError> {
    let file = parse(text)?;
    for x in &file.families {
        let Some(f) = model.family_named(&x.name) else {
            return Err(ParamsError::Mismatch(format!(
                "the file has a family `{}` that the model lacks",
                x.name
            )));
        };
        let fam = &model.families[f];
        let conditions: Vec<String> = fam
            .conditions
            .iter()
            .map(|d| model.domains[*d].name.clone())
            .collect();
        let outcome = outcome_name(model, fam);
        if x.kind != fam.kind.name()
            || x.conditions != conditions
            || outcome_key(&x.outcome) != outcome_key(&outcome)
        {
            let shape = |kind: &str, outcome: &str, conditions: &[String]| {
                if conditions.is_empty() {
                    format!("{kind}({outcome})")
                } else {
                    format!("{kind}({outcome} | {})", conditions.join(", "))
                }
            };
            return Err(ParamsError::Mismatch(format!(
                "family `{}` is {} in the file but {} in the model",
                x.name,
                shape(&x.kind, &x.outcome, &x.conditions),
                shape(fam.kind.name(), &outcome, &conditions)
            )));
        }
    }
    Ok(InitFile { file })
}

impl InitFile {
    fn symbols(&self, name: &str) -> Option<&Vec<String>> {
        self.file
            .domains
            .iter()
            .find(|d| d.name == name)
            .map(|d| &d.symbols)
    }

    /// Whether the model has domains the file does not fix (their symbols come from data).
    pub fn lacks_domains(&self, model: &Model) -> bool {
        model
            .domains
            .iter()
            .any(|d| self.symbols(&d.name).is_none())
    }

    /// The run's domains: the file's, and `collected` (from the data) for those it lacks.
    pub fn domains(
        &self,
        model: &Model,
        collected: Option<&Domains>,
    ) -> Result<Domains, ParamsError> {
        let mut symbols = Vec::with_capacity(model.domains.len());
        for (d, dom) in model.domains.iter().enumerate() {
            let from_data = || {
                collected.map(|c| {
                    (0..c.size(d))
                        .map(|i| c.name(d, i as u32).to_string())
                        .collect()
                })
            };
            match self.symbols(&dom.name).cloned().or_else(from_data) {
                Some(s) => symbols.push(s),
                None => return Err(ParamsError::Mismatch(format!("no domain `{}`", dom.name))),
            }
        }
        check_domains(model, &symbols)?;
        Ok(Domains::new(symbols))
    }

    /// The file's values in `layout` (over `domains`, from [`InitFile::domains`]) and the
    /// families (by index) they give; the other families' slices are left to initialise.
    pub fn values(
        &self,
        model: &Model,
        domains: &Domains,
        layout: &Layout,
    ) -> Result<(Params, Vec<usize>), ParamsError> {
        let found: Vec<Option<&FamilyValues>> = model
            .families
            .iter()
            .map(|fam| self.file.families.iter().find(|x| x.name == fam.name))
            .collect();
        let (own, theta) = read_families(model, domains, &found)?;
        let loaded = Loaded {
            domains: domains.clone(),
            layout: own,
            params: Params { theta },
        };
        let given = (0..found.len()).filter(|f| found[*f].is_some()).collect();
        Ok((loaded.params_for(layout), given))
    }
}

/// The layout over `domains` with the file's sparse supports, and the values of the families
/// `found` in the file (the others' slices are zero, a sparse one's support empty).
fn read_families(
    model: &Model,
    domains: &Domains,
    found: &[Option<&FamilyValues>],
) -> Result<(Layout, Vec<f64>), ParamsError> {
    let layout = Layout::new(model, domains)?;
    let mut supports = Vec::new();
    let mut stored = Vec::new();
    for f in layout.sparse_families() {
        let entries = match found[f] {
            Some(x) => read_sparse(model, domains, &layout, f, x)?,
            None => Vec::new(),
        };
        let slot = &layout.families[f];
        let indices = entries.iter().map(|(i, _)| *i).collect();
        supports.push((f, Support::from_indices(slot.n_cond, slot.n_out, indices)));
        stored.push((f, entries));
    }
    let layout = layout.with_supports(model, supports)?;
    let mut theta = vec![0.0; layout.total];
    for (f, entries) in stored {
        for (rel, x) in entries {
            if let Some(k) = layout.families[f].index(rel as usize) {
                theta[k] = x;
            }
        }
    }
    for (f, fam) in model.families.iter().enumerate() {
        let slot = &layout.families[f];
        let Some(found) = found[f] else {
            continue;
        };
        if slot.support.is_some() {
            continue;
        }
        if let FamilyKind::Gaussian(g) = &fam.kind {
            let rows = &mut theta[slot.offset..slot.offset + slot.n_probs()];
            read_gaussian(fam, g, &found.means, &found.covariances, rows)?;
            continue;
        }
        read_values(fam, slot, found, &mut theta)?;
        if let Some(features) = &slot.features {
            let start = slot.offset + slot.n_probs();
            let names = features.weight_names();
            let weights = &found.weights;
            // A file without weights (values written by hand) starts them at 0.
            if !weights.is_empty() {
                if weights.len() != names.len()
                    || weights.iter().zip(&names).any(|((a, _), b)| a != b)
                {
                    return Err(ParamsError::Mismatch(format!(
                        "family `{}` has other features than the model gives ({} in the file, {} in the model)",
                        fam.name,
                        weights.len(),
                        names.len()
                    )));
                }
                for (k, (_, w)) in weights.iter().enumerate() {
                    theta[start + k] = *w;
                }
            }
        }
    }
    Ok((layout, theta))
}

/// A sparse family's stored entries from its rows in the file, as (dense position, value).
fn read_sparse(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    f: usize,
    found: &FamilyValues,
) -> Result<Vec<(u64, f64)>, ParamsError> {
    let fam = &model.families[f];
    let slot = &layout.families[f];
    if !found.values.is_empty() {
        return Err(ParamsError::Mismatch(format!(
            "family `{}` is stored whole in the file, but the model stores it sparse",
            fam.name
        )));
    }
    let unknown = |what: &str, name: &str| {
        ParamsError::Mismatch(format!(
            "family `{}` has an unknown {what} `{name}`",
            fam.name
        ))
    };
    let mut entries = Vec::new();
    for row in &found.sparse {
        if row.condition.len() != fam.conditions.len() || row.outcomes.len() != row.values.len() {
            return Err(ParamsError::Mismatch(format!(
                "family `{}` has a row of the wrong shape",
                fam.name
            )));
        }
        let mut cond = 0;
        for ((name, d), size) in row
            .condition
            .iter()
            .zip(&fam.conditions)
            .zip(&slot.cond_sizes)
        {
            let v = domains
                .lookup(*d, name)
                .ok_or_else(|| unknown("condition", name))?;
            cond = cond * size + v as usize;
        }
        for (name, x) in row.outcomes.iter().zip(&row.values) {
            let o = domains
                .lookup(fam.outcome, name)
                .ok_or_else(|| unknown("outcome", name))?;
            if !x.is_finite() || *x < 0.0 {
                return Err(ParamsError::Mismatch(format!(
                    "family `{}` has a value that is negative or not finite",
                    fam.name
                )));
            }
            entries.push(((cond * slot.n_out) as u64 + o as u64, *x));
        }
    }
    Ok(entries)
}

/// A dense Categorical or Logistic family's probabilities.
fn read_values(
    fam: &Family,
    slot: &FamilySlot,
    found: &FamilyValues,
    theta: &mut [f64],
) -> Result<(), ParamsError> {
    let bad = |r: usize| {
        ParamsError::Mismatch(format!(
            "family `{}` row {} has a value that is negative or not finite",
            fam.name,
            r + 1
        ))
    };
    if found.values.len() != slot.n_cond || found.values.iter().any(|r| r.len() != slot.n_out) {
        return Err(ParamsError::Mismatch(format!(
            "family `{}` should have {} rows of {} values",
            fam.name, slot.n_cond, slot.n_out
        )));
    }
    for (r, row) in found.values.iter().enumerate() {
        if row.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(bad(r));
        }
        let start = slot.offset + r * slot.n_out;
        theta[start..start + slot.n_out].copy_from_slice(row);
    }
    Ok(())
}

fn read_gaussian(
    fam: &Family,
    g: &Gaussian,
    means: &[Vec<f64>],
    covariances: &[Vec<Vec<f64>>],
    out: &mut [f64],
) -> Result<(), ParamsError> {
    let d = g.dim;
    let rows = out.len() / gaussian_row(d);
    let mismatch = |what: String| ParamsError::Mismatch(format!("family `{}` {what}", fam.name));
    if means.len() != rows || means.iter().any(|m| m.len() != d) {
        return Err(mismatch(format!("should have {rows} means of {d} numbers")));
    }
    if covariances.len() != rows
        || covariances
            .iter()
            .any(|c| c.len() != d || c.iter().any(|r| r.len() != d))
    {
        return Err(mismatch(format!(
            "should have {rows} covariance matrices of {d} x {d}"
        )));
    }
    for (r, row) in out.chunks_exact_mut(gaussian_row(d)).enumerate() {
        if means[r]
            .iter()
            .chain(covariances[r].iter().flatten())
            .any(|x| !x.is_finite())
        {
            return Err(mismatch(format!(
                "row {} has a value that is not finite",
                r + 1
            )));
        }
        density::write_row(&means[r], &covariances[r].concat(), row).map_err(|_| {
            mismatch(format!(
                "row {}: the covariance is not positive definite",
                r + 1
            ))
        })?;
    }
    Ok(())
}

/// A parameter file's domains must be the model's: closed domains exactly, and a domain that
/// extends another must start with that domain's symbols (values embed by index).
fn check_domains(model: &Model, symbols: &[Vec<String>]) -> Result<(), ParamsError> {
    for (d, dom) in model.domains.iter().enumerate() {
        if let Some(expected) = model.closed_symbols(d) {
            if symbols[d] != expected {
                return Err(ParamsError::Mismatch(format!(
                    "domain `{}` has symbols {:?}, the model says {:?}",
                    dom.name, symbols[d], expected
                )));
            }
        }
        if let crate::model::DomainBase::Extends(b) = dom.base {
            if !symbols[d].starts_with(&symbols[b]) {
                return Err(ParamsError::Mismatch(format!(
                    "domain `{}` does not start with the symbols of `{}`",
                    dom.name, model.domains[b].name
                )));
            }
        }
        if let Some(x) = dom.extra.iter().find(|x| !symbols[d].contains(x)) {
            return Err(ParamsError::Mismatch(format!(
                "domain `{}` lacks its symbol `{x}`",
                dom.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::outcome_key;

    #[test]
    fn a_one_dimensional_real_outcome_has_one_name() {
        assert_eq!(outcome_key("Real[1]"), outcome_key("Real"));
        assert_ne!(outcome_key("Real[2]"), outcome_key("Real"));
        assert_eq!(outcome_key("Word"), "Word");
    }
}
