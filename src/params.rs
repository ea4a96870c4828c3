//! The parameter store: one flat vector of probabilities, laid out family by family, condition
//! by condition (row-major over the condition domains), outcome fastest. Initialisation, and
//! the parameter files (`params.json`, reloadable; `params.tsv`, for reading) live here as
//! text conversions; the CLI does the file I/O.

use rand::Rng;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::data::Domains;
use std::sync::{Arc, OnceLock};

use crate::diagnostic::Diagnostic;
use crate::family::features::FeatureIndex;
use crate::family::gaussian;
use crate::model::{Family, FamilyKind, Gaussian, InitMode, InitValues, Model, Storage, NO_DOMAIN};
use crate::syntax::ast::Span;

/// Numbers per condition row of a Gaussian family of dimension `dim`.
pub fn gaussian_row(dim: usize) -> usize {
    1 + dim + dim * dim
}

/// Largest parameter vector emc agrees to allocate (entries).
pub const MAX_PARAMS: usize = 1 << 28;

/// A Categorical family with `storage: auto` is stored sparse from this many dense entries on.
pub const SPARSE_FROM: usize = 1 << 22;

#[derive(Clone, Debug, PartialEq)]
pub struct FamilySlot {
    pub offset: usize,
    pub cond_sizes: Vec<usize>,
    pub n_cond: usize,
    pub n_out: usize,
    /// Feature weights, stored right after the family's probabilities (Logistic only).
    pub n_weights: usize,
    pub features: Option<Arc<FeatureIndex>>,
    /// The entries a sparse family stores; `None` for a dense one (all `n_cond * n_out`).
    pub support: Option<Arc<Support>>,
}

/// The (condition, outcome) pairs of a sparse family: those some data instance can reach.
/// Every other entry of a row shares what the stored ones leave of its mass, equally; after
/// an M-step that is nothing, since only reachable events get counts.
#[derive(Clone, Debug, Default)]
pub struct Support {
    /// Row `r` holds stored entries `starts[r]..starts[r + 1]`.
    starts: Vec<usize>,
    /// Outcome indices, ascending within a row.
    outcomes: Vec<u32>,
    /// Position by `row << 32 | outcome`, made on the first lookup (compiling a kernel
    /// places entries without): a translation table's rows run to tens of thousands of
    /// entries, too long to search for each of millions of lookups.
    positions: OnceLock<HashMap<u64, u32>>,
}

impl PartialEq for Support {
    fn eq(&self, other: &Support) -> bool {
        self.starts == other.starts && self.outcomes == other.outcomes
    }
}

impl Support {
    /// From dense indices `cond * n_out + out`, in any order and with repeats.
    pub fn from_indices(n_cond: usize, n_out: usize, mut indices: Vec<u64>) -> Support {
        indices.sort_unstable();
        indices.dedup();
        let mut starts = Vec::with_capacity(n_cond + 1);
        starts.push(0);
        let mut outcomes = Vec::with_capacity(indices.len());
        for i in indices {
            let (row, out) = ((i / n_out as u64) as usize, (i % n_out as u64) as u32);
            while starts.len() <= row {
                starts.push(outcomes.len());
            }
            outcomes.push(out);
        }
        starts.resize(n_cond + 1, outcomes.len());
        Support {
            starts,
            outcomes,
            positions: OnceLock::new(),
        }
    }

    fn positions(&self) -> &HashMap<u64, u32> {
        self.positions.get_or_init(|| {
            let mut positions = HashMap::default();
            positions.reserve(self.outcomes.len());
            for (r, bounds) in self.starts.windows(2).enumerate() {
                for (i, o) in self.outcomes[bounds[0]..bounds[1]].iter().enumerate() {
                    positions.insert((r as u64) << 32 | u64::from(*o), (bounds[0] + i) as u32);
                }
            }
            positions
        })
    }

    /// Condition rows.
    pub fn rows(&self) -> usize {
        self.starts.len() - 1
    }

    /// Stored entries.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    /// The stored entries of row `r`, as positions in the family's slice.
    pub fn row(&self, r: usize) -> std::ops::Range<usize> {
        self.starts[r]..self.starts[r + 1]
    }

