//! Evaluation metrics for induced tags and word alignments.
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

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

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
}

impl Metric {
    /// Every metric, in the order used by help and error messages.
    pub const ALL: [Metric; 4] = [
        Metric::ManyToOne,
        Metric::OneToOne,
        Metric::VMeasure,
        Metric::Aer,
    ];

    /// The command-line name, as accepted by [`FromStr`].
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::ManyToOne => "many-to-one",
            Metric::OneToOne => "one-to-one",
            Metric::VMeasure => "v-measure",
            Metric::Aer => "aer",
        }
    }

    /// How a [`Report`] introduces the metric's value.
    fn heading(self) -> &'static str {
        match self {
            Metric::ManyToOne => "many-to-one accuracy",
            Metric::OneToOne => "one-to-one accuracy",
            Metric::VMeasure => "V-measure",
            Metric::Aer => "AER",
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
}

/// Scores `pred` against `gold` (both file contents) with `metric`.
///
/// # Errors
///
/// Tagging metrics fail when the files do not correspond line for line and
/// token for token, or hold no tokens. AER fails on a malformed gold or pred
/// line, a pred line mixing formats, a gold sentence with no pred line, or
/// when there is nothing to score.
pub fn evaluate(metric: Metric, gold: &str, pred: &str) -> Result<Report, EvalError> {
    match metric {
        Metric::ManyToOne => Contingency::from_text(gold, pred).map(|t| t.many_to_one()),
        Metric::OneToOne => Contingency::from_text(gold, pred).map(|t| t.one_to_one()),
        Metric::VMeasure => Contingency::from_text(gold, pred).map(|t| t.v_measure()),
        Metric::Aer => alignment_error_rate(gold, pred),
    }
}

// ---------------------------------------------------------------------------
// Tagging metrics
// ---------------------------------------------------------------------------

/// Token counts keyed by one label, then the other.
type Table<'a> = BTreeMap<&'a str, BTreeMap<&'a str, u64>>;

/// Co-occurrence counts of predicted and gold labels over aligned tokens.
///
/// Both orientations are kept so each conditional entropy is a plain walk
/// over one map. `BTreeMap`s make label order lexicographic, which gives the
/// many-to-one tie-break and reproducible results.
struct Contingency<'a> {
    /// `by_pred[pred][gold]`: tokens labelled `gold` in gold and `pred` in pred.
    by_pred: Table<'a>,
    /// `by_gold[gold][pred]`: the same counts, transposed.
    by_gold: Table<'a>,
    total: u64,
}

impl<'a> Contingency<'a> {
    /// Builds the table, checking that lines and tokens correspond 1:1.
    fn from_text(gold: &'a str, pred: &'a str) -> Result<Self, EvalError> {
        let gold_lines = sentence_lines(gold);
        let pred_lines = sentence_lines(pred);
        if gold_lines.len() != pred_lines.len() {
            return Err(EvalError::LineCountMismatch {
                gold: gold_lines.len(),
                pred: pred_lines.len(),
            });
        }
        let mut table = Contingency {
            by_pred: BTreeMap::new(),
            by_gold: BTreeMap::new(),
            total: 0,
        };
        for (index, (gold_line, pred_line)) in gold_lines.iter().zip(&pred_lines).enumerate() {
            let gold_tags: Vec<&str> = gold_line.split_whitespace().collect();
            let pred_tags: Vec<&str> = pred_line.split_whitespace().collect();
            if gold_tags.len() != pred_tags.len() {
                return Err(EvalError::TokenCountMismatch {
                    line: index + 1,
                    gold: gold_tags.len(),
                    pred: pred_tags.len(),
                });
            }
            for (gold_tag, pred_tag) in gold_tags.into_iter().zip(pred_tags) {
                table.add(gold_tag, pred_tag);
            }
        }
        if table.total == 0 {
            return Err(EvalError::EmptyInput("gold and pred contain no tokens"));
        }
        Ok(table)
    }

    fn add(&mut self, gold: &'a str, pred: &'a str) {
        *self
            .by_pred
            .entry(pred)
            .or_default()
            .entry(gold)
            .or_default() += 1;
        *self
            .by_gold
            .entry(gold)
            .or_default()
            .entry(pred)
            .or_default() += 1;
        self.total += 1;
    }

    fn accuracy_report(&self, metric: Metric, matched: u64) -> Report {
        let total = self.total as f64;
        Report::new(metric, matched as f64 / total, &[(TOKENS, total)])
    }

