use super::tagging::{max_weight_matching, min_cost_assignment, Contingency};
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
        "unknown metric \"f1\"; valid metrics are many-to-one, one-to-one, v-measure, aer, segmentation, attachment"
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
        EvalError::EmptyInput("gold has no sure links and pred has no links, so AER is undefined")
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
