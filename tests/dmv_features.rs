//! The featurised DMV (`models/dmv_features.em`: Logistic stop and attach families with
//! back-off features through coarse tag classes) on the committed EWT sentences
//! (`models/dmv.txt`), from the harmonic initialiser: the figures `scripts/dmv-induction.sh`'s
//! configurations give after a few iterations, so that a change to the features, the
//! checker's reading of `coarse`, or the algorithms shows here before it shows in the README.

mod common;

use emc::eval::{evaluate, Metric};
use emc::model::Algorithm;
use emc::params::{read_init, Params};
use emc::pipeline::{compile, front_end, Compiled};
use emc::train::{Init, Outcome};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/models/{name}"))
        .unwrap_or_else(|e| panic!("models/{name}: {e}"))
}

/// As `emc run models/dmv_features.em models/dmv.txt --init models/dmv_features.harmonic.json`
/// compiles it: the file's vocabulary and probabilities, weights to be fitted.
fn from_harmonic(threads: usize) -> (Compiled, Params) {
    let model = front_end(&read("dmv_features.em"), &[]).unwrap();
    let file = read_init(&model, &read("dmv_features.harmonic.json")).unwrap();
    let domains = file.domains(&model, None).unwrap();
    let c = compile(model, &read("dmv.txt"), Some(&domains), threads).unwrap();
    let (given, families) = file
        .values(&c.program.model, &c.program.domains, &c.program.layout)
        .unwrap();
    assert_eq!(families, vec![0, 1, 2], "the file gives every family");
    (c, given)
}

fn run(c: &Compiled, start: Params, algorithm: Algorithm, iterations: usize) -> Outcome {
    let mut config = common::config(&c.program, iterations, 0.0);
    config.init = Init::Given(start);
    config.algorithm = algorithm;
    c.train(&config, &mut |_| {}).unwrap()
}

/// Directed and undirected attachment accuracy of the Viterbi trees under `params`.
fn attachment(c: &Compiled, params: &Params) -> (f64, f64) {
    let pred = emc::decode::viterbi(&c.program, &c.dataset, params).unwrap();
    assert_eq!(pred.len(), 5386);
    let r = evaluate(
        Metric::Attachment,
        &read("dmv.gold"),
        &(pred.join("\n") + "\n"),
    )
    .unwrap();
    (r.value, r.details[0].1)
}

/// Algorithm 1: the first E-step reads the harmonic probabilities (the basic DMV's and the
/// NumPy peer's log-likelihood at the start), and every M-step fits the weights; measured
/// with `emc run ... --iterations 5 --tolerance 0` on 2026-12-03.
#[test]
fn algorithm_1_from_the_harmonic_start() {
    const TRACE: [f64; 6] = [
        -74630.128552017,
        -72175.86487899709,
        -71235.44093966186,
        -70620.65647807372,
        -70067.34940553694,
        -69481.44851935543,
    ];
    let (one, start) = from_harmonic(1);
    let (two, _) = from_harmonic(2);
    let a = run(&one, start.clone(), Algorithm::Em, 5);
    let b = run(&two, start, Algorithm::Em, 5);
    assert_eq!(a.params, b.params, "1 and 2 threads give identical bits");
    assert_eq!(a.trace.len(), TRACE.len());
    for (p, want) in a.trace.iter().zip(TRACE) {
        common::close(
            p.log_likelihood,
            want,
            1e-9 * want.abs(),
            &format!("log-likelihood after {} iterations", p.iteration),
        );
    }
    for w in a.trace.windows(2) {
        assert!(
            w[1].objective > w[0].objective,
            "EM increases the objective"
        );
    }
    // Exact ties between trees may fall either way: a few tokens of 27,958.
    let (directed, undirected) = attachment(&one, &a.params);
    common::close(
        directed,
        0.2762,
        0.002,
        "directed accuracy after 5 iterations",
    );
    common::close(
        undirected,
        0.4558,
        0.002,
        "undirected accuracy after 5 iterations",
    );
}

/// Algorithm 2 reads weights only, so `dmv-induction.sh` starts it from the weights one
/// Algorithm 1 iteration fits to the harmonic start's counts; 20 L-BFGS iterations from there.
#[test]
fn algorithm_2_from_the_weights_fitted_to_the_harmonic_start() {
    let (c, start) = from_harmonic(1);
    let fitted = run(&c, start, Algorithm::Em, 1).params;
    let d = run(&c, fitted, Algorithm::Direct, 20);
    let last = d.trace.last().unwrap();
    common::close(
        last.log_likelihood,
        -66361.82547602565,
        1e-6 * 66361.8,
        "log-likelihood after 20 L-BFGS iterations",
    );
    assert!(
        d.trace.windows(2).all(|w| w[1].objective >= w[0].objective),
        "the trace lists improvements only"
    );
    let (directed, _) = attachment(&c, &d.params);
    common::close(
        directed,
        0.2532,
        0.002,
        "directed accuracy after 20 L-BFGS iterations",
    );
}
