//! The word-alignment task of issue 17 in small (the Hansards runs are
//! `scripts/hansards-alignment.sh`'s): on the generated pairs of `models/hmm_aligner.txt` with their
//! gold links, IBM Model 1 (5 iterations) starts the Hansards HMM aligner (`hansards_hmm.em`) and
//! its featurised twin (`hansards_hmm_features.em`, a Logistic t(f | e) with identity, shared
//! prefix, edit distance and prefix-pair features; Algorithm 1), as `--init` does: the figures
//! (log-likelihoods, AER of the Viterbi alignments) are asserted, and the pair templates' weights
//! are checked by name. The Hansards' licence is not clear enough to commit a subset of it, so
//! the generated corpus stands in.

use emc::model::{Algorithm, InitMode};
use emc::params::{initial, Params};
use emc::pipeline::{front_end, program};
use emc::program::Program;
use emc::train::{train, Config, Init, Outcome};
use rand::SeedableRng;

fn read(file: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{root}/models/{file}")).unwrap()
}

/// Trains `model` on the generated pairs, its `t` started from `ibm1`'s probabilities (the
/// other families as the model says), and scores the decoded alignments.
fn run(
    model: &str,
    init: Option<(&Program, &Params)>,
    algorithm: Algorithm,
    iterations: Option<usize>,
) -> (Program, Outcome, f64) {
    let m = front_end(&read(model), &[]).unwrap_or_else(|e| panic!("{e:?}"));
    let (p, d) = program(m, &read("hmm_aligner.txt"), None).unwrap_or_else(|e| panic!("{e:?}"));
    let mut c = Config::from_model(&p);
    c.decode = true;
    c.algorithm = algorithm;
    if let Some(n) = iterations {
        c.iterations = n;
    }
    if let Some((ibm1, given)) = init {
        let f = p.model.family_named("t").unwrap();
        let g = ibm1.model.family_named("t").unwrap();
        let (to, from) = (&p.layout.families[f], &ibm1.layout.families[g]);
        let n = to.n_cond * to.n_out;
        assert_eq!(n, from.n_cond * from.n_out);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut start =
            initial(&p.model, &p.domains, &p.layout, InitMode::Uniform, &mut rng).unwrap();
        // A Logistic slice is its probabilities, then its weights (left at 0: the first
        // M-step fits them).
        start.theta[to.offset..to.offset + n]
            .copy_from_slice(&given.theta[from.offset..from.offset + n]);
        c.init = Init::Partial {
            mode: InitMode::Uniform,
            given: start,
            families: vec![f],
        };
    }
    let out = train(&p, &d, &c, &mut |_| {}).unwrap();
    let pred = out.decoded.clone().unwrap().join("\n");
    let aer = emc::eval::evaluate(emc::eval::Metric::Aer, &read("hmm_aligner.gold"), &pred)
        .unwrap()
        .value;
    (p, out, aer)
}

fn final_objective(out: &Outcome) -> f64 {
    out.trace.last().unwrap().objective
}

fn assert_monotone(out: &Outcome, what: &str) {
    for w in out.trace.windows(2) {
        assert!(
            w[1].objective >= w[0].objective - 1e-9 * w[0].objective.abs(),
            "{what}: the objective fell from {} to {}",
            w[0].objective,
            w[1].objective
        );
    }
}

#[test]
fn the_featurised_aligner_trains_from_ibm1_and_aligns() {
    let (ibm1, out1, aer1) = run("ibm1_null.em", None, Algorithm::Em, None);
    let (_, basic, aer_basic) = run(
        "hansards_hmm.em",
        Some((&ibm1, &out1.params)),
        Algorithm::Em,
        None,
    );
    let (p, feat, aer_feat) = run(
        "hansards_hmm_features.em",
        Some((&ibm1, &out1.params)),
        Algorithm::Em,
        Some(5),
    );
    assert_monotone(&basic, "basic HMM aligner");
    assert_monotone(&feat, "featurised HMM aligner");
    let (ll1, ll_basic, ll_feat) = (
        final_objective(&out1),
        final_objective(&basic),
        final_objective(&feat),
    );
    eprintln!(
        "IBM1 {ll1} AER {aer1}; basic {ll_basic} AER {aer_basic}; featurised {ll_feat} AER {aer_feat}"
    );
    assert!((aer1 - 0.2066).abs() < 5e-4, "IBM Model 1: AER {aer1}");
    assert!((aer_basic - 0.0162).abs() < 5e-4, "basic: AER {aer_basic}");
    assert!(
        (aer_feat - 0.0162).abs() < 5e-4,
        "featurised: AER {aer_feat}"
    );
    assert!(
        (ll1 - -4359.372984).abs() < 1e-6 * ll1.abs(),
        "IBM Model 1: {ll1}"
    );
    assert!(
        (ll_basic - -1733.408942).abs() < 1e-6 * ll_basic.abs(),
        "basic: {ll_basic}"
    );
    // The featurised objective is the penalised log-likelihood (l2 = 1).
    assert!(
        (ll_feat - -2344.328287).abs() < 1e-6 * ll_feat.abs(),
        "featurised: {ll_feat}"
    );
    // The pair templates' weights exist under their names: a cognate pair's stems, and the
    // shared buckets.
    let slot = &p.layout.families[p.model.family_named("t").unwrap()];
    let index = slot.features.as_ref().expect("t is Logistic");
    let names = index.weight_names();
    let weight = |name: &str| {
        let k = names.iter().position(|n| n == name);
        let k = k.unwrap_or_else(|| panic!("no weight {name}"));
        feat.params.theta[slot.offset + slot.n_cond * slot.n_out + k]
    };
    // Far pairs are penalised against the same word; a translation pair's own weight is large.
    for (name, want) in [
        ("edit_distance(4)=0", -0.184883),
        ("edit_distance(4)=4", -1.420794),
        ("common_prefix(5)=0", -0.486623),
        ("word=maison @ house", 2.653982),
    ] {
        let got = weight(name);
        assert!((got - want).abs() < 1e-5, "{name}: {got}, expected {want}");
    }
    assert_eq!(index.n_weights, slot.n_weights);
}
