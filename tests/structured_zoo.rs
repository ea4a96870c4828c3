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
    assert_eq!(a.trace.len(), PEER_TRACE.len());
    for (p, want) in a.trace.iter().zip(PEER_TRACE) {
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
    for h in 0..n {
        for dir in ["L", "R"] {
            let deps = (0..n)
                .filter(|&d| heads[d] == h + 1 && if dir == "L" { d < h } else { d > h })
                .count();
            for k in 0..deps {
                let v = if k == 0 { "ADJ" } else { "NON" };
                prob *= pr("stop", &[dir, tags[h], v], "GO");
            }
            let v = if deps == 0 { "ADJ" } else { "NON" };
            prob *= pr("stop", &[dir, tags[h], v], "STOP");
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
    let Kernel::Hypergraph(k) = &c.kernel else {
        panic!("the DMV compiles to the hypergraph kernel")
    };
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
        for ((line, g), dec) in data.lines().zip(&k.graphs).zip(&decoded) {
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
