//! Tests for the E-step engines. Random instances of each structural class (independent
//! variables, chains, loopy graphs with factors over up to three variables) go through every
//! engine and are compared with a direct enumeration written here from the definitions, so the
//! reference engine is checked as well rather than trusted. Further tests push the engines
//! where plain products underflow, feed them impossible instances, and check the junction
//! trees the planner builds.

use std::rc::Rc;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::graph::{Factor, Var, VarDomain, VarId, VarOrigin};
use crate::infer::junction_tree;
use crate::syntax::ast::Span;

/// Every engine. One that does not apply to an instance falls back to one that does, and the
/// fallback must be exact too, so every engine runs on every instance.
const ENGINES: [Engine; 4] = [
    Engine::Enumerate,
    Engine::Chain,
    Engine::JunctionTree,
    Engine::Reference,
];

/// Agreement tolerance: absolute for probabilities, relative beyond magnitude 1 for logs.
const TOL: f64 = 1e-9;

/// Random instances per structural class.
const CASES: usize = 200;

/// Seed of the random instances. Every test over random instances uses the same ones, so
/// `random_instances_cover_every_engine` describes exactly what the other tests see.
const SEED: u64 = 0x5eed;

/// Length of the random parameter vector: small, so factors share parameters and the expected
/// counts of one parameter add up across factors.
const PARAMS: usize = 8;

/// Instance weight: not 1, so a missing or doubled weight shows in the counts.
const WEIGHT: f64 = 2.5;

/// Data line of the test instances: not 0, so errors must carry the instance's own line.
const LINE: usize = 42;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * a.abs().max(b.abs()).max(1.0)
}

fn instance(cards: &[usize], factors: Vec<Factor>) -> InstanceGraph {
    InstanceGraph {
        vars: cards
            .iter()
            .enumerate()
            .map(|(i, c)| Var {
                name: crate::graph::VarName::new(format!("x{i}").into(), None),
                card: *c as u32,
                origin: VarOrigin::Hidden {
                    decl: 0,
                    index: Some(i),
                },
                domain: VarDomain::Integers(0),
            })
            .collect(),
        factors,
        weight: WEIGHT,
        line: LINE,
        observations: Vec::new(),
    }
}

/// A factor; `entries` may be a fresh table or one shared with other factors, as the unroller
/// shares equal tables.
fn factor(scope: Vec<VarId>, entries: Rc<[Entry]>) -> Factor {
    Factor {
        name: format!("f{scope:?}").into(),
        target: scope.last().copied(),
        scope,
        entries,
        origin: Span::new(0, 0),
    }
}

/// Row-major index (last scope variable fastest) of the values `assign` gives the variables
/// of `scope`.
fn index_of(scope: &[VarId], cards: &[usize], assign: &[u32]) -> usize {
    scope.iter().fold(0, |i, v| {
        i * cards[*v as usize] + assign[*v as usize] as usize
    })
}

/// Log of the product of every factor's entry at the joint value `assign`.
fn log_score(g: &InstanceGraph, theta: &[f64], assign: &[u32]) -> f64 {
    let cards = g.cards();
    g.factors
        .iter()
        .map(|f| g.log_value(f.entries[index_of(&f.scope, &cards, assign)], theta))
        .sum()
}

/// Random factors over given variables. Deterministic zero entries all spare one `witness`
/// joint value, so the instance keeps positive probability however many zeros it gets.
struct Builder<'a> {
    rng: &'a mut ChaCha8Rng,
    cards: Vec<usize>,
    witness: Vec<u32>,
    factors: Vec<Factor>,
}

