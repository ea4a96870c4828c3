//! Structured stories end to end: the recursive HMM against the chain kernel, a small PCFG's
//! hypergraph against brute-force enumeration of its derivations, unigram word segmentation
//! (training, determinism, decoding against the gold), and the per-line limits.

mod common;

use emc::data::Dataset;
use emc::graph::UnrollErrorKind;
use emc::kernel::Kernel;
use emc::model::InitMode;
use emc::params::{initial, Params};
use emc::pipeline::{compile, front_end, Compiled};
use emc::program::Program;
use emc::structured::{execute, Budget};
use emc::train::{Init, ZeroPolicy};
use rand::SeedableRng;

fn random_params(p: &Program, seed: u64) -> Params {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap()
}

fn compiled_text(model: &str, data: &str, threads: usize) -> Compiled {
    let m = front_end(model, &[]).unwrap_or_else(|e| panic!("{e:?}"));
    compile(m, data, None, threads).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The HMM told recursively gives the chain kernel's log-likelihood trace and parameters,
/// from the same given start.
#[test]
fn recursive_hmm_gives_the_chain_kernels_numbers() {
    let chain = common::compiled("hmm", &[], 120, 2);
    let rec = common::compiled("hmm_recursive", &[], 120, 2);
    assert!(matches!(chain.kernel, Kernel::Chain(_)));
    assert!(matches!(rec.kernel, Kernel::Hypergraph(_)));
    assert_eq!(chain.program.layout, rec.program.layout);
    let start = random_params(&chain.program, 3);
    let mut config = common::config(&chain.program, 8, 0.0);
    config.init = Init::Given(start);
    let a = chain.train(&config, &mut |_| {}).unwrap();
    let b = rec.train(&config, &mut |_| {}).unwrap();
    assert_eq!(a.trace.len(), b.trace.len());
    for (x, y) in a.trace.iter().zip(&b.trace) {
        common::close(
            y.objective,
            x.objective,
            1e-9 * x.objective.abs(),
            &format!("log-likelihood at iteration {}", x.iteration),
        );
    }
    for (k, (x, y)) in a.params.theta.iter().zip(&b.params.theta).enumerate() {
        common::close(*y, *x, 1e-9, &format!("parameter {k}"));
    }
}

/// Lines of one shape are counted together in SIMD lanes, and a lane whose probability is
/// out of range is counted alone in log space: on lines of a few lengths, some of them long
/// (probability far below 1e-200), the recursive HMM still gives the chain kernel's numbers,
/// and the same bits on 1 and 2 threads.
#[test]
fn lanes_and_lines_in_log_space_give_the_chain_kernels_numbers() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| std::fs::read_to_string(format!("{root}/models/{f}")).unwrap();
    let text = read("hmm.txt");
    let words: Vec<&str> = text.split_whitespace().take(6000).collect();
    let mut data = String::new();
    let mut at = 0;
    for (lines, len) in [(21, 10), (11, 400), (3, 7), (1, 10)] {
        for _ in 0..lines {
            data += &words[at..at + len].join(" ");
            data.push('\n');
            at = (at + len) % (words.len() - 400);
        }
    }
    let chain = compiled_text(&read("hmm.em"), &data, 2);
    let rec = compiled_text(&read("hmm_recursive.em"), &data, 2);
    let rec1 = compiled_text(&read("hmm_recursive.em"), &data, 1);
    assert!(matches!(rec.kernel, Kernel::Hypergraph(_)));
    let mut config = common::config(&chain.program, 3, 0.0);
    config.init = Init::Given(random_params(&chain.program, 5));
    let a = chain.train(&config, &mut |_| {}).unwrap();
    let b = rec.train(&config, &mut |_| {}).unwrap();
    let b1 = rec1.train(&config, &mut |_| {}).unwrap();
    assert!(
        a.trace[0].objective < -400.0 * 11.0,
        "the long lines are out of range"
    );
    for (x, y) in a.trace.iter().zip(&b.trace) {
        let what = format!("log-likelihood at iteration {}", x.iteration);
        common::close(y.objective, x.objective, 1e-9 * x.objective.abs(), &what);
    }
    for (k, (x, y)) in a.params.theta.iter().zip(&b.params.theta).enumerate() {
        common::close(*y, *x, 1e-9, &format!("parameter {k}"));
    }
    assert_eq!(b.params.theta, b1.params.theta, "1 and 2 threads");
}

