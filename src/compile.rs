//! From source text to a compiled program: parse, check, read the data (which fixes the
//! vocabularies), lay out the parameters and choose the inference plan. Also the one error
//! type that every stage's errors convert into, with the file each one points into.

use crate::check::{check, CheckError};
use crate::data::{self, DataError, Dataset, Domains};
use crate::diagnostic::Diagnostic;
use crate::graph::{
    discovered_key, probe_dataset, unroll, unroll_cached, InstanceGraph, TableCache, UnrollError,
    VarOrigin,
};
use crate::infer::InferError;
use crate::model::InitMode;
use crate::model::Model;
use crate::params::{initial, Layout, ParamsError, Support};
use crate::plan::{choose, IntractableError, Plan};
use crate::syntax::{ast::Span, parse, SyntaxError};

/// Which text a diagnostic points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Model,
    Data,
    /// A whole line of the data file (1-based), for problems found while training on it.
    DataLine(usize),
    /// Not a file (a command-line option, a parameter file as a whole).
    None,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Syntax(#[from] SyntaxError),
    #[error("{} error(s) in the model", .0.len())]
    Check(Vec<CheckError>),
    #[error("{} error(s) in the data", .0.len())]
    Data(Vec<DataError>),
    #[error("{0}")]
    Unroll(#[from] UnrollError),
    #[error("{0}")]
    Params(#[from] ParamsError),
    #[error("{0}")]
    Infer(#[from] InferError),
    #[error("{error}")]
    Intractable { error: IntractableError, span: Span },
    #[error("{0}")]
    Sample(#[from] crate::sample::SampleError),
    #[error("the log-likelihood at iteration {iteration} is {value}, not a finite number")]
    NotFinite { iteration: usize, value: f64 },
    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    /// Every problem, as diagnostics with the text each one points into.
    pub fn diagnostics(&self) -> Vec<(Source, Diagnostic)> {
        match self {
            Error::Syntax(e) => vec![(Source::Model, e.to_diagnostic())],
            Error::Check(es) => es
                .iter()
                .map(|e| {
                    let source = if e.span.is_some() { Source::Model } else { Source::None };
                    (source, e.to_diagnostic())
                })
                .collect(),
            Error::Data(es) => es.iter().map(|e| (Source::Data, e.to_diagnostic())).collect(),
            Error::Unroll(e) => vec![(Source::Model, e.to_diagnostic())],
            Error::Params(e) => {
                let d = e.to_diagnostic();
                let source = if d.span.is_some() { Source::Model } else { Source::None };
                vec![(source, d)]
            }
            Error::Infer(e) => vec![(
                match e {
                    InferError::ZeroProbability { line } | InferError::CliqueTooLarge { line, .. } => Source::DataLine(*line),
                },
                Diagnostic::unlocated(e.to_string()).with_hint(match e {
                    InferError::ZeroProbability { .. } => "give the parameters some mass everywhere (e.g. `smoothing`), or fix the data line",
                    InferError::CliqueTooLarge { .. } => "this instance couples too many hidden variables for exact inference",
                }),
            )],
            Error::Unsupported(_) => vec![(
                Source::None,
                Diagnostic::unlocated(self.to_string())
                    .with_hint("train this model with `--algorithm em`"),
            )],
            Error::NotFinite { .. } => vec![(
                Source::None,
                Diagnostic::unlocated(self.to_string())
                    .with_hint("this is a bug in emc if the data is finite: please report it with the model and data"),
            )],
            Error::Sample(crate::sample::SampleError::NotGenerated { span, .. }) => vec![(
                Source::Model,
                Diagnostic::error(self.to_string(), *span)
                    .with_label("never on the left of `~`")
                    .with_hint("`emc sample` needs a model that generates every field of a data line"),
            )],
            Error::Sample(e) => vec![(
                Source::None,
                Diagnostic::unlocated(e.to_string())
                    .with_hint("sampling follows the story top to bottom: draw each variable before it is used"),
            )],
            Error::Intractable { error, span } => vec![(
                Source::Model,
                Diagnostic::error(error.to_string(), *span)
                    .with_label("these variables end up in one clique")
                    .with_hint("exact inference is exponential in the largest clique: couple fewer hidden variables per draw, or use smaller domains"),
            )],
        }
    }
}

/// A text a diagnostic can point into, and the name shown for it.
#[derive(Clone, Copy, Debug)]
pub struct Named<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl Error {
    /// Renders every diagnostic against the text it points into; `other` names what is not a
    /// file of ours (the command line, a parameter file).
    pub fn render(&self, model: Named, data: Named, other: &str) -> String {
        let mut out = String::new();
        for (source, d) in self.diagnostics() {
            out.push_str(&match source {
                Source::Model => d.render(model.name, model.text),
                Source::Data => d.render(data.name, data.text),
                Source::DataLine(line) => Diagnostic {
                    span: line_span(data.text, line),
                    ..d
                }
                .render(data.name, data.text),
                Source::None => d.render(other, ""),
            });
        }
        out
    }
}

/// The byte span of a 1-based line.
fn line_span(text: &str, line: usize) -> Option<Span> {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    Some(Span::new(start, end))
}

/// A checked model with its data-dependent parts fixed.
#[derive(Clone, Debug)]
pub struct Program {
    pub model: Model,
    pub domains: Domains,
    pub layout: Layout,
    pub plan: Plan,
}

impl Program {
    /// Unrolls one instance of this program's data, reusing tables built for earlier ones.
    pub fn unroll(
        &self,
        instance: &crate::data::Instance,
        tables: &mut TableCache,
    ) -> Result<InstanceGraph, UnrollError> {
        unroll_cached(&self.model, &self.domains, &self.layout, instance, tables)
    }
}

/// Parses and checks a model file.
pub fn front_end(source: &str, overrides: &[(String, String)]) -> Result<Model, Error> {
    let file = parse(source)?;
    check(&file, overrides).map_err(Error::Check)
}

/// The plan, chosen on a probe instance so that it is the same whatever the data.
pub fn plan_for(model: &Model) -> Result<(Plan, InstanceGraph), Error> {
    let probe = probe_dataset(model);
    let layout = Layout::new(model, &probe.domains)?;
    let g = unroll(model, &probe.domains, &layout, &probe.instances[0])?;
    let plan = choose(&g).map_err(|error| Error::Intractable {
        span: clique_span(model, &g, &error),
        error,
    })?;
    Ok((plan, g))
}

/// Where to point for a clique that is too large: the declaration of its first hidden variable.
fn clique_span(model: &Model, g: &InstanceGraph, error: &IntractableError) -> Span {
    g.vars
        .iter()
        .find(|v| error.vars.contains(&format!("`{}`", v.name)))
        .map(|v| match v.origin {
            VarOrigin::Hidden { decl, .. } => model.hiddens[decl].span,
            VarOrigin::Missing { field, .. } => model.fields[field].span,
        })
        .unwrap_or_default()
}

/// Reads the data for a model and compiles. `frozen` domains come from a parameter file.
pub fn compile(
    model: Model,
    data_text: &str,
    frozen: Option<&Domains>,
) -> Result<(Program, Dataset), Error> {
    let (mut program, dataset) = compile_unplaced(model, data_text, frozen)?;
    program.layout = find_supports(&program.model, &dataset, program.layout)?;
    Ok((program, dataset))
}

/// A program whose sparse families have no supports yet (`find_supports` gives them, or
/// `Kernel::compile` while compiling the data).
pub fn compile_unplaced(
    model: Model,
    data_text: &str,
    frozen: Option<&Domains>,
) -> Result<(Program, Dataset), Error> {
    let (plan, _) = plan_for(&model)?;
    let dataset = data::read(&model, data_text, frozen).map_err(Error::Data)?;
    let layout = Layout::new(&model, &dataset.domains)?;
    // Given initial values can only be checked against vocabulary sizes now.
    let mut rng = rand::rngs::mock::StepRng::new(0, 1);
    initial(
        &model,
        &dataset.domains,
        &layout,
        InitMode::Uniform,
        &mut rng,
    )?;
    let program = Program {
        model,
        domains: dataset.domains.clone(),
        layout,
        plan,
    };
    Ok((program, dataset))
}

/// Instances unrolled per parallel task when finding supports.
const SUPPORT_SHARD: usize = 1024;

/// Gives sparse families the entries the data reaches: unrolls every instance, recording the
/// entries of theirs that some factor uses. The supports are sets, so they are the same for
/// any thread count.
pub fn find_supports(model: &Model, data: &Dataset, layout: Layout) -> Result<Layout, Error> {
    use rayon::prelude::*;
    let sparse = layout.sparse_families();
    if sparse.is_empty() {
        return Ok(layout);
    }
    let found: Vec<Result<Vec<u64>, UnrollError>> = data
        .instances
        .par_chunks(SUPPORT_SHARD)
        .map(|shard| {
            let mut tables = TableCache::discovering();
            for inst in shard {
                unroll_cached(model, &data.domains, &layout, inst, &mut tables)?;
            }
            let mut keys = tables.take_discovered();
            keys.sort_unstable();
            keys.dedup();
            Ok(keys)
        })
        .collect();
    let mut keys: Vec<u64> = Vec::new();
    for shard in found {
        keys.extend(shard?);
    }
    keys.par_sort_unstable();
    keys.dedup();
    supports_from(model, layout, &keys)
}

/// The layout with the supports that these discovered entries make (`discovered_key`s,
/// ascending and distinct).
pub fn supports_from(model: &Model, layout: Layout, keys: &[u64]) -> Result<Layout, Error> {
    let supports = layout
        .sparse_families()
        .into_iter()
        .map(|f| {
            let slot = &layout.families[f];
            let (lo, hi) = (discovered_key(f, 0), discovered_key(f + 1, 0));
            let first = keys.partition_point(|k| *k < lo);
            let last = keys.partition_point(|k| *k < hi);
            let rels = keys[first..last].iter().map(|k| k - lo).collect();
            (f, Support::from_indices(slot.n_cond, slot.n_out, rels))
        })
        .collect();
    Ok(layout.with_supports(model, supports)?)
}

/// Unrolls every instance once, so that `emc check` finds what only running the story on the
/// data reveals (an index past the end of a short line), without training.
pub fn validate_instances(program: &Program, data: &Dataset) -> Result<(), Error> {
    let mut tables = TableCache::default();
    for inst in &data.instances {
        program.unroll(inst, &mut tables)?;
    }
    Ok(())
}
