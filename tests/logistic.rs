//! Logistic families (Berg-Kirkpatrick et al. 2010): the gradient the direct algorithm follows
//! is the marginal log-likelihood's (central finite differences), indicator features without
//! regularisation reproduce categorical EM, and both algorithms improve the objective.

use emc::data::Dataset;
use emc::family::Estimators;
use emc::model::{Algorithm, InitMode};
use emc::params::{initial, Params};
use emc::pipeline::{front_end, program};
use emc::program::Program;
use emc::train::{e_step, norms, thread_pool, train, Config, Init};
use rand::{Rng, SeedableRng};

fn load(model: &str, data: &str) -> (Program, Dataset) {
    let m = front_end(model, &[]).unwrap_or_else(|e| panic!("{e:?}"));
    program(m, data, None).unwrap_or_else(|e| panic!("{e:?}"))
}

const FHMM: &str = "
const K = 3
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]
param start : Categorical(State)
param trans : Categorical(State | State) { smoothing: 0.5 }
param emit  : Logistic(Word | State) {
    features: [word, suffix(2), capital, digit, shared(shape), by(0, prefix(1))],
    l2: 0.3
}
model {
    hidden z : [State; len(words)]
    z[0] ~ start
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}
";

const MIXTURE: &str = "
domain Class = {a, b}
domain Pos   = 0..6
data doc : [Pos]
param prior : Categorical(Class)
param step  : Logistic(Pos | Pos) { features: [shared(distance(2)), word], l2: 0.1 }
param first : Logistic(Pos | Class) { features: [word], l2: 0.5 }
model {
    hidden c : Class
    c ~ prior
    doc[0] ~ first(c)
    for i in 1..len(doc): doc[i] ~ step(doc[i-1])
}
";

/// IBM Model 1 with a featurised translation table: the pair templates compare each French
/// word with the English word (or NULL) it is drawn from.
const IBM1: &str = "
data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {NULL}
param t : Logistic(F | E) {
    features: [word, shared(common_prefix(3)), shared(edit_distance(2)), prefix_pair(2)],
    l2: 0.2
}
model {
    let src = [NULL] ++ e
    hidden a : [0..len(src); len(f)]
    for j in 0..len(f) {
        a[j] ~ uniform
        f[j] ~ t(src[a[j]])
    }
}
";

const PAIRS: &str = "la nation ||| the nation\nle gouvernement ||| the government\nla maison ||| the house\nnations ||| nations\n";

const TEXT: &str = "The cat sat on 2 mats\nA dog ran\nThe Dog sat\ncats ran on mats\nA cat\n";
const NUMBERS: &str = "0 1 2 3\n5 4 3\n1 1 2 2 3\n2 4\n0 0 0\n";

/// The penalised marginal log-likelihood at variables `x`, and its gradient by the E-step.
fn objective(
    p: &Program,
    d: &Dataset,
    est: &Estimators,
    base: &Params,
    x: &[f64],
) -> (f64, Vec<f64>) {
    let mut params = base.clone();
    est.set_variables(x, &mut params.theta);
    let counts = e_step(p, d, &params, &thread_pool(1)).unwrap();
    let mut grad = vec![0.0; x.len()];
    est.gradient(
        x,
        &counts.expected,
        norms(&counts),
        &params.theta,
        &mut grad,
    );
    (counts.log_likelihood + est.log_prior(&params.theta), grad)
}

fn check_gradient(model: &str, data: &str) {
    let (p, d) = load(model, data);
    let est = Estimators::new(&p.model, &p.layout, &p.domains);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let base = initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap();
    let x: Vec<f64> = est
        .variables(&base.theta)
        .iter()
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let (_, grad) = objective(&p, &d, &est, &base, &x);
    let h = 1e-5;
    for k in 0..x.len() {
        let mut plus = x.clone();
        let mut minus = x.clone();
        plus[k] += h;
        minus[k] -= h;
        let fd = (objective(&p, &d, &est, &base, &plus).0
            - objective(&p, &d, &est, &base, &minus).0)
            / (2.0 * h);
        assert!(
            (fd - grad[k]).abs() <= 1e-7 * grad[k].abs().max(1.0),
            "variable {k}: finite difference {fd}, gradient {}",
            grad[k]
        );
    }
}

#[test]
fn the_gradient_is_the_marginal_likelihoods_on_a_featurised_hmm() {
    check_gradient(FHMM, TEXT);
}

#[test]
fn the_gradient_is_the_marginal_likelihoods_with_pair_templates() {
    check_gradient(IBM1, PAIRS);
}

#[test]
fn the_gradient_is_the_marginal_likelihoods_on_a_featurised_mixture() {
    check_gradient(MIXTURE, NUMBERS);
}