    /// Most frequent gold label (and its count) for each predicted label.
    /// Ties go to the lexicographically smallest gold label so the mapping
    /// is deterministic.
    fn many_to_one_mapping(&self) -> BTreeMap<&'a str, (&'a str, u64)> {
        self.by_pred
            .iter()
            .filter_map(|(&pred, row)| {
                // `min_by_key` keeps the first of equal keys, i.e. the smallest label.
                let (&gold, &count) = row.iter().min_by_key(|&(_, &count)| Reverse(count))?;
                Some((pred, (gold, count)))
            })
            .collect()
    }

    fn many_to_one(&self) -> Report {
        let matched = self
            .many_to_one_mapping()
            .values()
            .map(|&(_, count)| count)
            .sum();
        self.accuracy_report(Metric::ManyToOne, matched)
    }

    fn one_to_one(&self) -> Report {
        let weights: Vec<Vec<u64>> = self
            .by_pred
            .values()
            .map(|row| {
                self.by_gold
                    .keys()
                    .map(|gold| row.get(gold).copied().unwrap_or(0))
                    .collect()
            })
            .collect();
        self.accuracy_report(Metric::OneToOne, max_weight_matching(&weights))
    }

    /// V-measure with C = gold classes and K = predicted clusters. Entropies
    /// are in nats; the base cancels in every ratio.
    fn v_measure(&self) -> Report {
        let total = self.total as f64;
        let homogeneity = normalised_information(
            conditional_entropy(&self.by_pred, total),
            marginal_entropy(&self.by_gold, total),
        );
        let completeness = normalised_information(
            conditional_entropy(&self.by_gold, total),
            marginal_entropy(&self.by_pred, total),
        );
        let sum = homogeneity + completeness;
        let v = if sum > 0.0 {
            2.0 * homogeneity * completeness / sum
        } else {
            0.0
        };
        Report::new(
            Metric::VMeasure,
            v,
            &[
                (HOMOGENEITY, homogeneity),
                (COMPLETENESS, completeness),
                (TOKENS, total),
            ],
        )
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

/// Entropy H(X) of the label keying `table`'s outer map.
fn marginal_entropy(table: &Table<'_>, total: f64) -> f64 {
    table
        .values()
        .map(|group| {
            let n = group.values().sum::<u64>() as f64;
            n / total * (total / n).ln()
        })
        .sum()
}

/// Conditional entropy H(Y|X) for `table[x][y]`: each group is one value of
/// the condition X. A pure group contributes exactly 0 (ln 1).
fn conditional_entropy(table: &Table<'_>, total: f64) -> f64 {
    table
        .values()
        .map(|group| {
            let group_total = group.values().sum::<u64>() as f64;
            group
                .values()
                .map(|&count| {
                    let count = count as f64;
                    count / total * (group_total / count).ln()
                })
                .sum::<f64>()
        })
        .sum()
}

/// `1 - H(·|·)/H(·)`, defined as 1 when the marginal entropy is 0 (a single
/// class or cluster leaves nothing to explain), per Rosenberg & Hirschberg.
fn normalised_information(conditional: f64, marginal: f64) -> f64 {
    if marginal > 0.0 {
        1.0 - conditional / marginal
    } else {
        1.0
    }
}

/// The largest total weight of a matching that pairs each row with at most
/// one column and vice versa. The rectangular matrix is padded with zero
/// weights to a square one, so padded pairs mean "unmatched".
fn max_weight_matching(weights: &[Vec<u64>]) -> u64 {
    let columns = weights.iter().map(Vec::len).max().unwrap_or(0);
    let size = weights.len().max(columns);
    let weight = |row: usize, column: usize| {
        weights
            .get(row)
            .and_then(|r| r.get(column))
            .copied()
            .unwrap_or(0)
    };
    // Maximising weight is minimising its negation. Counts come from a
    // `&str`, so they are far below i64::MAX.
    let cost: Vec<Vec<i64>> = (0..size)
        .map(|row| {
            (0..size)
                .map(|column| -(weight(row, column) as i64))
                .collect()
        })
        .collect();
    min_cost_assignment(&cost)
        .into_iter()
        .enumerate()
        .map(|(row, column)| weight(row, column))
        .sum()
}

/// Hungarian algorithm (Kuhn–Munkres with potentials), O(n³) for an n×n
/// `cost` matrix. Returns, for each row, the column assigned to it in a
/// minimum-cost perfect assignment.
///
/// Rows and columns are 1-based internally; index 0 is a virtual column
/// holding the row currently being inserted.
fn min_cost_assignment(cost: &[Vec<i64>]) -> Vec<usize> {
    const INFINITY: i64 = i64::MAX / 4;
    let n = cost.len();
    let mut row_potential = vec![0i64; n + 1];
    let mut column_potential = vec![0i64; n + 1];
    // `row_of[j]`: row assigned to column j (0 = none).
    let mut row_of = vec![0usize; n + 1];
    // `previous[j]`: column before j on the shortest augmenting path.
    let mut previous = vec![0usize; n + 1];
    for row in 1..=n {
        row_of[0] = row;
        let mut column = 0;
        let mut min_slack = vec![INFINITY; n + 1];
        let mut visited = vec![false; n + 1];
        // Grow a shortest-path tree until it reaches a free column.
        loop {
            visited[column] = true;
            let current_row = row_of[column];
            let mut delta = INFINITY;
            let mut next_column = 0;
            for j in 1..=n {
                if visited[j] {
                    continue;
                }
                let slack =
                    cost[current_row - 1][j - 1] - row_potential[current_row] - column_potential[j];
                if slack < min_slack[j] {
                    min_slack[j] = slack;
                    previous[j] = column;
                }
                if min_slack[j] < delta {
                    delta = min_slack[j];
                    next_column = j;
                }
            }
            for j in 0..=n {
                if visited[j] {
                    row_potential[row_of[j]] += delta;
                    column_potential[j] -= delta;
                } else {
                    min_slack[j] -= delta;
                }
            }
            column = next_column;
            if row_of[column] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to the virtual column.
        while column != 0 {
            let before = previous[column];
            row_of[column] = row_of[before];
            column = before;
        }
    }
    let mut column_of = vec![0usize; n];
    for column in 1..=n {
        column_of[row_of[column] - 1] = column - 1;
    }
    column_of
}

// ---------------------------------------------------------------------------
// Alignment error rate
// ---------------------------------------------------------------------------

/// One link between an English and a French word of a sentence; all three
/// numbers are 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Link {
    sentence: usize,
    english: usize,
    french: usize,
}

/// A parsed WPT-2003 gold standard.
struct GoldAlignment {
    sure: BTreeSet<Link>,
    /// Includes every sure link: sure links are by definition also possible.
    possible: BTreeSet<Link>,
    /// The highest sentence number in the file; pred needs this many lines.
    sentences: usize,
}

/// AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|), with P ⊇ S.
fn alignment_error_rate(gold: &str, pred: &str) -> Result<Report, EvalError> {
    let gold = parse_gold_alignment(gold)?;
    let predicted = parse_predicted_alignment(pred, gold.sentences)?;
    let denominator = predicted.len() + gold.sure.len();
    if denominator == 0 {
        return Err(EvalError::EmptyInput(
            "gold has no sure links and pred has no links, so AER is undefined",
        ));
    }
    let sure_hits = predicted.intersection(&gold.sure).count();
    let possible_hits = predicted.intersection(&gold.possible).count();
    let aer = 1.0 - (sure_hits + possible_hits) as f64 / denominator as f64;
    Ok(Report::new(
        Metric::Aer,
        aer,
        &[
            (PRECISION, ratio(possible_hits, predicted.len())),
            (RECALL, ratio(sure_hits, gold.sure.len())),
        ],
    ))
}

/// `numerator / denominator`, or 0 for an empty denominator (no predictions
/// means no correct predictions).
fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Parses `SENT EN_POS FR_POS [S|P] [CONFIDENCE]` lines, skipping blank ones.
///
/// As in the WPT-2003 format, a missing type means S and a trailing
/// confidence is ignored. Position 0 marks a NULL link, which standard AER
/// does not score, so such links only count towards the sentence total.
fn parse_gold_alignment(text: &str) -> Result<GoldAlignment, EvalError> {
    let mut gold = GoldAlignment {
        sure: BTreeSet::new(),
        possible: BTreeSet::new(),
        sentences: 0,
    };
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (link, sure) = parse_gold_line(index + 1, line)?;
        gold.sentences = gold.sentences.max(link.sentence);
        if link.english == 0 || link.french == 0 {
            continue;
        }
        if sure {
            gold.sure.insert(link);
        }
        gold.possible.insert(link);
    }
    if gold.sentences == 0 {
        return Err(EvalError::EmptyInput("gold alignment has no links"));
    }
    Ok(gold)
}

