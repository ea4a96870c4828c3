//! Hard (Viterbi) EM's counts (`hard::viterbi_counts`) against brute force: on small
//! instances with random parameters, every joint value (unrolled stories) or every
//! derivation (structured stories) is enumerated by a plain loop, the best is found and its
//! events counted, and the counts, the log-likelihood and the allowed sets' uses must agree.
//! Also: the recursive HMM gives the HMM's counts, 1 and 2 threads give the same bits, and a
//! line of probability zero stops or is skipped as the soft E-step does it.

use std::collections::BTreeMap;

use emc::data::FieldValue;
use emc::error::Error;
use emc::graph::{Entry, TableCache};
use emc::hard::viterbi_counts;
use emc::infer::{CountStore, Engine, InferError};
use emc::model::{FamilyKind, InitMode};
use emc::params::{initial, Params};
use emc::pipeline::{compile, front_end, Compiled};
use emc::program::Program;
use emc::train::{thread_pool, ZeroPolicy};
use rand::{Rng, SeedableRng};

/// Random parameters, given initial values too (icecream's and two_coins' mirror each other
/// and tie): every learned dense Categorical row drawn afresh, spread over [0.05, 1), and
/// Gaussian means drawn in [-2, 2).
fn random_params(p: &Program, seed: u64) -> Params {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut params = initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap();
    for (fam, slot) in p.model.families.iter().zip(&p.layout.families) {
        if let FamilyKind::Gaussian(g) = &fam.kind {
            // Rows start equal (mean 0, identity) for seeding to replace: spread the means.
            for r in 0..slot.n_cond {
                let row = &mut params.theta[slot.offset + r * slot.n_out..][..g.dim];
                row.iter_mut().for_each(|x| *x = rng.gen_range(-2.0..2.0));
            }
            continue;
        }
        if fam.fixed || fam.kind != FamilyKind::Categorical || slot.support.is_some() {
            continue;
        }
        for r in 0..slot.n_cond {
            let row = &mut params.theta[slot.offset + r * slot.n_out..][..slot.n_out];
            row.iter_mut().for_each(|x| *x = rng.gen_range(0.05..1.0));
            let sum: f64 = row.iter().sum();
            row.iter_mut().for_each(|x| *x /= sum);
        }
    }
    params
}

fn read(file: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{root}/models/{file}")).unwrap()
}

