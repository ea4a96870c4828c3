//! Stopping a run (as Ctrl-C does, through `Config::stop`) and resuming it from the
//! checkpoint it returns, written and read back as `checkpoint.json` text, ends with the same
//! bits as a run never stopped: for a plain HMM, a featurised HMM (Algorithm 1, Logistic
//! weights in the checkpoint) and a 2-D Gaussian mixture; and for the other algorithms whose
//! state is more than the parameters (stepwise and incremental EM's statistics, variational
//! Bayes's posterior, an annealing schedule's stage), and hard EM.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use emc::checkpoint;
use emc::model::Algorithm;
use emc::pipeline::Compiled;
use emc::train::{Anneal, Config, Event, Outcome};

/// Trains `compiled`, stopping once iteration `at` of restart `restart` has been reported.
fn stopped_at(compiled: &Compiled, config: &Config, restart: usize, at: usize) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let mut config = config.clone();
    config.stop = Some(stop.clone());
    let mut on_event = |e: &Event| {
        if let Event::Iteration {
            restart: r, point, ..
        } = e
        {
            if *r == restart && point.iteration == at {
                stop.store(true, Ordering::SeqCst);
            }
        }
    };
    compiled
        .train(&config, &mut on_event)
        .expect("training runs")
}

/// Stops `name` at (`restart`, `at`), checks the outputs of the stopped run, resumes it from
/// its checkpoint's text and compares with an uninterrupted run.
fn resumes_exactly(name: &str, set: &[(&str, &str)], lines: usize, config: impl Fn(&mut Config)) {
    let compiled = common::compiled(name, set, lines, 2);
    let mut base = Config::from_model(&compiled.program);
    base.threads = 2;
    config(&mut base);
    let full = compiled.train(&base, &mut |_| {}).expect("training runs");
    assert!(!full.interrupted && full.resume.is_none());
    for (restart, at) in [(0, 0), (0, 2), (base.restarts - 1, 1)] {
        let stopped = stopped_at(&compiled, &base, restart, at);
        assert!(
            stopped.interrupted,
            "{name}: not stopped at ({restart}, {at})"
        );
        let c = stopped.resume.clone().expect("a checkpoint to resume from");
        assert_eq!((c.restart, c.iteration), (restart, at + 1), "{name}");
        let plain = base.algorithm == emc::model::Algorithm::Em && base.anneal.is_none();
        if restart == 0 && plain {
            // The parameters returned are the ones whose log-likelihood ends the trace.
            assert_eq!(stopped.trace.last().map(|p| p.iteration), Some(at));
            let again = emc::train::e_step(
                &compiled.program,
                &compiled.dataset,
                &stopped.params,
                &compiled.pool,
            )
            .unwrap();
            assert_eq!(
                again.log_likelihood,
                stopped.trace.last().unwrap().log_likelihood,
                "{name}: stopped at {at}"
            );
        }
        let text = checkpoint::to_text(&base, 7, &c);
        let mut resumed = base.clone();
        resumed.seed = 12345;
        checkpoint::resume(&text, 7, &compiled.program, &mut resumed).expect("resumes");
        assert_eq!(resumed.seed, base.seed, "the checkpoint's settings win");
        let done = compiled
            .train(&resumed, &mut |_| {})
            .expect("training runs");
        let bits = |o: &Outcome| {
            o.params
                .theta
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bits(&done),
            bits(&full),
            "{name}: resumed at ({restart}, {at})"
        );
        let lls = |o: &Outcome| {
            o.trace
                .iter()
                .map(|p| p.log_likelihood.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(lls(&done), lls(&full), "{name}: trace");
    }
}

#[test]
fn plain_hmm_resumes_exactly() {
    resumes_exactly("hmm", &[], 200, |c| {
        c.iterations = 6;
        c.tolerance = 0.0;
        c.restarts = 2;
    });
}

#[test]
fn featurised_hmm_resumes_exactly() {
    resumes_exactly("pos_fhmm", &[("K", "4")], 60, |c| {
        c.iterations = 5;
        c.tolerance = 0.0;
        c.restarts = 2;
    });
}

#[test]
fn gaussian_mixture_resumes_exactly() {
    resumes_exactly("gmm_2d", &[], usize::MAX, |c| {
        c.iterations = 8;
        c.tolerance = 0.0;
        c.restarts = 2;
    });
}

#[test]
fn stepwise_em_resumes_exactly() {
    resumes_exactly("hmm", &[], 200, |c| {
        c.algorithm = Algorithm::Stepwise;
        c.batch = 30;
        c.iterations = 4;
        c.tolerance = 0.0;
        c.restarts = 2;
    });
}

#[test]
fn incremental_em_resumes_exactly() {
    resumes_exactly("gmm_2d", &[], usize::MAX, |c| {
        c.algorithm = Algorithm::Incremental;
        c.batch = 40;
        c.iterations = 4;
        c.tolerance = 0.0;
        c.restarts = 2;
    });
}

#[test]
fn variational_bayes_resumes_exactly() {
    resumes_exactly("hmm", &[], 200, |c| {
        c.algorithm = Algorithm::Vb;
        c.prior = 0.1;
        c.iterations = 5;
        c.tolerance = 0.0;
        c.restarts = 2;
    });
}

#[test]
fn annealing_resumes_exactly_across_stages() {
    // Stages of 2 M-steps: stopping at iterations 0 and 2 stops in the first two stages.
    resumes_exactly("gmm_2d", &[], usize::MAX, |c| {
        c.anneal = Some(Anneal {
            start: 0.3,
            rate: 2.0,
        });
        c.iterations = 2;
        c.tolerance = 0.0;
        c.restarts = 2;
    });
}

#[test]
fn hard_em_resumes_exactly() {
    resumes_exactly("hmm_recursive", &[], 60, |c| {
        c.algorithm = Algorithm::Hard;
        c.iterations = 4;
        c.tolerance = 0.0;
        c.restarts = 2;
    });
}
