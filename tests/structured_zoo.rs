//! The structured zoo models against their references: the DMV (`models/dmv.em`) against the
//! NumPy peer's trace and brute-force enumeration of projective trees, its attachment
//! accuracy from the harmonic initialiser; the PCFG and the HSMM recovering the grammar and
//! the durations they were sampled from.

mod common;

use emc::eval::{evaluate, Metric};
use emc::kernel::Kernel;
use emc::params::{read_init, Params};
use emc::pipeline::{compile, front_end, Compiled};
use emc::program::Program;
use emc::train::{Init, ZeroPolicy};
use rand::SeedableRng;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}/models/{name}"))
        .unwrap_or_else(|e| panic!("models/{name}: {e}"))
}

/// `models/dmv.em` on `data`, with the vocabulary and starting values of the harmonic
/// initialiser's file, as `emc run --init models/dmv.harmonic.json` compiles it.
fn dmv_from_harmonic(data: &str, threads: usize) -> (Compiled, Params) {
    let model = front_end(&read("dmv.em"), &[]).unwrap();
    let file = read_init(&model, &read("dmv.harmonic.json")).unwrap();
    let domains = file.domains(&model, None).unwrap();
    let c = compile(model, data, Some(&domains), threads).unwrap();
    let (given, families) = file
        .values(&c.program.model, &c.program.domains, &c.program.layout)
        .unwrap();
    assert_eq!(families, vec![0, 1, 2], "the file gives every family");
    (c, given)
}

/// The log-likelihoods `scripts/bench/dmv_peer.py --data models/dmv.txt --iterations 10`
/// printed (harmonic initialiser; t = 0 is the initialiser's parameters).
const PEER_TRACE: [f64; 11] = [
    -74630.128552017,
    -72129.11068750326,
    -71175.11750093159,
    -70554.58682060995,
    -70001.77470541024,
    -69420.88328401934,
    -68807.66870505182,
    -68228.3907850652,
    -67748.17349980201,
    -67386.64599374738,
    -67121.62885800234,
];

/// The DMV from the harmonic initialiser gives the NumPy peer's log-likelihood trace to
/// 1e-9 (relative), never decreases it, gives the same bits on 1 and 2 threads, and its
/// Viterbi trees score the peer's directed attachment accuracy.
#[test]
fn dmv_gives_the_peers_trace_and_attachment_accuracy() {
    let data = read("dmv.txt");
    let (one, start) = dmv_from_harmonic(&data, 1);
    let (two, _) = dmv_from_harmonic(&data, 2);
    assert!(matches!(one.kernel, Kernel::Hypergraph(_)));
    let mut config = common::config(&one.program, 10, 0.0);
    config.init = Init::Given(start);
    let a = one.train(&config, &mut |_| {}).unwrap();
    config.threads = 2;
    let b = two.train(&config, &mut |_| {}).unwrap();
    assert_eq!(a.params, b.params, "1 and 2 threads give identical bits");
    common::assert_em_trace(&a.trace, &PEER_TRACE);
    let pred = emc::decode::viterbi(&one.program, &one.dataset, &a.params).unwrap();
    assert_eq!(pred.len(), 5386);
    let report = evaluate(
        Metric::Attachment,
        &read("dmv.gold"),
        &(pred.join("\n") + "\n"),
    )
    .unwrap();
    // The peer's Viterbi trees after 10 iterations score 0.2604 directed, 0.4639 undirected;
    // emc's differ from them only where two trees tie exactly (a few sentences, other
    // tie-breaking). Left-branching scores 0.3643 directed on these sentences: the DMV on
    // UD's content-word heads, from the harmonic start, does not reach it.
    common::close(
        report.value,
        0.2604,
        0.002,
        "directed accuracy after 10 iterations",
    );
    let undirected = report.details[0].1;
    common::close(
        undirected,
        0.4639,
        0.002,
        "undirected accuracy after 10 iterations",
    );
}