impl<'a> Builder<'a> {
    fn new(rng: &'a mut ChaCha8Rng, cards: Vec<usize>) -> Builder<'a> {
        let witness = cards.iter().map(|c| rng.gen_range(0..*c as u32)).collect();
        Builder {
            rng,
            cards,
            witness,
            factors: Vec::new(),
        }
    }

    /// Adds a factor over `scope` (sorted) whose entries mix parameters, positive fixed
    /// weights and deterministic 0/1 weights. Now and then the factor shares the table of an
    /// earlier factor of the same shape (when that spares the witness too), since engines
    /// may cache per shared table.
    fn add(&mut self, scope: Vec<VarId>) {
        let shape: Vec<usize> = scope.iter().map(|v| self.cards[*v as usize]).collect();
        let spared = index_of(&scope, &self.cards, &self.witness);
        let share = self.rng.gen_bool(0.3);
        let cards = &self.cards;
        let earlier = self.factors.iter().find(|f| {
            let same_shape = f
                .scope
                .iter()
                .map(|v| cards[*v as usize])
                .eq(shape.iter().copied());
            same_shape && f.entries[spared] != Entry::Fixed(0.0)
        });
        if let Some(f) = earlier.filter(|_| share) {
            let entries = f.entries.clone();
            self.factors.push(factor(scope, entries));
            return;
        }
        let rng = &mut *self.rng;
        let entries: Rc<[Entry]> = (0..shape.iter().product())
            .map(|i| match rng.gen_range(0..10) {
                0..=5 => Entry::Param(rng.gen_range(0..PARAMS as u32)),
                6 | 7 => Entry::Fixed(rng.gen_range(0.1..2.0)),
                _ => Entry::Fixed(if i == spared || rng.gen_bool(0.5) {
                    1.0
                } else {
                    0.0
                }),
            })
            .collect();
        self.factors.push(factor(scope, entries));
    }

    /// The instance, factors in random order: `var_marginals` and the junction tree's factor
    /// placement depend on the order.
    fn finish(mut self) -> InstanceGraph {
        self.factors.shuffle(self.rng);
        instance(&self.cards, self.factors)
    }
}

/// (a) Independent variables: factors over one variable or none.
fn random_independent(rng: &mut ChaCha8Rng) -> InstanceGraph {
    let n = rng.gen_range(0..=6);
    let cards = (0..n).map(|_| rng.gen_range(1..=4)).collect();
    let factors = rng.gen_range(0..=10);
    let mut b = Builder::new(rng, cards);
    for _ in 0..factors {
        let scope = if n == 0 || b.rng.gen_bool(0.2) {
            vec![]
        } else {
            vec![b.rng.gen_range(0..n as VarId)]
        };
        b.add(scope);
    }
    b.finish()
}

/// (b) Chains: unary factors and factors over consecutive pairs, none or several per edge,
/// sometimes a constant factor.
fn random_chain(rng: &mut ChaCha8Rng) -> InstanceGraph {
    let n = rng.gen_range(1..=7);
    let cards = (0..n).map(|_| rng.gen_range(1..=4)).collect();
    let mut b = Builder::new(rng, cards);
    for v in 0..n as VarId {
        for _ in 0..b.rng.gen_range(0..=2) {
            b.add(vec![v]);
        }
        if v > 0 {
            for _ in 0..b.rng.gen_range(0..=3) {
                b.add(vec![v - 1, v]);
            }
        }
    }
    if b.rng.gen_bool(0.3) {
        b.add(vec![]);
    }
    b.finish()
}

/// (c) General graphs: random scopes of up to three variables, usually closed by a
/// ring of pair factors through every variable so there are loops.
fn random_loopy(rng: &mut ChaCha8Rng) -> InstanceGraph {
    let n = rng.gen_range(1..=7);
    let cards = (0..n).map(|_| rng.gen_range(1..=3)).collect();
    let factors = rng.gen_range(1..=10);
    let mut b = Builder::new(rng, cards);
    for _ in 0..factors {
        let size = b.rng.gen_range(0..=n.min(3));
        let mut scope: Vec<VarId> = rand::seq::index::sample(&mut *b.rng, n, size)
            .into_iter()
            .map(|v| v as VarId)
            .collect();
        scope.sort_unstable();
        b.add(scope);
    }
    if n >= 3 && b.rng.gen_bool(0.7) {
        for v in 0..n as VarId {
            let w = (v + 1) % n as VarId;
            b.add(vec![v.min(w), v.max(w)]);
        }
    }
    b.finish()
}

/// Positive parameters spread over a few orders of magnitude.
fn random_theta(rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..PARAMS)
        .map(|_| rng.gen_range(-4.0f64..2.0).exp())
        .collect()
}