const PCFG: &str = "
domain NT = {S, A, B}
domain Term = vocabulary(words)
data words : [Term]
param root  : Categorical(NT)
param left  : Categorical(NT | NT)
param right : Categorical(NT | NT)
param emit  : Categorical(Term | NT)

# x over words[i..k]: a word if the span has one, else two children over a split.
proc span(x : NT, i, k) {
    if k == i + 1 {
        words[i] ~ emit(x)
    } else {
        hidden y : NT
        hidden z : NT
        y ~ left(x)
        z ~ right(x)
        for some j in i + 1 .. k {
            span(y, i, j)
            span(z, j, k)
        }
    }
}

model {
    hidden s : NT
    s ~ root
    span(s, 0, len(words))
}
";

const PCFG_DATA: &str = "a\na b\nb a c\na a b c\nc b a b c\n";

/// Every derivation's probability of nonterminal `x` over words `w[i..k]`, enumerated one by
/// one (no sharing), from the parameters as the test reads them.
fn derivations(p: &Program, theta: &[f64], w: &[&str], x: &str, i: usize, k: usize) -> Vec<f64> {
    let pr = |f: &str, c: &[&str], o: &str| common::prob(p, theta, f, c, o);
    if k == i + 1 {
        return vec![pr("emit", &[x], w[i])];
    }
    let mut out = Vec::new();
    for y in ["S", "A", "B"] {
        for z in ["S", "A", "B"] {
            let rule = pr("left", &[x], y) * pr("right", &[x], z);
            for j in i + 1..k {
                let (l, r) = (
                    derivations(p, theta, w, y, i, j),
                    derivations(p, theta, w, z, j, k),
                );
                for a in &l {
                    for b in &r {
                        out.push(rule * a * b);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn pcfg_likelihood_and_viterbi_agree_with_enumerating_derivations() {
    let c = compiled_text(PCFG, PCFG_DATA, 1);
    let Kernel::Hypergraph(_) = &c.kernel else {
        panic!("a structured story compiles to the hypergraph kernel")
    };
    for seed in 0..5 {
        let params = random_params(&c.program, seed);
        let counts = c
            .kernel
            .e_step(&c.program, &c.dataset, &params, &c.pool, ZeroPolicy::Stop)
            .unwrap();
        let mut total = 0.0;
        for (inst, line) in c.dataset.instances.iter().zip(PCFG_DATA.lines()) {
            let g = &emc::structured::execute(
                &c.program.model,
                &c.program.domains,
                &c.program.layout,
                inst,
                emc::structured::Budget::default(),
                false,
            )
            .unwrap()
            .graph;
            let w: Vec<&str> = line.split_whitespace().collect();
            let mut all = Vec::new();
            for s in ["S", "A", "B"] {
                let r = common::prob(&c.program, &params.theta, "root", &[], s);
                all.extend(
                    derivations(&c.program, &params.theta, &w, s, 0, w.len())
                        .iter()
                        .map(|d| r * d),
                );
            }
            let z: f64 = all.iter().sum();
            total += z.ln();
            let best = all.iter().copied().fold(0.0, f64::max);
            let (score, _) =
                emc::hypergraph::inside::viterbi(g, &g.log_weights(&params.theta)).unwrap();
            common::close(score, best.ln(), 1e-9, &format!("Viterbi of `{line}`"));
        }
        common::close(
            counts.log_likelihood,
            total,
            1e-9 * total.abs(),
            "log-likelihood",
        );
    }
}

fn spans(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    for w in line.split_whitespace() {
        out.push((i, i + w.len()));
        i += w.len();
    }
    out
}

/// Token F1: a predicted word is right when its span is a gold word's span.
fn token_f1(pred: &[String], gold: &str) -> f64 {
    let (mut tp, mut np, mut ng) = (0, 0, 0);
    for (p, g) in pred.iter().zip(gold.lines()) {
        let (p, g) = (spans(p), spans(g));
        tp += p.iter().filter(|s| g.contains(s)).count();
        np += p.len();
        ng += g.len();
    }
    let (precision, recall) = (tp as f64 / np as f64, tp as f64 / ng as f64);
    2.0 * precision * recall / (precision + recall)
}

#[test]
fn segmentation_trains_deterministically_and_recovers_the_gold() {
    let one = common::compiled("segmentation", &[], usize::MAX, 1);
    let two = common::compiled("segmentation", &[], usize::MAX, 2);
    let config = common::config(&one.program, 40, 0.0);
    let a = one.train(&config, &mut |_| {}).unwrap();
    let b = two.train(&config, &mut |_| {}).unwrap();
    assert_eq!(
        a.params, b.params,
        "1 and 2 threads give identical parameters"
    );
    for w in a.trace.windows(2) {
        assert!(
            w[1].objective >= w[0].objective - 1e-9 * w[0].objective.abs(),
            "EM decreased the log-likelihood at iteration {}",
            w[1].iteration
        );
    }
    let pred = emc::decode::viterbi(&one.program, &one.dataset, &a.params).unwrap();
    let gold = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/segmentation.gold"
    ))
    .unwrap();
    // Measured: 0.995 after 40 iterations.
    let f1 = token_f1(&pred, &gold);
    assert!(f1 > 0.97, "token F1 {f1}");
    // The decoded line is the input with spaces between words.
    let first = one.dataset.instances.len().min(pred.len());
    assert!(first > 0);
    let input: String = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/segmentation.txt"
    ))
    .unwrap()
    .lines()
    .next()
    .unwrap()
    .split_whitespace()
    .collect();
    assert_eq!(pred[0].replace(' ', ""), input);
}

/// Hyperedges of the first line, or why it has none. The probe instance (`emc check`'s run
/// without data) finds errors that do not depend on the data first.
fn run_line(model: &str, data: &str, budget: Budget) -> Result<usize, UnrollErrorKind> {
    // Without the static termination check: these tests reach the run-time guards behind it.
    let file = emc::syntax::parse(model).unwrap_or_else(|e| panic!("{e:?}"));
    let m = emc::check::check_without_termination(&file, &[]).unwrap_or_else(|e| panic!("{e:?}"));
    let (p, d): (Program, Dataset) = match emc::pipeline::program(m, data, None) {
        Ok(pd) => pd,
        Err(emc::error::Error::Unroll(e)) => return Err(e.kind),
        Err(e) => panic!("{e:?}"),
    };
    execute(
        &p.model,
        &p.domains,
        &p.layout,
        &d.instances[0],
        budget,
        false,
    )
    .map(|g| g.graph.edges())
    .map_err(|e| e.kind)
}

const COUNTER: &str = "
domain Term = vocabulary(words)
data words : [Term]
param emit : Categorical(Term)
proc walk(i) {
    if i < len(words) {
        words[i] ~ emit
        walk(i + 1)
    }
}
model { walk(0) }
";

#[test]
fn lines_over_budget_and_cycles_are_errors_not_hangs() {
    let big = Budget::default();
    // The model block and walk(0) to walk(3), one expansion each.
    assert_eq!(run_line(COUNTER, "a b c\n", big), Ok(5));
    let small = Budget {
        edges: 3,
        calls: 100,
    };
    assert!(matches!(
        run_line(COUNTER, "a b c\n", small),
        Err(UnrollErrorKind::Budget {
            what: "hyperedges",
            ..
        })
    ));
    let few_calls = Budget {
        edges: 100,
        calls: 2,
    };
    assert!(matches!(
        run_line(COUNTER, "a b c\n", few_calls),
        Err(UnrollErrorKind::Budget { what: "calls", .. })
    ));
    let cycle = COUNTER.replace("walk(i + 1)", "walk(i)");
    // The checker refuses both before any data is read; the run-time guards stay behind it.
    assert!(front_end(&cycle, &[]).is_err());
    match run_line(&cycle, "a b c\n", big) {
        Err(UnrollErrorKind::Cycle { call }) => assert_eq!(call, "walk(0)"),
        other => panic!("expected a cycle, got {other:?}"),
    }
    // A recursion that never stops runs into the call budget, on the heap (the probe's,
    // before any data is read).
    let endless = COUNTER
        .replace("if i < len(words) {", "if i >= 0 {")
        .replace("words[i] ~ emit", "")
        // Nothing reads the field now: the `_` says so (an unused field is an error).
        .replace("words", "_words");
    assert!(front_end(&endless, &[]).is_err());
    assert!(matches!(
        run_line(
            &endless,
            "a b c\n",
            Budget {
                edges: 1 << 20,
                calls: 1 << 16
            }
        ),
        Err(UnrollErrorKind::Budget { what: "calls", .. })
    ));
}

/// Logistic families read a span's symbol text: the segmentation model with featurised words
/// (identity, first and last character) trains by EM with an L-BFGS M-step, with the same
/// bits on 1 and 2 threads, and still segments.
#[test]
fn featurised_segmentation_trains_on_span_text() {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/segmentation.em"))
        .unwrap()
        .replace(
            "param word : Categorical(Word)",
            "param word : Logistic(Word) { features: [word, prefix(1), suffix(1)] }",
        );
    let data = std::fs::read_to_string(format!("{root}/models/segmentation.txt")).unwrap();
    let one = compiled_text(&src, &data, 1);
    let two = compiled_text(&src, &data, 2);
    let config = common::config(&one.program, 20, 0.0);
    let a = one.train(&config, &mut |_| {}).unwrap();
    let b = two.train(&config, &mut |_| {}).unwrap();
    assert_eq!(
        a.params, b.params,
        "1 and 2 threads give identical parameters"
    );
    let pred = emc::decode::viterbi(&one.program, &one.dataset, &a.params).unwrap();
    let gold = std::fs::read_to_string(format!("{root}/models/segmentation.gold")).unwrap();
    // Measured: 0.971 after 20 iterations.
    let f1 = token_f1(&pred, &gold);
    assert!(f1 > 0.93, "token F1 {f1}");
}

/// The templates a lexicon's features need beyond the word itself (Berg-Kirkpatrick et al.
/// 2010's segmentation features): its length, its vowels, and the consonant-vowel pattern of
/// its ends. Each fires on every span as its text says, and the model trains and segments.
#[test]
fn span_templates_read_length_vowels_and_classes() {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/segmentation.em"))
        .unwrap()
        .replace(
            "param word : Categorical(Word)",
            "param word : Logistic(Word) { features: [word, length, count(\"aeiou\"), \
             prefix(2, \"aeiou\"), suffix(1, \"aeiou\")] }",
        );
    let data = std::fs::read_to_string(format!("{root}/models/segmentation.txt")).unwrap();
    let c = compiled_text(&src, &data, 2);
    let f = c.program.model.family_named("word").unwrap();
    let features = c.program.layout.families[f].features.as_ref().unwrap();
    let names: std::collections::BTreeSet<String> = features.weight_names().into_iter().collect();
    // MAXLEN = 4: spans of 1 to 4 characters; the made-up language alternates consonants and
    // vowels (with some clusters), so a span has at most two vowels.
    for want in [
        "length=1",
        "length=4",
        "count(\"aeiou\")=0",
        "count(\"aeiou\")=2",
        "prefix(2, \"aeiou\")=CV",
        "prefix(2, \"aeiou\")=VC",
        "suffix(1, \"aeiou\")=V",
        "suffix(1, \"aeiou\")=C",
    ] {
        assert!(names.contains(want), "{want} among {names:?}");
    }
    assert!(!names.contains("length=5") && !names.contains("count(\"aeiou\")=3"));
    let out = c
        .train(&common::config(&c.program, 20, 0.0), &mut |_| {})
        .unwrap();
    for w in out.trace.windows(2) {
        assert!(w[1].log_likelihood >= w[0].log_likelihood - 1e-9 * w[0].log_likelihood.abs());
    }
    let pred = emc::decode::viterbi(&c.program, &c.dataset, &out.params).unwrap();
    let gold = std::fs::read_to_string(format!("{root}/models/segmentation.gold")).unwrap();
    let f1 = token_f1(&pred, &gold);
    assert!(f1 > 0.93, "token F1 {f1}");
}