/// The DMV's probability of one tree: heads 1-based, 0 for the root.
fn tree_probability(p: &Program, theta: &[f64], tags: &[&str], heads: &[usize]) -> f64 {
    let pr = |f: &str, c: &[&str], o: &str| common::prob(p, theta, f, c, o);
    let n = tags.len();
    let mut prob = 1.0;
    for (d, &h) in heads.iter().enumerate() {
        prob *= if h == 0 {
            pr("root", &[], tags[d])
        } else {
            let dir = if d + 1 < h { "L" } else { "R" };
            pr("attach", &[dir, tags[h - 1]], tags[d])
        };
    }
    for (h, tag) in tags.iter().enumerate() {
        for dir in ["L", "R"] {
            let deps = (0..n)
                .filter(|&d| heads[d] == h + 1 && if dir == "L" { d < h } else { d > h })
                .count();
            for k in 0..deps {
                let v = if k == 0 { "ADJ" } else { "NON" };
                prob *= pr("stop", &[dir, tag, v], "GO");
            }
            let v = if deps == 0 { "ADJ" } else { "NON" };
            prob *= pr("stop", &[dir, tag, v], "STOP");
        }
    }
    prob
}

/// Every projective dependency tree over n tokens with one root: heads 1-based, 0 = root.
fn projective_trees(n: usize) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    let mut heads = vec![0usize; n];
    loop {
        if is_projective_tree(&heads) {
            out.push(heads.clone());
        }
        // The next assignment in (n+1)^n, as an odometer.
        let mut k = 0;
        while k < n && heads[k] == n {
            heads[k] = 0;
            k += 1;
        }
        if k == n {
            return out;
        }
        heads[k] += 1;
    }
}

fn is_projective_tree(heads: &[usize]) -> bool {
    let n = heads.len();
    if heads.iter().filter(|&&h| h == 0).count() != 1
        || heads.iter().enumerate().any(|(d, &h)| h == d + 1)
    {
        return false;
    }
    // Every token reaches the root within n steps: no cycles.
    let ancestor = |d: usize, a: usize| {
        let mut x = d;
        for _ in 0..=n {
            if x == a {
                return true;
            }
            match heads[x] {
                0 => return false,
                h => x = h - 1,
            }
        }
        false
    };
    if (0..n).any(|d| !ancestor(d, heads.iter().position(|&h| h == 0).unwrap())) {
        return false;
    }
    // Projective: every token between a head and its dependent descends from the head.
    heads.iter().enumerate().all(|(d, &h)| {
        h == 0 || {
            let h = h - 1;
            (d.min(h) + 1..d.max(h)).all(|x| ancestor(x, h))
        }
    })
}

/// On sentences of up to 4 tokens, the DMV's hypergraph sums exactly the projective trees:
/// its log-likelihood is the log of the sum over the enumerated trees, its Viterbi score the
/// best tree's, and decoding prints that tree's heads.
#[test]
fn dmv_hypergraph_sums_exactly_the_projective_trees() {
    assert_eq!(
        (1..=4)
            .map(|n| projective_trees(n).len())
            .collect::<Vec<_>>(),
        vec![1, 2, 7, 30],
        "projective trees with one root over 1..4 tokens"
    );
    let data = "NOUN\nDET NOUN\nNOUN VERB NOUN\nDET NOUN VERB ADV\nVERB VERB VERB VERB\nADP DET NOUN NOUN\n";
    let c = compile(front_end(&read("dmv.em"), &[]).unwrap(), data, None, 1).unwrap();
    let Kernel::Hypergraph(_) = &c.kernel else {
        panic!("the DMV compiles to the hypergraph kernel")
    };
    let graphs: Vec<_> = c
        .dataset
        .instances
        .iter()
        .map(|inst| {
            let p = &c.program;
            emc::structured::execute(
                &p.model,
                &p.domains,
                &p.layout,
                inst,
                emc::structured::Budget::default(),
                false,
            )
            .unwrap()
            .graph
        })
        .collect();
    for seed in 0..5 {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let p = &c.program;
        let params = emc::params::initial(
            &p.model,
            &p.domains,
            &p.layout,
            emc::model::InitMode::Random,
            &mut rng,
        )
        .unwrap();
        let counts = c
            .kernel
            .e_step(p, &c.dataset, &params, &c.pool, ZeroPolicy::Stop)
            .unwrap();
        let decoded = emc::decode::viterbi(p, &c.dataset, &params).unwrap();
        let mut total = 0.0;
        for ((line, g), dec) in data.lines().zip(&graphs).zip(&decoded) {
            let tags: Vec<&str> = line.split(' ').collect();
            let trees = projective_trees(tags.len());
            let probs: Vec<f64> = trees
                .iter()
                .map(|t| tree_probability(p, &params.theta, &tags, t))
                .collect();
            let z: f64 = probs.iter().sum();
            total += z.ln();
            let (best, at) =
                probs
                    .iter()
                    .enumerate()
                    .fold((0.0, 0), |b, (i, &x)| if x > b.0 { (x, i) } else { b });
            let (score, _) =
                emc::hypergraph::inside::viterbi(g, &g.log_weights(&params.theta)).unwrap();
            common::close(score, best.ln(), 1e-9, &format!("Viterbi of `{line}`"));
            let heads: Vec<String> = trees[at].iter().map(|h| h.to_string()).collect();
            assert_eq!(dec, &heads.join(" "), "decoded heads of `{line}`");
        }
        common::close(
            counts.log_likelihood,
            total,
            1e-9 * total.abs(),
            "log-likelihood",
        );
    }
}

