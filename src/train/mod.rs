//! The training driver: E-step over all instances (in parallel, deterministically), M-step per
//! family, convergence on the relative change of the objective, random restarts keeping the
//! best. The algorithms: EM and its variants (hard EM, variational Bayes, annealing:
//! `em.rs`), the online ones that update after parts of the data (stepwise and incremental
//! EM: `online.rs`) and direct L-BFGS (`direct.rs`). It reports each iteration, and a
//! checkpoint after each M-step (each pass, online), through a callback; it does no I/O. A
//! run resumed from a checkpoint ends with the same bits as an uninterrupted one.

mod direct;
mod distributed;
mod em;
mod online;
mod stream;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

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
use crate::params::{initial, Params};
use crate::program::Program;
pub use distributed::{Distributed, Exchange};

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

/// How to train: what `emc run`'s flags and a model's `train` block set. Start from
/// [`Config::from_model`] (the block, with the defaults for what it leaves out) and change
/// fields; `Compiled::train` checks the combination before it starts.
#[derive(Clone, Debug)]
pub struct Config {
    /// Most iterations (M-steps; passes over the data for the online algorithms) per restart.
    pub iterations: usize,
    /// Stop when the objective's relative change falls below this; 0 runs every iteration.
    pub tolerance: f64,
    /// Runs from different initial parameters; the best final objective wins.
    pub restarts: usize,
    /// Seeds every random choice: the same seed gives the same bits for any thread count.
    pub seed: u64,
    /// Where the parameters start: the model's `init` settings, a mode, or given values.
    pub init: Init,
    /// Threads of the E-step's pool (the counts do not depend on it).
    pub threads: usize,
    /// What a data line of probability zero does: stop the run, or sit out the iteration.
    pub on_zero: ZeroPolicy,
    /// Set from outside (a signal handler) to stop after the current iteration.
    pub stop: Option<Arc<AtomicBool>>,
    /// Continue from this checkpoint instead of starting afresh.
    pub resume: Option<Checkpoint>,
    pub algorithm: Algorithm,
    /// Lines per mini-batch (stepwise) or block (incremental).
    pub batch: usize,
    /// Stepwise EM's step-size exponent: the step after `k` updates is `(k + 2)^-alpha`.
    pub alpha: f64,
    /// Deterministic annealing (EM and hard EM).
    pub anneal: Option<Anneal>,
    /// Variational Bayes's symmetric Dirichlet concentration.
    pub prior: f64,
    /// Where the model's `train` block gives each setting (errors point there).
    pub spans: Vec<(String, crate::syntax::ast::Span)>,
    /// Decode every instance under the final parameters (`Outcome::decoded`).
    pub decode: bool,
    /// The processes of a run over several (MPI ranks); `None` for one process.
    pub distributed: Option<Distributed>,
}

/// Ueda & Nakano's deterministic annealing: the E-step's posteriors are proportional to
/// `p(x, z)^beta`, with `beta` from `start` times `rate` per stage up to 1, each stage run to
/// convergence (or `iterations`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Anneal {
    pub start: f64,
    pub rate: f64,
}

/// Most annealing stages a schedule may have: each runs up to `iterations` M-steps, so more
/// is a typo that would run for ever (0.1 at rate 1.05 is 48 stages).
pub const MAX_STAGES: usize = 100;

impl Anneal {
    /// How many stages `start * rate^k` takes to reach 1, the last (1) included.
    pub fn stages(self) -> f64 {
        ((1.0 / self.start).ln() / self.rate.ln()).ceil().max(0.0) + 1.0
    }

    /// The inverse temperatures of the stages, the last one 1.
    pub fn schedule(self) -> Vec<f64> {
        let mut betas = Vec::new();
        let mut beta = self.start;
        while beta < 1.0 && betas.len() < MAX_STAGES {
            betas.push(beta);
            beta *= self.rate;
        }
        betas.push(1.0);
        betas
    }
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
            batch: s.batch,
            alpha: s.alpha,
            anneal: s.anneal.map(|start| Anneal {
                start,
                rate: s.anneal_rate,
            }),
            prior: s.prior,
            spans: s.spans.clone(),
            decode: false,
            distributed: None,
        }
    }
}