    /// The outcomes of row `r`'s stored entries.
    pub fn outcomes(&self, r: usize) -> &[u32] {
        &self.outcomes[self.row(r)]
    }

    /// Where entry (`row`, `out`) is stored, if it is.
    pub fn find(&self, row: usize, out: usize) -> Option<usize> {
        let key = (row as u64) << 32 | out as u64;
        self.positions().get(&key).map(|i| *i as usize)
    }
}

impl FamilySlot {
    /// Probabilities stored (weights come after them).
    pub fn n_probs(&self) -> usize {
        self.support
            .as_ref()
            .map_or(self.n_cond * self.n_out, |s| s.len())
    }

    /// The index of probability `t(out | row)`, or `None` for an entry a sparse family does
    /// not store. `rel` is the dense position `row * n_out + out`.
    pub fn index(&self, rel: usize) -> Option<usize> {
        match &self.support {
            None => Some(self.offset + rel),
            Some(s) => s
                .find(rel / self.n_out, rel % self.n_out)
                .map(|i| self.offset + i),
        }
    }

    /// Row `r`'s probabilities as (outcome, index in the parameter vector) pairs.
    pub fn row_entries(&self, r: usize) -> Vec<(usize, usize)> {
        match &self.support {
            None => (0..self.n_out)
                .map(|o| (o, self.offset + r * self.n_out + o))
                .collect(),
            Some(s) => s
                .outcomes(r)
                .iter()
                .zip(s.row(r))
                .map(|(o, i)| (*o as usize, self.offset + i))
                .collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub families: Vec<FamilySlot>,
    pub total: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub theta: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    #[error("family `{family}` would have {entries} parameters (about {gib:.1} GiB for the parameters and the count stores), more than the limit of {limit}")]
    TooLarge {
        gib: f64,
        family: String,
        entries: String,
        limit: usize,
        span: Span,
    },
    #[error("wrong shape for the initial values of `{family}`: {reason}")]
    Shape {
        family: String,
        reason: String,
        span: Span,
    },
    #[error("the initial values of `{family}` for condition {condition} sum to {sum}, not 1")]
    NotNormalised {
        family: String,
        condition: String,
        sum: f64,
        span: Span,
    },
    #[error("domain `{domain}` of family `{family}` has no values")]
    EmptyDomain {
        family: String,
        domain: String,
        span: Span,
    },
    #[error("the parameter file is not valid: {0}")]
    Json(String),
    #[error("the parameter file does not match the model: {0}")]
    Mismatch(String),
}

impl ParamsError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        let msg = self.to_string();
        match self {
            ParamsError::TooLarge { span, .. } => Diagnostic::error(msg, *span)
                .with_hint("use a smaller vocabulary (`min_count`) or fewer conditions"),
            ParamsError::Shape { span, .. } => Diagnostic::error(msg, *span)
                .with_hint("nest the values by condition, then outcome, in domain order"),
            ParamsError::NotNormalised { span, .. } => Diagnostic::error(msg, *span)
                .with_hint("each row is a distribution over the outcome domain"),
            ParamsError::EmptyDomain { span, .. } => Diagnostic::error(msg, *span)
                .with_hint("a vocabulary is empty when its fields hold no words in the data"),
            ParamsError::Json(_) | ParamsError::Mismatch(_) => Diagnostic::unlocated(msg)
                .with_hint(
                    "a parameter file is the `params.json` that `emc run` wrote for this model",
                ),
        }
    }
}

impl Layout {
    /// Lays out the families over these domains. A sparse family starts with no stored
    /// entries: `with_supports` gives them once the data has been unrolled.
    pub fn new(model: &Model, domains: &Domains) -> Result<Layout, ParamsError> {
        let mut families = Vec::with_capacity(model.families.len());
        for f in &model.families {
            families.push(family_slot(model, f, domains)?);
        }
        Layout::place(model, families)
    }

    /// The families stored sparse.
    pub fn sparse_families(&self) -> Vec<usize> {
        (0..self.families.len())
            .filter(|f| self.families[*f].support.is_some())
            .collect()
    }

