//! Segmentation and attachment metrics on hand-worked examples, and their errors.

use super::attachment::{self, AttachmentCounts, UNDIRECTED};
use super::segmentation::{self, Counts, SegmentationCounts, BOUNDARY_F1, LEXICON_F1};
use super::*;

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "expected {expected}, got {actual}"
    );
}

fn detail(report: &Report, name: &str) -> f64 {
    report
        .details
        .iter()
        .find(|(n, _)| n == name)
        .map(|&(_, value)| value)
        .unwrap_or_else(|| panic!("no detail {name} in {report:?}"))
}

// --- Segmentation ------------------------------------------------------

/// Gold `the|dog` and `a|cat|sat`; pred `th|edog` and `acat|sat`.
const SEG_GOLD: &str = "the dog\na cat sat\n";
const SEG_PRED: &str = "th edog\nacat sat\n";

#[test]
fn segmentation_counts_by_hand() {
    // Tokens: line 1 gold spans [0,3) [3,6), pred [0,2) [2,6): none right;
    // line 2 gold [0,1) [1,4) [4,7), pred [0,4) [4,7): `sat` right.
    // Boundaries (internal): line 1 gold {3}, pred {2}; line 2 gold {1,4}, pred {4}.
    // Lexicon: gold {the, dog, a, cat, sat}, pred {th, edog, acat, sat}.
    let counts = segmentation::count(SEG_GOLD, SEG_PRED).unwrap();
    assert_eq!(
        counts,
        SegmentationCounts {
            tokens: Counts {
                correct: 1,
                predicted: 4,
                gold: 5
            },
            boundaries: Counts {
                correct: 1,
                predicted: 2,
                gold: 3
            },
            lexicon: Counts {
                correct: 1,
                predicted: 4,
                gold: 5
            },
        }
    );
}

#[test]
fn segmentation_scores_by_hand() {
    let report = evaluate(Metric::Segmentation, SEG_GOLD, SEG_PRED).unwrap();
    // Token P 1/4, R 1/5, F 2(1/20)/(9/20) = 2/9.
    assert_close(report.value, 2.0 / 9.0);
    // Boundary P 1/2, R 1/3, F 2(1/6)/(5/6) = 2/5.
    assert_close(detail(&report, BOUNDARY_F1), 0.4);
    assert_close(detail(&report, LEXICON_F1), 2.0 / 9.0);
    assert_eq!(
        report.to_string(),
        "token F1 0.2222 (token precision 0.2500, token recall 0.2000, \
         boundary precision 0.5000, boundary recall 0.3333, boundary F1 0.4000, \
         lexicon precision 0.2500, lexicon recall 0.2000, lexicon F1 0.2222)"
    );
}

#[test]
fn segmentation_identity_is_perfect_and_types_are_counted_once() {
    let gold = "yu want tu\nyu want\n";
    let report = evaluate(Metric::Segmentation, gold, gold).unwrap();
    assert_close(report.value, 1.0);
    for (_, value) in &report.details {
        assert_close(*value, 1.0);
    }
    let counts = segmentation::count(gold, gold).unwrap();
    assert_eq!(counts.lexicon.gold, 3, "yu and want occur twice");
    assert_eq!(counts.boundaries.gold, 3);
}

#[test]
fn segmentation_without_predicted_boundaries_scores_zero_boundary_precision() {
    // Whole utterances as words: no internal boundary predicted, so boundary
    // precision is 0 (empty denominator) and recall 0; one-word utterances
    // still count as tokens.
    let report = evaluate(Metric::Segmentation, "a b\nc\n", "ab\nc\n").unwrap();
    assert_close(detail(&report, "boundary precision"), 0.0);
    assert_close(detail(&report, "boundary recall"), 0.0);
    assert_close(detail(&report, BOUNDARY_F1), 0.0);
    // Tokens: `c` right of 2 predicted and 3 gold: P 1/2, R 1/3, F 2/5.
    assert_close(report.value, 0.4);
}

#[test]
fn segmentation_counts_characters_not_bytes() {
    // `é` is two bytes; spans in bytes would still agree here, but the
    // boundary after `éa` must be at character 2 in both files.
    let counts = segmentation::count("éa b\n", "éa b\n").unwrap();
    assert_eq!(counts.boundaries.correct, 1);
    let report = evaluate(Metric::Segmentation, "é ab\n", "éa b\n").unwrap();
    assert_close(report.value, 0.0);
}

#[test]
fn segmentation_errors_are_located() {
    assert_eq!(
        evaluate(Metric::Segmentation, "the dog\nyu\n", "th edog\nyu want\n"),
        Err(EvalError::SegmentedTextMismatch {
            line: 2,
            position: 3,
            gold: "yu".to_string(),
            pred: "yuwant".to_string(),
        })
    );
    let error = evaluate(Metric::Segmentation, "the dog\n", "the dig\n").unwrap_err();
    assert_eq!(
        error.to_string(),
        "line 1: gold and pred differ once spaces are removed, from character 5: \
         gold \"thedog\", pred \"thedig\"; a segmentation may only move word boundaries"
    );
    assert_eq!(
        evaluate(Metric::Segmentation, "a b\nc\n", "ab\n"),
        Err(EvalError::LineCountMismatch { gold: 2, pred: 1 })
    );
    assert_eq!(
        evaluate(Metric::Segmentation, "\n", ""),
        Err(EvalError::EmptyInput("gold contains no words"))
    );
}