/// One iteration of a run's trace: the parameters after `iteration` M-steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TracePoint {
    /// 0 for the initial parameters; `t` after `t` M-steps.
    pub iteration: usize,
    pub log_likelihood: f64,
    /// Log-likelihood plus the families' log priors: what EM never decreases.
    pub objective: f64,
    /// Since the start of this restart.
    pub seconds: f64,
    /// The inverse temperature of an annealed run's E-step (`log_likelihood` is then
    /// `log sum_z p(x, z)^beta / beta`, the log-likelihood at `beta = 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<f64>,
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
    /// What an algorithm keeps besides the parameters (variational Bayes's posterior, the
    /// online algorithms' statistics); `None` for EM, hard EM and at a restart's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
}

/// An algorithm's state beyond the parameters, as a checkpoint keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum State {
    /// The Dirichlet parameters of `q(theta)`, laid out as the parameters.
    Vb(Vec<f64>),
    Online(online::OnlineState),
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

/// What training ends with.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The best restart's final parameters (`Program::probability` reads one).
    pub params: Params,
    /// The best restart's log-likelihood per iteration, iteration 0 being the initial
    /// parameters: what `trace.tsv` holds.
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
    /// What trained it (what its trace's numbers mean).
    pub algorithm: Algorithm,
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