    /// The same layout with these supports for sparse families (by family index).
    pub fn with_supports(
        mut self,
        model: &Model,
        supports: Vec<(usize, Support)>,
    ) -> Result<Layout, ParamsError> {
        for (f, s) in supports {
            self.families[f].support = Some(Arc::new(s));
        }
        Layout::place(model, self.families)
    }

    /// Gives each family its offset, refusing a vector longer than `MAX_PARAMS`. Sparse
    /// families come after all dense ones, so that a dense family's place does not depend on
    /// the supports (the data can be compiled before they are known).
    fn place(model: &Model, mut families: Vec<FamilySlot>) -> Result<Layout, ParamsError> {
        let mut total = 0usize;
        let mut order: Vec<usize> = (0..families.len()).collect();
        order.sort_by_key(|f| families[*f].support.is_some());
        for f in order {
            let slot = &mut families[f];
            let f = &model.families[f];
            slot.offset = total;
            let entries = slot.n_probs() + slot.n_weights;
            total = match total.checked_add(entries).filter(|t| *t <= MAX_PARAMS) {
                Some(t) => t,
                None => return Err(too_large(f, Some(entries))),
            };
        }
        Ok(Layout { families, total })
    }

    /// The symbols of condition row `row` of family `f`.
    pub fn condition_symbols(
        &self,
        model: &Model,
        domains: &Domains,
        f: usize,
        mut row: usize,
    ) -> Vec<String> {
        let fam = &model.families[f];
        let slot = &self.families[f];
        let mut parts = vec![String::new(); slot.cond_sizes.len()];
        for k in (0..slot.cond_sizes.len()).rev() {
            parts[k] = domains
                .name(fam.conditions[k], (row % slot.cond_sizes[k]) as u32)
                .to_string();
            row /= slot.cond_sizes[k];
        }
        parts
    }
}

/// One family's sizes and storage, before it is given an offset.
fn family_slot(model: &Model, f: &Family, domains: &Domains) -> Result<FamilySlot, ParamsError> {
    let cond_sizes: Vec<usize> = f.conditions.iter().map(|d| domains.size(*d)).collect();
    // A Gaussian row is its mean, the Cholesky factor of its covariance and the log
    // determinant, so that densities cost no factorisation; its counts are the same
    // number of sufficient statistics (mass, sum of x, sum of x x^T).
    let n_out = match &f.kind {
        FamilyKind::Gaussian(g) => gaussian_row(g.dim),
        _ => domains.size(f.outcome),
    };
    let empty = std::iter::once(&f.outcome)
        .filter(|d| **d != NO_DOMAIN)
        .chain(&f.conditions)
        .find(|d| domains.size(**d) == 0);
    if let Some(d) = empty {
        return Err(ParamsError::EmptyDomain {
            family: f.name.clone(),
            domain: model.domains[*d].name.clone(),
            span: f.span,
        });
    }
    let n_cond = cond_sizes.iter().try_fold(1usize, |a, b| a.checked_mul(*b));
    let dense = n_cond.and_then(|c| c.checked_mul(n_out));
    // Even a sparse family keeps a start per condition row.
    let n_cond = n_cond
        .filter(|c| *c <= MAX_PARAMS)
        .ok_or_else(|| too_large(f, dense))?;
    let support = match f.storage {
        Storage::Sparse => true,
        Storage::Dense => false,
        Storage::Auto => {
            matches!(f.kind, FamilyKind::Categorical)
                && f.can_be_sparse()
                && dense.is_none_or(|d| d >= SPARSE_FROM)
        }
    }
    .then(|| Arc::new(Support::from_indices(n_cond, n_out, Vec::new())));
    let probs = match &support {
        // A sparse entry is found by its dense position, kept in 48 bits.
        Some(_) if dense.is_none_or(|d| d >= 1 << 48) => None,
        Some(_) => Some(0),
        None => dense.filter(|p| *p <= MAX_PARAMS),
    }
    .ok_or_else(|| too_large(f, dense))?;
    // Features are only built once the probabilities are known to fit.
    let features = FeatureIndex::new(model, f, domains).map(Arc::new);
    let n_weights = features.as_ref().map_or(0, |x| x.n_weights);
    if probs.saturating_add(n_weights) > MAX_PARAMS {
        return Err(too_large(f, probs.checked_add(n_weights)));
    }
    Ok(FamilySlot {
        offset: 0,
        cond_sizes,
        n_cond,
        n_out,
        n_weights,
        features,
        support,
    })
}

