//! The EM driver: E-step over all instances (in parallel, deterministically), M-step per family,
//! convergence on the relative change of the objective, random restarts keeping the best.
//! It reports each iteration, and a checkpoint after each M-step, through a callback; it does
//! no I/O. A run resumed from a checkpoint ends with the same bits as an uninterrupted one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::decode;
use crate::error::Error;
use crate::family::{Estimators, Norms};
use crate::graph::{Entry, TableCache};
use crate::infer::CountStore;
use crate::kernel::Kernel;
pub use crate::kernel::ZeroPolicy;
use crate::model::{Algorithm, InitMode};
// The rules the checker applies to a `train` block, which the command line follows too.
pub use crate::model::{valid_restarts, valid_tolerance, MAX_RESTARTS};
use crate::optim::{minimize, Options, Stop};
use crate::params::{initial, Params};
use crate::program::Program;

/// Most threads a run starts: far beyond any machine's cores, and below what an OS lets one
/// process start (a pool of 100,000 threads fails to build).
pub const MAX_THREADS: usize = 256;

/// The rule for `--threads`.
pub fn valid_threads(n: usize) -> Result<usize, String> {
    if (1..=MAX_THREADS).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "a whole number from 1 to {MAX_THREADS} (results are the same for any count)"
        ))
    }
}

/// How each restart's parameters start.
#[derive(Clone, Debug)]
pub enum Init {
    /// Random or uniform rows, given values where the model has them, Gaussian families
    /// seeded from the data, feature weights fitted to the counts under those.
    Mode(InitMode),
    /// Every parameter given (a parameter file that has every family of the model).
    Given(Params),
    /// The families in `families` (by index) take their slices of `given`; the others
    /// start as `Mode(mode)` would start them.
    Partial {
        mode: InitMode,
        given: Params,
        families: Vec<usize>,
    },
}

#[derive(Clone, Debug)]
pub struct Config {
    pub iterations: usize,
    pub tolerance: f64,
    pub restarts: usize,
    pub seed: u64,
    pub init: Init,
    pub threads: usize,
    pub on_zero: ZeroPolicy,
    /// Set from outside (a signal handler) to stop after the current iteration.
    pub stop: Option<Arc<AtomicBool>>,
    /// Continue from this checkpoint instead of starting afresh.
    pub resume: Option<Checkpoint>,
    pub algorithm: Algorithm,
    /// Decode every instance under the final parameters (`Outcome::decoded`).
    pub decode: bool,
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
            on_zero: ZeroPolicy::Stop,
            stop: None,
            resume: None,
            algorithm: s.algorithm,
            decode: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TracePoint {
    /// 0 for the initial parameters; `t` after `t` M-steps.
    pub iteration: usize,
    pub log_likelihood: f64,
    /// Log-likelihood plus the families' log priors: what EM never decreases.
    pub objective: f64,
    /// Since the start of this restart.
    pub seconds: f64,
}

/// Everything needed to continue a run exactly where it stood after an M-step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The restart under way (equal to the number of restarts when all have finished).
    pub restart: usize,
    /// The next iteration to run in that restart.
    pub iteration: usize,
    /// Parameters for that iteration (empty when the restart has not started).
    pub theta: Vec<f64>,
    pub trace: Vec<TracePoint>,
    /// The best finished restart so far.
    pub best: Option<Finished>,
    /// Final objective of every finished restart.
    pub objectives: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub restart: usize,
    pub theta: Vec<f64>,
    pub trace: Vec<TracePoint>,
    pub converged: bool,
}

/// What the driver tells its caller as it goes.
#[derive(Clone, Debug)]
pub enum Event<'a> {
    /// Something the M-step could not estimate (a component with no mass, a singular
    /// covariance), left as it was.
    Warning {
        iteration: usize,
        message: &'a str,
    },
    Iteration {
        restart: usize,
        point: &'a TracePoint,
        /// Relative change of the objective from the previous iteration.
        change: Option<f64>,
    },
    /// Lines left out of an iteration because they had probability zero (`ZeroPolicy::Skip`).
    Skipped {
        iteration: usize,
        lines: &'a [usize],
    },
    Restart {
        restart: usize,
        objective: f64,
    },
    Checkpoint(&'a Checkpoint),
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub params: Params,
    pub trace: Vec<TracePoint>,
    /// Which restart won (0-based).
    pub best_restart: usize,
    /// Final objective of every finished restart.
    pub restart_objectives: Vec<f64>,
    pub converged: bool,
    /// Stopped early through `Config::stop`.
    pub interrupted: bool,
    /// The Viterbi lines of the data under `params`, when `Config::decode` asked for them
    /// (as `decode::viterbi` writes them, through the E-step's kernel where it decodes).
    pub decoded: Option<Vec<String>>,
    /// Where an interrupted EM run stands, to continue it (`Config::resume`): the state after
    /// the last M-step. `params` are the ones before that M-step, so that they are the
    /// parameters whose log-likelihood ends `trace`. `None` when the run finished, and for
    /// the direct algorithm, whose optimiser state is not kept.
    pub resume: Option<Checkpoint>,
}

