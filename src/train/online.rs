//! The online algorithms: the data in batches of `batch` lines (in data order), the parameters
//! updated after each batch; an iteration is a pass over the data.
//!
//! - Stepwise EM (Liang & Klein 2009, after Sato & Ishii 2000 and Cappé & Moulines 2009):
//!   running statistics `mu <- (1 - eta_k) mu + eta_k s'_k`, `eta_k = (k + 2)^-alpha` after
//!   `k` updates, `mu` starting at zero; `s'_k` is the batch's expected counts scaled to the
//!   whole data (times total weight / batch weight), so that a family whose M-step depends on
//!   the counts' scale (pseudo-counts, a Logistic family's L2 penalty) sees the data's. Each
//!   pass's trace point holds the sum of the batches' log-likelihoods, each at the parameters
//!   it was counted with; stepwise EM promises no monotone objective.
//! - Incremental EM (Neal & Hinton 1998): every block's statistics are kept and their sum is
//!   the M-step's; visiting a block replaces its statistics by those at the current
//!   parameters. Its objective is the free energy
//!   `F = sum_b (H(q_b) + E_{q_b}[log p(x_b, z | theta)]) + log prior(theta)`, which never
//!   decreases; the trace's objective is F after each pass, and its log-likelihood the sum of
//!   the blocks' log-likelihoods as they were visited.
//!
//! Both start with a pass at the initial parameters (trace point 0: their log-likelihood),
//! whose expected counts start the statistics: stepwise EM's `mu` (a `mu` of zero would make
//! the first M-step give probability zero to every event the first batch lacks, and the
//! next batch impossible) and incremental EM's blocks.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::{
    m_step, relative_change, Checkpoint, Config, Done, Event, Run, Setup, State, TracePoint,
};
use crate::data::{Dataset, Domains};
use crate::error::Error;
use crate::family::Norms;
use crate::infer::CountStore;
use crate::kernel::Kernel;
use crate::model::Algorithm;
use crate::params::Params;
use crate::program::Program;

/// Expected counts with their restricted draws keyed by the allowed set, so that statistics
/// counted by different batches' kernels (each interning its own sets) add up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub expected: Vec<f64>,
    pub norms: BTreeMap<Vec<u32>, f64>,
}

impl Stats {
    fn zeros(n: usize) -> Stats {
        Stats {
            expected: vec![0.0; n],
            norms: BTreeMap::new(),
        }
    }

    /// Takes the counts' vector over: a batch's counts are the size of the parameters.
    fn from_counts(c: CountStore) -> Stats {
        let mut norms = BTreeMap::new();
        for (set, u) in c.norm_sets.iter().zip(&c.norm_uses) {
            *norms.entry(set.clone()).or_insert(0.0) += u;
        }
        Stats {
            expected: c.expected,
            norms,
        }
    }

    /// `self <- a self + b other`.
    fn combine(&mut self, a: f64, other: &Stats, b: f64) {
        for (x, y) in self.expected.iter_mut().zip(&other.expected) {
            *x = a * *x + b * y;
        }
        self.norms.values_mut().for_each(|u| *u *= a);
        for (set, u) in &other.norms {
            *self.norms.entry(set.clone()).or_insert(0.0) += b * u;
        }
    }

    /// Differences of sums can leave a count a rounding error below zero, which a log or a
    /// normalisation would turn into NaN.
    fn clamp(&mut self) {
        self.expected.iter_mut().for_each(|x| *x = x.max(0.0));
        self.norms.values_mut().for_each(|u| *u = u.max(0.0));
    }

    /// The statistics as the M-step takes them, lent: a mini-batch of ten lines would
    /// otherwise copy the whole parameter-sized vector for each of its M-steps.
    fn with_store<T>(&mut self, f: impl FnOnce(&CountStore) -> T) -> T {
        let store = CountStore {
            expected: std::mem::take(&mut self.expected),
            norm_sets: std::sync::Arc::new(self.norms.keys().cloned().collect()),
            norm_uses: self.norms.values().copied().collect(),
            ..CountStore::new(0)
        };
        let out = f(&store);
        self.expected = store.expected;
        out
    }
}

/// What an online run keeps besides the parameters, as checkpoints hold it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnlineState {
    /// Stepwise: updates so far (`k`).
    pub updates: u64,
    /// Stepwise: the running statistics `mu`; incremental: the sum of the blocks'.
    pub total: Stats,
    /// Incremental: each block's statistics and the entropy of its posterior
    /// (`log p(x_b) - E[log p(x_b, z)]` at the parameters it was counted with).
    pub blocks: Vec<Stats>,
    pub entropies: Vec<f64>,
}

/// One batch of lines and its compiled E-step.
struct Batch {
    data: Dataset,
    kernel: Kernel,
    /// Total weight of the data over the batch's.
    scale: f64,
}

fn batches(
    program: &Program,
    data: &Dataset,
    size: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<Batch>, Error> {
    let weight = |lines: &[crate::data::Instance]| lines.iter().map(|i| i.weight).sum::<f64>();
    let total = weight(&data.instances);
    data.instances
        .chunks(size.max(1))
        .map(|lines| {
            // The kernels read the program's domains, never the data's: one copy is enough.
            let data = Dataset {
                instances: lines.to_vec(),
                domains: Domains::new(Vec::new()),
            };
            let kernel = Kernel::build(program, &data, pool)?;
            let w = weight(lines);
            Ok(Batch {
                data,
                kernel,
                scale: if w > 0.0 { total / w } else { 1.0 },
            })
        })
        .collect()
}

/// The entropy of a block's posterior at the parameters `theta` it was counted with:
/// `log p(x_b) - E[log p(x_b, z)]`.
fn entropy(estimators: &crate::family::Estimators, c: &CountStore, theta: &[f64]) -> f64 {
    c.log_likelihood - estimators.expected_log(&c.expected, norms_of(c), theta)
}

fn norms_of(c: &CountStore) -> Norms<'_> {
    Norms {
        sets: &c.norm_sets,
        uses: &c.norm_uses,
    }
}

