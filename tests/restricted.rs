//! Rows normalised over the outcomes a line allows (`from`, `within`): on random aligners
//! (Vogel's HMM with NULL, and an IBM Model 2 shape), the log-likelihood, the expected
//! counts and the expected uses of every allowed set agree with enumeration of all
//! alignments to 1e-9; EM never decreases the objective; the gradients of both families
//! agree with finite differences.

use std::collections::HashMap;

use emc::data::{Dataset, FieldValue};
use emc::family::Estimators;
use emc::model::{Algorithm, InitMode};
use emc::params::{initial, Params};
use emc::pipeline::{front_end, program};
use emc::program::Program;
use emc::train::{e_step, norms, thread_pool, train, Config, Init};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Vogel's HMM aligner with a NULL gate: `prev` is the last English position a French word
/// took (0 before the first), a NULL word keeps it, and the jump from it is normalised over
/// this sentence's positions.
fn vogel(maxlen: usize, jump: &str) -> String {
    format!(
        "
const MAXLEN = {maxlen}
data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {{NULL}}
domain Pos = 0..MAXLEN + 1
domain Jump = 0 - MAXLEN..MAXLEN + 1
domain Gate = {{word, empty}}
param t : Categorical(F | E)
param gate : Categorical(Gate)
param jump : {jump}
proc align(j, prev : Pos) {{
    if j < len(f) {{
        let src = [NULL] ++ e
        for some k in 0 .. 2 {{
            hidden a : Pos
            if k == 0 {{
                empty ~ gate
                a ~ uniform within 0 .. 1
                f[j] ~ t(NULL)
                align(j + 1, prev)
            }} else {{
                word ~ gate
                a ~ jump from prev within 1 .. len(e) + 1
                f[j] ~ t(src[a])
                align(j + 1, a)
            }}
        }}
    }}
}}
model {{ align(0, 0) }}
"
    )
}

/// IBM Model 2's alignment table a(i | j, l), normalised over the positions 0..l of the
/// sentence (0 is NULL): a table conditioned on known values, restricted without `from`.
fn ibm2(maxlen: usize, family: &str) -> String {
    format!(
        "
const MAXLEN = {maxlen}
data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {{NULL}}
domain Pos = 0..MAXLEN + 1
param t : Categorical(F | E)
param align : {family}
proc word(j) {{
    if j < len(f) {{
        let src = [NULL] ++ e
        hidden a : Pos
        a ~ align(j, len(e)) within 0 .. len(e) + 1
        f[j] ~ t(src[a])
        word(j + 1)
    }}
}}
model {{ word(0) }}
"
    )
}