/// The labelled constituents `(label, i, k)` of a bracketed tree, words included.
fn constituents(tree: &str) -> Vec<(String, usize, usize)> {
    let spaced = tree.replace('(', " ( ").replace(')', " ) ");
    let mut toks = spaced.split_whitespace();
    let (mut open, mut out, mut pos) = (Vec::new(), Vec::new(), 0);
    while let Some(t) = toks.next() {
        match t {
            "(" => open.push((toks.next().expect("a label").to_string(), pos)),
            ")" => {
                let (label, i) = open.pop().expect("balanced brackets");
                out.push((label, i, pos));
            }
            _ => pos += 1,
        }
    }
    assert!(open.is_empty(), "balanced brackets in `{tree}`");
    out
}

/// `models/pcfg.em` on its data, with the vocabulary of the true grammar's file (the
/// generator's, the data's order of first appearance), and the true grammar's parameters.
fn pcfg_with_truth(threads: usize) -> (Compiled, Params) {
    let model = front_end(&read("pcfg.em"), &[]).unwrap();
    let file = read_init(&model, &read("pcfg.truth.json")).unwrap();
    let domains = file.domains(&model, None).unwrap();
    let c = compile(model, &read("pcfg.txt"), Some(&domains), threads).unwrap();
    let (truth, _) = file
        .values(&c.program.model, &c.program.domains, &c.program.layout)
        .unwrap();
    (c, truth)
}

