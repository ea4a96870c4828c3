//! The training algorithms beyond EM on every zoo model: each objective that an algorithm
//! promises never to decrease does not (hard EM's, variational Bayes's bound, incremental
//! EM's free energy, annealed EM's within a stage); 1 and 2 threads give the same bits; and
//! the cases where two algorithms must agree do; stepwise EM takes every model. NumPy references for each algorithm's
//! iterates are in `scripts/crosscheck/em_variants.py` (CI runs them).

mod common;

use emc::error::Error;
use emc::model::Algorithm;
use emc::pipeline::Compiled;
use emc::train::{Anneal, Config, Outcome};

/// Every model of the zoo with its data (as `tests/zoo.rs` finds them), and the constants that
/// keep each small here.
fn zoo() -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut names: Vec<String> = std::fs::read_dir(format!("{root}/models"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".em").map(str::to_string)
        })
        .filter(|name| {
            let src = std::fs::read_to_string(format!("{root}/models/{name}.em")).unwrap();
            std::path::Path::new(&format!("{root}/models/{}", common::data_file(name, &src)))
                .exists()
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let set: Vec<(&str, &str)> = match n.as_str() {
                "pos_hmm" | "pos_fhmm" => vec![("K", "4")],
                _ => Vec::new(),
            };
            (n, set)
        })
        .collect()
}

/// A change to a configuration.
type Setting = Box<dyn Fn(&mut Config)>;

fn configured(compiled: &Compiled, iterations: usize, set: impl Fn(&mut Config)) -> Config {
    let mut c = Config::from_model(&compiled.program);
    c.iterations = iterations;
    c.tolerance = 0.0;
    c.restarts = 1;
    c.threads = compiled.pool.current_num_threads();
    set(&mut c);
    c
}

/// Trains, or `None` when the model cannot take the algorithm (a located refusal).
fn train(compiled: &Compiled, config: &Config) -> Option<Outcome> {
    match compiled.train(config, &mut |_| {}) {
        Ok(o) => Some(o),
        Err(Error::Setting { .. }) => None,
        Err(e) => panic!(
            "{}: {:?}: {e:?}",
            compiled.program.model.families[0].name, config.algorithm
        ),
    }
}

fn never_decreases(name: &str, what: &str, o: &Outcome) {
    for w in o.trace.windows(2) {
        // A new annealing stage starts another objective.
        if w[0].beta != w[1].beta {
            continue;
        }
        let (a, b) = (w[0].objective, w[1].objective);
        assert!(
            b >= a - 1e-9 * a.abs().max(1.0),
            "{name}, {what}: the objective fell from {a} to {b} at iteration {}",
            w[1].iteration
        );
    }
}

#[test]
fn every_promised_objective_never_decreases_on_every_zoo_model() {
    let mut ran = Vec::new();
    for (name, set) in zoo() {
        let compiled = common::compiled(&name, &set, 60, 2);
        let cases: [(&str, Setting); 4] = [
            ("hard", Box::new(|c| c.algorithm = Algorithm::Hard)),
            (
                "vb",
                Box::new(|c| {
                    c.algorithm = Algorithm::Vb;
                    c.prior = 0.5;
                }),
            ),
            (
                "incremental",
                Box::new(|c| {
                    c.algorithm = Algorithm::Incremental;
                    c.batch = 16;
                }),
            ),
            (
                "anneal",
                Box::new(|c| {
                    c.algorithm = Algorithm::Em;
                    c.anneal = Some(Anneal {
                        start: 0.25,
                        rate: 2.0,
                    })
                }),
            ),
        ];
        for (what, set) in &cases {
            let config = configured(&compiled, 4, set);
            if let Some(o) = train(&compiled, &config) {
                never_decreases(&name, what, &o);
                ran.push(format!("{name}/{what}"));
            }
        }
        // Stepwise EM promises no monotone objective, but it takes every model.
        let stepwise = configured(&compiled, 2, |c| {
            c.algorithm = Algorithm::Stepwise;
            c.batch = 16;
        });
        let o = train(&compiled, &stepwise).expect("stepwise EM takes every model");
        assert!(o.trace.iter().all(|p| p.objective.is_finite()), "{name}");
    }
    // Hard and incremental EM take every model; the others are refused only where stated.
    for must in [
        "dmv/hard",
        "pcfg/incremental",
        "gmm_2d/anneal",
        "hmm/vb",
        "hsmm/vb",
    ] {
        assert!(ran.iter().any(|r| r == must), "{must} did not run: {ran:?}");
    }
}

#[test]
fn one_and_two_threads_give_the_same_bits_for_every_algorithm() {
    for (name, lines) in [("hmm", 120), ("hmm_recursive", 120), ("gmm_2d", usize::MAX)] {
        let algorithms: [(Algorithm, Option<Anneal>); 5] = [
            (Algorithm::Stepwise, None),
            (Algorithm::Incremental, None),
            (Algorithm::Hard, None),
            (Algorithm::Vb, None),
            (
                Algorithm::Em,
                Some(Anneal {
                    start: 0.5,
                    rate: 2.0,
                }),
            ),
        ];
        for (algorithm, anneal) in algorithms {
            let runs: Vec<Option<Outcome>> = [1, 2]
                .map(|threads| {
                    let compiled = common::compiled(name, &[], lines, threads);
                    let config = configured(&compiled, 3, |c| {
                        c.algorithm = algorithm;
                        c.anneal = anneal;
                        c.batch = 50;
                    });
                    train(&compiled, &config)
                })
                .into();
            let bits = |o: &Outcome| {
                let mut b: Vec<u64> = o.params.theta.iter().map(|x| x.to_bits()).collect();
                b.extend(o.trace.iter().map(|p| p.objective.to_bits()));
                b
            };
            match (&runs[0], &runs[1]) {
                (Some(a), Some(b)) => assert_eq!(bits(a), bits(b), "{name} {algorithm:?}"),
                (None, None) => {}
                _ => panic!("{name} {algorithm:?}: refused with one thread count only"),
            }
        }
    }
}