/// `m_step` over the counts' own vector, which becomes the next parameters: for the EM loop,
/// which has no use for the counts once they are estimated from (see
/// [`Estimators::m_step_in_place`]). The same parameters, bit for bit.
pub fn m_step_from_counts(
    estimators: &Estimators,
    counts: CountStore,
    params: &Params,
    pool: &rayon::ThreadPool,
) -> (Params, Vec<String>) {
    if counts.expected.len() != params.theta.len() {
        return m_step(estimators, &counts, params, pool);
    }
    let CountStore {
        expected: mut theta,
        norm_sets,
        norm_uses,
        ..
    } = counts;
    let norms = Norms {
        sets: &norm_sets,
        uses: &norm_uses,
    };
    let warnings = pool.install(|| estimators.m_step_in_place(&mut theta, norms, &params.theta));
    (Params { theta }, warnings)
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

/// What every algorithm's loop reads: the program and its data, the compiled E-step, the
/// settings, the families' estimators and the pool.
#[derive(Clone, Copy)]
struct Setup<'a> {
    program: &'a Program,
    data: &'a Dataset,
    kernel: &'a Kernel,
    config: &'a Config,
    estimators: &'a Estimators,
    pool: &'a rayon::ThreadPool,
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
    validate(program, data, config, &estimators)?;
    if matches!(kernel, Kernel::Stream(_)) {
        stream::refuse_settings(program, config, &estimators)?;
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
                // counts that the initial probabilities give, so that EM's first step is
                // already in the family.
                let (given, mode): (Option<&[usize]>, _) = match &config.init {
                    Init::Mode(mode) => (Some(&[]), Some(*mode)),
                    Init::Partial { families, .. } => (Some(families), None),
                    Init::Given(_) => (None, None),
                };
                if let Some(given) = given.filter(|g| estimators.has_features(g)) {
                    let counts = distributed::e_step(kernel, program, data, &params, pool, config)?;
                    pool.install(|| {
                        estimators.fit_features(
                            &counts.expected,
                            norms(&counts),
                            &mut params.theta,
                            given,
                            mode == Some(InitMode::Random),
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
        let setup = Setup {
            program,
            data,
            kernel,
            config,
            estimators: &estimators,
            pool,
        };
        let run = match config.algorithm {
            Algorithm::Direct => direct::run_direct(setup, params, restart, on_event)?,
            Algorithm::Stepwise | Algorithm::Incremental => {
                online::run_online(setup, params, trace, restart, done, on_event)?
            }
            Algorithm::Em | Algorithm::Hard | Algorithm::Vb => {
                em::run_em(setup, params, trace, restart, done, on_event)?
            }
        };
        if run.interrupted {
            let mut outcome = finish(best, objectives, Some((restart, run)));
            outcome.algorithm = config.algorithm;
            return Ok(outcome);
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
            state: None,
        }));
    }
    let mut outcome = finish(best, objectives, None);
    outcome.algorithm = config.algorithm;
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
            let d = crate::structured::execute_line(program, inst, false)?.densities;
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
        algorithm: Algorithm::Em,
    }
}

/// The settings' combinations this model cannot take, refused before any iteration, pointing
/// at the setting in the `train` block when it is there (else it came from the command line).
fn validate(
    program: &Program,
    data: &Dataset,
    config: &Config,
    estimators: &Estimators,
) -> Result<(), Error> {
    let span = |key: &str| {
        (config.spans.iter())
            .find(|(k, _)| k == key)
            .map(|(_, s)| *s)
    };
    let refuse = |key: &str, message: String, hint: &str| {
        Err(Error::Setting {
            message,
            span: span(key),
            label: "this setting",
            hint: hint.to_string(),
        })
    };
    let model = &program.model;
    let shared_e_step = matches!(
        config.algorithm,
        Algorithm::Em | Algorithm::Direct | Algorithm::Vb
    );
    if config.distributed.is_some() && !shared_e_step {
        return refuse(
            "algorithm",
            format!(
                "a run over several processes trains with em, direct or vb, not {}",
                config.algorithm.name()
            ),
            "run it as one process, or train with `--algorithm em`",
        );
    }
    if config.algorithm == Algorithm::Vb {
        if let Some((f, why)) = estimators.vb_refusal() {
            let family = &model.families[f];
            return Err(Error::Setting {
                message: format!(
                    "variational Bayes cannot train the family `{}`",
                    family.name
                ),
                span: Some(family.span),
                label: "this family",
                hint: why.to_string(),
            });
        }
        if model.restricts() {
            return refuse(
                "algorithm",
                "variational Bayes does not take draws restricted per line (`within`, `from`)"
                    .into(),
                "their rows divide by a sum over the allowed outcomes, which has no Dirichlet \
                 posterior: train with `em`",
            );
        }
    }
    if let Some(anneal) = config.anneal {
        if !matches!(config.algorithm, Algorithm::Em | Algorithm::Hard) {
            return refuse(
                "anneal",
                format!(
                    "annealing applies to `em` and `hard`, not to `{}`",
                    config.algorithm.name()
                ),
                "remove `anneal`, or train with `algorithm: em`",
            );
        }
        if model.restricts() {
            return refuse(
                "anneal",
                "annealing does not take draws restricted per line (`within`, `from`)".into(),
                "a restricted draw divides by a sum over the allowed outcomes, which the \
                 tempered E-step would not raise to the power beta: remove `anneal`",
            );
        }
        if anneal.start <= 0.0 || anneal.start > 1.0 || anneal.rate <= 1.0 {
            return refuse(
                "anneal",
                "the annealing schedule needs 0 < anneal <= 1 and anneal_rate > 1".into(),
                "for example `anneal: 0.1, anneal_rate: 1.5`",
            );
        }
        if let Some(span) = model.weight_span() {
            return Err(Error::Setting {
                message: "annealing does not take `weight` statements".into(),
                span: Some(span),
                label: "a fixed weight",
                hint: "the tempered E-step raises the families' probabilities to the power \
                       beta, not the fixed weights: train this model without `anneal`"
                    .into(),
            });
        }
        if anneal.stages() > MAX_STAGES as f64 {
            return refuse(
                "anneal",
                format!(
                    "the annealing schedule from {:?} at rate {:?} has {} stages, more than {MAX_STAGES}",
                    anneal.start,
                    anneal.rate,
                    anneal.stages()
                ),
                "start nearer 1 or raise `anneal_rate`: each stage runs up to `iterations` \
                 M-steps",
            );
        }
        if has_missing_reals(data) && model.families.iter().any(|f| f.is_gaussian()) {
            return refuse(
                "anneal",
                "annealing does not take real values given as `?`".into(),
                "a missing coordinate's marginal density does not temper by rescaling the \
                 row: fill the values in, or train without `anneal`",
            );
        }
    }
    Ok(())
}

fn has_missing_reals(data: &Dataset) -> bool {
    use crate::data::FieldValue;
    (data.instances.iter().flat_map(|i| &i.values)).any(|v| match v {
        FieldValue::Real(x) => x.iter().any(|v| v.is_nan()),
        FieldValue::RealSequence(xs) => xs.iter().flatten().any(|v| v.is_nan()),
        _ => false,
    })
}