/// One gold line: the link and whether it is sure (S) rather than possible (P).
fn parse_gold_line(line_number: usize, line: &str) -> Result<(Link, bool), EvalError> {
    let malformed = |reason| EvalError::MalformedGoldLine {
        line: line_number,
        text: line.trim().to_string(),
        reason,
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (sentence, english, french, kind) = match fields.as_slice() {
        [sentence, english, french] => (sentence, english, french, "S"),
        [sentence, english, french, kind] | [sentence, english, french, kind, _] => {
            (sentence, english, french, *kind)
        }
        _ => return Err(malformed("expected `SENT EN_POS FR_POS S|P`")),
    };
    let number = |field: &str| {
        field
            .parse::<usize>()
            .map_err(|_| malformed("sentence numbers and positions must be non-negative integers"))
    };
    let link = Link {
        sentence: number(sentence)?,
        english: number(english)?,
        french: number(french)?,
    };
    if link.sentence == 0 {
        return Err(malformed("sentence numbers are 1-based"));
    }
    let sure = match kind {
        "S" | "s" => true,
        "P" | "p" => false,
        _ => return Err(malformed("link type must be S or P")),
    };
    Ok((link, sure))
}

/// Parses pred line k as sentence k for k = 1..=`sentences`. Later lines are
/// ignored: decoding a corpus whose first sentences are the test set is the
/// usual way to obtain pred.
fn parse_predicted_alignment(text: &str, sentences: usize) -> Result<BTreeSet<Link>, EvalError> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < sentences {
        return Err(EvalError::MissingPredSentence {
            sentence: sentences,
            pred_lines: lines.len(),
        });
    }
    let mut links = BTreeSet::new();
    for (index, line) in lines.into_iter().take(sentences).enumerate() {
        links.extend(parse_pred_line(index + 1, line)?);
    }
    Ok(links)
}