/// Inside-outside recovers the grammar `scripts/gen_pcfg.py` sampled from: from the model's
/// seed (2) it reaches at least the true grammar's log-likelihood on the sample, its
/// Viterbi trees have the gold brackets, and after matching its nonterminals to the true
/// ones (the permutation that labels the most gold constituents) every rule probability
/// is within 0.06 of the truth.
#[test]
fn pcfg_recovers_the_grammar_it_was_sampled_from() {
    const NAMES: [&str; 6] = ["S", "NP", "VP", "D", "N", "V"];
    let (c, truth) = pcfg_with_truth(2);
    let p = &c.program;
    let at_truth = c
        .kernel
        .e_step(p, &c.dataset, &truth, &c.pool, ZeroPolicy::Stop)
        .unwrap()
        .log_likelihood;
    // Measured: -1745.819 under the true grammar.
    common::close(
        at_truth,
        -1745.819,
        1e-3,
        "log-likelihood of the true grammar",
    );
    // EM has local optima here: from seeds 0..5 (`emc run --seed S`), seeds 2 and 3 reach
    // -1741.658, the others stop at -2086.4 to -2165.7 (right brackets, merged labels).
    assert_eq!(p.model.settings.seed, 2);
    let config = common::config(p, 100, 1e-7);
    let out = c.train(&config, &mut |_| {}).unwrap();
    let learned = out.trace.last().unwrap().log_likelihood;
    // Measured: -1741.658 (the sample's maximum: above the truth, which it was not fitted to).
    assert!(
        learned >= at_truth && learned < at_truth + 10.0,
        "learned {learned}, truth {at_truth}"
    );
    let pred = emc::decode::viterbi(p, &c.dataset, &out.params).unwrap();
    let gold: Vec<Vec<(String, usize, usize)>> =
        read("pcfg.gold").lines().map(constituents).collect();
    let pred: Vec<Vec<(String, usize, usize)>> = pred.iter().map(|t| constituents(t)).collect();
    // Unlabelled brackets of two or more words: both trees are binary over the same words,
    // so precision = recall = F1.
    let (mut right, mut all) = (0, 0);
    for (g, q) in gold.iter().zip(&pred) {
        let wide = |t: &Vec<(String, usize, usize)>| -> Vec<(usize, usize)> {
            t.iter()
                .filter(|c| c.2 > c.1 + 1)
                .map(|c| (c.1, c.2))
                .collect()
        };
        let gw = wide(g);
        right += wide(q).iter().filter(|s| gw.contains(s)).count();
        all += gw.len();
    }
    assert_eq!(right, all, "bracket F1 1.0 ({right} of {all} brackets)");
    // The permutation of nonterminals that labels the most constituents right.
    let perms = permutations(6);
    let score = |perm: &[usize]| -> usize {
        gold.iter()
            .zip(&pred)
            .map(|(g, q)| {
                q.iter()
                    .filter(|(l, i, k)| {
                        let x: usize = l.parse().unwrap();
                        g.contains(&(NAMES[perm[x]].to_string(), *i, *k))
                    })
                    .count()
            })
            .sum()
    };
    let best = perms.iter().max_by_key(|perm| score(perm)).unwrap();
    let total: usize = gold.iter().map(Vec::len).sum();
    assert_eq!(score(best), total, "every constituent labelled right");
    // learned nonterminal x is true nonterminal best[x]
    let inv: Vec<usize> = (0..6)
        .map(|t| best.iter().position(|&x| x == t).unwrap())
        .collect();
    let sym = |t: usize| inv[t].to_string();
    let truth_sym = |t: usize| t.to_string();
    let words: Vec<String> = (0..p.domains.size(p.model.fields[0].domain))
        .map(|w| {
            p.domains
                .name(p.model.fields[0].domain, w as u32)
                .to_string()
        })
        .collect();
    let mut worst: f64 = 0.0;
    let mut check = |f: &str, tc: &[String], lc: &[String], to: &str, lo: &str| {
        let tc: Vec<&str> = tc.iter().map(String::as_str).collect();
        let lc: Vec<&str> = lc.iter().map(String::as_str).collect();
        let t = common::prob(p, &truth.theta, f, &tc, to);
        let l = common::prob(p, &out.params.theta, f, &lc, lo);
        worst = worst.max((t - l).abs());
    };
    for x in 0..6 {
        for k in ["BIN", "LEX"] {
            check("kind", &[truth_sym(x)], &[sym(x)], k, k);
        }
        // Rows the true grammar uses: binary rules of S, NP, VP, words of the others and NP, VP.
        if x <= 2 {
            for y in 0..6 {
                check("left", &[truth_sym(x)], &[sym(x)], &truth_sym(y), &sym(y));
            }
        }
        if x >= 1 {
            for w in &words {
                check("emit", &[truth_sym(x)], &[sym(x)], w, w);
            }
        }
    }
    // Measured: 0.046 at most (the sampling error of 300 sentences).
    assert!(worst < 0.06, "largest rule probability error {worst}");
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for at in 0..n {
            let mut q = p.clone();
            q.insert(at, n - 1);
            out.push(q);
        }
    }
    out
}