type Generator = fn(&mut ChaCha8Rng) -> InstanceGraph;

const CLASSES: [(&str, Generator); 3] = [
    ("independent", random_independent),
    ("chain", random_chain),
    ("loopy", random_loopy),
];

/// The `CASES` random instances of class `c` of `CLASSES`, each with its own parameters and
/// a name for failure messages.
fn cases(c: usize) -> impl Iterator<Item = (String, InstanceGraph, Vec<f64>)> {
    let (class, make) = CLASSES[c];
    let mut rng = ChaCha8Rng::seed_from_u64(SEED + c as u64);
    (0..CASES).map(move |case| {
        let g = make(&mut rng);
        let theta = random_theta(&mut rng);
        (format!("{class} case {case}"), g, theta)
    })
}

/// Runs `check` on the random instances of every class.
fn for_each_case(mut check: impl FnMut(&str, &InstanceGraph, &[f64])) {
    for c in 0..CLASSES.len() {
        for (what, g, theta) in cases(c) {
            check(&what, &g, &theta);
        }
    }
}

/// Exact answers straight from the definitions, by visiting every joint value.
struct Truth {
    log_z: f64,
    /// Per factor, the posterior over its scope's joint values.
    beliefs: Vec<Vec<f64>>,
    /// Per parameter, the weighted expected number of factors whose entry at the joint value
    /// is that parameter.
    expected: Vec<f64>,
    /// Per variable, its posterior marginal.
    marginals: Vec<Vec<f64>>,
    /// The largest log score of any joint value.
    best: f64,
}

fn truth(g: &InstanceGraph, theta: &[f64]) -> Truth {
    let cards = g.cards();
    let mut joints: Vec<Vec<u32>> = vec![Vec::new()];
    for c in &cards {
        joints = joints
            .into_iter()
            .flat_map(|x| {
                (0..*c as u32).map(move |v| {
                    let mut y = x.clone();
                    y.push(v);
                    y
                })
            })
            .collect();
    }
    let scores: Vec<f64> = joints.iter().map(|x| log_score(g, theta, x)).collect();
    let log_z = log_sum_exp(&scores);
    let mut t = Truth {
        log_z,
        beliefs: g
            .factors
            .iter()
            .map(|f| vec![0.0; f.entries.len()])
            .collect(),
        expected: vec![0.0; theta.len()],
        marginals: cards.iter().map(|c| vec![0.0; *c]).collect(),
        best: scores.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    };
    for (x, s) in joints.iter().zip(&scores) {
        let p = (s - log_z).exp();
        for (f, b) in g.factors.iter().zip(&mut t.beliefs) {
            let i = index_of(&f.scope, &cards, x);
            b[i] += p;
            if let Entry::Param(k) = f.entries[i] {
                t.expected[k as usize] += g.weight * p;
            }
        }
        for (v, m) in x.iter().zip(&mut t.marginals) {
            m[*v as usize] += p;
        }
    }
    t
}