/// One E-step: expected counts and the log-likelihood at `params`.
/// The E-step's restricted rows, as the M-step takes them.
pub fn norms(counts: &CountStore) -> Norms<'_> {
    Norms {
        sets: &counts.norm_sets,
        uses: &counts.norm_uses,
    }
}

pub fn e_step(
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
) -> Result<CountStore, Error> {
    Kernel::build(program, data, pool)?.e_step(program, data, params, pool, ZeroPolicy::Stop)
}

/// What EM never decreases, at `params`, from the counts of their E-step: the
/// log-likelihood plus the families' log priors.
pub fn objective(estimators: &Estimators, counts: &CountStore, params: &Params) -> f64 {
    counts.log_likelihood + estimators.log_prior(&params.theta)
}

/// The M-step from `params` with the counts of their E-step: the next parameters (a copy,
/// so `params` stay whole) and the warnings of what could not be estimated.
pub fn m_step(
    estimators: &Estimators,
    counts: &CountStore,
    params: &Params,
    pool: &rayon::ThreadPool,
) -> (Params, Vec<String>) {
    let mut next = params.clone();
    let warnings =
        pool.install(|| estimators.m_step(&counts.expected, norms(counts), &mut next.theta));
    (next, warnings)
}

/// A pool of `threads` threads (at most `MAX_THREADS`), or as many as the OS lets the
/// process start: a pool that fails to build (a thread limit, a memory limit that thread
/// stacks pass) is built with half as many, and at last on the calling thread alone. The
/// counts are the same bits for any size, so a smaller pool changes only the time.
pub fn thread_pool(threads: usize) -> rayon::ThreadPool {
    let build = |n: usize| rayon::ThreadPoolBuilder::new().num_threads(n).build();
    let mut n = threads.clamp(1, MAX_THREADS);
    loop {
        match build(n) {
            Ok(pool) => return pool,
            Err(_) if n > 1 => n /= 2,
            Err(_) => break,
        }
    }
    // The threads of a failed pool take a moment to end and give back what they held.
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(25));
        if let Ok(pool) = build(1) {
            return pool;
        }
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .use_current_thread()
        .build()
        .expect("a pool on the calling thread starts no thread")
}

/// The restarts finished before the one under way, for its checkpoints.
#[derive(Clone, Copy)]
struct Done<'a> {
    best: &'a Option<Finished>,
    objectives: &'a [f64],
}

/// The state of one restart while it runs.
struct Run {
    params: Params,
    trace: Vec<TracePoint>,
    converged: bool,
    interrupted: bool,
    /// Where an interrupted EM restart continues.
    resume: Option<Checkpoint>,
}