fn load(model: &str, data: &str) -> (Program, Dataset) {
    let m = front_end(model, &[]).unwrap_or_else(|e| panic!("{e:?}"));
    program(m, data, None).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Random sentence pairs of 1 to `max` words over small vocabularies.
fn pairs(rng: &mut ChaCha8Rng, lines: usize, max: usize) -> String {
    let mut out = String::new();
    for _ in 0..lines {
        let words = |rng: &mut ChaCha8Rng, p: &str| -> Vec<String> {
            let n = rng.gen_range(1..=max);
            (0..n)
                .map(|_| format!("{p}{}", rng.gen_range(0..3)))
                .collect()
        };
        let f = words(rng, "f");
        let e = words(rng, "e");
        out += &format!("{} ||| {}\n", f.join(" "), e.join(" "));
    }
    out
}

/// What enumeration of every alignment of every line gives.
struct Brute {
    log_likelihood: f64,
    expected: Vec<f64>,
    uses: HashMap<Vec<u32>, f64>,
}

/// One alignment's events: entries drawn, allowed sets divided by.
type Events = (Vec<usize>, Vec<Vec<u32>>);

/// Enumerates the alignments of every line; `events(line, f, e, a)` lists the events of
/// alignment `a` (0 = NULL, else a 1-based English position).
fn brute(
    p: &Program,
    d: &Dataset,
    theta: &[f64],
    events: impl Fn(&[usize], &[usize], &[usize]) -> Events,
) -> Brute {
    let mut b = Brute {
        log_likelihood: 0.0,
        expected: vec![0.0; theta.len()],
        uses: HashMap::new(),
    };
    let seq = |v: &FieldValue| -> Vec<usize> {
        let FieldValue::Sequence(s) = v else {
            panic!("a sequence")
        };
        s.iter().map(|x| x.unwrap() as usize).collect()
    };
    let _ = p;
    for inst in &d.instances {
        let (f, e) = (seq(&inst.values[0]), seq(&inst.values[1]));
        let (jn, i) = (f.len(), e.len());
        let mut all: Vec<(f64, Events)> = Vec::new();
        let mut a = vec![0usize; jn];
        loop {
            let (entries, sets) = events(&f, &e, &a);
            let mut w: f64 = entries.iter().map(|k| theta[*k]).product();
            for s in &sets {
                w /= s.iter().map(|k| theta[*k as usize]).sum::<f64>();
            }
            all.push((w, (entries, sets)));
            // The next alignment, as a number in base i + 1.
            let mut k = 0;
            while k < jn && a[k] == i {
                a[k] = 0;
                k += 1;
            }
            if k == jn {
                break;
            }
            a[k] += 1;
        }
        let z: f64 = all.iter().map(|(w, _)| w).sum();
        b.log_likelihood += z.ln();
        for (w, (entries, sets)) in all {
            for k in entries {
                b.expected[k] += w / z;
            }
            for s in sets {
                *b.uses.entry(s).or_default() += w / z;
            }
        }
    }
    b
}

fn family_offset(p: &Program, name: &str) -> (usize, usize) {
    let f = p.model.family_named(name).unwrap();
    (p.layout.families[f].offset, p.layout.families[f].n_out)
}

fn symbol(p: &Program, domain: &str, s: &str) -> usize {
    let d = p
        .model
        .domains
        .iter()
        .position(|x| x.name == domain)
        .unwrap();
    p.domains.lookup(d, s).unwrap() as usize
}

/// The E-step against enumeration on one model and random parameters.
fn agree(p: &Program, d: &Dataset, theta: &[f64], b: &Brute) {
    let mut params = initial(
        &p.model,
        &p.domains,
        &p.layout,
        InitMode::Uniform,
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap();
    params.theta.copy_from_slice(theta);
    let c = e_step(p, d, &params, &thread_pool(1)).unwrap();
    let tol = |x: f64| 1e-9 * x.abs().max(1.0);
    assert!(
        (c.log_likelihood - b.log_likelihood).abs() <= tol(b.log_likelihood),
        "log-likelihood {} against {}",
        c.log_likelihood,
        b.log_likelihood
    );
    for (k, (x, y)) in c.expected.iter().zip(&b.expected).enumerate() {
        assert!((x - y).abs() <= tol(*y), "entry {k}: {x} against {y}");
    }
    let got: HashMap<Vec<u32>, f64> = c
        .norm_sets
        .iter()
        .cloned()
        .zip(c.norm_uses.iter().copied())
        .collect();
    assert_eq!(got.len(), c.norm_sets.len(), "sets are interned once");
    for (s, u) in &b.uses {
        let g = got.get(s).copied().unwrap_or(0.0);
        assert!((g - u).abs() <= tol(*u), "set {s:?}: {g} against {u}");
    }
    for (s, g) in &got {
        assert!(b.uses.contains_key(s) || *g == 0.0, "set {s:?} unknown");
    }
}

fn random_theta(p: &Program, seed: u64) -> Params {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap()
}

#[test]
fn vogel_counts_agree_with_enumeration() {
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let maxlen = rng.gen_range(4..=5);
        let jump = if seed % 2 == 0 {
            "Categorical(Jump)"
        } else {
            "Logistic(Jump) { features: [word], l2: 0.1 }"
        };
        let data = pairs(&mut rng, 4, 4);
        let (p, d) = load(&vogel(maxlen, jump), &data);
        let theta = random_theta(&p, seed).theta;
        let (t, nf) = family_offset(&p, "t");
        let (gate, _) = family_offset(&p, "gate");
        let (jump, n_jump) = family_offset(&p, "jump");
        let (word, empty) = (
            gate + symbol(&p, "Gate", "word"),
            gate + symbol(&p, "Gate", "empty"),
        );
        let null = symbol(&p, "E", "NULL");
        let b = brute(&p, &d, &theta, |f, e, a| {
            let mut entries = Vec::new();
            let mut sets = Vec::new();
            let mut prev = 0i64;
            for (j, &aj) in a.iter().enumerate() {
                if aj == 0 {
                    entries.extend([empty, t + null * nf + f[j]]);
                    continue;
                }
                let width = |i: i64| jump + (i - prev + maxlen as i64) as usize;
                entries.extend([word, width(aj as i64), t + e[aj - 1] * nf + f[j]]);
                let set: Vec<u32> = (1..=e.len() as i64).map(|i| width(i) as u32).collect();
                if set.len() < n_jump {
                    sets.push(set);
                }
                prev = aj as i64;
            }
            (entries, sets)
        });
        agree(&p, &d, &theta, &b);
    }
}

/// `emc decode --posterior` on a restricted model: the posterior of every NULL choice, summed,
/// is the E-step's expected count of the NULL gate (the posteriors once ignored the allowed
/// sets' normalisers, which shifted mass between NULL and the jumps).
#[test]
fn posteriors_divide_by_the_allowed_sets() {
    for seed in 0..4u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        let data = pairs(&mut rng, 6, 5);
        let (p, d) = load(&vogel(5, "Categorical(Jump)"), &data);
        let params = random_theta(&p, seed);
        let (gate, _) = family_offset(&p, "gate");
        let empty = gate + symbol(&p, "Gate", "empty");
        let counts = e_step(&p, &d, &params, &thread_pool(1)).unwrap();
        let lines = emc::decode::marginals(&p, &d, &params).unwrap();
        // `LINE  choice  align(j, prev): 0 -> align(j + 1, prev)  P`: a NULL choice (a = 0).
        let null: f64 = (lines.iter())
            .filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                (cols.len() == 4 && cols[1] == "choice" && cols[2].contains("): 0 ->"))
                    .then(|| cols[3].parse::<f64>().unwrap())
            })
            .sum();
        let want = counts.expected[empty];
        // Posteriors are printed to 6 decimals, and those below 1e-6 not at all.
        assert!(
            (null - want).abs() <= 1e-5 * lines.len() as f64,
            "seed {seed}: NULL posteriors sum to {null}, the E-step counts {want}"
        );
    }
}