/// One whitespace-separated token of a pred line.
enum PredToken {
    /// `e-f`: English position e is linked to French position f.
    Link { english: usize, french: usize },
    /// The English position (0 = NULL) of the French word at this token's index.
    Position(usize),
}

/// The links of sentence `sentence`, written either as `e-f` links or as one
/// English position per French word; a line must use a single format.
fn parse_pred_line(sentence: usize, line: &str) -> Result<Vec<Link>, EvalError> {
    let tokens = line
        .split_whitespace()
        .map(|token| parse_pred_token(sentence, token))
        .collect::<Result<Vec<_>, _>>()?;
    let link_tokens = tokens
        .iter()
        .filter(|token| matches!(token, PredToken::Link { .. }))
        .count();
    if link_tokens != 0 && link_tokens != tokens.len() {
        return Err(EvalError::MixedFormats { line: sentence });
    }
    let links = tokens
        .into_iter()
        .enumerate()
        .filter_map(|(index, token)| match token {
            PredToken::Link { english, french } => Some(Link {
                sentence,
                english,
                french,
            }),
            PredToken::Position(0) => None,
            PredToken::Position(english) => Some(Link {
                sentence,
                english,
                french: index + 1,
            }),
        });
    Ok(links.collect())
}

/// Classifies a token by its dash: `e-f` links need both positions ≥ 1,
/// since 1-based positions are the format here and a 0 most likely betrays
/// 0-based (Moses-style) output that would silently score wrong.
fn parse_pred_token(line: usize, token: &str) -> Result<PredToken, EvalError> {
    match token.split_once('-') {
        Some((english, french)) => match (english.parse::<usize>(), french.parse::<usize>()) {
            (Ok(english), Ok(french)) if english > 0 && french > 0 => {
                Ok(PredToken::Link { english, french })
            }
            _ => Err(EvalError::MalformedLink {
                line,
                token: token.to_string(),
            }),
        },
        None => token
            .parse::<usize>()
            .map(PredToken::Position)
            .map_err(|_| EvalError::MalformedToken {
                line,
                token: token.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: f64 = 1e-12;

    fn score(metric: Metric, gold: &str, pred: &str) -> f64 {
        match evaluate(metric, gold, pred) {
            Ok(report) => report.value,
            Err(error) => panic!("{metric} failed: {error}"),
        }
    }

    fn detail(report: &Report, name: &str) -> f64 {
        report
            .details
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, value)| value)
            .unwrap_or_else(|| panic!("no detail {name} in {report:?}"))
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < TOLERANCE,
            "expected {expected}, got {actual}"
        );
    }

    const TAGGING: [Metric; 3] = [Metric::ManyToOne, Metric::OneToOne, Metric::VMeasure];

    // --- Metric ------------------------------------------------------------

    #[test]
    fn metric_names_round_trip() {
        for metric in Metric::ALL {
            assert_eq!(metric.name().parse::<Metric>(), Ok(metric));
            assert_eq!(metric.to_string(), metric.name());
        }
        assert_eq!("AER".parse::<Metric>(), Ok(Metric::Aer));
    }

    #[test]
    fn unknown_metric_lists_valid_names() {
        let error = "f1".parse::<Metric>().unwrap_err();
        assert_eq!(
            error,
            EvalError::UnknownMetric {
                name: "f1".to_string()
            }
        );
        assert_eq!(
            error.to_string(),
            "unknown metric \"f1\"; valid metrics are many-to-one, one-to-one, v-measure, aer"
        );
    }

    // --- Report display ----------------------------------------------------

    #[test]
    fn report_display_formats_rates_and_counts() {
        let accuracy = Report::new(Metric::ManyToOne, 0.63123, &[(TOKENS, 204577.0)]);
        assert_eq!(
            accuracy.to_string(),
            "many-to-one accuracy 0.6312 (tokens 204577)"
        );
        let aer = Report::new(Metric::Aer, 0.349, &[(PRECISION, 0.591), (RECALL, 0.764)]);
        assert_eq!(
            aer.to_string(),
            "AER 0.3490 (precision 0.5910, recall 0.7640)"
        );
        let bare = Report::new(Metric::OneToOne, 1.0, &[]);
        assert_eq!(bare.to_string(), "one-to-one accuracy 1.0000");
    }

    #[test]
    fn evaluate_display_for_each_tagging_metric() {
        let (gold, pred) = ("A A A A B\n", "1 1 2 2 2\n");
        let show = |metric| evaluate(metric, gold, pred).map(|r| r.to_string());
        assert_eq!(
            show(Metric::ManyToOne),
            Ok("many-to-one accuracy 0.8000 (tokens 5)".into())
        );
        assert_eq!(
            show(Metric::OneToOne),
            Ok("one-to-one accuracy 0.6000 (tokens 5)".into())
        );
        assert_eq!(
            show(Metric::VMeasure),
            Ok("V-measure 0.2020 (homogeneity 0.2368, completeness 0.1761, tokens 5)".into())
        );
    }

    // --- Tagging metrics ---------------------------------------------------

    #[test]
    fn perfect_prediction_scores_one() {
        let gold = "NN VBD .\nDT NN\n";
        for metric in TAGGING {
            assert_close(score(metric, gold, gold), 1.0);
        }
    }

    #[test]
    fn relabelled_prediction_scores_one() {
        let gold = "NN VBD . NN\nDT NN VBD\n";
        let pred = "3 17 5 3\n9 3 17\n";
        for metric in TAGGING {
            assert_close(score(metric, gold, pred), 1.0);
        }
        let report = evaluate(Metric::VMeasure, gold, pred).unwrap();
        assert_close(detail(&report, HOMOGENEITY), 1.0);
        assert_close(detail(&report, COMPLETENESS), 1.0);
        assert_close(detail(&report, TOKENS), 7.0);
    }

    #[test]
    fn one_to_one_below_many_to_one_when_clusters_split_a_tag() {
        // Clusters 1 and 2 both lean to A: many-to-one maps both to A (4/5),
        // one-to-one must send one of them to B (1 → A, 2 → B: 2 + 1 = 3/5).
        let (gold, pred) = ("A A A A B", "1 1 2 2 2");
        assert_close(score(Metric::ManyToOne, gold, pred), 0.8);
        assert_close(score(Metric::OneToOne, gold, pred), 0.6);
    }

    #[test]
    fn one_to_one_beats_greedy_assignment() {
        // Greedy takes the largest cell (1, A) = 3 and is left with (2, B) = 0;
        // the optimum is 1 → B (2) plus 2 → A (3) = 5 of 8 tokens.
        let gold = "A A A B B\nA A A";
        let pred = "1 1 1 1 1\n2 2 2";
        assert_close(score(Metric::OneToOne, gold, pred), 5.0 / 8.0);
        assert_close(score(Metric::ManyToOne, gold, pred), 6.0 / 8.0);
    }

    #[test]
    fn one_to_one_with_more_clusters_than_tags() {
        // Gold has 2 tags, pred 3 clusters: one cluster stays unmatched.
        let (gold, pred) = ("A A B B B C", "1 2 3 3 2 2");
        // Table (rows 1,2,3; columns A,B,C): [1 0 0], [1 1 1], [0 2 0].
        // Best: 1 → A, 3 → B, 2 → C = 1 + 2 + 1.
        assert_close(score(Metric::OneToOne, gold, pred), 4.0 / 6.0);
        let (gold, pred) = ("A A B B C", "1 1 2 2 2");
        assert_close(score(Metric::OneToOne, gold, pred), 4.0 / 5.0);
        let (gold, pred) = ("A B C D", "1 2 2 2");
        assert_close(score(Metric::OneToOne, gold, pred), 2.0 / 4.0);
    }

    #[test]
    fn many_to_one_breaks_ties_towards_smallest_gold_label() {
        let table = Contingency::from_text("VB NN DT DT", "7 7 7 7").unwrap();
        assert_eq!(table.many_to_one_mapping().get("7"), Some(&("DT", 2)));
        let table = Contingency::from_text("VB NN JJ", "7 7 7").unwrap();
        assert_eq!(table.many_to_one_mapping().get("7"), Some(&("JJ", 1)));
    }

    #[test]
    fn v_measure_matches_hand_computation() {
        // C = {A: 4, B: 1}, K = {1: {A, A}, 2: {A, A, B}}, N = 5.
        let ln = f64::ln;
        let h_c = -(0.8 * ln(0.8) + 0.2 * ln(0.2));
        let h_c_given_k = -(0.4 * ln(2.0 / 3.0) + 0.2 * ln(1.0 / 3.0));
        let h_k = -(0.4 * ln(0.4) + 0.6 * ln(0.6));
        let h_k_given_c = -(0.8 * ln(0.5));
        let h = 1.0 - h_c_given_k / h_c;
        let c = 1.0 - h_k_given_c / h_k;
        let report = evaluate(Metric::VMeasure, "A A A A B", "1 1 2 2 2").unwrap();
        assert_close(detail(&report, HOMOGENEITY), h);
        assert_close(detail(&report, COMPLETENESS), c);
        assert_close(report.value, 2.0 * h * c / (h + c));
    }

    #[test]
    fn v_measure_matches_sklearn() {
        // labels_true = gold tokens, labels_pred = pred tokens, flattened.
        let gold = "DT NN VBD DT JJ NN .\nNN VBZ JJ .\nDT NN VBD .";
        let pred = "1 2 3 1 2 2 4\n2 3 2 4\n1 5 3 4";
        let report = evaluate(Metric::VMeasure, gold, pred).unwrap();
        assert!((detail(&report, HOMOGENEITY) - SKLEARN_H).abs() < 1e-9);
        assert!((detail(&report, COMPLETENESS) - SKLEARN_C).abs() < 1e-9);
        assert!((report.value - SKLEARN_V).abs() < 1e-9);
    }
    // Values from scikit-learn 1.x `homogeneity_completeness_v_measure`.
    const SKLEARN_H: f64 = 0.7948529188002441;
    const SKLEARN_C: f64 = 0.9008491872641626;
    const SKLEARN_V: f64 = 0.8445382043637685;

    #[test]
    fn v_measure_conventions_for_zero_entropy() {
        // One gold class: h = 1 by convention; clusters carry no class
        // information, so c = 0 and V = 0.
        let report = evaluate(Metric::VMeasure, "A A", "1 2").unwrap();
        assert_close(detail(&report, HOMOGENEITY), 1.0);
        assert_close(detail(&report, COMPLETENESS), 0.0);
        assert_close(report.value, 0.0);
        // One class and one cluster: both conventions give 1.
        assert_close(score(Metric::VMeasure, "A A A", "5 5 5"), 1.0);
    }

    #[test]
    fn v_measure_is_zero_for_independent_labels() {
        // h + c = 0 must give 0, not NaN.
        let report = evaluate(Metric::VMeasure, "A A B B", "1 2 1 2").unwrap();
        assert_close(detail(&report, HOMOGENEITY), 0.0);
        assert_close(detail(&report, COMPLETENESS), 0.0);
        assert_eq!(report.value, 0.0);
    }

    #[test]
    fn trailing_newlines_and_blank_sentences_are_accepted() {
        let gold = "A B\n\nB A\n";
        for pred in ["1 2\n\n2 1", "1 2\n\n2 1\n", "1 2\n\n2 1\n\n\n"] {
            for metric in TAGGING {
                assert_close(score(metric, gold, pred), 1.0);
            }
        }
        let crlf = evaluate(Metric::ManyToOne, "A B\r\nB A\r\n", "1 2\n2 1\n").unwrap();
        assert_close(detail(&crlf, TOKENS), 4.0);
    }

    #[test]
    fn line_count_mismatch_names_both_counts() {
        let error = evaluate(Metric::ManyToOne, "A\nB\nC\n", "1\n2\n").unwrap_err();
        assert_eq!(error, EvalError::LineCountMismatch { gold: 3, pred: 2 });
        assert_eq!(
            error.to_string(),
            "gold has 3 lines but pred has 2; they must correspond one sentence per line"
        );
    }

    #[test]
    fn token_count_mismatch_names_the_line() {
        for metric in TAGGING {
            let error = evaluate(metric, "A B\nA B C\n", "1 2\n1 2\n").unwrap_err();
            assert_eq!(
                error,
                EvalError::TokenCountMismatch {
                    line: 2,
                    gold: 3,
                    pred: 2
                }
            );
            assert_eq!(error.to_string(), "line 2 has 3 gold tags but 2 predicted");
        }
        // A blank line facing a non-blank one is a mismatch too.
        let error = evaluate(Metric::OneToOne, "A\n\nB", "1\n2\nB").unwrap_err();
        assert_eq!(
            error,
            EvalError::TokenCountMismatch {
                line: 2,
                gold: 0,
                pred: 1
            }
        );
    }

    #[test]
    fn empty_tagging_input_is_an_error() {
        for (gold, pred) in [("", ""), ("\n\n", "\n"), ("  \n", "")] {
            for metric in TAGGING {
                let error = evaluate(metric, gold, pred).unwrap_err();
                assert_eq!(
                    error,
                    EvalError::EmptyInput("gold and pred contain no tokens")
                );
                assert_eq!(
                    error.to_string(),
                    "empty input: gold and pred contain no tokens"
                );
            }
        }
    }

    // --- Hungarian algorithm -------------------------------------------------

    /// Best matching weight by trying every assignment of rows to distinct
    /// columns (padding with "unmatched" so rectangular cases work).
    fn brute_force_matching(weights: &[Vec<u64>]) -> u64 {
        fn search(weights: &[Vec<u64>], row: usize, used: &mut Vec<bool>) -> u64 {
            let Some(current) = weights.get(row) else {
                return 0;
            };
            let mut best = search(weights, row + 1, used);
            for (column, &weight) in current.iter().enumerate() {
                if !used[column] {
                    used[column] = true;
                    best = best.max(weight + search(weights, row + 1, used));
                    used[column] = false;
                }
            }
            best
        }
        let columns = weights.first().map_or(0, Vec::len);
        search(weights, 0, &mut vec![false; columns])
    }

    #[test]
    fn hungarian_matches_brute_force_on_random_matrices() {
        // A small linear congruential generator keeps the test dependency-free.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % bound
        };
        for _ in 0..300 {
            let rows = 1 + next(6) as usize;
            let columns = 1 + next(6) as usize;
            let weights: Vec<Vec<u64>> = (0..rows)
                .map(|_| (0..columns).map(|_| next(20)).collect())
                .collect();
            assert_eq!(
                max_weight_matching(&weights),
                brute_force_matching(&weights),
                "{weights:?}"
            );
        }
    }

    #[test]
    fn hungarian_assignment_is_a_permutation_with_minimum_cost() {
        let cost = vec![vec![4, 1, 3], vec![2, 0, 5], vec![3, 2, 2]];
        // Optimum: row 0 → 1, row 1 → 0, row 2 → 2 (1 + 2 + 2 = 5).
        assert_eq!(min_cost_assignment(&cost), vec![1, 0, 2]);
        assert_eq!(min_cost_assignment(&[]), Vec::<usize>::new());
        assert_eq!(max_weight_matching(&[]), 0);
    }

    // --- AER -----------------------------------------------------------------

    /// S = {1:1-1, 1:3-3, 2:1-2}, P = S ∪ {1:2-2}, written `sentence:e-f`.
    const GOLD_WA: &str = "1 1 1 S\n1 2 2 P\n1 3 3 S\n2 1 2 S\n";

    #[test]
    fn aer_is_zero_for_sure_links_and_for_all_possible_links() {
        for pred in [
            "1-1 3-3\n1-2\n",
            "1-1 2-2 3-3\n1-2\n",
            "1 0 3\n0 1\n",
            "1 2 3\n0 1",
        ] {
            let report = evaluate(Metric::Aer, GOLD_WA, pred).unwrap();
            assert_close(report.value, 0.0);
            assert_close(detail(&report, PRECISION), 1.0);
            assert_close(detail(&report, RECALL), 1.0);
        }
    }

    #[test]
    fn aer_matches_hand_computation_in_both_formats() {
        // A = {1:1-1, 1:2-2, 1:2-3, 2:2-1}: |A∩S| = 1, |A∩P| = 2, |A| = 4,
        // |S| = 3, so AER = 1 - 3/7, precision 2/4, recall 1/3.
        let links = evaluate(Metric::Aer, GOLD_WA, "1-1 2-2 2-3\n2-1\n").unwrap();
        let positions = evaluate(Metric::Aer, GOLD_WA, "1 2 2\n2 0\n").unwrap();
        assert_eq!(links, positions);
        assert_close(links.value, 4.0 / 7.0);
        assert_close(detail(&links, PRECISION), 0.5);
        assert_close(detail(&links, RECALL), 1.0 / 3.0);
        assert_eq!(
            links.to_string(),
            "AER 0.5714 (precision 0.5000, recall 0.3333)"
        );
    }

    #[test]
    fn aer_formats_may_differ_between_lines() {
        let mixed = evaluate(Metric::Aer, GOLD_WA, "1 2 2\n2-1\n").unwrap();
        assert_close(mixed.value, 4.0 / 7.0);
    }

    #[test]
    fn aer_counts_duplicate_predicted_links_once() {
        let report = evaluate(Metric::Aer, GOLD_WA, "1-1 1-1 3-3\n1-2 1-2\n").unwrap();
        assert_close(report.value, 0.0);
    }

    #[test]
    fn aer_gold_variants() {
        // Missing type means S; a confidence column and NULL (0) links are
        // ignored; blank lines are skipped; duplicate S/P marks keep S.
        let gold = "1 1 1\n\n1 2 2 P 0.8\n1 0 3 S\n1 3 0 P\n2 1 2 s\n2 1 2 P\n";
        let report = evaluate(Metric::Aer, gold, "1-1 2-2\n1-2\n").unwrap();
        assert_close(report.value, 0.0);
        // Sentence 2 exists only through a NULL link but still needs a pred line.
        let error = evaluate(Metric::Aer, "1 1 1 S\n2 0 1 S\n", "1-1\n").unwrap_err();
        assert_eq!(
            error,
            EvalError::MissingPredSentence {
                sentence: 2,
                pred_lines: 1
            }
        );
    }

    #[test]
    fn aer_ignores_pred_lines_beyond_the_gold_sentences() {
        let report = evaluate(Metric::Aer, GOLD_WA, "1-1 3-3\n1-2\n7-7 junk\n").unwrap();
        assert_close(report.value, 0.0);
    }

    #[test]
    fn aer_counts_links_in_sentences_without_gold_links() {
        // Sentence 2 has no gold links, but its predicted link is still wrong.
        let report = evaluate(Metric::Aer, "1 1 1 S\n3 1 1 S\n", "1-1\n1-1\n1-1\n").unwrap();
        assert_close(report.value, 1.0 - 4.0 / 5.0);
        assert_close(detail(&report, PRECISION), 2.0 / 3.0);
        assert_close(detail(&report, RECALL), 1.0);
    }

    #[test]
    fn aer_with_no_predicted_links() {
        let report = evaluate(Metric::Aer, GOLD_WA, "\n0 0\n").unwrap();
        assert_close(report.value, 1.0);
        assert_close(detail(&report, PRECISION), 0.0);
        assert_close(detail(&report, RECALL), 0.0);
    }

    #[test]
    fn aer_undefined_without_sure_or_predicted_links() {
        let error = evaluate(Metric::Aer, "1 1 1 P\n", "\n").unwrap_err();
        assert_eq!(
            error,
            EvalError::EmptyInput(
                "gold has no sure links and pred has no links, so AER is undefined"
            )
        );
    }

    #[test]
    fn aer_empty_gold_is_an_error() {
        for gold in ["", "\n \n"] {
            let error = evaluate(Metric::Aer, gold, "1-1\n").unwrap_err();
            assert_eq!(error, EvalError::EmptyInput("gold alignment has no links"));
        }
    }

    #[test]
    fn aer_missing_pred_sentence_is_an_error() {
        let error = evaluate(Metric::Aer, GOLD_WA, "1-1\n").unwrap_err();
        assert_eq!(
            error,
            EvalError::MissingPredSentence {
                sentence: 2,
                pred_lines: 1
            }
        );
        assert_eq!(
            error.to_string(),
            "gold has links for sentence 2 but pred has only 1 lines (one per sentence)"
        );
        assert!(evaluate(Metric::Aer, GOLD_WA, "").is_err());
    }

    #[test]
    fn aer_malformed_link_names_line_and_token() {
        for token in ["3-x", "x-3", "3-", "-3", "3-4-5", "0-1", "1-0", "3--4"] {
            let pred = format!("1-1\n2-1 {token}\n");
            let error = evaluate(Metric::Aer, GOLD_WA, &pred).unwrap_err();
            assert_eq!(
                error,
                EvalError::MalformedLink {
                    line: 2,
                    token: token.to_string()
                }
            );
        }
        let error = evaluate(Metric::Aer, GOLD_WA, "1-1\n3-x\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "malformed alignment link \"3-x\" on line 2 of pred: expected `e-f` with 1-based English and French positions"
        );
    }

    #[test]
    fn aer_malformed_token_names_line_and_token() {
        for token in ["x", "1.5", "S", "١"] {
            let pred = format!("1 {token}\n2\n");
            let error = evaluate(Metric::Aer, GOLD_WA, &pred).unwrap_err();
            assert_eq!(
                error,
                EvalError::MalformedToken {
                    line: 1,
                    token: token.to_string()
                }
            );
        }
        let error = evaluate(Metric::Aer, GOLD_WA, "1-1 x\n2\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "malformed token \"x\" on line 1 of pred: expected an `e-f` link or an English position (0 = NULL)"
        );
    }

    #[test]
    fn aer_mixed_formats_within_a_line_is_an_error() {
        let error = evaluate(Metric::Aer, GOLD_WA, "1-1\n2-1 2\n").unwrap_err();
        assert_eq!(error, EvalError::MixedFormats { line: 2 });
        assert_eq!(
            error.to_string(),
            "line 2 of pred mixes `e-f` links with plain English positions; use one format per line"
        );
    }

    #[test]
    fn aer_malformed_gold_lines() {
        let cases = [
            ("1 1", "expected `SENT EN_POS FR_POS S|P`"),
            ("1 1 1 S 0.5 extra", "expected `SENT EN_POS FR_POS S|P`"),
            (
                "1 x 1 S",
                "sentence numbers and positions must be non-negative integers",
            ),
            (
                "1 1 -2 S",
                "sentence numbers and positions must be non-negative integers",
            ),
            ("0 1 1 S", "sentence numbers are 1-based"),
            ("1 1 1 Q", "link type must be S or P"),
        ];
        for (bad, reason) in cases {
            let gold = format!("1 1 1 S\n\n{bad}\n");
            let error = evaluate(Metric::Aer, &gold, "1-1\n").unwrap_err();
            assert_eq!(
                error,
                EvalError::MalformedGoldLine {
                    line: 3,
                    text: bad.to_string(),
                    reason
                }
            );
        }
        let error = evaluate(Metric::Aer, "1 1 1 Q\n", "1-1\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "malformed gold alignment on line 1: \"1 1 1 Q\" (link type must be S or P)"
        );
    }

    #[test]
    fn no_input_panics() {
        // Arbitrary junk must come back as Ok or Err, never a panic.
        let samples = [
            "",
            "\n",
            "-",
            "--",
            "0",
            "1 1 1",
            "1-1",
            "\u{0}",
            "9999999999999999999999 1 1 S",
            "é ü\n\t\r\n",
        ];
        for metric in Metric::ALL {
            for gold in samples {
                for pred in samples {
                    let _ = evaluate(metric, gold, pred);
                }
            }
        }
    }
}
