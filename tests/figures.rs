//! The published figures of zoo-references.md that need only the repository, asserted: two
//! coins, ABO blood groups, the ice-cream HMMs, IBM Model 1 on Koehn's example, planted-cluster
//! recovery, and the Old Faithful Gaussian mixture. Figures on the corpora beside the
//! repository (`../shared/data`) are in `tests/corpus.rs`.

mod common;

use common::{close, config, load, prob, train};
use emc::graph::unroll;
use emc::infer::{map, Engine};
use emc::train::{e_step, thread_pool};

#[test]
fn two_coins_iterates_match_do_and_batzoglou() {
    let (p, d) = load("two_coins");
    let theta = |iterations: usize| {
        let out = train(&p, &d, &config(&p, iterations, 0.0));
        (
            prob(&p, &out.params.theta, "toss", &["A"], "H"),
            prob(&p, &out.params.theta, "toss", &["B"], "H"),
        )
    };
    for (it, a, b) in [
        (1, 0.713012, 0.581339),
        (2, 0.745292, 0.569256),
        (3, 0.768099, 0.549536),
        (10, 0.796744, 0.519659),
    ] {
        let (ta, tb) = theta(it);
        close(ta, a, 1e-6, &format!("thetaA after {it}"));
        close(tb, b, 1e-6, &format!("thetaB after {it}"));
    }
    let out = train(&p, &d, &config(&p, 1000, 1e-14));
    close(
        prob(&p, &out.params.theta, "toss", &["A"], "H"),
        0.796789,
        1e-6,
        "thetaA converged",
    );
    close(
        prob(&p, &out.params.theta, "toss", &["B"], "H"),
        0.519583,
        1e-6,
        "thetaB converged",
    );
}

#[test]
fn two_coins_first_e_step_counts() {
    let (p, d) = load("two_coins");
    let init = emc::params::initial(
        &p.model,
        &p.domains,
        &p.layout,
        emc::model::InitMode::Uniform,
        &mut rand::rngs::mock::StepRng::new(0, 0),
    )
    .unwrap();
    let counts = e_step(&p, &d, &init, &thread_pool(1)).unwrap();
    let f = p.model.family_named("toss").unwrap();
    let at = |c: usize, o: usize| counts.expected[p.layout.families[f].offset + c * 2 + o];
    close(at(0, 0), 21.30, 0.005, "A heads");
    close(at(0, 1), 8.57, 0.005, "A tails");
    close(at(1, 0), 11.70, 0.005, "B heads");
    close(at(1, 1), 8.43, 0.005, "B tails");
}

#[test]
fn abo_allele_frequencies_and_log_likelihoods() {
    let (p, d) = load("abo");
    let out = train(&p, &d, &config(&p, 3, 0.0));
    for (it, ll) in [
        (0, -889.653939),
        (1, -516.731891),
        (2, -511.639663),
        (3, -511.572452),
    ] {
        close(
            out.trace[it].log_likelihood,
            ll,
            1e-6,
            &format!("log-likelihood at {it}"),
        );
    }
    for (it, a, b, o) in [
        (1, 0.250480, 0.061100, 0.688420),
        (2, 0.218454, 0.050494, 0.731052),
        (3, 0.214182, 0.050162, 0.735656),
    ] {
        let out = train(&p, &d, &config(&p, it, 0.0));
        let t = &out.params.theta;
        close(
            prob(&p, t, "allele", &[], "A"),
            a,
            1e-6,
            &format!("pA after {it}"),
        );
        close(
            prob(&p, t, "allele", &[], "B"),
            b,
            1e-6,
            &format!("pB after {it}"),
        );
        close(
            prob(&p, t, "allele", &[], "O"),
            o,
            1e-6,
            &format!("pO after {it}"),
        );
    }
    let out = train(&p, &d, &config(&p, 1000, 1e-15));
    let t = &out.params.theta;
    close(
        prob(&p, t, "allele", &[], "A"),
        0.213591,
        1e-6,
        "pA converged",
    );
    close(
        prob(&p, t, "allele", &[], "B"),
        0.050145,
        1e-6,
        "pB converged",
    );
    close(
        prob(&p, t, "allele", &[], "O"),
        0.736264,
        1e-6,
        "pO converged",
    );
    close(
        out.trace.last().unwrap().log_likelihood,
        -511.571470,
        1e-6,
        "converged log-likelihood",
    );
}

#[test]
fn eisner_ice_cream_counts_and_trace() {
    let (p, d) = load("icecream");
    let c = config(&p, 10, 0.0);
    let emc::train::Init::Mode(mode) = c.init.clone() else {
        unreachable!()
    };
    let init = emc::params::initial(
        &p.model,
        &p.domains,
        &p.layout,
        mode,
        &mut rand::rngs::mock::StepRng::new(0, 0),
    )
    .unwrap();
    let counts = e_step(&p, &d, &init, &thread_pool(1)).unwrap();
    close(
        counts.log_likelihood,
        -41.537818,
        1e-6,
        "log P(obs) at the start",
    );
    let idx = |family: &str, cond: &str, out: &str| {
        let f = p.model.family_named(family).unwrap();
        let fam = &p.model.families[f];
        let slot = &p.layout.families[f];
        slot.offset
            + p.domains.lookup(fam.conditions[0], cond).unwrap() as usize * slot.n_out
            + p.domains.lookup(fam.outcome, out).unwrap() as usize
    };
    for (s, o, v) in [
        ("C", "1", 9.931),
        ("C", "2", 3.212),
        ("C", "3", 1.537),
        ("H", "1", 1.069),
        ("H", "2", 7.788),
        ("H", "3", 9.463),
    ] {
        close(
            counts.expected[idx("emit", s, o)],
            v,
            0.0005,
            &format!("{s} emits {o}"),
        );
    }
    for (a, b, v) in [
        ("C", "C", 12.855),
        ("C", "H", 1.599),
        ("H", "C", 1.695),
        ("H", "H", 15.85),
    ] {
        close(
            counts.expected[idx("trans", a, b)],
            v,
            0.005,
            &format!("{a}->{b}"),
        );
    }
    let out = train(&p, &d, &c);
    for (it, ll) in [
        (1, -36.7423),
        (2, -35.9577),
        (3, -35.6511),
        (5, -35.4061),
        (10, -35.3343),
    ] {
        close(
            out.trace[it].log_likelihood,
            ll,
            5e-5,
            &format!("log P after {it}"),
        );
    }
}