// --- Attachment --------------------------------------------------------

/// Sentence 1: gold 1<-2, 2 root, 3<-2; pred 1 root, 2<-1, 3<-2.
/// Sentence 2: one token, root in both.
const HEADS_GOLD: &str = "2 0 2\n0\n";
const HEADS_PRED: &str = "0 1 2\n0\n";

const CONLLU_GOLD: &str = "# sent_id = 1
# text = the dog's bone
1\tthe\tthe\tDET\tDT\t_\t2\tdet\t_\t_
2-3\tdog's\t_\t_\t_\t_\t_\t_\t_\t_
2\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_
3\t's\t's\tPART\tPOS\t_\t2\tcase\t_\t_

# sent_id = 2
1\tyes\tyes\tINTJ\tUH\t_\t0\troot\t_\t_
1.1\tempty\t_\t_\t_\t_\t_\t_\t_\t_
";

#[test]
fn attachment_by_hand() {
    // Token 1: pred root, gold 2: wrong both ways (a root arc has no reverse).
    // Token 2: pred 1, gold root: wrong directed, but gold has 1<-2, the reverse.
    // Token 3: pred 2, gold 2: right. Sentence 2: right.
    assert_eq!(
        attachment::count(HEADS_GOLD, HEADS_PRED).unwrap(),
        AttachmentCounts {
            directed: 2,
            undirected: 3,
            tokens: 4
        }
    );
    let report = evaluate(Metric::Attachment, HEADS_GOLD, HEADS_PRED).unwrap();
    assert_close(report.value, 0.5);
    assert_close(detail(&report, UNDIRECTED), 0.75);
    assert_eq!(
        report.to_string(),
        "directed accuracy 0.5000 (undirected accuracy 0.7500, tokens 4)"
    );
}

#[test]
fn attachment_reads_conllu_gold() {
    assert!(attachment::is_conllu(CONLLU_GOLD));
    assert!(!attachment::is_conllu(HEADS_GOLD));
    // Ranges and empty nodes are skipped, so the gold heads are those of HEADS_GOLD.
    assert_eq!(
        attachment::count(CONLLU_GOLD, HEADS_PRED).unwrap(),
        attachment::count(HEADS_GOLD, HEADS_PRED).unwrap()
    );
}

#[test]
fn attachment_length_mismatch_names_both_lines() {
    let error = evaluate(Metric::Attachment, HEADS_GOLD, "0 1 2\n0 1\n").unwrap_err();
    assert_eq!(
        error,
        EvalError::HeadCountMismatch {
            pred_line: 2,
            gold_line: 2,
            gold: 1,
            pred: 2
        }
    );
    // In CoNLL-U the gold line is where the sentence's first token is.
    assert_eq!(
        evaluate(Metric::Attachment, CONLLU_GOLD, "0 1 2\n0 1\n"),
        Err(EvalError::HeadCountMismatch {
            pred_line: 2,
            gold_line: 9,
            gold: 1,
            pred: 2
        })
    );
    assert_eq!(
        evaluate(Metric::Attachment, HEADS_GOLD, "0 1 2\n"),
        Err(EvalError::SentenceCountMismatch { gold: 2, pred: 1 })
    );
}

#[test]
fn attachment_rejects_malformed_heads() {
    let malformed = |gold: &str, pred: &str| match evaluate(Metric::Attachment, gold, pred) {
        Err(EvalError::MalformedHead {
            file, line, token, ..
        }) => (file, line, token),
        other => panic!("expected a malformed head, got {other:?}"),
    };
    assert_eq!(
        malformed(HEADS_GOLD, "0 1 2\nx\n"),
        ("pred", 2, "x".to_string())
    );
    assert_eq!(
        malformed(HEADS_GOLD, "0 1 4\n0\n"),
        ("pred", 1, "4".to_string())
    );
    assert_eq!(
        malformed(HEADS_GOLD, "1 0 2\n0\n"),
        ("pred", 1, "1".to_string())
    );
    assert_eq!(
        malformed("2 0 -1\n", "0 1 2\n"),
        ("gold", 1, "-1".to_string())
    );
    assert_eq!(
        malformed("1\tthe\tthe\tDET\tDT\t_\t0\tdet\t_\n", "0\n").0,
        "gold"
    );
    assert_eq!(
        malformed("1\tthe\tthe\tDET\tDT\t_\t_\tdet\t_\t_\n", "0\n"),
        ("gold", 1, "_".to_string())
    );
    assert_eq!(
        evaluate(Metric::Attachment, "\n", "\n"),
        Err(EvalError::EmptyInput("gold contains no tokens"))
    );
}