/// Checks one engine's posterior, and the counts `accumulate` makes of it, against the truth.
fn check_posterior(engine: Engine, g: &InstanceGraph, theta: &[f64], t: &Truth, what: &str) {
    let p = posterior(engine, g, theta).unwrap_or_else(|e| panic!("{what}, {engine:?}: {e}"));
    assert!(
        close(p.log_z, t.log_z),
        "{what}, {engine:?}: log Z is {} but should be {}",
        p.log_z,
        t.log_z
    );
    assert_eq!(p.beliefs.len(), g.factors.len(), "{what}, {engine:?}");
    for (i, (b, tb)) in p.beliefs.iter().zip(&t.beliefs).enumerate() {
        assert!(
            b.len() == tb.len() && b.iter().zip(tb).all(|(x, y)| (x - y).abs() <= TOL),
            "{what}, {engine:?}: factor {i} belief is {b:?} but should be {tb:?}"
        );
    }
    let mut counts = CountStore::new(PARAMS);
    accumulate(g, &p, &mut counts, theta);
    for (k, (c, tc)) in counts.expected.iter().zip(&t.expected).enumerate() {
        // A count adds the beliefs of every entry that uses the parameter.
        let uses = g
            .factors
            .iter()
            .flat_map(|f| f.entries.iter())
            .filter(|e| **e == Entry::Param(k as u32))
            .count();
        assert!(
            (c - tc).abs() <= TOL * (g.weight * uses as f64).max(1.0),
            "{what}, {engine:?}: parameter {k} count is {c} but should be {tc}"
        );
    }
    assert!(
        close(counts.log_likelihood, g.weight * t.log_z),
        "{what}, {engine:?}: log-likelihood {}",
        counts.log_likelihood
    );
    assert_eq!(counts.instances, 1, "{what}, {engine:?}");
}

/// Checks that one engine's MAP assignment is valid, scores what the engine says, and scores
/// the best possible. Ties may pick different assignments, so only scores are compared.
fn check_map(engine: Engine, g: &InstanceGraph, theta: &[f64], best: f64, what: &str) {
    let (assign, score) =
        map(engine, g, theta).unwrap_or_else(|e| panic!("{what}, {engine:?}: {e}"));
    assert!(
        assign.len() == g.vars.len() && assign.iter().zip(&g.vars).all(|(a, v)| *a < v.card),
        "{what}, {engine:?}: MAP assignment {assign:?} is not a joint value"
    );
    let own = log_score(g, theta, &assign);
    assert!(
        close(own, score),
        "{what}, {engine:?}: MAP assignment {assign:?} scores {own} but the engine says {score}"
    );
    assert!(
        close(score, best),
        "{what}, {engine:?}: MAP score is {score} but the best is {best}"
    );
}

#[test]
fn posteriors_and_counts_match_brute_force() {
    for_each_case(|what, g, theta| {
        let t = truth(g, theta);
        for engine in ENGINES {
            check_posterior(engine, g, theta, &t, what);
        }
    });
}

#[test]
fn map_scores_match_brute_force() {
    for_each_case(|what, g, theta| {
        let best = truth(g, theta).best;
        for engine in ENGINES {
            check_map(engine, g, theta, best, what);
        }
    });
}

#[test]
fn var_marginals_are_normalised_and_match_brute_force() {
    for_each_case(|what, g, theta| {
        let t = truth(g, theta);
        for engine in ENGINES {
            let p =
                posterior(engine, g, theta).unwrap_or_else(|e| panic!("{what}, {engine:?}: {e}"));
            let marginals = var_marginals(g, &p);
            assert_eq!(marginals.len(), g.vars.len(), "{what}, {engine:?}");
            for (v, (m, tm)) in marginals.iter().zip(&t.marginals).enumerate() {
                assert!(
                    (m.iter().sum::<f64>() - 1.0).abs() <= TOL,
                    "{what}, {engine:?}: marginal of x{v} is {m:?}, not normalised"
                );
                assert!(
                    m.len() == tm.len() && m.iter().zip(tm).all(|(x, y)| (x - y).abs() <= TOL),
                    "{what}, {engine:?}: marginal of x{v} is {m:?} but should be {tm:?}"
                );
            }
        }
    });
}