#[test]
fn ibm2_counts_agree_with_enumeration() {
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(100 + seed);
        // The probe instance (sequences of 4) must fit too; a sentence of `maxlen` words
        // allows the whole row, which then needs no normaliser.
        let maxlen = rng.gen_range(4..=5);
        let family = if seed % 2 == 0 {
            "Categorical(Pos | Pos, Pos)"
        } else {
            "Logistic(Pos | Pos, Pos) { features: [word, shared(word)], l2: 0.2 }"
        };
        let data = pairs(&mut rng, 4, 4);
        let (p, d) = load(&ibm2(maxlen, family), &data);
        let theta = random_theta(&p, seed).theta;
        let (t, nf) = family_offset(&p, "t");
        let (al, n_pos) = family_offset(&p, "align");
        let null = symbol(&p, "E", "NULL");
        let b = brute(&p, &d, &theta, |f, e, a| {
            let mut entries = Vec::new();
            let mut sets = Vec::new();
            for (j, &aj) in a.iter().enumerate() {
                let row = al + (j * n_pos + e.len()) * n_pos;
                let src = if aj == 0 { null } else { e[aj - 1] };
                entries.extend([row + aj, t + src * nf + f[j]]);
                if e.len() + 1 < n_pos {
                    sets.push((0..=e.len()).map(|i| (row + i) as u32).collect());
                }
            }
            (entries, sets)
        });
        agree(&p, &d, &theta, &b);
    }
}

fn trained(model: &str, data: &str, algorithm: Algorithm, iterations: usize) -> Vec<f64> {
    let (p, d) = load(model, data);
    let mut c = Config::from_model(&p);
    c.iterations = iterations;
    c.tolerance = 0.0;
    c.algorithm = algorithm;
    c.init = Init::Mode(InitMode::Random);
    train(&p, &d, &c, &mut |_| {})
        .unwrap()
        .trace
        .iter()
        .map(|t| t.objective)
        .collect()
}

fn assert_monotone(trace: &[f64], what: &str) {
    assert!(trace.len() > 5, "{what}: {trace:?}");
    for w in trace.windows(2) {
        assert!(
            w[1] >= w[0] - 1e-9 * w[0].abs(),
            "{what}: the objective fell from {} to {}",
            w[0],
            w[1]
        );
    }
    assert!(
        trace.last().unwrap() > &(trace[0] + 1.0),
        "{what}: {trace:?}"
    );
}