/// One block holds every line: each pass of incremental EM is an E-step over the data and an
/// M-step, so after `p` passes it stands where `p` EM iterations do.
#[test]
fn incremental_em_with_one_block_is_em() {
    let compiled = common::compiled("hmm", &[], 100, 2);
    let em = train(&compiled, &configured(&compiled, 5, |_| {})).unwrap();
    let inc = train(
        &compiled,
        &configured(&compiled, 5, |c| {
            c.algorithm = Algorithm::Incremental;
            c.batch = 1000;
        }),
    )
    .unwrap();
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
    assert!(close(&em.params.theta, &inc.params.theta));
    // Pass p counts at the parameters after p - 1 M-steps.
    let ll = |o: &Outcome| o.trace.iter().map(|p| p.log_likelihood).collect::<Vec<_>>();
    assert!(close(&ll(&inc)[1..], &ll(&em)[..5]));
    // The free energy after pass p has q at the parameters before its M-step and theta
    // after it: between the log-likelihoods at the two.
    let (f, em_ll) = (
        inc.trace.iter().map(|p| p.objective).collect::<Vec<_>>(),
        ll(&em),
    );
    for p in 1..=5 {
        assert!(
            em_ll[p - 1] <= f[p] + 1e-9 && f[p] <= em_ll[p] + 1e-9,
            "{f:?} {em_ll:?}"
        );
    }
}

/// Hard EM on a mixture whose components are far apart is EM with posteriors rounded to 0 or
/// 1: from the same start both find the same means.
#[test]
fn hard_em_on_separated_clusters_finds_the_soft_means() {
    let compiled = common::compiled("gmm_2d", &[], usize::MAX, 2);
    let soft = train(&compiled, &configured(&compiled, 30, |_| {})).unwrap();
    let hard = train(
        &compiled,
        &configured(&compiled, 30, |c| c.algorithm = Algorithm::Hard),
    )
    .unwrap();
    let slot = compiled
        .program
        .layout
        .families
        .iter()
        .zip(&compiled.program.model.families)
        .find(|(_, f)| f.is_gaussian())
        .map(|(s, _)| s.offset)
        .unwrap();
    for k in 0..2 {
        let at = slot + k * emc::density::width(2);
        for d in 0..2 {
            common::close(
                hard.params.theta[at + d],
                soft.params.theta[at + d],
                0.05,
                "a component's mean",
            );
        }
    }
}

/// Stepwise EM with `alpha` = 1 and one batch: `eta_k = 1 / (k + 2)`, so `mu` after `k`
/// updates is the mean of the statistics so far (the first pass's included): a running
/// average, checked here on its own terms with a plain loop over E-steps.
#[test]
fn stepwise_em_with_one_batch_averages_the_statistics() {
    let compiled = common::compiled("two_coins", &[], usize::MAX, 1);
    let config = configured(&compiled, 3, |c| {
        c.algorithm = Algorithm::Stepwise;
        c.alpha = 1.0;
        c.batch = 1000;
    });
    let o = train(&compiled, &config).unwrap();
    let program = &compiled.program;
    let estimators =
        emc::family::Estimators::new(&program.model, &program.layout, &program.domains);
    let init = Config {
        iterations: 0,
        ..config.clone()
    };
    let mut params = train(&compiled, &init).unwrap().params;
    let e = |p: &emc::params::Params| {
        emc::train::e_step(program, &compiled.dataset, p, &compiled.pool).unwrap()
    };
    let mut mu = e(&params).expected;
    for k in 0..3 {
        let s = e(&params);
        let eta = 1.0 / (k as f64 + 2.0);
        mu.iter_mut()
            .zip(&s.expected)
            .for_each(|(m, x)| *m = (1.0 - eta) * *m + eta * x);
        let mut store = s.clone();
        store.expected.clone_from(&mu);
        params = emc::train::m_step(&estimators, &store, &params, &compiled.pool).0;
    }
    for (a, b) in o.params.theta.iter().zip(&params.theta) {
        assert!((a - b).abs() < 1e-13, "{a} {b}");
    }
}

/// Hard EM's counts from line hypergraphs built once (what training uses) are the counts of
/// lines executed again per call.
#[test]
fn hard_counts_from_prebuilt_graphs_are_the_same_bits() {
    for name in ["hmm_recursive", "pcfg", "hmm_aligner"] {
        let compiled = common::compiled(name, &[], 80, 2);
        let (program, data) = (&compiled.program, &compiled.dataset);
        let config = configured(&compiled, 0, |_| {});
        let params = train(&compiled, &config).unwrap().params;
        let kernel = emc::kernel::Kernel::build(program, data, &compiled.pool).unwrap();
        let zero = emc::train::ZeroPolicy::Stop;
        let again =
            emc::hard::viterbi_counts(program, data, &params, &kernel, &compiled.pool, zero)
                .unwrap();
        let graphs = emc::hard::line_graphs(program, data, &compiled.pool).unwrap();
        assert!(graphs.is_some(), "{name} is structured");
        let built = emc::hard::viterbi_counts_with(
            program,
            data,
            graphs.as_ref(),
            &params,
            &kernel,
            &compiled.pool,
            zero,
        )
        .unwrap();
        assert_eq!(again, built, "{name}");
    }
}
