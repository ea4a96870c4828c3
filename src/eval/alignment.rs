//! The alignment error rate of predicted word alignments against a WPT-2003 gold standard.

use std::collections::BTreeSet;

use super::{EvalError, Metric, Report, PRECISION, RECALL};

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
pub(super) fn alignment_error_rate(gold: &str, pred: &str) -> Result<Report, EvalError> {
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