fn too_large(f: &Family, entries: Option<usize>) -> ParamsError {
    // Parameters, their logs and a count store per thread: about 4 f64 per entry.
    let gib = entries.map_or(f64::INFINITY, |e| {
        e as f64 * 8.0 * 4.0 / (1u64 << 30) as f64
    });
    ParamsError::TooLarge {
        gib,
        family: f.name.clone(),
        entries: entries.map_or("more than 2^64".into(), |e| e.to_string()),
        limit: MAX_PARAMS,
        span: f.span,
    }
}

/// Initial parameters: given values where the model has them, otherwise uniform or random
/// rows (a random row is uniform noise in [0.5, 1.5), normalised, so no event starts at zero).
pub fn initial(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    mode: InitMode,
    rng: &mut impl Rng,
) -> Result<Params, ParamsError> {
    let mut theta = vec![0.0; layout.total];
    for (f, fam) in model.families.iter().enumerate() {
        let slot = &layout.families[f];
        let rows = &mut theta[slot.offset..slot.offset + slot.n_probs()];
        if let Some(support) = &slot.support {
            for r in 0..support.rows() {
                fill_sparse_row(&mut rows[support.row(r)], slot.n_out, mode, rng);
            }
            continue;
        }
        if let FamilyKind::Gaussian(g) = &fam.kind {
            gaussian_initial(fam, g, slot.n_cond, rows)?;
            continue;
        }
        match &fam.init {
            Some(init) => fill_given(model, domains, layout, f, init, rows)?,
            None => {
                for row in rows.chunks_mut(slot.n_out) {
                    fill_row(row, mode, rng);
                }
            }
        }
    }
    Ok(Params { theta })
}

/// Given means and covariances, or a placeholder (mean 0, identity) that training replaces
/// by a seeding from the data.
fn gaussian_initial(
    fam: &Family,
    g: &Gaussian,
    rows: usize,
    out: &mut [f64],
) -> Result<(), ParamsError> {
    let d = g.dim;
    let shape = |reason: String| ParamsError::Shape {
        family: fam.name.clone(),
        reason,
        span: fam.span,
    };
    let identity: Vec<f64> = (0..d * d)
        .map(|i| if i % (d + 1) == 0 { 1.0 } else { 0.0 })
        .collect();
    if let Some(m) = &g.init_means {
        if m.len() != rows || m.iter().any(|r| r.len() != d) {
            return Err(shape(format!(
                "`init_means` needs {rows} rows of {d} numbers"
            )));
        }
    }
    if let Some(c) = &g.init_covariances {
        if c.len() != rows
            || c.iter()
                .any(|m| m.len() != d || m.iter().any(|r| r.len() != d))
        {
            return Err(shape(format!(
                "`init_covariances` needs {rows} matrices of {d} x {d}"
            )));
        }
    }
    for (r, row) in out.chunks_exact_mut(gaussian_row(d)).enumerate() {
        let mean = g.init_means.as_ref().map_or(vec![0.0; d], |m| m[r].clone());
        let cov: Vec<f64> = g
            .init_covariances
            .as_ref()
            .map_or(identity.clone(), |c| c[r].concat());
        gaussian::write_row(&mean, &cov, row).map_err(|_| {
            shape(format!(
                "the initial covariance of row {} is not positive definite",
                r + 1
            ))
        })?;
    }
    Ok(())
}

fn fill_row(row: &mut [f64], mode: InitMode, rng: &mut impl Rng) {
    match mode {
        InitMode::Uniform => row.fill(1.0),
        InitMode::Random => row.iter_mut().for_each(|x| *x = rng.gen_range(0.5..1.5)),
    }
    let sum: f64 = row.iter().sum();
    row.iter_mut().for_each(|x| *x /= sum);
}