/// Runs EM from every restart and keeps the restart with the best final objective.
pub fn train(
    program: &Program,
    data: &Dataset,
    config: &Config,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Outcome, Error> {
    let pool = thread_pool(config.threads);
    let kernel = Kernel::build(program, data, &pool)?;
    train_compiled(program, data, &kernel, &pool, config, on_event)
}

/// `train` with the data compiled already (`Kernel::compile`), in `pool`.
pub fn train_compiled(
    program: &Program,
    data: &Dataset,
    kernel: &Kernel,
    pool: &rayon::ThreadPool,
    config: &Config,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Outcome, Error> {
    crate::infer::check_numbers(data)?;
    let estimators = Estimators::new(&program.model, &program.layout, &program.domains);
    if config.algorithm == Algorithm::Direct && !estimators.supports_direct() {
        return Err(Error::Unsupported(
            "the direct algorithm does not optimise Gaussian families".into(),
        ));
    }
    let restarts = config.restarts.max(1);
    let (first, mut best, mut objectives) = match &config.resume {
        Some(c) => (c.restart, c.best.clone(), c.objectives.clone()),
        None => (0, None, Vec::new()),
    };
    for restart in first..restarts {
        let (params, trace) = match &config.resume {
            Some(c) if c.restart == restart && !c.theta.is_empty() => (
                Params {
                    theta: c.theta.clone(),
                },
                c.trace.clone(),
            ),
            _ => {
                let mut params = initial_params(program, data, config, &estimators, restart)?;
                // Given feature weights stay as given; the others start fitted to the
                // counts that the random initial probabilities give, so that EM's first
                // step is already in the family.
                let given: Option<&[usize]> = match &config.init {
                    Init::Mode(_) => Some(&[]),
                    Init::Partial { families, .. } => Some(families),
                    Init::Given(_) => None,
                };
                if let Some(given) = given.filter(|g| estimators.has_features(g)) {
                    let counts = kernel.e_step(program, data, &params, pool, config.on_zero)?;
                    pool.install(|| {
                        estimators.fit_features(
                            &counts.expected,
                            norms(&counts),
                            &mut params.theta,
                            given,
                        )
                    });
                }
                (params, Vec::new())
            }
        };
        let done = Done {
            best: &best,
            objectives: &objectives,
        };
        let run = match config.algorithm {
            Algorithm::Em => run_em(
                program,
                data,
                kernel,
                config,
                &estimators,
                pool,
                params,
                trace,
                restart,
                done,
                on_event,
            )?,
            Algorithm::Direct => run_direct(
                program,
                data,
                kernel,
                config,
                &estimators,
                pool,
                params,
                restart,
                on_event,
            )?,
        };
        if run.interrupted {
            return Ok(finish(best, objectives, Some((restart, run))));
        }
        let objective = final_objective(&run.trace);
        objectives.push(objective);
        on_event(&Event::Restart { restart, objective });
        if best
            .as_ref()
            .is_none_or(|b| objective > final_objective(&b.trace))
        {
            best = Some(Finished {
                restart,
                theta: run.params.theta,
                trace: run.trace,
                converged: run.converged,
            });
        }
        // The direct algorithm's optimiser state is not checkpointed, so it never offers one;
        // nor does a run after its last restart, which has nothing left to resume.
        if config.algorithm == Algorithm::Direct || restart + 1 == restarts {
            continue;
        }
        on_event(&Event::Checkpoint(&Checkpoint {
            restart: restart + 1,
            iteration: 0,
            theta: Vec::new(),
            trace: Vec::new(),
            best: best.clone(),
            objectives: objectives.clone(),
        }));
    }
    let mut outcome = finish(best, objectives, None);
    if config.decode {
        outcome.decoded = Some(decode::viterbi_compiled(
            program,
            data,
            &outcome.params,
            kernel,
            pool,
        )?);
    }
    Ok(outcome)
}

fn initial_params(
    program: &Program,
    data: &Dataset,
    config: &Config,
    estimators: &Estimators,
    restart: usize,
) -> Result<Params, Error> {
    let mode = match &config.init {
        Init::Given(p) => return Ok(p.clone()),
        Init::Mode(mode) | Init::Partial { mode, .. } => *mode,
    };
    let mut params = {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(restart as u64);
        let mut params = initial(
            &program.model,
            &program.domains,
            &program.layout,
            mode,
            &mut rng,
        )?;
        if estimators.seeds() {
            let points = scored_points(program, data)?;
            estimators.seed(&points, &mut params.theta, &mut rng);
        }
        params
    };
    if let Init::Partial {
        given, families, ..
    } = &config.init
    {
        for f in families {
            let slot = &program.layout.families[*f];
            let range = slot.offset..slot.offset + slot.n_probs() + slot.n_weights;
            params.theta[range.clone()].copy_from_slice(&given.theta[range]);
        }
    }
    Ok(params)
}

/// Per family, the observations its density entries score, in at most `SEED_POINTS`
/// instances evenly spaced through the data: what a family that starts from the data sees.
fn scored_points(program: &Program, data: &Dataset) -> Result<Vec<Vec<Vec<f64>>>, Error> {
    let mut points: Vec<Vec<Vec<f64>>> = vec![Vec::new(); program.layout.families.len()];
    let step = (data.instances.len() / SEED_POINTS).max(1);
    let family_of = |row: u32| {
        (program.layout.families.iter())
            .rposition(|s| s.offset <= row as usize)
            .unwrap_or(0)
    };
    if program.model.structured {
        for inst in data.instances.iter().step_by(step) {
            let d = crate::structured::execute(
                &program.model,
                &program.domains,
                &program.layout,
                inst,
                crate::structured::Budget::default(),
                false,
            )?
            .densities;
            // Each value once per family that scores it, in the order of the line's values.
            let mut seen: Vec<((usize, u32), usize, u32)> = (d.densities.iter())
                .map(|(row, obs)| (d.observations[*obs as usize].0, family_of(*row), *obs))
                .collect();
            seen.sort_unstable();
            seen.dedup_by_key(|(value, family, _)| (*value, *family));
            for (_, family, obs) in seen {
                points[family].push(d.observations[obs as usize].1.clone());
            }
        }
        return Ok(points);
    }
    let mut tables = TableCache::default();
    for inst in data.instances.iter().step_by(step) {
        let g = program.unroll(inst, &mut tables)?;
        for factor in &g.factors {
            if let Some(Entry::Density { row, obs }) = factor.entries.first() {
                points[family_of(*row)].push(g.observations[*obs as usize].clone());
            }
        }
    }
    Ok(points)
}

/// Instances whose observations the seeding looks at, at most (spread over the data).
const SEED_POINTS: usize = 20_000;

/// The objective's change from `prev` to `point`, relative to its size.
fn relative_change(prev: &TracePoint, point: &TracePoint) -> f64 {
    (point.objective - prev.objective) / prev.objective.abs().max(f64::MIN_POSITIVE)
}

fn final_objective(trace: &[TracePoint]) -> f64 {
    trace.last().map_or(f64::NEG_INFINITY, |p| p.objective)
}

/// The best of the finished restarts and, when interrupted, the one under way.
fn finish(best: Option<Finished>, objectives: Vec<f64>, current: Option<(usize, Run)>) -> Outcome {
    let interrupted = current.is_some();
    let mut candidates: Vec<Finished> = best.into_iter().collect();
    let mut resume = None;
    if let Some((restart, mut run)) = current {
        resume = run.resume.take();
        candidates.push(Finished {
            restart,
            theta: run.params.theta,
            trace: run.trace,
            converged: false,
        });
    }
    let winner = candidates
        .into_iter()
        .reduce(|a, b| {
            if final_objective(&b.trace) > final_objective(&a.trace) {
                b
            } else {
                a
            }
        })
        .unwrap_or(Finished {
            restart: 0,
            theta: Vec::new(),
            trace: Vec::new(),
            converged: false,
        });
    Outcome {
        params: Params {
            theta: winner.theta,
        },
        trace: winner.trace,
        best_restart: winner.restart,
        restart_objectives: objectives,
        converged: winner.converged,
        interrupted,
        decoded: None,
        resume,
    }
}

#[allow(clippy::too_many_arguments)]
fn run_em(
    program: &Program,
    data: &Dataset,
    kernel: &Kernel,
    config: &Config,
    estimators: &Estimators,
    pool: &rayon::ThreadPool,
    mut params: Params,
    mut trace: Vec<TracePoint>,
    restart: usize,
    done: Done,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Run, Error> {
    // A resumed restart keeps counting its seconds from where it stood.
    let offset = trace.last().map_or(0.0, |p| p.seconds);
    let start = Instant::now();
    let first = trace.len();
    let mut converged = false;
    let mut interrupted = false;
    let mut resume = None;
    for iteration in first..=config.iterations {
        let counts = kernel.e_step(program, data, &params, pool, config.on_zero)?;
        if !counts.skipped.is_empty() {
            on_event(&Event::Skipped {
                iteration,
                lines: &counts.skipped,
            });
        }
        let point = TracePoint {
            iteration,
            log_likelihood: counts.log_likelihood,
            objective: objective(estimators, &counts, &params),
            seconds: offset + start.elapsed().as_secs_f64(),
        };
        if !point.objective.is_finite() {
            return Err(Error::NotFinite {
                iteration,
                value: point.objective,
            });
        }
        let change = trace.last().map(|prev| relative_change(prev, &point));
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
        // The M-step writes a copy, so that a run stopped now still has the parameters whose
        // log-likelihood ends the trace, and the checkpoint owns the new ones without a copy.
        let (next, warnings) = m_step(estimators, &counts, &params, pool);
        for message in &warnings {
            on_event(&Event::Warning { iteration, message });
        }
        let checkpoint = Checkpoint {
            restart,
            iteration: iteration + 1,
            theta: next.theta,
            trace: trace.clone(),
            best: done.best.clone(),
            objectives: done.objectives.to_vec(),
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

/// The direct algorithm (Berg-Kirkpatrick et al. 2010, Algorithm 2): L-BFGS on the penalised
/// marginal log-likelihood over every family's free variables, each evaluation one E-step whose
/// expected counts give the gradient. The trace holds every evaluation that improved on the
/// best so far; its `iteration` counts evaluations. `config.iterations` bounds L-BFGS
/// iterations and `config.tolerance` is its relative-decrease test.
#[allow(clippy::too_many_arguments)]
fn run_direct(
    program: &Program,
    data: &Dataset,
    kernel: &Kernel,
    config: &Config,
    estimators: &Estimators,
    pool: &rayon::ThreadPool,
    mut params: Params,
    restart: usize,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Run, Error> {
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
            let counts = match kernel.e_step(program, data, &trial, pool, config.on_zero) {
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
