//! The one error type that every stage's errors convert into, and its rendering: each
//! problem becomes a diagnostic with the text it points into (the model, the data, a data line,
//! or nothing of ours), rendered with file, line, column, the offending text and a hint.

use crate::check::CheckError;
use crate::data::DataError;
use crate::diagnostic::Diagnostic;
use crate::graph::UnrollError;
use crate::infer::InferError;
use crate::params::ParamsError;
use crate::plan::IntractableError;
use crate::sample::SampleError;
use crate::syntax::{ast::Span, SyntaxError};

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
    Sample(#[from] SampleError),
    #[error("the log-likelihood at iteration {iteration} is {value}, not a finite number")]
    NotFinite { iteration: usize, value: f64 },
    #[error("{0}")]
    Unsupported(String),
    /// A run over several processes that cannot go on: another process failed, or their
    /// counts do not fit together.
    #[error("{0}")]
    Distributed(String),
    /// A run over a data file read a part at a time (`--stream`) that cannot start or go on.
    #[error("{0}")]
    Stream(#[from] crate::stream::StreamError),
    /// A training setting (from the `train` block, pointed at, or from the command line)
    /// that this model cannot take.
    #[error("{message}")]
    Setting {
        message: String,
        span: Option<Span>,
        label: &'static str,
        hint: String,
    },
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
                e.line().map_or(Source::Data, Source::DataLine),
                Diagnostic::unlocated(e.to_string()).with_hint(e.hint()),
            )],
            Error::Distributed(_) => vec![(
                Source::None,
                Diagnostic::unlocated(self.to_string()).with_hint(
                    "the process that failed says why on its own output; every process must \
                     read the same model, data and settings",
                ),
            )],
            Error::Stream(e) => vec![(
                Source::None,
                Diagnostic::unlocated(self.to_string()).with_hint(e.hint()),
            )],
            Error::Unsupported(_) => vec![(
                Source::None,
                Diagnostic::unlocated(self.to_string())
                    .with_hint("train this model with `--algorithm em`"),
            )],
            Error::Setting {
                span, label, hint, ..
            } => vec![match span {
                Some(span) => (
                    Source::Model,
                    Diagnostic::error(self.to_string(), *span)
                        .with_label(*label)
                        .with_hint(hint.clone()),
                ),
                None => (
                    Source::None,
                    Diagnostic::unlocated(self.to_string()).with_hint(hint.clone()),
                ),
            }],
            Error::NotFinite { .. } => vec![(
                Source::None,
                Diagnostic::unlocated(self.to_string())
                    .with_hint("this is a bug in emc if the data is finite: please report it with the model and data"),
            )],
            Error::Sample(SampleError::NotGenerated { span, .. }) => vec![(
                Source::Model,
                Diagnostic::error(self.to_string(), *span)
                    .with_label("never on the left of `~`")
                    .with_hint("`emc sample` needs a model that generates every field of a data line"),
            )],
            Error::Sample(SampleError::Unroll(e)) => Error::Unroll(e.clone()).diagnostics(),
            Error::Sample(SampleError::Bound { span, .. }) => vec![(
                Source::Model,
                Diagnostic::error(self.to_string(), *span)
                    .with_label("the sampler stopped here")
                    .with_hint("sample shorter lines with `--length`, or make the story end sooner (a recursion that stops, a `for some` that always has a position)"),
            )],
            Error::Sample(SampleError::Unsupported { span, .. }) => vec![(
                Source::Model,
                Diagnostic::error(self.to_string(), *span)
                    .with_label("this draw")
                    .with_hint("train and decode such a model; sampling it is not built yet"),
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
