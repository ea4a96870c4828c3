//! Word segmentation scores: predicted word boundaries against a gold segmentation.
//!
//! Both files hold one utterance per line, words separated by whitespace. The
//! three standard scores of the literature (Brent 1999; Goldwater, Griffiths &
//! Johnson 2009) are computed over the whole corpus:
//!
//! * **token**: a predicted word is correct when both of its edges are gold
//!   edges with no gold edge between them, i.e. the same character span is a
//!   gold word of that utterance;
//! * **boundary**: utterance-internal boundaries only (the edges at the start
//!   and end of an utterance are given, so counting them would reward nothing);
//! * **lexicon**: the set of distinct word types of each file.
//!
//! Precision, recall and F1 are micro-averaged (summed over utterances before
//! dividing), as in those papers.

use std::collections::BTreeSet;

use super::{sentence_lines, EvalError, Metric, Report};

/// Detail names of a segmentation [`Report`], in display order. The headline
/// value is token F1, the score most often quoted.
pub(super) const TOKEN_PRECISION: &str = "token precision";
pub(super) const TOKEN_RECALL: &str = "token recall";
pub(super) const BOUNDARY_PRECISION: &str = "boundary precision";
pub(super) const BOUNDARY_RECALL: &str = "boundary recall";
pub(super) const BOUNDARY_F1: &str = "boundary F1";
pub(super) const LEXICON_PRECISION: &str = "lexicon precision";
pub(super) const LEXICON_RECALL: &str = "lexicon recall";
pub(super) const LEXICON_F1: &str = "lexicon F1";

/// Hits and the two totals of one kind of score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) correct: usize,
    pub(super) predicted: usize,
    pub(super) gold: usize,
}

impl Counts {
    fn add(&mut self, correct: usize, predicted: usize, gold: usize) {
        self.correct += correct;
        self.predicted += predicted;
        self.gold += gold;
    }

    /// Precision, recall and F1. An empty denominator gives 0: predicting no
    /// boundary at all earns no boundary precision, and a gold with none
    /// cannot be recalled.
    pub(super) fn scores(self) -> (f64, f64, f64) {
        let precision = ratio(self.correct, self.predicted);
        let recall = ratio(self.correct, self.gold);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        (precision, recall, f1)
    }
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// The corpus-level counts of the three scores.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct SegmentationCounts {
    pub(super) tokens: Counts,
    pub(super) boundaries: Counts,
    pub(super) lexicon: Counts,
}

/// The words of one utterance as character spans `[start, end)`, in
/// characters (not bytes), so multi-byte symbols count once.
fn spans(words: &[&str]) -> Vec<(usize, usize)> {
    let mut start = 0;
    words
        .iter()
        .map(|word| {
            let end = start + word.chars().count();
            let span = (start, end);
            start = end;
            span
        })
        .collect()
}

/// The utterance-internal boundaries of `spans`: every word end but the last.
fn internal_boundaries(spans: &[(usize, usize)]) -> BTreeSet<usize> {
    let mut ends: BTreeSet<usize> = spans.iter().map(|&(_, end)| end).collect();
    if let Some(&(_, last)) = spans.last() {
        ends.remove(&last);
    }
    ends
}

/// Counts hits per score, checking that each pred line segments the same
/// characters as its gold line.
pub(super) fn count(gold: &str, pred: &str) -> Result<SegmentationCounts, EvalError> {
    let gold_lines = sentence_lines(gold);
    let pred_lines = sentence_lines(pred);
    if gold_lines.len() != pred_lines.len() {
        return Err(EvalError::LineCountMismatch {
            gold: gold_lines.len(),
            pred: pred_lines.len(),
        });
    }
    let mut counts = SegmentationCounts::default();
    let mut gold_types = BTreeSet::new();
    let mut pred_types = BTreeSet::new();
    for (index, (gold_line, pred_line)) in gold_lines.iter().zip(&pred_lines).enumerate() {
        let gold_words: Vec<&str> = gold_line.split_whitespace().collect();
        let pred_words: Vec<&str> = pred_line.split_whitespace().collect();
        let gold_chars: String = gold_words.concat();
        let pred_chars: String = pred_words.concat();
        if gold_chars != pred_chars {
            return Err(unsegmented_mismatch(index + 1, &gold_chars, &pred_chars));
        }
        let gold_spans = spans(&gold_words);
        let pred_spans = spans(&pred_words);
        let gold_set: BTreeSet<_> = gold_spans.iter().collect();
        let correct = pred_spans.iter().filter(|s| gold_set.contains(s)).count();
        counts
            .tokens
            .add(correct, pred_spans.len(), gold_spans.len());
        let gold_boundaries = internal_boundaries(&gold_spans);
        let pred_boundaries = internal_boundaries(&pred_spans);
        counts.boundaries.add(
            pred_boundaries.intersection(&gold_boundaries).count(),
            pred_boundaries.len(),
            gold_boundaries.len(),
        );
        gold_types.extend(gold_words);
        pred_types.extend(pred_words);
    }
    if counts.tokens.gold == 0 {
        return Err(EvalError::EmptyInput("gold contains no words"));
    }
    counts.lexicon = Counts {
        correct: pred_types.intersection(&gold_types).count(),
        predicted: pred_types.len(),
        gold: gold_types.len(),
    };
    Ok(counts)
}

/// The error for a line whose characters differ, locating the first
/// differing character (1-based) so a misaligned file is easy to find.
fn unsegmented_mismatch(line: usize, gold: &str, pred: &str) -> EvalError {
    let position = gold
        .chars()
        .zip(pred.chars())
        .take_while(|(g, p)| g == p)
        .count()
        + 1;
    EvalError::SegmentedTextMismatch {
        line,
        position,
        gold: gold.to_string(),
        pred: pred.to_string(),
    }
}

/// Token, boundary and lexicon precision / recall / F1; the headline is token F1.
pub(super) fn segmentation(gold: &str, pred: &str) -> Result<Report, EvalError> {
    let counts = count(gold, pred)?;
    let (token_p, token_r, token_f) = counts.tokens.scores();
    let (boundary_p, boundary_r, boundary_f) = counts.boundaries.scores();
    let (lexicon_p, lexicon_r, lexicon_f) = counts.lexicon.scores();
    Ok(Report::new(
        Metric::Segmentation,
        token_f,
        &[
            (TOKEN_PRECISION, token_p),
            (TOKEN_RECALL, token_r),
            (BOUNDARY_PRECISION, boundary_p),
            (BOUNDARY_RECALL, boundary_r),
            (BOUNDARY_F1, boundary_f),
            (LEXICON_PRECISION, lexicon_p),
            (LEXICON_RECALL, lexicon_r),
            (LEXICON_F1, lexicon_f),
        ],
    ))
}