/// The generators make what the tests claim: (a) always suits enumeration; (b) always suits
/// forward-backward and usually needs it; (c) usually needs a junction tree; and each feature
/// (deterministic zeros, constant factors, shared tables, and in (c) three-variable scopes and
/// loops) shows up in at least a fifth of the instances.
#[test]
fn random_instances_cover_every_engine() {
    /// How many instances of a class have each feature.
    #[derive(Debug, Default)]
    struct Seen {
        enumerable: usize,
        chain: usize,
        zeros: usize,
        constants: usize,
        triples: usize,
        /// Two factors share one table.
        shared: usize,
        /// A junction-tree clique larger than every factor: only loops make one.
        loops: usize,
    }
    let seen = [0, 1, 2].map(|c| {
        let mut s = Seen::default();
        for (_, g, _) in cases(c) {
            let widest = g.factors.iter().map(|f| f.scope.len()).max().unwrap_or(0);
            let clique = junction_tree(&g).largest().map_or(0, |c| c.vars.len());
            s.enumerable += enumerate::applies(&g) as usize;
            s.chain += chain_applies(&g) as usize;
            s.zeros += g
                .factors
                .iter()
                .any(|f| f.entries.contains(&Entry::Fixed(0.0))) as usize;
            s.constants += g.factors.iter().any(|f| f.scope.is_empty()) as usize;
            s.triples += (widest == 3) as usize;
            s.shared += g.factors.iter().enumerate().any(|(i, f)| {
                g.factors[..i]
                    .iter()
                    .any(|e| Rc::ptr_eq(&e.entries, &f.entries))
            }) as usize;
            s.loops += (clique > widest.max(1)) as usize;
        }
        s
    });
    let [independent, chain, loopy] = &seen;
    let ok = independent.enumerable == CASES
        && chain.chain == CASES
        && chain.enumerable < CASES / 4
        && loopy.chain < CASES / 2
        && loopy.triples > CASES / 5
        && loopy.loops > CASES / 5
        && seen
            .iter()
            .all(|s| s.zeros > CASES / 5 && s.constants > CASES / 5 && s.shared > CASES / 5);
    assert!(ok, "{seen:#?}");
}

/// An HMM over `n` variables of 3 states: a start distribution, stochastic transitions and
/// fixed emission weights `emission(position, state)`. Parameters are `HMM_THETA`.
fn hmm(n: usize, emission: impl Fn(usize, usize) -> f64) -> InstanceGraph {
    let start: Rc<[Entry]> = (0..3).map(Entry::Param).collect();
    let mut factors = vec![factor(vec![0], start)];
    // One table shared by every transition, as the unroller makes it.
    let trans: Rc<[Entry]> = (3..12).map(Entry::Param).collect();
    for k in 0..n {
        if k > 0 {
            factors.push(factor(vec![k as VarId - 1, k as VarId], trans.clone()));
        }
        let weights: Rc<[Entry]> = (0..3).map(|s| Entry::Fixed(emission(k, s))).collect();
        factors.push(factor(vec![k as VarId], weights));
    }
    instance(&vec![3; n], factors)
}

/// Start distribution, then the row-major transition matrix (rows sum to 1).
const HMM_THETA: [f64; 12] = [0.2, 0.3, 0.5, 0.8, 0.1, 0.1, 0.15, 0.7, 0.15, 0.1, 0.1, 0.8];

/// Emissions of about 1e-5 whose favoured state changes every 10 positions.
fn tiny_emission(k: usize, s: usize) -> f64 {
    if (k / 10) % 3 == s {
        3e-5
    } else {
        1e-5
    }
}

/// Every belief is finite, non-negative and sums to 1.
fn assert_normalised(p: &Posterior, what: &str) {
    for (i, b) in p.beliefs.iter().enumerate() {
        let sum: f64 = b.iter().sum();
        assert!(
            b.iter().all(|x| x.is_finite() && *x >= 0.0) && (sum - 1.0).abs() <= TOL,
            "{what}: belief of factor {i} is {b:?}"
        );
    }
}

