//! `emc score` and `emc select` end to end: scikit-learn's figures on Gaussian mixtures,
//! hand-computed categorical models, the trace's log-likelihood on every kind of kernel, the
//! free-parameter counts, the errors, and a selection that finds the true number of
//! components.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn emc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("emc runs")
}

fn ok(args: &[&str]) -> String {
    let out = emc(args);
    assert!(
        out.status.success(),
        "emc {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    common::scratch("score", name)
}

/// The number after `key` in `emc score`'s summary (`bic          2333.72...  (...)`).
fn field(summary: &str, key: &str) -> f64 {
    let line = summary
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no `{key}` in\n{summary}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

/// scikit-learn 1.9.1's `GaussianMixture` set to the parameters in each params.json (no
/// fitting) and scored on the data: `score` (mean per sample), `bic`, `aic`, and its
/// `_n_parameters()`; computed once by `scripts/crosscheck/score_gmm.py` (see its top for the
/// command) and copied here. The params files were written by `emc run` on the same data.
const SKLEARN: [(&str, &str, &str, f64, f64, f64, f64); 5] = [
    (
        "tests/score/gmm_full.em",
        "models/gmm_2d.txt",
        "tests/score/gmm_full.params.json",
        -4.114757247473608,
        2333.7265777526745,
        2272.4279426256426,
        17.0,
    ),
    (
        "tests/score/gmm_diagonal.em",
        "models/gmm_2d.txt",
        "tests/score/gmm_diagonal.params.json",
        -4.143409997888619,
        2332.496267779553,
        2282.015038851409,
        14.0,
    ),
    (
        "tests/score/gmm_spherical.em",
        "models/gmm_2d.txt",
        "tests/score/gmm_spherical.params.json",
        -6.073577476002423,
        3365.689969674574,
        3326.026146945318,
        11.0,
    ),
    (
        "tests/score/gmm_tied.em",
        "models/gmm_2d.txt",
        "tests/score/gmm_tied.params.json",
        -4.191468125423858,
        2341.822482959835,
        2302.158660230579,
        11.0,
    ),
    (
        "models/old_faithful.em",
        "models/old_faithful.txt",
        "tests/score/old_faithful.params.json",
        -3.8014770601404706,
        2090.4267289816,
        2076.003520716416,
        4.0,
    ),
];

#[test]
fn gaussian_mixtures_score_as_scikit_learn_scores_them() {
    for (model, data, params, mean, bic, aic, k) in SKLEARN {
        let s = ok(&["score", model, data, "--params", params, "--bic", "--aic"]);
        // scikit-learn's score is per sample; emc's total is n times it (n = 272 here).
        close(field(&s, "per-sample"), mean, 1e-12, model);
        close(field(&s, "log-lik"), mean * 272.0, 1e-12, model);
        close(field(&s, "bic"), bic, 1e-12, model);
        close(field(&s, "aic"), aic, 1e-12, model);
        assert_eq!(field(&s, "parameters"), k, "{model}");
    }
}

/// Do & Batzoglou's two coins at their initial values (choice fixed at 1/2; toss A = 0.6 H,
/// B = 0.5 H): each line is 1/2 0.6^h 0.4^t + 1/2 0.5^10. Only toss's two rows are free, so
/// k = 2, and n = 5 lines.
#[test]
fn two_coins_score_as_computed_by_hand() {
    let dir = scratch("coins");
    let out = dir.to_str().unwrap();
    ok(&[
        "run",
        "models/two_coins.em",
        "models/two_coins.txt",
        "--iterations",
        "0",
        "--out",
        out,
        "-q",
    ]);
    let params = dir.join("params.json");
    let p = params.to_str().unwrap();
    let heads = [5, 9, 8, 4, 7];
    let lines: Vec<f64> = heads
        .iter()
        .map(|&h| {
            let t = 10 - h;
            (0.5 * 0.6f64.powi(h) * 0.4f64.powi(t) + 0.5 * 0.5f64.powi(10)).ln()
        })
        .collect();
    let total: f64 = lines.iter().sum();
    let args = [
        "score",
        "models/two_coins.em",
        "models/two_coins.txt",
        "--params",
        p,
    ];
    let s = ok(&[&args[..], &["--bic", "--aic"]].concat());
    close(field(&s, "log-lik"), total, 1e-14, "total");
    close(field(&s, "per-sample"), total / 5.0, 1e-14, "per sample");
    close(field(&s, "per-token"), total / 50.0, 1e-14, "per token");
    assert_eq!(field(&s, "parameters"), 2.0);
    close(
        field(&s, "bic"),
        -2.0 * total + 2.0 * 5f64.ln(),
        1e-14,
        "bic",
    );
    close(field(&s, "aic"), -2.0 * total + 4.0, 1e-14, "aic");
    let table = ok(&[&args[..], &["--per-line"]].concat());
    let mut rows = table.lines();
    assert_eq!(rows.next(), Some("line\tlog_likelihood"));
    for (i, (row, want)) in rows.zip(&lines).enumerate() {
        let (line, ll) = row.split_once('\t').unwrap();
        assert_eq!(line, (i + 1).to_string());
        close(ll.parse().unwrap(), *want, 1e-14, row);
    }
    // The 0-iteration run's trace holds the initial parameters' log-likelihood.
    let trace = std::fs::read_to_string(dir.join("trace.tsv")).unwrap();
    assert_eq!(last_trace(&trace), field(&s, "log-lik").to_string());
}

/// A unigram model whose vocabulary keeps words seen twice and maps the rest, and new words
/// when scoring, to `<unk>`: trained on `a a b` and `a c d` it has p(a) = p(<unk>) = 1/2, so
/// the held-out `a z` scores log(1/4) (z becomes `<unk>`), and a vocabulary without
/// `unknown` refuses z naming its line and column.
#[test]
fn new_words_become_the_unknown_word_or_a_located_error() {
    let dir = scratch("unk");
    let model = dir.join("unigram.em");
    let text = "domain Word = vocabulary(words, unknown = \"<unk>\", min_count = 2)\n\
                data words : [Word]\nparam w : Categorical(Word)\n\
                model {\n for i in 0..len(words): words[i] ~ w\n}\n";
    std::fs::write(&model, text).unwrap();
    let train = dir.join("train.txt");
    std::fs::write(&train, "a a b\na c d\n").unwrap();
    let held = dir.join("held.txt");
    std::fs::write(&held, "a z\n").unwrap();
    let out = dir.join("out");
    let [m, t, h, o] = [&model, &train, &held, &out].map(|p| p.to_str().unwrap().to_string());
    ok(&["run", &m, &t, "--iterations", "1", "--out", &o, "-q"]);
    let params = out.join("params.json");
    let p = params.to_str().unwrap();
    let s = ok(&["score", &m, &h, "--params", p, "--bic"]);
    close(field(&s, "log-lik"), 0.25f64.ln(), 1e-14, "a <unk>");
    // One row of two outcomes (a, <unk>): one free parameter.
    assert_eq!(field(&s, "parameters"), 1.0);

    let closed = dir.join("closed.em");
    std::fs::write(
        &closed,
        text.replace(", unknown = \"<unk>\", min_count = 2", ""),
    )
    .unwrap();
    let c = closed.to_str().unwrap();
    let out2 = dir.join("out2");
    let o2 = out2.to_str().unwrap();
    ok(&["run", c, &t, "--iterations", "1", "--out", o2, "-q"]);
    let p2 = out2.join("params.json");
    let refused = emc(&["score", c, &h, "--params", p2.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("`z` on line 1 is not a symbol of `Word`"),
        "{err}"
    );
    assert!(err.contains("held.txt:1:3"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("unknown = \"<unk>\""),
        "{err}"
    );
}

/// The ABO blood groups' lines are weighted (186 A, 38 B, 13 AB, 284 O): n is the 521 people,
/// not the 4 lines, and the allele frequencies (3 outcomes) are the 2 free parameters.
#[test]
fn weighted_lines_count_as_their_weights() {
    let dir = scratch("abo");
    let out = dir.to_str().unwrap();
    ok(&["run", "models/abo.em", "models/abo.txt", "--out", out, "-q"]);
    let params = dir.join("params.json");
    let p = params.to_str().unwrap();
    let s = ok(&[
        "score",
        "models/abo.em",
        "models/abo.txt",
        "--params",
        p,
        "--bic",
    ]);
    let total = field(&s, "log-lik");
    close(field(&s, "per-sample"), total / 521.0, 1e-15, "per sample");
    assert_eq!(field(&s, "parameters"), 2.0);
    close(
        field(&s, "bic"),
        -2.0 * total + 2.0 * 521f64.ln(),
        1e-15,
        "bic",
    );
}

/// The last log-likelihood of a trace.tsv, as written.
fn last_trace(trace: &str) -> String {
    let last = trace.lines().last().expect("a trace line");
    last.split('\t').nth(1).unwrap().to_string()
}

/// Scoring the training data with a run's params.json gives the log-likelihood that ends the
/// run's trace (the trace's iteration t is the parameters after t M-steps, and the run writes
/// the parameters whose log-likelihood ends it), through every kind of kernel: mixtures and
/// alignments (independent), chains, Gaussian chains, junction trees, hypergraphs (with
/// `within` and substrings), weighted lines, Logistic families. The lines' own
/// log-likelihoods, by the engines, sum to it.
#[test]
fn score_is_the_traces_last_log_likelihood() {
    let cases: [(&str, &str, &[&str], f64); 12] = [
        ("two_coins", "two_coins", &["--iterations", "3"], 0.0),
        ("abo", "abo", &["--iterations", "3"], 0.0),
        ("ibm1_koehn", "ibm1_koehn", &["--iterations", "2"], 0.0),
        ("latent_class", "latent_class", &["--iterations", "2"], 0.0),
        ("hmm", "hmm", &["--iterations", "2"], 0.0),
        (
            "factorial_hmm",
            "factorial_hmm",
            &["--iterations", "2"],
            0.0,
        ),
        ("hmm_recursive", "hmm", &["--iterations", "1"], 0.0),
        ("segmentation", "segmentation", &["--iterations", "2"], 0.0),
        ("ibm2", "hmm_aligner", &["--iterations", "1"], 0.0),
        ("pos_fhmm", "pos_fhmm", &["--iterations", "1"], 0.0),
        // A Gaussian row goes through params.json as its covariance and is factorised again
        // when read, so the last bits may move.
        ("gmm_2d", "gmm_2d", &[], 1e-13),
        (
            "gaussian_hmm",
            "gaussian_hmm",
            &["--iterations", "2"],
            1e-13,
        ),
    ];
    for (name, data, extra, rel) in cases {
        let dir = scratch(&format!("trace-{name}"));
        let model = format!("models/{name}.em");
        let data = format!("models/{data}.txt");
        let out = dir.to_str().unwrap();
        let mut run = vec!["run", &model, &data, "--out", out, "-q", "--tolerance", "0"];
        if extra.is_empty() {
            run.truncate(6); // the model's own settings: to convergence
        }
        run.extend_from_slice(extra);
        ok(&run);
        let trace = last_trace(&std::fs::read_to_string(dir.join("trace.tsv")).unwrap());
        let params = dir.join("params.json");
        let p = params.to_str().unwrap();
        let s = ok(&["score", &model, &data, "--params", p]);
        let total = field(&s, "log-lik");
        if rel == 0.0 {
            assert_eq!(total.to_string(), trace, "{name}");
        } else {
            close(total, trace.parse().unwrap(), rel, name);
        }
        let lines = emc(&["score", &model, &data, "--params", p, "--per-line"]);
        let table = String::from_utf8(lines.stdout).unwrap();
        let sum: f64 = weighted_sum(&table, &data);
        close(sum, total, 1e-9, &format!("{name}: lines"));
    }
}

/// Each line's log-likelihood times the line's weight (`abo`'s last column), summed.
fn weighted_sum(table: &str, data: &str) -> f64 {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(data)).unwrap();
    let weighted = data.ends_with("abo.txt");
    let weights: Vec<f64> = text
        .lines()
        .map(|l| match weighted {
            true => l.split_whitespace().last().unwrap().parse().unwrap(),
            false => 1.0,
        })
        .collect();
    table
        .lines()
        .skip(1)
        .map(|row| {
            let (line, ll) = row.split_once('\t').unwrap();
            let line: usize = line.parse().unwrap();
            weights[line - 1] * ll.parse::<f64>().unwrap()
        })
        .sum()
}

#[test]
fn refused_inputs_are_located_errors_with_hints() {
    let coins = ["score", "models/two_coins.em", "models/two_coins.txt"];
    let missing = emc(&[&coins[..], &["--params", "tests/score/no_such.json"]].concat());
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("no_such.json: there is no such file"), "{err}");
    assert!(err.contains("hint: give the params.json"), "{err}");

    let other = emc(&[
        &coins[..],
        &["--params", "tests/score/gmm_full.params.json"],
    ]
    .concat());
    assert_eq!(other.status.code(), Some(1));
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("does not match the model: no domain `Coin`"),
        "{err}"
    );
    assert!(
        err.contains("--> tests/score/gmm_full.params.json"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");

    let unknown = emc(&[
        "score",
        "models/ibm1_koehn.em",
        "tests/score/koehn_unknown.txt",
        "--params",
        "tests/score/ibm1_koehn.params.json",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("`Auto` on line 2 is not a symbol of `F`"),
        "{err}"
    );
    assert!(
        err.contains("--> tests/score/koehn_unknown.txt:2:5"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");

    // A sparse table stores only what the training data reached: a held-out line that needs
    // another entry has probability zero, an error at the line rather than a line left out.
    let dir = scratch("sparse");
    let model = dir.join("ibm1.em");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let koehn = std::fs::read_to_string(root.join("models/ibm1_koehn.em")).unwrap();
    let sparse = koehn.replace(
        "Categorical(E | F)",
        "Categorical(E | F) { storage: sparse }",
    );
    std::fs::write(&model, sparse).unwrap();
    let held = dir.join("held.txt");
    std::fs::write(&held, "das Haus ||| the house\nHaus ||| a\n").unwrap();
    let m = model.to_str().unwrap();
    let o = dir.join("out");
    ok(&[
        "run",
        m,
        "models/ibm1_koehn.txt",
        "--out",
        o.to_str().unwrap(),
        "-q",
    ]);
    let p = o.join("params.json");
    let zero = emc(&[
        "score",
        m,
        held.to_str().unwrap(),
        "--params",
        p.to_str().unwrap(),
    ]);
    assert_eq!(zero.status.code(), Some(1));
    let err = String::from_utf8_lossy(&zero.stderr);
    assert!(err.contains("data line 2 has probability zero"), "{err}");
    assert!(err.contains("held.txt:2:1"), "{err}");

    let by = emc(&[
        "select",
        "tests/score/mixture.em",
        "tests/score/mixture.txt",
        "--set",
        "K=2,3",
        "--by",
        "heldout",
    ]);
    assert_eq!(by.status.code(), Some(2));
    let err = String::from_utf8_lossy(&by.stderr);
    assert!(err.contains("`--by heldout` needs held-out data"), "{err}");
    assert!(
        err.contains("hint: give it with `--held-out FILE`"),
        "{err}"
    );
}

/// The table `emc select` prints: (setting, held-out log-likelihood, parameters, BIC, picked).
fn table(text: &str) -> Vec<(String, Option<f64>, usize, f64, bool)> {
    let mut rows = text.lines();
    assert_eq!(
        rows.next(),
        Some("setting\ttrain_log_likelihood\theldout_log_likelihood\tparameters\tbic\taic\tpicked")
    );
    rows.map(|r| {
        let c: Vec<&str> = r.split('\t').collect();
        (
            c[0].to_string(),
            c[2].parse().ok(),
            c[3].parse().unwrap(),
            c[4].parse().unwrap(),
            c[6] == "*",
        )
    })
    .collect()
}

/// Data drawn from a mixture of three well-separated normals (tests/score/mixture.em says
/// how): BIC and the held-out log-likelihood both pick K = 3 among 1..5, and `--out` holds
/// the picked setting's parameters, which score the held-out data as the table says.
#[test]
fn select_finds_the_true_number_of_components() {
    let base = [
        "select",
        "tests/score/mixture.em",
        "tests/score/mixture.txt",
        "--set",
        "K=1,2,3,4,5",
        "-q",
    ];
    let rows = table(&ok(&base));
    let picked: Vec<&str> = rows.iter().filter(|r| r.4).map(|r| &r.0[..]).collect();
    assert_eq!(picked, ["K=3"], "by BIC");
    // A K-component 1-D mixture: K - 1 weights, K means, K variances.
    let ks: Vec<usize> = rows.iter().map(|r| r.2).collect();
    assert_eq!(ks, [2, 5, 8, 11, 14]);
    let lowest = rows.iter().map(|r| r.3).fold(f64::INFINITY, f64::min);
    assert_eq!(rows[2].3, lowest);

    let dir = scratch("select");
    let out = dir.to_str().unwrap();
    let held = [
        &base[..],
        &[
            "--held-out",
            "tests/score/mixture.heldout.txt",
            "--out",
            out,
        ],
    ]
    .concat();
    let rows = table(&ok(&held));
    let picked: Vec<&str> = rows.iter().filter(|r| r.4).map(|r| &r.0[..]).collect();
    assert_eq!(picked, ["K=3"], "by held-out log-likelihood");
    let written = std::fs::read_to_string(dir.join("select.tsv")).unwrap();
    assert_eq!(table(&written), rows);
    let params = dir.join("params.json");
    let s = ok(&[
        "score",
        "tests/score/mixture.em",
        "tests/score/mixture.heldout.txt",
        "--set",
        "K=3",
        "--params",
        params.to_str().unwrap(),
    ]);
    close(field(&s, "log-lik"), rows[2].1.unwrap(), 1e-12, "held-out");
}

/// `emc score --precision` scores as `emc run --precision` trained: the trace's last
/// log-likelihood, to the bit, in single precision as in double.
#[test]
fn score_takes_the_runs_precision() {
    for precision in ["f32", "f64"] {
        let dir = scratch(&format!("precision-{precision}"));
        let (model, data) = ("models/hmm.em", "models/hmm.txt");
        let out = dir.to_str().unwrap();
        ok(&[
            "run",
            model,
            data,
            "--out",
            out,
            "-q",
            "--tolerance",
            "0",
            "--iterations",
            "2",
            "--precision",
            precision,
        ]);
        let trace = last_trace(&std::fs::read_to_string(dir.join("trace.tsv")).unwrap());
        let params = dir.join("params.json");
        let p = params.to_str().unwrap();
        let s = ok(&[
            "score",
            model,
            data,
            "--params",
            p,
            "--precision",
            precision,
        ]);
        assert_eq!(field(&s, "log-lik").to_string(), trace, "{precision}");
    }
}