#[test]
fn em_with_restricted_rows_never_decreases_the_objective() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let data = pairs(&mut rng, 30, 5);
    let cat = trained(&vogel(5, "Categorical(Jump)"), &data, Algorithm::Em, 30);
    assert_monotone(&cat, "Vogel, Categorical jumps");
    let smooth = "Categorical(Jump) { smoothing: 0.5 }";
    assert_monotone(
        &trained(&vogel(5, smooth), &data, Algorithm::Em, 30),
        "Vogel, smoothed jumps",
    );
    let logistic = "Logistic(Jump) { features: [word], l2: 0.05 }";
    assert_monotone(
        &trained(&vogel(5, logistic), &data, Algorithm::Em, 15),
        "Vogel, Logistic jumps (Algorithm 1)",
    );
    assert_monotone(
        &trained(
            &ibm2(5, "Categorical(Pos | Pos, Pos)"),
            &data,
            Algorithm::Em,
            30,
        ),
        "IBM Model 2",
    );
    let direct = trained(&vogel(5, logistic), &data, Algorithm::Direct, 30);
    assert!(direct.last().unwrap() > &(direct[0] + 1.0), "{direct:?}");
}

/// The penalised marginal log-likelihood at variables `x`, and its gradient from the E-step.
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
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let base = random_theta(&p, 3);
    let x: Vec<f64> = est
        .variables(&base.theta)
        .iter()
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let (_, grad) = objective(&p, &d, &est, &base, &x);
    let h = 1e-5;
    for k in 0..x.len() {
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[k] += h;
        minus[k] -= h;
        let fd = (objective(&p, &d, &est, &base, &plus).0
            - objective(&p, &d, &est, &base, &minus).0)
            / (2.0 * h);
        assert!(
            (fd - grad[k]).abs() <= 1e-6 * grad[k].abs().max(1.0),
            "variable {k}: finite difference {fd}, gradient {}",
            grad[k]
        );
    }
}

#[test]
fn gradients_with_restricted_rows_are_the_marginal_likelihoods() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let data = pairs(&mut rng, 6, 4);
    check_gradient(
        &vogel(4, "Logistic(Jump) { features: [word], l2: 0.3 }"),
        &data,
    );
    check_gradient(&vogel(4, "Categorical(Jump) { smoothing: 0.2 }"), &data);
    check_gradient(
        &ibm2(
            4,
            "Logistic(Pos | Pos, Pos) { features: [word, shared(word)], l2: 0.2 }",
        ),
        &data,
    );
}

/// The zoo's recipe: IBM Model 1, then the HMM aligner from its translation table (the
/// partial initialisation `--init` makes). On the generated pairs the HMM tells the two
/// `le` of a sentence apart by their jumps, which IBM Model 1 cannot.
#[test]
fn the_hmm_aligner_from_ibm1_beats_ibm1() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| std::fs::read_to_string(format!("{root}/models/{f}")).unwrap();
    let data = read("hmm_aligner.txt");
    let gold = read("hmm_aligner.gold");
    let run = |model: &str, init: Option<(&Program, &Params)>| {
        let (p, d) = load(&read(model), &data);
        let mut c = Config::from_model(&p);
        c.decode = true;
        if let Some((ibm1, given)) = init {
            let f = p.model.family_named("t").unwrap();
            let g = ibm1.model.family_named("t").unwrap();
            let (to, from) = (&p.layout.families[f], &ibm1.layout.families[g]);
            assert_eq!(to.n_cond * to.n_out, from.n_cond * from.n_out);
            let mut start = random_theta(&p, 0);
            let n = to.n_cond * to.n_out;
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
        let aer = emc::eval::evaluate(emc::eval::Metric::Aer, &gold, &pred)
            .unwrap()
            .value;
        (p, out, aer)
    };
    let (ibm1, out1, aer1) = run("ibm1_null.em", None);
    let (_, out2, aer2) = run("hmm_aligner.em", Some((&ibm1, &out1.params)));
    assert_monotone(
        &out2.trace.iter().map(|t| t.objective).collect::<Vec<_>>(),
        "HMM aligner from IBM Model 1",
    );
    assert!((aer1 - 0.2066).abs() < 5e-4, "IBM Model 1: AER {aer1}");
    assert!((aer2 - 0.0162).abs() < 5e-4, "HMM aligner: AER {aer2}");
}
