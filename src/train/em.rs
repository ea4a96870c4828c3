//! EM and the variants that keep its shape (an E-step over all the data, then an M-step):
//! hard (Viterbi) EM, mean-field variational Bayes, and deterministic annealing of either EM.
//!
//! What each iteration's trace point holds:
//! - EM: the log-likelihood at the parameters, and it plus the log priors as the objective,
//!   which never decreases;
//! - annealed (stage `beta < 1`): `log sum_z p(x, z)^beta / beta` and it plus the log priors,
//!   which never decreases within a stage (Jensen's inequality as for EM, with the tempered
//!   posterior); a new stage starts a new sequence;
//! - hard EM: `sum_lines max_z log p(x, z)` and it plus the log priors, which never decreases
//!   (the E-step maximises over derivations, the M-step over parameters);
//! - variational Bayes: `log sum_z prod exp(E[log theta])` under `q(theta)` as the
//!   log-likelihood, and the evidence lower bound (it minus `KL(q(theta) || p(theta))`) as the
//!   objective, which never decreases (each step maximises it over `q(z)` or `q(theta)`).

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::distributed;
use super::{
    m_step_from_counts, relative_change, Checkpoint, Config, Done, Event, Run, Setup, State,
    TracePoint,
};
use crate::error::Error;
use crate::infer::CountStore;
use crate::model::Algorithm;
use crate::params::Params;

pub(super) fn run_em(
    setup: Setup,
    mut params: Params,
    mut trace: Vec<TracePoint>,
    restart: usize,
    done: Done,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Run, Error> {
    let Setup {
        program,
        data,
        kernel,
        config,
        estimators,
        pool,
    } = setup;
    // A resumed restart keeps counting its seconds from where it stood.
    let offset = trace.last().map_or(0.0, |p| p.seconds);
    let start = Instant::now();
    // Hard EM decodes structured lines every iteration: their hypergraphs are built once.
    let graphs = match config.algorithm {
        Algorithm::Hard => crate::hard::line_graphs(program, data, pool)?,
        _ => None,
    };
    let e_step = |params: &Params, beta: f64| -> Result<CountStore, Error> {
        if beta < 1.0 {
            let tempered = Params {
                theta: estimators.temper(&params.theta, beta),
            };
            return distributed::e_step(kernel, program, data, &tempered, pool, config);
        }
        match config.algorithm {
            Algorithm::Hard => {
                let graphs = graphs.as_ref();
                crate::hard::viterbi_counts_with(
                    program,
                    data,
                    graphs,
                    params,
                    kernel,
                    pool,
                    config.on_zero,
                )
            }
            _ => distributed::e_step(kernel, program, data, params, pool, config),
        }
    };
    let vb = config.algorithm == Algorithm::Vb;
    // Variational Bayes keeps q(theta); it starts as the posterior given the counts at the
    // initial parameters, so that every trace point is a bound of the same kind.
    let mut posterior: Option<Vec<f64>> = None;
    if vb {
        posterior = Some(match resumed_posterior(config, restart) {
            Some(p) if !trace.is_empty() => p,
            _ => {
                let counts = e_step(&params, 1.0)?;
                let p = estimators.vb_posterior(&counts.expected, config.prior);
                estimators.vb_means(&p, &mut params.theta);
                p
            }
        });
    }
    let schedule = config.anneal.map_or(vec![1.0], |a| a.schedule());
    // A resumed run's stage: its trace replayed through the same rule.
    let mut stage = 0;
    for (i, point) in trace.iter().enumerate() {
        let change = stage_change(&trace[..i], point);
        if stage_done(config, &trace[..i], point, change) {
            stage = (stage + 1).min(schedule.len() - 1);
        }
    }
    let mut converged = false;
    let mut interrupted = false;
    let mut resume = None;
    loop {
        let beta = schedule[stage];
        let iteration = trace.len();
        let counts = match &posterior {
            Some(p) => {
                let mut weights = params.clone();
                estimators.vb_weights(p, &mut weights.theta);
                e_step(&weights, 1.0)?
            }
            None => e_step(&params, beta)?,
        };
        if !counts.skipped.is_empty() {
            on_event(&Event::Skipped {
                iteration,
                lines: &counts.skipped,
            });
        }
        let log_likelihood = counts.log_likelihood / beta;
        let point = TracePoint {
            iteration,
            log_likelihood,
            objective: match &posterior {
                Some(p) => log_likelihood - estimators.vb_kl(p, config.prior),
                None => log_likelihood + estimators.log_prior(&params.theta),
            },
            seconds: offset + start.elapsed().as_secs_f64(),
            beta: config.anneal.map(|_| beta),
        };
        if !point.objective.is_finite() {
            return Err(Error::NotFinite {
                iteration,
                value: point.objective,
            });
        }
        let change = stage_change(&trace, &point);
        on_event(&Event::Iteration {
            restart,
            point: &point,
            change,
        });
        let done_with_stage = stage_done(config, &trace, &point, change);
        trace.push(point);
        if done_with_stage && stage + 1 == schedule.len() {
            converged = change.is_some_and(|c| c.abs() < config.tolerance);
            break;
        }
        if done_with_stage {
            stage += 1;
        }
        // The M-step writes a copy, so that a run stopped now still has the parameters whose
        // log-likelihood ends the trace, and the checkpoint owns the new ones without a copy.
        let next = match &mut posterior {
            Some(p) => {
                *p = estimators.vb_posterior(&counts.expected, config.prior);
                let mut next = params.clone();
                estimators.vb_means(p, &mut next.theta);
                next
            }
            None => {
                let (next, warnings) = m_step_from_counts(estimators, counts, &params, pool);
                for message in &warnings {
                    on_event(&Event::Warning { iteration, message });
                }
                next
            }
        };
        let checkpoint = Checkpoint {
            restart,
            iteration: iteration + 1,
            theta: next.theta,
            trace: trace.clone(),
            best: done.best.clone(),
            objectives: done.objectives.to_vec(),
            state: posterior.clone().map(State::Vb),
        };
        on_event(&Event::Checkpoint(&checkpoint));
        if config
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::SeqCst))
        {
            interrupted = true;
            resume = Some(checkpoint);
            break;
        }
        params.theta = checkpoint.theta;
    }
    Ok(Run {
        params,
        trace,
        converged,
        interrupted,
        resume,
    })
}

/// The relative change of the objective from the trace's last point, when `point` is of the
/// same stage: the first point of a stage starts another objective, with nothing to compare.
fn stage_change(trace: &[TracePoint], point: &TracePoint) -> Option<f64> {
    (trace.last())
        .filter(|prev| prev.beta == point.beta)
        .map(|prev| relative_change(prev, point))
}

/// Whether `point` (after `trace`) ends its stage: converged, or `iterations` M-steps into it.
fn stage_done(
    config: &Config,
    trace: &[TracePoint],
    point: &TracePoint,
    change: Option<f64>,
) -> bool {
    let in_stage = trace.iter().filter(|p| p.beta == point.beta).count();
    change.is_some_and(|c| c.abs() < config.tolerance) || in_stage >= config.iterations
}

/// Variational Bayes's `q(theta)` from the checkpoint this restart resumes, if any.
fn resumed_posterior(config: &Config, restart: usize) -> Option<Vec<f64>> {
    match &config.resume {
        Some(c) if c.restart == restart => match &c.state {
            Some(State::Vb(p)) => Some(p.clone()),
            _ => None,
        },
        _ => None,
    }
}