/// A 100,000-step HMM with emissions of about 1e-5: P(instance) is about 1e-500,000, so
/// forward-backward must rescale at every step.
#[test]
fn long_chain_does_not_underflow() {
    const N: usize = 100_000;
    // Equal emissions and stochastic transitions: log Z is exactly N ln 1e-5.
    let flat = hmm(N, |_, _| 1e-5);
    let p = posterior(Engine::Chain, &flat, &HMM_THETA).expect("flat chain");
    let expected = N as f64 * 1e-5f64.ln();
    assert!(close(p.log_z, expected), "log Z {} not {expected}", p.log_z);
    assert_normalised(&p, "flat chain");

    let g = hmm(N, tiny_emission);
    let p = posterior(Engine::Chain, &g, &HMM_THETA).expect("chain");
    let (lo, hi) = (N as f64 * 1e-5f64.ln(), N as f64 * 3e-5f64.ln());
    assert!(lo < p.log_z && p.log_z < hi, "log Z {}", p.log_z);
    assert_normalised(&p, "chain");
    // The emissions are informative, so the node beliefs (the emission factor of x_k is
    // factor 2k + 1) must mostly pick the favoured state.
    let favoured = (0..N)
        .filter(|k| {
            let b = &p.beliefs[2 * k + 1];
            argmax(b) == (k / 10) % 3
        })
        .count();
    assert!(favoured > N / 2, "{favoured} positions favour the emission");
    let (assign, score) = map(Engine::Chain, &g, &HMM_THETA).expect("map");
    let own = log_score(&g, &HMM_THETA, &assign);
    assert!(
        close(own, score),
        "Viterbi path scores {own}, engine says {score}"
    );
    assert!(score < p.log_z);
}

/// Forward-backward and the junction tree agree on a chain too long for plain products.
#[test]
fn chain_and_junction_tree_agree_on_long_chain() {
    let g = hmm(2_000, tiny_emission);
    let c = posterior(Engine::Chain, &g, &HMM_THETA).expect("chain");
    let j = posterior(Engine::JunctionTree, &g, &HMM_THETA).expect("junction tree");
    assert!(
        c.log_z.is_finite() && close(c.log_z, j.log_z),
        "{} vs {}",
        c.log_z,
        j.log_z
    );
    assert_normalised(&j, "junction tree");
    for (i, (a, b)) in c.beliefs.iter().zip(&j.beliefs).enumerate() {
        assert!(
            a.iter().zip(b).all(|(x, y)| (x - y).abs() <= TOL),
            "factor {i}: {a:?} vs {b:?}"
        );
    }
    let (_, cs) = map(Engine::Chain, &g, &HMM_THETA).expect("chain map");
    let (ja, js) = map(Engine::JunctionTree, &g, &HMM_THETA).expect("junction tree map");
    assert!(close(cs, js), "{cs} vs {js}");
    assert!(close(log_score(&g, &HMM_THETA, &ja), js));
}