/// The same model with categorical emissions, and with indicator features and no penalty.
const CATEGORICAL: &str = "
const K = 3
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]
param start : Categorical(State)
param trans : Categorical(State | State)
param emit  : Categorical(Word | State)
model {
    hidden z : [State; len(words)]
    z[0] ~ start
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}
";

/// With 3 states the weights are fitted as one problem; with 9 state by state (`parts`).
#[test]
fn indicator_features_without_penalty_reproduce_categorical_em() {
    for k in [3, 9] {
        let categorical = CATEGORICAL.replace("const K = 3", &format!("const K = {k}"));
        indicator_features_reproduce(&categorical);
    }
}

fn indicator_features_reproduce(categorical: &str) {
    let indicator = categorical.replace(
        "param emit  : Categorical(Word | State)",
        "param emit  : Logistic(Word | State) { features: [word], l2: 0 }",
    );
    let (pc, d) = load(categorical, TEXT);
    let (pl, _) = load(&indicator, TEXT);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let start = initial(
        &pc.model,
        &pc.domains,
        &pc.layout,
        InitMode::Random,
        &mut rng,
    )
    .unwrap();
    // The logistic layout holds the same probabilities, then the weights (starting at 0).
    let mut start_l = Params {
        theta: vec![0.0; pl.layout.total],
    };
    start_l.theta[..pc.layout.total].copy_from_slice(&start.theta);
    // Later iterations drive some expected counts towards 0, whose weights L-BFGS can only
    // chase towards -inf; the identity is checked where the M-step's optimum is attained.
    for iterations in [1, 2, 3] {
        let run = |p: &Program, init: &Params| {
            let mut c = Config::from_model(p);
            c.iterations = iterations;
            c.tolerance = 0.0;
            c.init = Init::Given(init.clone());
            train(p, &d, &c, &mut |_| {}).unwrap()
        };
        let cat = run(&pc, &start);
        let log = run(&pl, &start_l);
        for (k, (a, b)) in cat.params.theta.iter().zip(&log.params.theta).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6,
                "after {iterations} iterations, parameter {k}: categorical {a}, logistic {b}"
            );
        }
    }
}

fn trained(model: &str, data: &str, algorithm: Algorithm, iterations: usize) -> Vec<f64> {
    let (p, d) = load(model, data);
    let mut c = Config::from_model(&p);
    c.iterations = iterations;
    c.tolerance = 0.0;
    c.algorithm = algorithm;
    let out = train(&p, &d, &c, &mut |_| {}).unwrap();
    out.trace.iter().map(|t| t.objective).collect()
}

#[test]
fn both_algorithms_never_decrease_the_penalised_objective() {
    for (model, data) in [(FHMM, TEXT), (MIXTURE, NUMBERS)] {
        for algorithm in [Algorithm::Em, Algorithm::Direct] {
            let trace = trained(model, data, algorithm, 15);
            assert!(trace.len() > 3, "{algorithm:?}: {trace:?}");
            for w in trace.windows(2) {
                assert!(
                    w[1] >= w[0] - 1e-9 * w[0].abs(),
                    "{algorithm:?}: objective fell from {} to {}",
                    w[0],
                    w[1]
                );
            }
            assert!(trace.last() > trace.first(), "{algorithm:?}: no progress");
        }
    }
}

/// How a featurised family starts under `init: random`: its weights are fitted from zero to
/// the counts that random probabilities give, stopping once the gradient is a hundredth of
/// its size at zero (`rough`), short of the fit to convergence that uniform and given starts
/// get, but most of the way there.
#[test]
fn the_first_fit_to_random_counts_stops_near_the_converged_fit() {
    let (p, d) = load(FHMM, TEXT);
    let est = Estimators::new(&p.model, &p.layout, &p.domains);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let start = initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap();
    let counts = e_step(&p, &d, &start, &thread_pool(1)).unwrap();
    let objective = |theta: &[f64]| {
        est.expected_log(&counts.expected, norms(&counts), theta) + est.log_prior(theta)
    };
    let fit = |rough: bool| {
        let mut theta = start.theta.clone();
        est.fit_features(&counts.expected, norms(&counts), &mut theta, &[], rough);
        objective(&theta)
    };
    // The weights start at zero; their probabilities are the uniform rows they give.
    let mut zero = start.theta.clone();
    est.set_variables(&est.variables(&start.theta), &mut zero);
    let (from, rough, converged) = (objective(&zero), fit(true), fit(false));
    assert!(
        from < rough && rough < converged,
        "zero weights {from}, rough fit {rough}, converged fit {converged}"
    );
    assert!(
        converged - rough <= 0.01 * (converged - from),
        "the rough fit {rough} is far from the converged {converged} (from {from})"
    );
}
