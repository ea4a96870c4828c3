//! The direct algorithm: L-BFGS on the marginal likelihood.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::distributed;
use super::{norms, relative_change, Event, Run, Setup, TracePoint};
use crate::error::Error;
use crate::optim::{minimize, Options, Stop};
use crate::params::Params;

/// The direct algorithm (Berg-Kirkpatrick et al. 2010, Algorithm 2): L-BFGS on the penalised
/// marginal log-likelihood over every family's free variables, each evaluation one E-step whose
/// expected counts give the gradient. The trace holds every evaluation that improved on the
/// best so far; its `iteration` counts evaluations. `config.iterations` bounds L-BFGS
/// iterations and `config.tolerance` is its relative-decrease test.
pub(super) fn run_direct(
    setup: Setup,
    mut params: Params,
    restart: usize,
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
    let start = Instant::now();
    let mut x = estimators.variables(&params.theta);
    let mut trace: Vec<TracePoint> = Vec::new();
    let mut evaluations = 0;
    let mut failure: Option<Error> = None;
    let mut interrupted = false;
    let options = Options {
        max_iterations: config.iterations,
        max_evaluations: config.iterations.saturating_mul(3).max(1),
        relative_tolerance: config.tolerance,
        ..Options::default()
    };
    let report = minimize(
        |x, grad| {
            let stop = config
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::SeqCst));
            if stop || failure.is_some() {
                interrupted |= stop;
                return f64::INFINITY;
            }
            let mut trial = params.clone();
            estimators.set_variables(x, &mut trial.theta);
            let counts = match distributed::e_step(kernel, program, data, &trial, pool, config) {
                Ok(c) => c,
                // A trial point that makes some line impossible is too far, not an error,
                // unless nothing has been evaluated yet.
                Err(e) => {
                    if evaluations == 0 {
                        failure = Some(e);
                    }
                    return f64::INFINITY;
                }
            };
            let objective = counts.log_likelihood + estimators.log_prior(&trial.theta);
            estimators.gradient(x, &counts.expected, norms(&counts), &trial.theta, grad);
            grad.iter_mut().for_each(|g| *g = -*g);
            let best = trace.last().map_or(f64::NEG_INFINITY, |p| p.objective);
            if objective > best {
                let point = TracePoint {
                    iteration: evaluations,
                    log_likelihood: counts.log_likelihood,
                    objective,
                    seconds: start.elapsed().as_secs_f64(),
                    beta: None,
                };
                let change = trace.last().map(|prev| relative_change(prev, &point));
                on_event(&Event::Iteration {
                    restart,
                    point: &point,
                    change,
                });
                trace.push(point);
            }
            evaluations += 1;
            -objective
        },
        &mut x,
        &options,
    );
    if let Some(e) = failure {
        return Err(e);
    }
    estimators.set_variables(&x, &mut params.theta);
    Ok(Run {
        params,
        trace,
        converged: matches!(report.stop, Stop::Gradient | Stop::RelativeDecrease),
        interrupted,
        resume: None,
    })
}