/// Thousands of factors of about 1e-3 on one clique: their product (about 1e-6000) underflows
/// f64 unless the engine sums logs or rescales.
#[test]
fn many_tiny_factors_do_not_underflow() {
    const TINY: usize = 2_000;
    // Slightly different per state, so the posterior is far from uniform.
    let theta: Vec<f64> = (0..PARAMS)
        .map(|k| 1e-3 * (1.0 + 1e-3 * k as f64))
        .collect();
    let on_one = || factor(vec![0], (0..3).map(Entry::Param).collect());
    let on_pair = || {
        let weights = (0..9)
            .map(|i| Entry::Fixed(if i % 4 == 0 { 1.001e-3 } else { 1e-3 }))
            .collect();
        factor(vec![0, 1], weights)
    };
    // One variable: every engine applies.
    let single = instance(&[3], (0..TINY).map(|_| on_one()).collect());
    // A star around x0 whose leaves form a loop, plus a triple: only the junction tree applies.
    let mut factors: Vec<Factor> = (0..TINY).flat_map(|_| [on_one(), on_pair()]).collect();
    for leaf in 1..6 {
        let entries = (0..9).map(|i| Entry::Param(i % PARAMS as u32)).collect();
        factors.push(factor(vec![0, leaf], entries));
        let next = leaf % 5 + 1;
        let entries = (0..9)
            .map(|i| Entry::Param((i + 3) % PARAMS as u32))
            .collect();
        factors.push(factor(vec![leaf.min(next), leaf.max(next)], entries));
    }
    factors.push(factor(
        vec![3, 4, 5],
        (0..27).map(|i| Entry::Param(i % 5)).collect(),
    ));
    let star = instance(&[3; 6], factors);
    for (what, g) in [("single", &single), ("star", &star)] {
        let t = truth(g, &theta);
        assert!(
            t.log_z.is_finite() && t.log_z < -1e4,
            "{what}: log Z {}",
            t.log_z
        );
        for engine in ENGINES {
            check_posterior(engine, g, &theta, &t, what);
            check_map(engine, g, &theta, t.best, what);
        }
    }
}

/// Every engine reports probability zero as an error with the instance's line, for both
/// posterior and MAP.
fn assert_zero_probability(g: &InstanceGraph, theta: &[f64], what: &str) {
    let zero = Err(InferError::ZeroProbability { line: LINE });
    for engine in ENGINES {
        let p = posterior(engine, g, theta).map(|p| p.log_z);
        assert_eq!(p, zero, "{what}, {engine:?} posterior");
        let m = map(engine, g, theta).map(|m| m.1);
        assert_eq!(m, zero, "{what}, {engine:?} MAP");
    }
}

#[test]
fn zero_probability_is_an_error_for_every_engine() {
    // Random instances with a factor of zeros added on the last variable (a constant factor
    // when there is none), or on the last two.
    for_each_case(|what, g, theta| {
        let n = g.vars.len() as VarId;
        let last_two = (n >= 2).then(|| vec![n - 2, n - 1]);
        for scope in [(n.saturating_sub(1)..n).collect()]
            .into_iter()
            .chain(last_two)
        {
            let size = scope.iter().map(|v| g.cards()[*v as usize]).product();
            let mut g = g.clone();
            g.factors
                .push(factor(scope, vec![Entry::Fixed(0.0); size].into()));
            assert_zero_probability(&g, theta, what);
        }
    });
    // Contradictions that no single factor shows.
    let theta = [0.5; PARAMS];
    let one = |scope: Vec<VarId>, ws: &[f64]| {
        factor(scope, ws.iter().map(|w| Entry::Fixed(*w)).collect())
    };
    let equal = [1.0, 0.0, 0.0, 1.0];
    let differ = [0.0, 1.0, 1.0, 0.0];
    let unary = instance(
        &[2],
        vec![one(vec![0], &[1.0, 0.0]), one(vec![0], &[0.0, 1.0])],
    );
    assert_zero_probability(&unary, &theta, "two unary factors");
    let chain = instance(
        &[2; 3],
        vec![
            one(vec![0], &[1.0, 0.0]),
            one(vec![0, 1], &equal),
            one(vec![1, 2], &equal),
            one(vec![2], &[0.0, 1.0]),
        ],
    );
    assert_zero_probability(&chain, &theta, "chain of equalities");
    // Two colours around an odd loop: every pair of factors is satisfiable, all three not.
    let ring = instance(
        &[2; 3],
        vec![
            one(vec![0, 1], &differ),
            one(vec![1, 2], &differ),
            one(vec![0, 2], &differ),
        ],
    );
    assert_zero_probability(&ring, &theta, "odd ring");
}

