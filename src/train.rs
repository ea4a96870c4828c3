//! The EM driver: E-step over all instances (in parallel, deterministically), M-step per family,
//! convergence on the relative change of the log-likelihood, random restarts keeping the best.
//! It reports each iteration through a callback and does no I/O.

use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::compile::{Error, Program};
use crate::data::Dataset;
use crate::family::Estimators;
use crate::graph::unroll;
use crate::infer::{accumulate, posterior, CountStore};
use crate::model::InitMode;
use crate::params::{initial, Params};

/// Instances per block. Blocks are counted independently and summed in block order, so the
/// result does not depend on how many threads ran them.
const BLOCK: usize = 256;

#[derive(Clone, Debug)]
pub enum Init {
    Mode(InitMode),
    Given(Params),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub iterations: usize,
    pub tolerance: f64,
    pub restarts: usize,
    pub seed: u64,
    pub init: Init,
    pub threads: usize,
}

impl Config {
    /// The model file's settings; the CLI overrides fields from its flags.
    pub fn from_model(program: &Program) -> Config {
        let s = &program.model.settings;
        Config {
            iterations: s.iterations,
            tolerance: s.tolerance,
            restarts: s.restarts,
            seed: s.seed,
            init: Init::Mode(s.init),
            threads: 1,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TracePoint {
    /// 0 for the initial parameters; `t` after `t` M-steps.
    pub iteration: usize,
    pub log_likelihood: f64,
    /// Log-likelihood plus the families' log priors: what EM never decreases.
    pub objective: f64,
    /// Since the start of this restart.
    pub seconds: f64,
}

/// What the driver tells its caller as it goes.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    Iteration {
        restart: usize,
        point: &'a TracePoint,
        /// Relative change of the objective from the previous iteration.
        change: Option<f64>,
    },
    Restart {
        restart: usize,
        objective: f64,
    },
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub params: Params,
    pub trace: Vec<TracePoint>,
    /// Which restart won (0-based).
    pub best_restart: usize,
    /// Final objective of every restart.
    pub restart_objectives: Vec<f64>,
    pub converged: bool,
}

/// One E-step: expected counts and the log-likelihood at `params`.
pub fn e_step(
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
) -> Result<CountStore, Error> {
    let blocks: Vec<_> = data.instances.chunks(BLOCK).collect();
    let mut total = CountStore::new(program.layout.total);
    // Count a wave of blocks at a time (one per thread) to bound memory, then sum in order.
    let wave = pool.current_num_threads().max(1);
    for group in blocks.chunks(wave) {
        let stores: Vec<Result<CountStore, Error>> = pool.install(|| {
            group
                .par_iter()
                .map(|block| count_block(program, block, params))
                .collect()
        });
        for s in stores {
            total.merge(&s?);
        }
    }
    Ok(total)
}

fn count_block(
    program: &Program,
    block: &[crate::data::Instance],
    params: &Params,
) -> Result<CountStore, Error> {
    let mut store = CountStore::new(program.layout.total);
    for inst in block {
        let g = unroll(&program.model, &program.domains, &program.layout, inst)?;
        let p = posterior(program.plan.engine, &g, &params.theta)?;
        accumulate(&g, &p, &mut store);
    }
    Ok(store)
}

pub fn thread_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .unwrap_or_else(|_| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .expect("a one-thread pool can always be built")
        })
}

/// Runs EM from every restart and keeps the restart with the best final objective.
pub fn train(
    program: &Program,
    data: &Dataset,
    config: &Config,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Outcome, Error> {
    let pool = thread_pool(config.threads);
    let estimators = Estimators::new(&program.model, &program.layout);
    let mut best: Option<Outcome> = None;
    let mut objectives = Vec::with_capacity(config.restarts);
    for restart in 0..config.restarts.max(1) {
        let init = match &config.init {
            Init::Given(p) => p.clone(),
            Init::Mode(mode) => {
                let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
                rng.set_stream(restart as u64);
                initial(
                    &program.model,
                    &program.domains,
                    &program.layout,
                    *mode,
                    &mut rng,
                )?
            }
        };
        let run = run_em(
            program,
            data,
            config,
            &estimators,
            &pool,
            init,
            restart,
            on_event,
        )?;
        let objective = run.trace.last().map_or(f64::NEG_INFINITY, |p| p.objective);
        objectives.push(objective);
        on_event(&Event::Restart { restart, objective });
        let better = best
            .as_ref()
            .is_none_or(|b| objective > b.trace.last().map_or(f64::NEG_INFINITY, |p| p.objective));
        if better {
            best = Some(Outcome {
                best_restart: restart,
                ..run
            });
        }
    }
    let mut out = best.expect("at least one restart runs");
    out.restart_objectives = objectives;
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn run_em(
    program: &Program,
    data: &Dataset,
    config: &Config,
    estimators: &Estimators,
    pool: &rayon::ThreadPool,
    mut params: Params,
    restart: usize,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Outcome, Error> {
    let start = Instant::now();
    let mut trace: Vec<TracePoint> = Vec::with_capacity(config.iterations + 1);
    let mut converged = false;
    for iteration in 0..=config.iterations {
        let counts = e_step(program, data, &params, pool)?;
        let point = TracePoint {
            iteration,
            log_likelihood: counts.log_likelihood,
            objective: counts.log_likelihood + estimators.log_prior(&params.theta),
            seconds: start.elapsed().as_secs_f64(),
        };
        let change = trace.last().map(|prev| {
            (point.objective - prev.objective) / prev.objective.abs().max(f64::MIN_POSITIVE)
        });
        on_event(&Event::Iteration {
            restart,
            point: &point,
            change,
        });
        trace.push(point);
        if change.is_some_and(|c| c.abs() < config.tolerance) {
            converged = true;
            break;
        }
        if iteration == config.iterations {
            break;
        }
        estimators.m_step(&counts.expected, &mut params.theta);
    }
    Ok(Outcome {
        params,
        trace,
        best_restart: restart,
        restart_objectives: Vec::new(),
        converged,
    })
}