/// EM on the hidden semi-Markov model recovers the parameters `scripts/gen_hsmm.py` sampled
/// its data from: after matching states (the permutation whose emissions are nearest the
/// true ones), every start, transition, duration and emission probability is within 0.1
/// of the truth, the learned log-likelihood is at least the truth's on the sample, and the
/// decoded states match the true ones as well as the true parameters' do.
#[test]
fn hsmm_recovers_its_durations_and_emissions() {
    let model = front_end(&read("hsmm.em"), &[]).unwrap();
    let file = read_init(&model, &read("hsmm.truth.json")).unwrap();
    let domains = file.domains(&model, None).unwrap();
    let c = compile(model, &read("hsmm.txt"), Some(&domains), 2).unwrap();
    let p = &c.program;
    let (truth, _) = file.values(&p.model, &p.domains, &p.layout).unwrap();
    let at_truth = c
        .kernel
        .e_step(p, &c.dataset, &truth, &c.pool, ZeroPolicy::Stop)
        .unwrap()
        .log_likelihood;
    // Measured: -9416.453 under the true parameters.
    common::close(at_truth, -9416.453, 1e-3, "log-likelihood of the truth");
    let config = common::config(p, p.model.settings.iterations, p.model.settings.tolerance);
    let out = c.train(&config, &mut |_| {}).unwrap();
    let learned = out.trace.last().unwrap().log_likelihood;
    // Measured: -9397.050 after 109 iterations from seed 0.
    assert!(
        learned >= at_truth && learned < at_truth + 40.0,
        "learned {learned}, truth {at_truth}"
    );
    let name = |d: usize, i: usize| p.domains.name(d, i as u32).to_string();
    let field = p.model.fields[0].domain;
    let syms: Vec<String> = (0..p.domains.size(field)).map(|w| name(field, w)).collect();
    let (t, l) = (&truth.theta, &out.params.theta);
    let prob = |theta: &[f64], f: &str, c: &[String], o: &str| {
        let c: Vec<&str> = c.iter().map(String::as_str).collect();
        common::prob(p, theta, f, &c, o)
    };
    // perm[x]: the learned state that plays true state x.
    let perm = permutations(3)
        .into_iter()
        .min_by(|a, b| {
            let dist = |perm: &Vec<usize>| -> f64 {
                (0..3)
                    .flat_map(|x| syms.iter().map(move |w| (x, w)))
                    .map(|(x, w)| {
                        (prob(t, "emit", &[x.to_string()], w)
                            - prob(l, "emit", &[perm[x].to_string()], w))
                        .abs()
                    })
                    .sum()
            };
            dist(a).total_cmp(&dist(b))
        })
        .unwrap();
    let mut worst: f64 = 0.0;
    for x in 0..3 {
        let (tx, lx) = (x.to_string(), perm[x].to_string());
        let mut pairs = vec![("start", vec![], vec![], tx.clone(), lx.clone())];
        for (y, py) in perm.iter().enumerate() {
            pairs.push((
                "trans",
                vec![tx.clone()],
                vec![lx.clone()],
                y.to_string(),
                py.to_string(),
            ));
        }
        for d in 1..=6 {
            let d = d.to_string();
            pairs.push(("dur", vec![tx.clone()], vec![lx.clone()], d.clone(), d));
        }
        for w in &syms {
            pairs.push((
                "emit",
                vec![tx.clone()],
                vec![lx.clone()],
                w.clone(),
                w.clone(),
            ));
        }
        for (f, tc, lc, to, lo) in pairs {
            worst = worst.max((prob(t, f, &tc, &to) - prob(l, f, &lc, &lo)).abs());
        }
    }
    // Measured: 0.07 at most (the start distribution, from 300 lines).
    assert!(worst < 0.1, "largest probability error {worst}");
    // Decoding prints the state of every position (`output state[t] = s`): against the true
    // states, one-to-one accuracy as high as the true parameters' own Viterbi paths get.
    let pred = emc::decode::viterbi(p, &c.dataset, &out.params).unwrap();
    let gold = read("hsmm.gold");
    let acc = evaluate(Metric::OneToOne, &gold, &(pred.join("\n") + "\n"))
        .unwrap()
        .value;
    let truth_pred = emc::decode::viterbi(p, &c.dataset, &truth).unwrap();
    let at_truth = evaluate(Metric::OneToOne, &gold, &(truth_pred.join("\n") + "\n"))
        .unwrap()
        .value;
    // Measured: 0.9551 with the true parameters, 0.9542 with the learned ones.
    common::close(
        at_truth,
        0.9551,
        1e-4,
        "one-to-one accuracy of the truth's paths",
    );
    assert!(acc > 0.95, "one-to-one accuracy {acc}");
}