#[test]
fn jurafsky_martin_likelihood_and_viterbi() {
    let (p, d) = load("jm_icecream");
    let out = train(&p, &d, &config(&p, 0, 0.0));
    close(
        out.trace[0].log_likelihood.exp(),
        0.028562,
        5e-7,
        "P(3 1 3)",
    );
    let g = unroll(&p.model, &p.domains, &p.layout, &d.instances[0]).unwrap();
    let (path, score) = map(p.plan.engine, &g, &out.params.theta).unwrap();
    let names: Vec<&str> = path
        .iter()
        .map(|v| p.domains.name(p.model.families[0].outcome, *v))
        .collect();
    assert_eq!(names, ["H", "C", "H"]);
    close(score.exp(), 0.0128, 1e-10, "Viterbi path probability");
    let (_, reference) = map(Engine::Reference, &g, &out.params.theta).unwrap();
    close(score, reference, 1e-12, "Viterbi against brute force");
}

#[test]
fn koehn_ibm_model_1_translation_table() {
    let (p, d) = load("ibm1_koehn");
    let rows: [(&str, &str, [f64; 5]); 8] = [
        ("the", "das", [0.5, 0.6364, 0.7479, 0.8961, 0.9933]),
        ("book", "das", [0.25, 0.1818, 0.1208, 0.0444, 0.0021]),
        ("house", "das", [0.25, 0.1818, 0.1313, 0.0596, 0.0046]),
        ("book", "Buch", [0.5, 0.6364, 0.7479, 0.8961, 0.9933]),
        ("book", "ein", [0.5, 0.4286, 0.3466, 0.2183, 0.0828]),
        ("a", "ein", [0.5, 0.5714, 0.6534, 0.7817, 0.9172]),
        ("the", "Haus", [0.5, 0.4286, 0.3466, 0.2183, 0.0828]),
        ("house", "Haus", [0.5, 0.5714, 0.6534, 0.7817, 0.9172]),
    ];
    for (k, it) in [1, 2, 3, 5, 10].into_iter().enumerate() {
        let out = train(&p, &d, &config(&p, it, 0.0));
        for (e, f, values) in &rows {
            close(
                prob(&p, &out.params.theta, "t", &[f], e),
                values[k],
                5e-5,
                &format!("t({e}|{f}) after {it}"),
            );
        }
    }
}

#[test]
fn latent_class_recovers_planted_clusters() {
    let (p, d) = load("latent_class");
    let out = train(&p, &d, &config(&p, 200, 1e-9));
    let pred = emc::decode::viterbi(&p, &d, &out.params)
        .unwrap()
        .join("\n");
    let gold = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/latent_class.gold"
    ))
    .unwrap();
    let report = emc::eval::evaluate(emc::eval::Metric::OneToOne, &gold, &pred).unwrap();
    assert!(report.value >= 0.95, "one-to-one accuracy {}", report.value);
}

/// mixtools' normalmixEM on the waiting times, equal variances, from lambda = 0.5,
/// mu = (55, 80), sigma = 5 (zoo-references.md).
#[test]
fn old_faithful_equal_variance_mixture_matches_mixtools() {
    let (p, d) = load("old_faithful");
    let out = train(&p, &d, &config(&p, 1000, 1e-11));
    let trace: Vec<f64> = out.trace.iter().map(|t| t.log_likelihood).collect();
    close(trace[0], -1051.090, 1e-3, "log-likelihood at the start");
    close(trace[1], -1034.17, 1e-2, "after 1 iteration");
    close(trace[2], -1034.01, 1e-2, "after 2 iterations");
    close(
        *trace.last().unwrap(),
        -1034.002,
        1e-3,
        "converged log-likelihood",
    );
    let theta = &out.params.theta;
    close(
        prob(&p, theta, "lambda", &[], "short"),
        0.3608498,
        1e-5,
        "lambda short",
    );
    close(
        prob(&p, theta, "lambda", &[], "long"),
        0.6391502,
        1e-5,
        "lambda long",
    );
    let f = p.model.family_named("time").unwrap();
    let slot = &p.layout.families[f];
    let rows: Vec<_> = theta[slot.offset..slot.offset + slot.n_cond * slot.n_out]
        .chunks(slot.n_out)
        .map(|r| emc::family::gaussian::row(r, 1))
        .collect();
    close(rows[0].mean[0], 54.61364, 1e-5, "mu short");
    close(rows[1].mean[0], 80.09031, 1e-5, "mu long");
    for r in &rows {
        close(r.chol[0], 5.869089, 1e-5, "common sigma");
    }
}
