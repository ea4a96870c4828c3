//! Dependency attachment accuracy: predicted heads against gold heads, token by token.
//!
//! Pred holds one sentence per line of space-separated 1-based head indices
//! (0 = the root), the CoNLL convention that `emc decode` prints for
//! dependency structures. Gold is either the same format or CoNLL-U, told
//! apart by its tab-separated token lines (see [`is_conllu`]).
//!
//! * **directed** accuracy: the share of tokens whose predicted head is the
//!   gold head;
//! * **undirected** accuracy (Klein & Manning 2004): a token's predicted
//!   attachment also counts when it reverses a gold arc, i.e. the predicted
//!   head's gold head is the token. A root attachment has no reverse, so it
//!   counts only when the token is the gold root.

use super::{sentence_lines, EvalError, Metric, Report, TOKENS};

/// Detail name of the undirected score.
pub(super) const UNDIRECTED: &str = "undirected accuracy";

/// One sentence's heads, and the line of its file where it starts (for errors).
struct Sentence {
    line: usize,
    heads: Vec<usize>,
}

/// Correct attachments under both criteria, over `tokens` tokens.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct AttachmentCounts {
    pub(super) directed: usize,
    pub(super) undirected: usize,
    pub(super) tokens: usize,
}

/// Directed attachment accuracy, with undirected accuracy and the token count.
pub(super) fn attachment(gold: &str, pred: &str) -> Result<Report, EvalError> {
    let counts = count(gold, pred)?;
    let tokens = counts.tokens as f64;
    Ok(Report::new(
        Metric::Attachment,
        counts.directed as f64 / tokens,
        &[
            (UNDIRECTED, counts.undirected as f64 / tokens),
            (TOKENS, tokens),
        ],
    ))
}

pub(super) fn count(gold: &str, pred: &str) -> Result<AttachmentCounts, EvalError> {
    let gold_sentences = if is_conllu(gold) {
        parse_conllu(gold)?
    } else {
        parse_head_lines(gold, "gold")?
    };
    let pred_sentences = parse_head_lines(pred, "pred")?;
    if gold_sentences.len() != pred_sentences.len() {
        return Err(EvalError::SentenceCountMismatch {
            gold: gold_sentences.len(),
            pred: pred_sentences.len(),
        });
    }
    let mut counts = AttachmentCounts::default();
    for (gold, pred) in gold_sentences.iter().zip(&pred_sentences) {
        if gold.heads.len() != pred.heads.len() {
            return Err(EvalError::HeadCountMismatch {
                pred_line: pred.line,
                gold_line: gold.line,
                gold: gold.heads.len(),
                pred: pred.heads.len(),
            });
        }
        for (dependent, (&gold_head, &pred_head)) in gold.heads.iter().zip(&pred.heads).enumerate()
        {
            let position = dependent + 1;
            let directed = gold_head == pred_head;
            // Heads were range-checked while parsing, so `pred_head - 1` indexes gold.
            let reversed = pred_head != 0 && gold.heads[pred_head - 1] == position;
            counts.directed += usize::from(directed);
            counts.undirected += usize::from(directed || reversed);
        }
        counts.tokens += gold.heads.len();
    }
    if counts.tokens == 0 {
        return Err(EvalError::EmptyInput("gold contains no tokens"));
    }
    Ok(counts)
}

/// A file is CoNLL-U when one of its non-comment lines has a tab: head-index
/// lines are space-separated numbers, while every CoNLL-U token line has ten
/// tab-separated columns.
pub(super) fn is_conllu(text: &str) -> bool {
    text.lines()
        .any(|line| !line.starts_with('#') && line.contains('\t'))
}

/// Sentences of space-separated heads, one per line; trailing blank lines do
/// not count, other blank lines are sentences without tokens.
fn parse_head_lines(text: &str, file: &'static str) -> Result<Vec<Sentence>, EvalError> {
    sentence_lines(text)
        .into_iter()
        .enumerate()
        .map(|(index, line)| {
            let line_number = index + 1;
            let heads = line
                .split_whitespace()
                .map(|token| {
                    token
                        .parse::<usize>()
                        .map_err(|_| EvalError::MalformedHead {
                            file,
                            line: line_number,
                            token: token.to_string(),
                            reason: "heads are non-negative integers (1-based positions, 0 = root)",
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            check_heads(file, line_number, &heads)?;
            Ok(Sentence {
                line: line_number,
                heads,
            })
        })
        .collect()
}

/// Every head must be 0 or a position of the sentence other than the token
/// itself: anything else is a 0-based or misaligned file that would score wrong.
fn check_heads(file: &'static str, line: usize, heads: &[usize]) -> Result<(), EvalError> {
    for (index, &head) in heads.iter().enumerate() {
        let reason = if head > heads.len() {
            "the head is past the end of the sentence (heads are 1-based, 0 = root)"
        } else if head == index + 1 {
            "a token cannot be its own head (are the heads 0-based?)"
        } else {
            continue;
        };
        return Err(EvalError::MalformedHead {
            file,
            line,
            token: head.to_string(),
            reason,
        });
    }
    Ok(())
}

/// The HEAD column of CoNLL-U sentences (blank-line separated). Comment
/// lines, multiword-token ranges (`3-4`) and empty nodes (`8.1`) are skipped:
/// heads index the syntactic words only.
fn parse_conllu(text: &str) -> Result<Vec<Sentence>, EvalError> {
    let mut sentences = Vec::new();
    let mut current: Option<Sentence> = None;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            if let Some(sentence) = current.take() {
                check_heads("gold", sentence.line, &sentence.heads)?;
                sentences.push(sentence);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let malformed = |token: &str, reason| EvalError::MalformedHead {
            file: "gold",
            line: line_number,
            token: token.to_string(),
            reason,
        };
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() != 10 {
            return Err(malformed(
                line,
                "a CoNLL-U token line has 10 tab-separated columns",
            ));
        }
        let id = columns[0];
        if id.contains('-') || id.contains('.') {
            continue;
        }
        let head = columns[6]
            .parse::<usize>()
            .map_err(|_| malformed(columns[6], "the HEAD column (7th) must be an integer"))?;
        current
            .get_or_insert_with(|| Sentence {
                line: line_number,
                heads: Vec::new(),
            })
            .heads
            .push(head);
    }
    if let Some(sentence) = current {
        check_heads("gold", sentence.line, &sentence.heads)?;
        sentences.push(sentence);
    }
    Ok(sentences)
}