/// A sparse row starts as the dense row would: uniform, or noise in [0.5, 1.5) normalised,
/// with the unstored entries at their mean 1 in the normaliser. Those share the mass left.
fn fill_sparse_row(row: &mut [f64], n_out: usize, mode: InitMode, rng: &mut impl Rng) {
    if mode == InitMode::Random {
        row.iter_mut().for_each(|x| *x = rng.gen_range(0.5..1.5));
    } else {
        row.fill(1.0);
    }
    let sum: f64 = row.iter().sum::<f64>() + (n_out - row.len()) as f64;
    row.iter_mut().for_each(|x| *x /= sum);
}

fn fill_given(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    f: usize,
    init: &InitValues,
    rows: &mut [f64],
) -> Result<(), ParamsError> {
    let fam = &model.families[f];
    let slot = &layout.families[f];
    let sizes: Vec<Option<usize>> = slot
        .cond_sizes
        .iter()
        .chain([&slot.n_out])
        .map(|s| Some(*s))
        .collect();
    crate::model::shape_ok(init, &sizes).map_err(|(reason, span)| ParamsError::Shape {
        family: fam.name.clone(),
        reason,
        span,
    })?;
    let mut flat = Vec::with_capacity(rows.len());
    let mut row_spans = Vec::new();
    flatten(init, &mut flat, &mut row_spans);
    rows.copy_from_slice(&flat);
    for (r, row) in rows.chunks(slot.n_out).enumerate() {
        let sum: f64 = row.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            let condition = layout.condition_symbols(model, domains, f, r).join(", ");
            return Err(ParamsError::NotNormalised {
                family: fam.name.clone(),
                condition: if condition.is_empty() {
                    "(none)".into()
                } else {
                    format!("`{condition}`")
                },
                sum,
                span: row_spans.get(r).copied().unwrap_or(fam.span),
            });
        }
    }
    Ok(())
}

/// Flattens nested values row-major, remembering each innermost array's span.
fn flatten(v: &InitValues, out: &mut Vec<f64>, rows: &mut Vec<Span>) {
    match v {
        InitValues::Number(x, _) => out.push(*x),
        InitValues::Array(items, span) => {
            if items.iter().all(|i| matches!(i, InitValues::Number(..))) {
                rows.push(*span);
            }
            for i in items {
                flatten(i, out, rows);
            }
        }
    }
}

// ---- files -----------------------------------------------------------------------------------

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
        let r = gaussian::row(row, d);
        means.push(r.mean.to_vec());
        covariances.push(
            gaussian::covariance(&r)
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
    let mut s = serde_json::to_string_pretty(&file).unwrap_or_default();
    s.push('\n');
    s
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

/// Reads `params.json`: the domains it was trained with and the parameters.
pub fn from_json(model: &Model, text: &str) -> Result<Loaded, ParamsError> {
    let file: ParamsFile =
        serde_json::from_str(text).map_err(|e| ParamsError::Json(e.to_string()))?;
    if file.format != FORMAT {
        return Err(ParamsError::Json(format!(
            "format `{}`, expected `{FORMAT}`",
            file.format
        )));
    }
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
        found.push(
            file.families
                .iter()
                .find(|x| x.name == fam.name)
                .ok_or_else(|| ParamsError::Mismatch(format!("no family `{}`", fam.name)))?,
        );
    }
    let layout = Layout::new(model, &domains)?;
    let mut supports = Vec::new();
    let mut stored = Vec::new();
    for f in layout.sparse_families() {
        let entries = read_sparse(model, &domains, &layout, f, found[f])?;
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
        if slot.support.is_some() {
            continue;
        }
        if let FamilyKind::Gaussian(g) = &fam.kind {
            let rows = &mut theta[slot.offset..slot.offset + slot.n_probs()];
            read_gaussian(fam, g, &found[f].means, &found[f].covariances, rows)?;
            continue;
        }
        read_values(fam, slot, found[f], &mut theta)?;
        if let Some(features) = &slot.features {
            let start = slot.offset + slot.n_probs();
            let names = features.weight_names();
            let weights = &found[f].weights;
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
    Ok(Loaded {
        domains,
        layout,
        params: Params { theta },
    })
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
        gaussian::write_row(&means[r], &covariances[r].concat(), row).map_err(|_| {
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
