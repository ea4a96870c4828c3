//! Evaluation metrics for induced tags, word alignments, word segmentations and
//! dependency trees.
//!
//! The module does no I/O: [`evaluate`] takes the *contents* of a gold and a
//! predicted file and returns a typed [`Report`] or [`EvalError`], so callers
//! (the CLI, tests) decide where the text comes from and how to show failures.
//!
//! * Tagging metrics ([`Metric::ManyToOne`], [`Metric::OneToOne`],
//!   [`Metric::VMeasure`]) compare induced cluster ids with gold tags. Both
//!   files hold one sentence per line of whitespace-separated labels, aligned
//!   token by token.
//! * [`Metric::Aer`] compares predicted word alignments with a WPT-2003 gold
//!   standard of sure and possible links (Och & Ney 2003).
//! * [`Metric::Segmentation`] compares predicted word segmentations with gold
//!   ones (token, boundary and lexicon precision / recall / F1).
//! * [`Metric::Attachment`] compares predicted dependency heads with gold ones
//!   (directed and undirected attachment accuracy).

mod alignment;
mod attachment;
mod segmentation;
mod tagging;

use std::fmt;
use std::str::FromStr;

use alignment::alignment_error_rate;
use attachment::attachment;
use segmentation::segmentation;
use tagging::Contingency;

/// An evaluation metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Each predicted label is mapped to the gold label it co-occurs with
    /// most; token accuracy under that mapping.
    ManyToOne,
    /// The injective mapping of predicted to gold labels that matches the most
    /// tokens; token accuracy under that mapping.
    OneToOne,
    /// Harmonic mean of homogeneity and completeness (Rosenberg & Hirschberg
    /// 2007, beta = 1).
    VMeasure,
    /// Alignment error rate (Och & Ney 2003); lower is better.
    Aer,
    /// Word segmentation: token F1, with token, boundary and lexicon
    /// precision / recall / F1 (Brent 1999; Goldwater et al. 2009).
    Segmentation,
    /// Directed dependency attachment accuracy, with undirected accuracy.
    Attachment,
}

impl Metric {
    /// Every metric, in the order used by help and error messages.
    pub const ALL: [Metric; 6] = [
        Metric::ManyToOne,
        Metric::OneToOne,
        Metric::VMeasure,
        Metric::Aer,
        Metric::Segmentation,
        Metric::Attachment,
    ];

    /// The command-line name, as accepted by [`FromStr`].
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::ManyToOne => "many-to-one",
            Metric::OneToOne => "one-to-one",
            Metric::VMeasure => "v-measure",
            Metric::Aer => "aer",
            Metric::Segmentation => "segmentation",
            Metric::Attachment => "attachment",
        }
    }

    /// How a [`Report`] introduces the metric's value.
    fn heading(self) -> &'static str {
        match self {
            Metric::ManyToOne => "many-to-one accuracy",
            Metric::OneToOne => "one-to-one accuracy",
            Metric::VMeasure => "V-measure",
            Metric::Aer => "AER",
            Metric::Segmentation => "token F1",
            Metric::Attachment => "directed accuracy",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = EvalError;

    /// Parses a command-line name; ASCII case is ignored so `AER` works too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|metric| metric.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| EvalError::UnknownMetric {
                name: s.to_string(),
            })
    }
}

/// The valid metric names, comma-separated, for the unknown-metric message.
fn valid_metric_names() -> String {
    Metric::ALL.map(Metric::name).join(", ")
}

/// Detail names used in [`Report::details`].
const TOKENS: &str = "tokens";
const PRECISION: &str = "precision";
const RECALL: &str = "recall";
const HOMOGENEITY: &str = "homogeneity";
const COMPLETENESS: &str = "completeness";

/// The outcome of one evaluation: the headline value plus supporting numbers
/// (token count, precision/recall, homogeneity/completeness).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub metric: Metric,
    pub value: f64,
    pub details: Vec<(String, f64)>,
}

impl Report {
    fn new(metric: Metric, value: f64, details: &[(&str, f64)]) -> Self {
        let details = details
            .iter()
            .map(|&(name, value)| (name.to_string(), value))
            .collect();
        Report {
            metric,
            value,
            details,
        }
    }
}