/// `models/NAME.em` with `set`, on `data`, compiled as `emc run` compiles it.
fn compiled(name: &str, set: &[(&str, &str)], data: &str, threads: usize) -> Compiled {
    let set: Vec<(String, String)> = (set.iter())
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let m = front_end(&read(&format!("{name}.em")), &set).unwrap_or_else(|e| panic!("{e:?}"));
    compile(m, data, None, threads).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// `models/NAME.em` with a weight field after its data fields, on `data` with the weights
/// 0.5, 1.25, 2, 2.75 in turn.
fn weighted(name: &str, set: &[(&str, &str)], data: &str) -> Compiled {
    let model: String = (read(&format!("{name}.em")).lines())
        .map(|l| match l.starts_with("data ") {
            true => format!("{l} ||| n : weight\n"),
            false => format!("{l}\n"),
        })
        .collect();
    let data: String = (data.lines().enumerate())
        .map(|(i, l)| format!("{l} ||| {}\n", 0.5 + 0.75 * (i % 4) as f64))
        .collect();
    let set: Vec<(String, String)> = (set.iter())
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let m = front_end(&model, &set).unwrap_or_else(|e| panic!("{e:?}"));
    compile(m, &data, None, 2).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// The first `lines` lines of `models/FILE`, each cut to its first `tokens` tokens on each
/// side of a `|||`.
fn cut(file: &str, lines: usize, tokens: usize) -> String {
    let mut out = String::new();
    for l in read(file).lines().take(lines) {
        let sides: Vec<String> = (l.split("|||"))
            .map(|s| {
                s.split_whitespace()
                    .take(tokens)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        out += &sides.join(" ||| ");
        out.push('\n');
    }
    out
}

fn hard(c: &Compiled, params: &Params, threads: usize, on_zero: ZeroPolicy) -> CountStore {
    let pool = thread_pool(threads);
    viterbi_counts(&c.program, &c.dataset, params, &c.kernel, &pool, on_zero)
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// What brute force counts: per parameter, the log-likelihood, and each allowed set's uses
/// (by its parameter indices).
#[derive(Default)]
struct Brute {
    expected: Vec<f64>,
    log_likelihood: f64,
    uses: BTreeMap<Vec<u32>, f64>,
}

fn assert_matches(what: &str, got: &CountStore, want: &Brute) {
    let tol = 1e-12 * want.log_likelihood.abs().max(1.0);
    assert!(
        (got.log_likelihood - want.log_likelihood).abs() <= tol,
        "{what}: log-likelihood {} vs {}",
        got.log_likelihood,
        want.log_likelihood
    );
    assert_eq!(got.expected.len(), want.expected.len(), "{what}: length");
    for (k, (a, b)) in got.expected.iter().zip(&want.expected).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{what}: count {k} is {a}, brute force says {b}"
        );
    }
    let mut uses: BTreeMap<Vec<u32>, f64> = BTreeMap::new();
    assert_eq!(got.norm_sets.len(), got.norm_uses.len(), "{what}: sets");
    for (s, n) in got.norm_sets.iter().zip(&got.norm_uses) {
        *uses.entry(s.clone()).or_default() += n;
    }
    uses.retain(|_, n| *n != 0.0);
    assert_eq!(uses, want.uses, "{what}: allowed sets' uses");
}

/// Adds `mass` of a Gaussian row's statistics for a fully observed `x`: mass, sum x, sum x x^T.
fn moments(stats: &mut [f64], x: &[f64], mass: f64) {
    let d = x.len();
    stats[0] += mass;
    for i in 0..d {
        stats[1 + i] += mass * x[i];
        for j in 0..d {
            stats[1 + d + i * d + j] += mass * x[i] * x[j];
        }
    }
}

/// Every joint value of every line's hidden variables, by an odometer over their values.
fn brute_unrolled(c: &Compiled, theta: &[f64]) -> Brute {
    let mut out = Brute {
        expected: vec![0.0; c.program.layout.total],
        ..Brute::default()
    };
    let mut tables = TableCache::default();
    for inst in &c.dataset.instances {
        let g = c.program.unroll(inst, &mut tables).unwrap();
        let cards = g.cards();
        let size: usize = cards.iter().product();
        assert!(size <= 1 << 16, "line {}: {size} joint values", inst.line);
        let at = |f: &emc::graph::Factor, a: &[usize]| {
            let mut i = 0;
            for v in &f.scope {
                i = i * cards[*v as usize] + a[*v as usize];
            }
            i
        };
        let next = |a: &mut [usize]| {
            for (x, card) in a.iter_mut().zip(&cards).rev() {
                *x += 1;
                if *x < *card {
                    break;
                }
                *x = 0;
            }
        };
        let log_p = |a: &[usize]| -> f64 {
            (g.factors.iter())
                .map(|f| g.log_value(f.entries[at(f, a)], theta))
                .sum()
        };
        let (mut best, mut arg) = (f64::NEG_INFINITY, Vec::new());
        let mut a = vec![0usize; cards.len()];
        for _ in 0..size {
            let lp = log_p(&a);
            if lp > best {
                (best, arg) = (lp, a.clone());
            }
            next(&mut a);
        }
        assert!(best.is_finite(), "line {}", inst.line);
        // Joint values as good as the best must draw the same events, or the parameters tie.
        let events = |a: &[usize]| {
            let mut e: Vec<String> = (g.factors.iter())
                .map(|f| format!("{:?}", f.entries[at(f, a)]))
                .collect();
            e.sort();
            e
        };
        for _ in 0..size {
            if best - log_p(&a) <= 1e-9 {
                assert_eq!(events(&a), events(&arg), "line {}: a tie", inst.line);
            }
            next(&mut a);
        }
        for f in &g.factors {
            match f.entries[at(f, &arg)] {
                Entry::Param(k) => out.expected[k as usize] += g.weight,
                Entry::Fixed(_) => {}
                Entry::Density { row, obs } => {
                    let x = &g.observations[obs as usize];
                    moments(&mut out.expected[row as usize..], x, g.weight);
                }
            }
        }
        out.log_likelihood += g.weight * best;
    }
    out
}

fn check_unrolled(what: &str, c: &Compiled, engine: Engine, seeds: u64) {
    assert_eq!(c.program.plan.engine, engine, "{what}: plan");
    for seed in 0..seeds {
        let params = random_params(&c.program, seed);
        let got = hard(c, &params, 2, ZeroPolicy::Stop);
        assert_eq!(got.instances, c.dataset.instances.len());
        assert_matches(
            &format!("{what} seed {seed}"),
            &got,
            &brute_unrolled(c, &params.theta),
        );
    }
}

#[test]
fn a_mixture_counts_its_best_coins() {
    let c = compiled("two_coins", &[], &read("two_coins.txt"), 2);
    check_unrolled("two_coins", &c, Engine::Enumerate, 4);
}

#[test]
fn hmms_count_their_best_paths() {
    let c = compiled("hmm", &[("K", "3")], &cut("hmm.txt", 40, 6), 2);
    check_unrolled("hmm", &c, Engine::Chain, 3);
    // Windows of the one long line, with its START and STOP transitions.
    let text = read("icecream.txt");
    let ice: Vec<&str> = text.split_whitespace().collect();
    let windows: String = (ice.windows(8).step_by(3))
        .map(|w| w.join(" ") + "\n")
        .collect();
    let c = compiled("icecream", &[], &windows, 2);
    check_unrolled("icecream", &c, Engine::Chain, 3);
}

#[test]
fn a_junction_tree_model_counts_its_best_joint_value() {
    let c = compiled(
        "factorial_hmm",
        &[("K", "2")],
        &cut("factorial_hmm.txt", 20, 5),
        2,
    );
    check_unrolled("factorial_hmm", &c, Engine::JunctionTree, 3);
}

#[test]
fn a_gaussian_mixture_counts_statistics_of_its_best_components() {
    let data: String = read("gmm_2d.txt")
        .lines()
        .take(60)
        .map(|l| l.to_string() + "\n")
        .collect();
    let c = compiled("gmm_2d", &[], &data, 2);
    assert!(c.dataset.instances.iter().all(|i| i
        .values
        .iter()
        .all(|v| !matches!(v, FieldValue::Real(x) if x.iter().any(|x| x.is_nan())))));
    assert_eq!(c.program.plan.engine, Engine::Enumerate);
    let shape = c.program.model.family_named("shape").unwrap();
    let slot = &c.program.layout.families[shape];
    for seed in 0..3 {
        let mut params = random_params(&c.program, seed);
        // Means at two data points, so both components win some lines.
        for r in 0..2 {
            let inst = &c.dataset.instances[(7 * r + seed as usize) % 60];
            let FieldValue::Real(x) = &inst.values[0] else {
                panic!("a real field")
            };
            let mean = &mut params.theta[slot.offset + r * slot.n_out..][..2];
            mean.iter_mut().zip(x).for_each(|(m, v)| *m = v + 0.1);
        }
        let got = hard(&c, &params, 2, ZeroPolicy::Stop);
        for r in 0..2 {
            assert!(
                got.expected[slot.offset + r * slot.n_out] > 0.0,
                "component {r} wins no line"
            );
        }
        let want = brute_unrolled(&c, &params.theta);
        assert_matches(&format!("gmm_2d seed {seed}"), &got, &want);
    }
}

/// The recursive HMM's Viterbi derivation is the HMM's best path, so its counts are the
/// chain's (each line executed into a hypergraph, against max-product on the unrolled chain).
#[test]
fn the_recursive_hmm_gives_the_hmms_hard_counts() {
    let data = cut("hmm.txt", 150, 12);
    let chain = compiled("hmm", &[], &data, 2);
    let rec = compiled("hmm_recursive", &[], &data, 2);
    assert_eq!(rec.program.plan.engine, Engine::Hypergraph);
    assert_eq!(chain.program.layout, rec.program.layout);
    for seed in 0..3 {
        let params = random_params(&chain.program, seed);
        let (a, b) = (
            hard(&chain, &params, 2, ZeroPolicy::Stop),
            hard(&rec, &params, 2, ZeroPolicy::Stop),
        );
        let want = Brute {
            expected: a.expected.clone(),
            log_likelihood: a.log_likelihood,
            uses: BTreeMap::new(),
        };
        assert_matches(&format!("seed {seed}"), &b, &want);
        assert_eq!(a.instances, b.instances);
        // Every line counts one start, len - 1 transitions and len emissions.
        let tokens: f64 = (data.lines())
            .map(|l| l.split_whitespace().count() as f64)
            .sum();
        assert_eq!(b.expected.iter().sum::<f64>(), 2.0 * tokens);
    }
}

/// The parameter index of `family`'s entry for value indices `cond` and `outcome`.
fn index(p: &Program, family: &str, cond: &[usize], outcome: usize) -> u32 {
    let f = p.model.family_named(family).expect("family exists");
    let slot = &p.layout.families[f];
    let mut row = 0;
    for (k, c) in cond.iter().enumerate() {
        row = row * slot.cond_sizes[k] + c;
    }
    slot.index(row * slot.n_out + outcome)
        .expect("a dense family") as u32
}

/// A derivation: its log-probability, the parameter entries it draws, and the allowed
/// sets it divides by.
type Derivation = (f64, Vec<u32>, Vec<Vec<u32>>);

/// Keeps the best of `all` and counts it into `out`: any derivation as good (within 1e-9)
/// must draw the same events, or the test's parameters have a tie.
fn count_best(all: &[Derivation], weight: f64, out: &mut Brute, what: &str) {
    let best = (all.iter())
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .expect("a derivation");
    let sorted = |d: &Derivation| {
        let (mut e, mut s) = (d.1.clone(), d.2.clone());
        e.sort_unstable();
        s.sort_unstable();
        (e, s)
    };
    for d in all.iter().filter(|d| best.0 - d.0 <= 1e-9) {
        assert_eq!(sorted(d), sorted(best), "{what}: a tie");
    }
    for k in &best.1 {
        out.expected[*k as usize] += weight;
    }
    for s in &best.2 {
        *out.uses.entry(s.clone()).or_default() += weight;
    }
    out.log_likelihood += weight * best.0;
}

/// Every derivation of nonterminal `x` over `w[i..k]` under models/pcfg.em, one by one.
fn pcfg_derivations(
    p: &Program,
    theta: &[f64],
    w: &[u32],
    x: usize,
    i: usize,
    k: usize,
) -> Vec<Derivation> {
    let kinds = p
        .model
        .family_named("kind")
        .map(|f| p.model.families[f].outcome)
        .unwrap();
    let (bin, lex) = (
        p.domains.lookup(kinds, "BIN").unwrap() as usize,
        p.domains.lookup(kinds, "LEX").unwrap() as usize,
    );
    let nts = p.layout.families[p.model.family_named("root").unwrap()].n_out;
    let lp = |e: &[u32]| e.iter().map(|k| theta[*k as usize].ln()).sum::<f64>();
    if k == i + 1 {
        let e = vec![
            index(p, "kind", &[x], lex),
            index(p, "emit", &[x], w[i] as usize),
        ];
        return vec![(lp(&e), e, Vec::new())];
    }
    let mut out = Vec::new();
    for y in 0..nts {
        for z in 0..nts {
            let rule = vec![
                index(p, "kind", &[x], bin),
                index(p, "left", &[x], y),
                index(p, "right", &[x, y], z),
            ];
            for j in i + 1..k {
                let (l, r) = (
                    pcfg_derivations(p, theta, w, y, i, j),
                    pcfg_derivations(p, theta, w, z, j, k),
                );
                for a in &l {
                    for b in &r {
                        let e: Vec<u32> = rule.iter().chain(&a.1).chain(&b.1).copied().collect();
                        out.push((lp(&rule) + a.0 + b.0, e, Vec::new()));
                    }
                }
            }
        }
    }
    out
}

fn words(inst: &emc::data::Instance, field: usize) -> Vec<u32> {
    match &inst.values[field] {
        FieldValue::Sequence(s) => s.iter().map(|x| x.unwrap()).collect(),
        v => panic!("{v:?}"),
    }
}

#[test]
fn a_pcfg_counts_its_best_tree() {
    let c = compiled("pcfg", &[("K", "2")], &cut("pcfg.txt", 25, 4), 2);
    assert_eq!(c.program.plan.engine, Engine::Hypergraph);
    let p = &c.program;
    for seed in 0..3 {
        let params = random_params(p, seed);
        let theta = &params.theta;
        let mut want = Brute {
            expected: vec![0.0; p.layout.total],
            ..Brute::default()
        };
        for inst in &c.dataset.instances {
            let w = words(inst, 0);
            let mut all = Vec::new();
            for s in 0..2 {
                let root = index(p, "root", &[], s);
                for (lp, mut e, n) in pcfg_derivations(p, theta, &w, s, 0, w.len()) {
                    e.push(root);
                    all.push((lp + theta[root as usize].ln(), e, n));
                }
            }
            count_best(
                &all,
                inst.weight,
                &mut want,
                &format!("seed {seed} line {}", inst.line),
            );
        }
        let got = hard(&c, &params, 2, ZeroPolicy::Stop);
        assert_matches(&format!("pcfg seed {seed}"), &got, &want);
    }
}

/// The HMM aligner's every alignment: a position per French word (0: NULL), each real one
/// a jump from the last real position normalised over this sentence's positions.
#[test]
fn the_hmm_aligner_counts_its_best_alignment_and_its_restricted_rows() {
    let c = compiled("hmm_aligner", &[], &cut("hmm_aligner.txt", 30, 4), 2);
    assert_eq!(c.program.plan.engine, Engine::Hypergraph);
    let p = &c.program;
    let m = &p.model;
    let field = |n: &str| m.fields.iter().position(|f| f.name == n).unwrap();
    let (ff, ef) = (field("f"), field("e"));
    let e_dom = m.fields[ef].domain;
    let null = p.domains.lookup(e_dom, "NULL").unwrap() as usize;
    let gates = m.families[m.family_named("gate").unwrap()].outcome;
    let (word, empty) = (
        p.domains.lookup(gates, "word").unwrap() as usize,
        p.domains.lookup(gates, "empty").unwrap() as usize,
    );
    // Jump widths are -15..16: width d is value d + 15.
    let jump = |d: i64| index(p, "jump", &[], (d + 15) as usize);
    for seed in 0..3 {
        let params = random_params(p, seed);
        let theta = &params.theta;
        let mut want = Brute {
            expected: vec![0.0; p.layout.total],
            ..Brute::default()
        };
        for inst in &c.dataset.instances {
            let (f, e) = (words(inst, ff), words(inst, ef));
            let n_e = e.len() as i64;
            let mut all = Vec::new();
            let mut a = vec![0i64; f.len()];
            loop {
                let (mut events, mut sets, mut lp, mut prev) = (Vec::new(), Vec::new(), 0.0, 0);
                for (j, aj) in a.iter().enumerate() {
                    if *aj == 0 {
                        events.push(index(p, "gate", &[], empty));
                        events.push(index(p, "t", &[null], f[j] as usize));
                    } else {
                        events.push(index(p, "gate", &[], word));
                        events.push(jump(aj - prev));
                        events.push(index(
                            p,
                            "t",
                            &[e[*aj as usize - 1] as usize],
                            f[j] as usize,
                        ));
                        let mut set: Vec<u32> = (1..=n_e).map(|i| jump(i - prev)).collect();
                        set.sort_unstable();
                        lp -= set.iter().map(|k| theta[*k as usize]).sum::<f64>().ln();
                        sets.push(set);
                        prev = *aj;
                    }
                }
                lp += events.iter().map(|k| theta[*k as usize].ln()).sum::<f64>();
                all.push((lp, events, sets));
                // The next alignment, positions 0..=len(e) per word.
                let mut carry = true;
                for x in a.iter_mut().rev() {
                    *x += 1;
                    if *x <= n_e {
                        carry = false;
                        break;
                    }
                    *x = 0;
                }
                if carry {
                    break;
                }
            }
            count_best(
                &all,
                inst.weight,
                &mut want,
                &format!("seed {seed} line {}", inst.line),
            );
        }
        let got = hard(&c, &params, 2, ZeroPolicy::Stop);
        assert_matches(&format!("aligner seed {seed}"), &got, &want);
        // The sets are the soft E-step's, with the same ids.
        let soft = (c.kernel)
            .e_step(p, &c.dataset, &params, &c.pool, ZeroPolicy::Stop)
            .unwrap();
        assert_eq!(got.norm_sets, soft.norm_sets);
        assert!(!got.norm_uses.is_empty());
    }
}

/// Blocks are fixed by the data and merged in order: 1 and 2 threads give the same bits, on
/// an unrolled story of several blocks and on structured ones.
#[test]
fn one_and_two_threads_give_the_same_bits() {
    for (name, set, data) in [
        ("hmm", vec![], cut("hmm.txt", 300, 30)),
        (
            "factorial_hmm",
            vec![("K", "2")],
            cut("factorial_hmm.txt", 60, 8).repeat(2),
        ),
        ("hmm_recursive", vec![], cut("hmm.txt", 300, 30)),
        ("pcfg", vec![], cut("pcfg.txt", 200, 8)),
        ("hmm_aligner", vec![], read("hmm_aligner.txt")),
    ] {
        let c = compiled(name, &set, &data, 2);
        assert!(c.dataset.instances.len() > 64, "{name}: several blocks");
        let params = random_params(&c.program, 7);
        let one = hard(&c, &params, 1, ZeroPolicy::Stop);
        let two = hard(&c, &params, 2, ZeroPolicy::Stop);
        assert_eq!(one, two, "{name}");
        assert_eq!(
            one.expected.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            two.expected.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "{name}"
        );
    }
}

/// Heads are certain, so a line with a tail has no derivation: under `Stop` it is the soft
/// E-step's error, under `Skip` it is reported and the other lines are counted.
#[test]
fn a_zero_probability_line_stops_or_is_skipped() {
    let flat = "domain Face = {H, T}\ndata tosses : [Face]\n\
        param p : Categorical(Face) { fixed, init: [1.0, 0.0] }\nparam q : Categorical(Face)\n\
        model {\n  for i in 0..len(tosses): tosses[i] ~ p\n}\n";
    let structured = "domain Face = {H, T}\ndata tosses : [Face]\n\
        param p : Categorical(Face) { fixed, init: [1.0, 0.0] }\nparam q : Categorical(Face)\n\
        proc toss(i) {\n  if i < len(tosses) {\n    tosses[i] ~ p\n    toss(i + 1)\n  }\n}\n\
        model { toss(0) }\n";
    for (what, model) in [("flat", flat), ("structured", structured)] {
        let m = front_end(model, &[]).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let c = compile(m, "H H\nH T\nH\nT\n", None, 2).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let params = initial(
            &c.program.model,
            &c.program.domains,
            &c.program.layout,
            InitMode::Uniform,
            &mut rand_chacha::ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap();
        let pool = thread_pool(2);
        let stop = viterbi_counts(
            &c.program,
            &c.dataset,
            &params,
            &c.kernel,
            &pool,
            ZeroPolicy::Stop,
        );
        assert!(
            matches!(
                stop,
                Err(Error::Infer(InferError::ZeroProbability { line: 2 }))
            ),
            "{what}: {stop:?}"
        );
        let soft = c
            .kernel
            .e_step(&c.program, &c.dataset, &params, &pool, ZeroPolicy::Stop);
        assert_eq!(
            format!("{soft:?}"),
            format!("{stop:?}"),
            "{what}: the soft E-step's error"
        );
        let skip = hard(&c, &params, 2, ZeroPolicy::Skip);
        assert_eq!(skip.skipped, vec![2, 4], "{what}");
        assert_eq!(skip.instances, 2, "{what}");
        assert_eq!(skip.log_likelihood, 0.0, "{what}");
        let p = index(&c.program, "p", &[], 0) as usize;
        assert_eq!(skip.expected[p], 3.0, "{what}: three heads counted");
    }
}

/// Weighted lines count their derivations `weight` times, Gaussian statistics with mass
/// `weight` too: brute force on the flat stories, and the structured retellings (whose
/// densities are hyperedge entries past the parameters) give the flat ones' counts.
#[test]
fn weights_and_gaussian_draws_count_alike_in_flat_and_structured_stories() {
    for (flat, rec, set, data) in [
        (
            "hmm",
            "hmm_recursive",
            vec![("K", "3")],
            cut("hmm.txt", 40, 6),
        ),
        (
            "gaussian_hmm",
            "gaussian_hmm_recursive",
            vec![],
            cut("gaussian_hmm.txt", 40, 7),
        ),
    ] {
        let (a, b) = (weighted(flat, &set, &data), weighted(rec, &set, &data));
        assert!(a.dataset.instances.iter().any(|i| i.weight != 1.0));
        check_unrolled(flat, &a, Engine::Chain, 3);
        assert_eq!(b.program.plan.engine, Engine::Hypergraph);
        assert_eq!(a.program.layout, b.program.layout);
        for seed in 0..3 {
            let params = random_params(&a.program, seed);
            let brute = brute_unrolled(&a, &params.theta);
            assert_matches(
                &format!("{rec} seed {seed}"),
                &hard(&b, &params, 2, ZeroPolicy::Stop),
                &brute,
            );
        }
    }
}