pub(super) fn run_online(
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
        config,
        estimators,
        pool,
        ..
    } = setup;
    let offset = trace.last().map_or(0.0, |p| p.seconds);
    let start = Instant::now();
    let incremental = config.algorithm == Algorithm::Incremental;
    let batches = batches(program, data, config.batch, pool)?;
    let n = program.layout.total;
    let e_step =
        |b: &Batch, params: &Params, iteration: usize, on_event: &mut dyn FnMut(&Event)| {
            let c = (b.kernel).e_step(program, &b.data, params, pool, config.on_zero)?;
            if !c.skipped.is_empty() {
                on_event(&Event::Skipped {
                    iteration,
                    lines: &c.skipped,
                });
            }
            Ok::<_, Error>(c)
        };
    let mut state = match &config.resume {
        Some(c) if c.restart == restart && !trace.is_empty() => match &c.state {
            Some(State::Online(s)) => s.clone(),
            _ => {
                return Err(Error::Unsupported(
                    "the checkpoint has no online state".into(),
                ))
            }
        },
        _ => OnlineState {
            updates: 0,
            total: Stats::zeros(n),
            blocks: Vec::new(),
            entropies: Vec::new(),
        },
    };
    let mut converged = false;
    let mut interrupted = false;
    let mut resume = None;
    if trace.is_empty() {
        let mut ll = 0.0;
        for b in &batches {
            let c = e_step(b, &params, 0, on_event)?;
            ll += c.log_likelihood;
            let h = entropy(estimators, &c, &params.theta);
            let s = Stats::from_counts(c);
            state.total.combine(1.0, &s, 1.0);
            if incremental {
                state.blocks.push(s);
                state.entropies.push(h);
            }
        }
        let point = TracePoint {
            iteration: 0,
            log_likelihood: ll,
            objective: ll + estimators.log_prior(&params.theta),
            seconds: offset + start.elapsed().as_secs_f64(),
            beta: None,
        };
        on_event(&Event::Iteration {
            restart,
            point: &point,
            change: None,
        });
        trace.push(point);
        if config.iterations > 0 {
            resume = offer(config, &params, &trace, &state, restart, done, on_event);
            interrupted = resume.is_some();
        }
    }
    while trace.len() <= config.iterations && !interrupted {
        let iteration = trace.len();
        let mut ll = 0.0;
        for (i, b) in batches.iter().enumerate() {
            let c = e_step(b, &params, iteration, on_event)?;
            ll += c.log_likelihood;
            let h = if incremental {
                entropy(estimators, &c, &params.theta)
            } else {
                0.0
            };
            let s = Stats::from_counts(c);
            if incremental {
                state.total.combine(1.0, &state.blocks[i], -1.0);
                state.total.combine(1.0, &s, 1.0);
                state.total.clamp();
                state.entropies[i] = h;
                state.blocks[i] = s;
            } else {
                let eta = (state.updates as f64 + 2.0).powf(-config.alpha);
                state.total.combine(1.0 - eta, &s, eta * b.scale);
                state.updates += 1;
            }
            let (next, warnings) =
                (state.total).with_store(|store| m_step(estimators, store, &params, pool));
            for message in &warnings {
                on_event(&Event::Warning { iteration, message });
            }
            params = next;
        }
        let objective = if incremental {
            // The sum of the blocks again, so that rounding does not pile up over passes.
            let mut total = Stats::zeros(n);
            state.blocks.iter().for_each(|s| total.combine(1.0, s, 1.0));
            state.total = total;
            let expected = (state.total).with_store(|store| {
                estimators.expected_log(&store.expected, norms_of(store), &params.theta)
            });
            state.entropies.iter().sum::<f64>() + expected + estimators.log_prior(&params.theta)
        } else {
            ll + estimators.log_prior(&params.theta)
        };
        let point = TracePoint {
            iteration,
            log_likelihood: ll,
            objective,
            seconds: offset + start.elapsed().as_secs_f64(),
            beta: None,
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
        resume = offer(config, &params, &trace, &state, restart, done, on_event);
        interrupted = resume.is_some();
    }
    Ok(Run {
        params,
        trace,
        converged,
        interrupted,
        resume,
    })
}

/// Offers the checkpoint after a pass; returns it when the run is to stop there.
fn offer(
    config: &Config,
    params: &Params,
    trace: &[TracePoint],
    state: &OnlineState,
    restart: usize,
    done: Done,
    on_event: &mut dyn FnMut(&Event),
) -> Option<Checkpoint> {
    let checkpoint = Checkpoint {
        restart,
        iteration: trace.len(),
        theta: params.theta.clone(),
        trace: trace.to_vec(),
        best: done.best.clone(),
        objectives: done.objectives.to_vec(),
        state: Some(State::Online(state.clone())),
    };
    on_event(&Event::Checkpoint(&checkpoint));
    (config.stop.as_ref())
        .is_some_and(|s| s.load(Ordering::SeqCst))
        .then_some(checkpoint)
}
