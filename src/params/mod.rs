//! The parameter store: one flat vector of probabilities, laid out family by family, condition
//! by condition (row-major over the condition domains), outcome fastest. Initialisation, and
//! the parameter files (`params.json`, reloadable; `params.tsv`, for reading) live here as
//! text conversions; the CLI does the file I/O.

use rand::Rng;
use rustc_hash::FxHashMap as HashMap;

use crate::data::Domains;
use std::sync::{Arc, OnceLock};

use crate::density;
use crate::diagnostic::Diagnostic;
use crate::features::FeatureIndex;
use crate::model::{Family, FamilyKind, Gaussian, InitMode, InitValues, Model, Storage, NO_DOMAIN};
use crate::syntax::ast::Span;

/// Numbers per condition row of a Gaussian family of dimension `dim`.
pub fn gaussian_row(dim: usize) -> usize {
    crate::density::width(dim)
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
        Support::from_ascending(n_cond, n_out, indices.into_iter())
    }

    /// From dense indices `cond * n_out + out`, ascending and distinct.
    pub fn from_ascending(
        n_cond: usize,
        n_out: usize,
        indices: impl ExactSizeIterator<Item = u64>,
    ) -> Support {
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

    /// The (row, outcome) of probability `k` of the parameter vector, if the family stores it.
    pub fn locate(&self, k: usize) -> Option<(usize, usize)> {
        let i = k.checked_sub(self.offset).filter(|i| *i < self.n_probs())?;
        match &self.support {
            None => Some((i / self.n_out, i % self.n_out)),
            Some(s) => {
                let r = s.starts.partition_point(|start| *start <= i) - 1;
                Some((r, s.outcomes[i] as usize))
            }
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
        density::write_row(&mean, &cov, row).map_err(|_| {
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
        if (sum - 1.0).abs() > crate::model::INIT_SUM_TOLERANCE {
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

mod json;
mod tsv;

pub use json::{from_json, read_init, to_json, write_json, InitFile, Loaded};
pub use tsv::{to_tsv, write_tsv};