impl fmt::Display for Report {
    /// E.g. `many-to-one accuracy 0.6312 (tokens 204577)` or
    /// `AER 0.3490 (precision 0.5910, recall 0.7640)`: rates get 4 decimals,
    /// counts are printed as integers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:.4}", self.metric.heading(), self.value)?;
        for (index, (name, value)) in self.details.iter().enumerate() {
            let separator = if index == 0 { " (" } else { ", " };
            if name == TOKENS {
                write!(f, "{separator}{name} {value:.0}")?;
            } else {
                write!(f, "{separator}{name} {value:.4}")?;
            }
        }
        if !self.details.is_empty() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Why an evaluation could not be carried out. Line numbers are 1-based.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("unknown metric {name:?}; valid metrics are {}", valid_metric_names())]
    UnknownMetric { name: String },
    #[error("empty input: {0}")]
    EmptyInput(&'static str),
    #[error(
        "gold has {gold} lines but pred has {pred}; they must correspond one sentence per line"
    )]
    LineCountMismatch { gold: usize, pred: usize },
    #[error("line {line} has {gold} gold tags but {pred} predicted")]
    TokenCountMismatch {
        line: usize,
        gold: usize,
        pred: usize,
    },
    #[error("malformed gold alignment on line {line}: {text:?} ({reason})")]
    MalformedGoldLine {
        line: usize,
        text: String,
        reason: &'static str,
    },
    #[error("malformed alignment link {token:?} on line {line} of pred: expected `e-f` with 1-based English and French positions")]
    MalformedLink { line: usize, token: String },
    #[error("malformed token {token:?} on line {line} of pred: expected an `e-f` link or an English position (0 = NULL)")]
    MalformedToken { line: usize, token: String },
    #[error("line {line} of pred mixes `e-f` links with plain English positions; use one format per line")]
    MixedFormats { line: usize },
    #[error("gold has links for sentence {sentence} but pred has only {pred_lines} lines (one per sentence)")]
    MissingPredSentence { sentence: usize, pred_lines: usize },
    #[error("line {line}: gold and pred differ once spaces are removed, from character {position}: gold {gold:?}, pred {pred:?}; a segmentation may only move word boundaries")]
    SegmentedTextMismatch {
        line: usize,
        position: usize,
        gold: String,
        pred: String,
    },
    #[error("gold has {gold} sentences but pred has {pred} lines; pred needs one line of heads per gold sentence")]
    SentenceCountMismatch { gold: usize, pred: usize },
    #[error("line {pred_line} of pred has {pred} heads but its gold sentence (line {gold_line} of gold) has {gold} tokens; were punctuation tokens removed from one file only?")]
    HeadCountMismatch {
        pred_line: usize,
        gold_line: usize,
        gold: usize,
        pred: usize,
    },
    #[error("malformed head {token:?} on line {line} of {file}: {reason}")]
    MalformedHead {
        file: &'static str,
        line: usize,
        token: String,
        reason: &'static str,
    },
}

/// Scores `pred` against `gold` (both file contents) with `metric`.
///
/// # Errors
///
/// Tagging metrics fail when the files do not correspond line for line and
/// token for token, or hold no tokens. AER fails on a malformed gold or pred
/// line, a pred line mixing formats, a gold sentence with no pred line, or
/// when there is nothing to score. Segmentation fails when the files differ
/// in lines or, once spaces are removed, in the characters of a line.
/// Attachment fails on a malformed or out-of-range head, or when sentences or
/// their lengths differ.
pub fn evaluate(metric: Metric, gold: &str, pred: &str) -> Result<Report, EvalError> {
    match metric {
        Metric::ManyToOne => Contingency::from_text(gold, pred).map(|t| t.many_to_one()),
        Metric::OneToOne => Contingency::from_text(gold, pred).map(|t| t.one_to_one()),
        Metric::VMeasure => Contingency::from_text(gold, pred).map(|t| t.v_measure()),
        Metric::Aer => alignment_error_rate(gold, pred),
        Metric::Segmentation => segmentation(gold, pred),
        Metric::Attachment => attachment(gold, pred),
    }
}

/// The lines of `text` without trailing blank ones: those hold no tokens,
/// so an extra final newline in one file must not count as a line-count
/// mismatch.
fn sentence_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    while lines.last().is_some_and(|line| line.trim().is_empty()) {
        lines.pop();
    }
    lines
}

#[cfg(test)]
mod structured_tests;
#[cfg(test)]
mod tests;