/// A clique beyond `MAX_CLIQUE_STATES` is an error from every engine, not an attempt to
/// build it.
#[test]
fn oversized_cliques_are_an_error() {
    // Pair factors between every two of 23 binary variables: one clique of 2^23 values.
    const N: VarId = 23;
    let table: Rc<[Entry]> = vec![Entry::Fixed(1.0); 4].into();
    let factors = (0..N)
        .flat_map(|a| (a + 1..N).map(move |b| vec![a, b]))
        .map(|scope| factor(scope, table.clone()))
        .collect();
    let g = instance(&[2; N as usize], factors);
    for engine in ENGINES {
        let too_large = |r: Result<(), InferError>| {
            matches!(
                r,
                Err(InferError::CliqueTooLarge {
                    line: LINE,
                    limit: MAX_CLIQUE_STATES,
                    ..
                })
            )
        };
        assert!(
            too_large(posterior(engine, &g, &[]).map(|_| ())),
            "{engine:?} posterior"
        );
        assert!(
            too_large(map(engine, &g, &[]).map(|_| ())),
            "{engine:?} MAP"
        );
    }
}

/// The planner's junction trees are valid: one clique per eliminated variable, children
/// before parents, each separator inside the parent, the running-intersection property, and
/// every factor inside its clique.
#[test]
fn junction_trees_are_valid() {
    for_each_case(|what, g, _| {
        let jt = junction_tree(g);
        let cards = g.cards();
        let mut owners: Vec<VarId> = jt.cliques.iter().map(|c| c.owner).collect();
        owners.sort_unstable();
        assert_eq!(
            owners,
            (0..g.vars.len() as VarId).collect::<Vec<_>>(),
            "{what}"
        );
        for (i, c) in jt.cliques.iter().enumerate() {
            assert!(
                c.vars.windows(2).all(|w| w[0] < w[1]),
                "{what}: clique {i} unsorted"
            );
            assert!(
                c.vars.contains(&c.owner),
                "{what}: clique {i} lacks its owner"
            );
            let states: usize = c.vars.iter().map(|v| cards[*v as usize]).product();
            assert_eq!(c.states, states, "{what}: clique {i}");
            match c.parent {
                // A root's separator is empty, so its upward message is a number.
                None => assert_eq!(c.vars, [c.owner], "{what}: root {i}"),
                Some(p) => {
                    let parent = &jt.cliques[p];
                    assert!(p > i && parent.children.contains(&i), "{what}: clique {i}");
                    assert!(
                        c.vars
                            .iter()
                            .all(|v| *v == c.owner || parent.vars.contains(v)),
                        "{what}: separator of clique {i} is not inside its parent {p}"
                    );
                }
            }
            for child in &c.children {
                assert_eq!(jt.cliques[*child].parent, Some(i), "{what}: clique {i}");
            }
        }
        // The cliques holding a variable are connected iff exactly one of them has no
        // parent holding it.
        for v in 0..g.vars.len() as VarId {
            let tops = jt
                .cliques
                .iter()
                .filter(|c| c.vars.contains(&v))
                .filter(|c| c.parent.is_none_or(|p| !jt.cliques[p].vars.contains(&v)))
                .count();
            assert_eq!(tops, 1, "{what}: cliques holding x{v} are not connected");
        }
        assert_eq!(jt.factor_clique.len(), g.factors.len(), "{what}");
        for (f, c) in g.factors.iter().zip(&jt.factor_clique) {
            match c {
                None => assert!(f.scope.is_empty(), "{what}: {} unplaced", f.name),
                Some(i) => assert!(
                    f.scope.iter().all(|v| jt.cliques[*i].vars.contains(v)),
                    "{what}: {} is not inside clique {i}",
                    f.name
                ),
            }
        }
    });
}

/// The brute force's own log-sum-exp (the engines normalise through `softmax`).
fn log_sum_exp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}
