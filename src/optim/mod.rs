//! Unconstrained minimisation by L-BFGS, for the featurised (logistic) families' M-step and for
//! direct optimisation of the marginal likelihood (Berg-Kirkpatrick et al. 2010, Algorithms 1
//! and 2).
//!
//! The directions come from the two-loop recursion (Nocedal & Wright, Alg. 7.4) over at most
//! `memory` curvature pairs; the steps from a strong-Wolfe line search that brackets and then
//! zooms by safeguarded cubic or quadratic interpolation (Alg. 3.5 and 3.6). Every buffer is
//! taken once, before the first iteration: `2 * memory + 5` vectors of the length of `x`,
//! from the vectors earlier runs on the thread handed back (`spare`).
//!
//! Hand-written rather than argmin's `LBFGS` (0.11, Moré-Thuente line search): on a 45-class
//! softmax regression with 45,000 parameters both needed the same evaluations (43 and 42 to
//! reach the optimum to 1e-9), but argmin spent about three times as long outside the objective
//! (0.19 s against 0.05 s over some 50 iterations; 0.54 s against 0.37 s in all), allocating new
//! vectors in every vector operation, and with tolerances below rounding error its line search
//! ran on for thousands of evaluations where this one stops.

mod line_search;
mod spare;

use rayon::prelude::*;

use line_search::{Ray, Search};
pub(crate) use spare::Spare;

/// Options for `minimize`.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Curvature pairs kept (`m`); memory costs `2 * m` vectors of the length of `x`.
    pub memory: usize,
    /// Accepted steps before stopping.
    pub max_iterations: usize,
    /// Calls of the objective (value and gradient together), the start included. The start is
    /// always evaluated, so 0 acts as 1.
    pub max_evaluations: usize,
    /// Stop when `||g||_inf <= gradient_tolerance * max(1, |f|)`. Relative to `|f|` because the
    /// objectives here are sums over data, whose value and gradient grow together with the
    /// counts; the floor of 1 makes it absolute near a zero optimum.
    pub gradient_tolerance: f64,
    /// Stop when `||g||_inf <= gradient_reduction * ||g_0||_inf`, the gradient at the start:
    /// an inexact solve whose accuracy follows how far the start was from the optimum (0:
    /// off). For a warm-started M-step the start's gradient is EM's own signal, so the rule
    /// asks for less as EM converges, in proportion.
    pub gradient_reduction: f64,
    /// Stop when `||g||_inf <= gradient_target` (0: off): `gradient_reduction`'s test when
    /// the start's gradient is a larger problem's, of which this one is an independent part.
    pub gradient_target: f64,
    /// Stop when one step decreased `f` by at most this fraction:
    /// `(f_prev - f) / max(|f_prev|, |f|, 1) <= relative_tolerance`.
    pub relative_tolerance: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            memory: 10,
            max_iterations: 100,
            max_evaluations: 250,
            gradient_tolerance: 1e-8,
            gradient_reduction: 0.0,
            gradient_target: 0.0,
            relative_tolerance: 1e-9,
        }
    }
}

/// What `minimize` found and why it stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The objective at the returned `x`.
    pub value: f64,
    /// Accepted steps.
    pub iterations: usize,
    /// Calls of the objective, the start included.
    pub evaluations: usize,
    pub stop: Stop,
}

/// Why `minimize` stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The gradient test of `Options::gradient_tolerance` holds.
    Gradient,
    /// The gradient is `Options::gradient_reduction` times the start's or less, or at most
    /// `Options::gradient_target`.
    GradientReduced,
    /// The last step decreased the value by less than `Options::relative_tolerance`.
    RelativeDecrease,
    MaxIterations,
    MaxEvaluations,
    /// No decrease could be found even along the steepest descent direction: usually the value
    /// is at its optimum to rounding error, which tighter tolerances cannot beat. Also the stop
    /// for a start whose value or gradient is not finite (returned unchanged).
    LineSearchFailed,
}

/// Minimises `f` starting from `x` (overwritten with the best point found). `f(x, grad)` returns
/// the value at x and writes the gradient into `grad` (same length as x). Never returns a point
/// worse than the start; a non-finite value during the line search is treated as "too far"
/// (step is shrunk), never propagated.
///
/// `f` is called with a scratch buffer of trial points, not with `x`, and its last call need not
/// have been at the returned point: anything `f` caches must be keyed on its argument.
pub fn minimize<F: FnMut(&[f64], &mut [f64]) -> f64>(
    f: F,
    x: &mut [f64],
    options: &Options,
) -> Report {
    run(f, x, None, options, None)
}

/// `minimize` with a diagonal initial inverse Hessian in place of the identity: `refresh(x,
/// diagonal)` writes positive scales (as many as `x`) at the start and every `every`
/// iterations after, and `H0 = gamma * diag(diagonal)`, `gamma = s'y / y' diag y` of the
/// newest pair, with the first step `-diagonal * g` at unit length. When the curvatures
/// along the coordinates differ by orders of magnitude, a diagonal near the inverse of the
/// Hessian's saves most of the iterations; refreshing it follows the curvature as `x` moves
/// (an H0 that changes between iterations keeps the directions descent directions, Nocedal &
/// Wright 7.2). The stopping tests are unchanged.
pub fn minimize_preconditioned<F, R>(
    f: F,
    x: &mut [f64],
    options: &Options,
    every: usize,
    mut refresh: R,
) -> Report
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
    R: FnMut(&[f64], &mut [f64]),
{
    run(
        f,
        x,
        None,
        options,
        Some(Initial::Diagonal(&mut refresh, every.max(1))),
    )
}

/// `minimize_preconditioned` from a start whose value and gradient the caller has already
/// evaluated (`f(x, g)`'s result and `g`): a problem split into parts evaluates them all to
/// find the whole gradient its stopping rule is relative to.
pub fn minimize_preconditioned_from<F, R>(
    f: F,
    x: &mut [f64],
    start: (f64, Vec<f64>),
    options: &Options,
    every: usize,
    mut refresh: R,
) -> Report
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
    R: FnMut(&[f64], &mut [f64]),
{
    run(
        f,
        x,
        Some(start),
        options,
        Some(Initial::Diagonal(&mut refresh, every.max(1))),
    )
}

/// An initial inverse Hessian `H0` that is not diagonal, for `minimize_with_operator_from`.
pub trait Operator {
    /// Rebuilds `H0` at `x`: at the start and every `every` iterations after.
    fn refresh(&mut self, x: &[f64]);
    /// `v = H0 v`. `H0` must be symmetric and positive definite, as the inverse of a
    /// Hessian is where the objective is convex.
    fn apply(&mut self, v: &mut [f64]);
}

/// `minimize_preconditioned_from` with a symmetric positive definite operator as `H0` in
/// place of a diagonal: curvature that couples coordinates (a feature's weight and the
/// weights of the outcomes it fires on) is what a diagonal cannot hold. `H0 = op` unscaled
/// (no `gamma`): an operator built from the Hessian estimates its scale as well as its shape,
/// and scaling it by `s'y / y' op y` would cost a second application per iteration (on W5
/// it saved no M-step iterations; it did save evaluations in the first fit from zero, where
/// the start is far). The first step is `-op g` at unit length.
pub fn minimize_with_operator_from<F>(
    f: F,
    x: &mut [f64],
    start: (f64, Vec<f64>),
    options: &Options,
    every: usize,
    op: &mut dyn Operator,
) -> Report
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    run(
        f,
        x,
        Some(start),
        options,
        Some(Initial::Operator(op, every.max(1))),
    )
}

/// Where the initial inverse Hessian comes from, and how often it is rebuilt (`None`: the
/// identity).
enum Initial<'a> {
    Diagonal(&'a mut dyn FnMut(&[f64], &mut [f64]), usize),
    Operator(&'a mut dyn Operator, usize),
}

fn run<F: FnMut(&[f64], &mut [f64]) -> f64>(
    mut f: F,
    x: &mut [f64],
    start: Option<(f64, Vec<f64>)>,
    options: &Options,
    refresh: Option<Initial>,
) -> Report {
    let n = x.len();
    let max_evaluations = options.max_evaluations.max(1);
    let (mut value, mut g) = match start {
        Some((value, g)) if g.len() == n => (value, Spare::from(g)),
        _ => {
            let mut g = Spare::new(n);
            (f(x, &mut g), g)
        }
    };
    let mut search = Search {
        f,
        evaluations: 1,
        x_trial: Spare::new(n),
        g_trial: Spare::new(n),
        g_lo: Spare::new(n),
    };
    let mut iterations = 0;
    let report = |value, iterations, evaluations, stop| Report {
        value,
        iterations,
        evaluations,
        stop,
    };
    if !value.is_finite() || !g.iter().all(|v| v.is_finite()) {
        return report(value, 0, 1, Stop::LineSearchFailed);
    }
    if gradient_converged(largest(&g), value, options) {
        return report(value, 0, 1, Stop::Gradient);
    }
    let reduced = (options.gradient_reduction * largest(&g)).max(options.gradient_target);
    if largest(&g) <= options.gradient_target {
        return report(value, 0, 1, Stop::GradientReduced);
    }
    let (mut diagonal, mut op, every) = match refresh {
        Some(Initial::Diagonal(refresh, every)) => (Some(refresh), None, every),
        Some(Initial::Operator(op, every)) => (None, Some(op), every),
        None => (None, None, 1),
    };
    let mut history = History::new(options.memory.max(1), n, diagonal.is_some());
    history.scaled = op.is_none();
    let mut d = Spare::new(n);
    loop {
        if iterations >= options.max_iterations {
            return report(value, iterations, search.evaluations, Stop::MaxIterations);
        }
        if search.evaluations >= max_evaluations {
            return report(value, iterations, search.evaluations, Stop::MaxEvaluations);
        }
        if iterations % every == 0 {
            if let (Some(refresh), Some(h)) = (&mut diagonal, &mut history.diagonal) {
                refresh(x, h);
            }
            if let Some(op) = &mut op {
                op.refresh(x);
            }
        }
        let slope = history.direction(&g, &mut d, op.as_deref_mut());
        // Rounding in a badly conditioned history can make the direction point uphill;
        // steepest descent always goes down.
        if slope.is_nan() || slope >= 0.0 {
            if history.is_empty() {
                return report(
                    value,
                    iterations,
                    search.evaluations,
                    Stop::LineSearchFailed,
                );
            }
            history.clear();
            continue;
        }
        // Without curvature information the gradient's length says nothing about the step's,
        // so the first step moves x by a unit distance; a diagonal or an operator is
        // curvature information.
        let first_step = if history.is_empty() && history.diagonal.is_none() && op.is_none() {
            1.0 / dot(&g, &g).sqrt()
        } else {
            1.0
        };
        let ray = Ray {
            x,
            d: &d,
            value,
            slope,
        };
        let budget = max_evaluations - search.evaluations;
        let step = search.run(&ray, first_step, budget);
        if step.alpha == 0.0 {
            if step.exhausted {
                return report(value, iterations, search.evaluations, Stop::MaxEvaluations);
            }
            if history.is_empty() {
                return report(
                    value,
                    iterations,
                    search.evaluations,
                    Stop::LineSearchFailed,
                );
            }
            history.clear();
            continue;
        }
        let largest_g = history.step(x, &d, step.alpha, &search.g_trial, &g);
        std::mem::swap(&mut g, &mut search.g_trial);
        let previous = value;
        value = step.value;
        iterations += 1;
        if gradient_converged(largest_g, value, options) {
            return report(value, iterations, search.evaluations, Stop::Gradient);
        }
        if largest_g <= reduced {
            return report(value, iterations, search.evaluations, Stop::GradientReduced);
        }
        let scale = previous.abs().max(value.abs()).max(1.0);
        if (previous - value) / scale <= options.relative_tolerance {
            return report(
                value,
                iterations,
                search.evaluations,
                Stop::RelativeDecrease,
            );
        }
    }
}

/// The test of `Options::gradient_tolerance` on the gradient's largest entry.
fn gradient_converged(largest: f64, value: f64, options: &Options) -> bool {
    largest <= options.gradient_tolerance * value.abs().max(1.0)
}

/// `||g||_inf`.
pub(crate) fn largest(g: &[f64]) -> f64 {
    g.iter().fold(0.0f64, |m, v| m.max(v.abs()))
}

/// The curvature pairs `s = x_{k+1} - x_k`, `y = g_{k+1} - g_k` in a ring, newest at `next - 1`.
struct History {
    n: usize,
    /// The initial inverse Hessian's diagonal, up to `gamma`; `None` for the identity.
    diagonal: Option<Vec<f64>>,
    memory: usize,
    /// Written pair by pair before they are read (`len` counts the written ones).
    s: Spare,
    y: Spare,
    rho: Vec<f64>,
    alpha: Vec<f64>,
    len: usize,
    next: usize,
    /// Whether `gamma` follows the newest pair: not when the caller's operator is the initial
    /// inverse Hessian, which is an estimate of its scale as well as of its shape.
    scaled: bool,
    /// Initial inverse Hessian `s'y / y'y` (`s'y / y' diag y`) of the newest pair: the inverse of the curvature
    /// along the last step, which makes the unit step the natural first trial.
    gamma: f64,
}

impl History {
    fn new(memory: usize, n: usize, diagonal: bool) -> History {
        History {
            n,
            diagonal: diagonal.then(|| vec![1.0; n]),
            memory,
            s: Spare::new(memory * n),
            y: Spare::new(memory * n),
            rho: vec![0.0; memory],
            alpha: vec![0.0; memory],
            len: 0,
            next: 0,
            gamma: 1.0,
            scaled: true,
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.len = 0;
        self.gamma = 1.0;
    }

    /// Moves `x` by `alpha * d`, writes the pair of that step (`s` as the step actually taken
    /// after rounding, so that it matches `y = g_new - g`) and keeps it unless `s'y <= eps *
    /// ||s|| ||y||`: without positive curvature the update would make the inverse Hessian
    /// indefinite (the test is on the cosine, so it does not depend on the scale of `f` or of
    /// `x`). Returns `||g_new||_inf`. One pass over the vectors, each chunk's products taken
    /// while it is in cache: these vectors are as long as the weights, and passes over them
    /// are what an iteration's algebra costs.
    fn step(&mut self, x: &mut [f64], d: &[f64], alpha: f64, g_new: &[f64], g: &[f64]) -> f64 {
        let range = self.next * self.n..(self.next + 1) * self.n;
        let (s, y) = (&mut self.s[range.clone()], &mut self.y[range]);
        let h = self.diagonal.as_deref();
        let parts = chunks3(x, s, y, |at, x, s, y| {
            let end = at + x.len();
            for ((x, s), d) in x.iter_mut().zip(s.iter_mut()).zip(&d[at..end]) {
                let moved = *x + alpha * d;
                *s = moved - *x;
                *x = moved;
            }
            for ((y, new), old) in y.iter_mut().zip(&g_new[at..end]).zip(&g[at..end]) {
                *y = new - old;
            }
            let (s, y) = (&*s, &*y);
            let yhy = match h {
                Some(h) => weighted(y, &h[at..end]),
                None => 0.0,
            };
            [
                dot4(s, y),
                dot4(y, y),
                dot4(s, s),
                yhy,
                largest(&g_new[at..end]),
            ]
        });
        let sum = |j: usize| parts.iter().fold(0.0, |t, p| t + p[j]);
        let (sy, yy, ss, yhy) = (sum(0), sum(1), sum(2), sum(3));
        let largest = parts.iter().fold(0.0f64, |m, p| m.max(p[4]));
        if sy > f64::EPSILON * (ss * yy).sqrt() {
            self.rho[self.next] = 1.0 / sy;
            if self.scaled {
                self.gamma = sy / if h.is_some() { yhy } else { yy };
            }
            self.next = (self.next + 1) % self.memory;
            self.len = (self.len + 1).min(self.memory);
        }
        largest
    }

    /// Writes `-H g` into `d` by the two-loop recursion and returns the slope `g'd`. Each
    /// vector update is fused with the dot product that follows it, chunk by chunk: the same
    /// operations in the same order as separate passes, so the same bits, with `d` read once
    /// per step instead of twice.
    fn direction(&mut self, g: &[f64], d: &mut [f64], op: Option<&mut (dyn Operator + '_)>) -> f64 {
        if let Some(op) = op {
            return self.direction_with(g, d, op);
        }
        let n = self.n;
        let m = self.memory;
        let gamma = self.gamma;
        let h = self.diagonal.as_deref();
        if self.len == 0 {
            return chunked(d, |at, d| {
                d.iter_mut().zip(&g[at..]).for_each(|(d, g)| *d = -g);
                scale(d, h.map(|h| &h[at..at + d.len()]), gamma);
                dot4(&g[at..at + d.len()], d)
            });
        }
        let newest = |k: usize| (self.next + m - 1 - k) % m;
        let (s, y, rho) = (&self.s, &self.y, &self.rho);
        let pair = |i: usize| i * n..(i + 1) * n;
        // First loop, newest pair first: d = -g, then `alpha_i = rho_i s_i'd; d -= alpha_i y_i`.
        // Each pass finishes one update and takes the next pair's dot product.
        let s0 = &s[pair(newest(0))];
        let mut product = chunked(d, |at, d| {
            d.iter_mut().zip(&g[at..]).for_each(|(d, g)| *d = -g);
            dot4(&s0[at..at + d.len()], d)
        });
        for k in 0..self.len {
            let i = newest(k);
            let a = rho[i] * product;
            self.alpha[i] = a;
            let yi = &y[pair(i)];
            if k + 1 < self.len {
                let next = &s[pair(newest(k + 1))];
                product = chunked(d, |at, d| {
                    axpy_chunk(-a, &yi[at..at + d.len()], d);
                    dot4(&next[at..at + d.len()], d)
                });
            } else {
                // The last update of the first loop, the initial inverse Hessian and the
                // second loop's first dot product (the oldest pair's `y`).
                product = chunked(d, |at, d| {
                    axpy_chunk(-a, &yi[at..at + d.len()], d);
                    scale(d, h.map(|h| &h[at..at + d.len()]), gamma);
                    dot4(&yi[at..at + d.len()], d)
                });
            }
        }
        self.second_loop(g, d, product)
    }

    /// The recursion's second loop, oldest pair first: `d += (alpha_i - rho_i y_i'd) s_i`,
    /// from `product`, the oldest pair's `y'd`; the last pass takes the slope `g'd`.
    fn second_loop(&self, g: &[f64], d: &mut [f64], mut product: f64) -> f64 {
        let (n, m) = (self.n, self.memory);
        let newest = |k: usize| (self.next + m - 1 - k) % m;
        let pair = |i: usize| i * n..(i + 1) * n;
        for k in (0..self.len).rev() {
            let i = newest(k);
            let c = self.alpha[i] - self.rho[i] * product;
            let si = &self.s[pair(i)];
            let then: &[f64] = if k > 0 {
                &self.y[pair(newest(k - 1))]
            } else {
                g
            };
            product = chunked(d, |at, d| {
                axpy_chunk(c, &si[at..at + d.len()], d);
                dot4(&then[at..at + d.len()], d)
            });
        }
        product
    }
}

impl History {
    /// `direction` with `H0 = op`: the same recursion and fusion, `op` applied between the
    /// loops on the whole vector.
    fn direction_with(&mut self, g: &[f64], d: &mut [f64], op: &mut (dyn Operator + '_)) -> f64 {
        let (n, m, len) = (self.n, self.memory, self.len);
        let next = self.next;
        let newest = |k: usize| (next + m - 1 - k) % m;
        let pair = |i: usize| i * n..(i + 1) * n;
        let History {
            s, y, rho, alpha, ..
        } = self;
        if len == 0 {
            d.iter_mut().zip(g).for_each(|(d, g)| *d = -g);
            op.apply(d);
            return dot(g, d);
        }
        let s0 = &s[pair(newest(0))];
        let mut product = chunked(d, |at, d| {
            d.iter_mut().zip(&g[at..]).for_each(|(d, g)| *d = -g);
            dot4(&s0[at..at + d.len()], d)
        });
        for k in 0..len {
            let i = newest(k);
            let a = rho[i] * product;
            alpha[i] = a;
            let yi = &y[pair(i)];
            let then = (k + 1 < len).then(|| &s[pair(newest(k + 1))]);
            product = chunked(d, |at, d| {
                axpy_chunk(-a, &yi[at..at + d.len()], d);
                then.map_or(0.0, |t| dot4(&t[at..at + d.len()], d))
            });
        }
        op.apply(d);
        let product = dot(&y[pair(newest(len - 1))], d);
        self.second_loop(g, d, product)
    }
}

/// `d = d * gamma * h` (a diagonal initial inverse Hessian), or `d * gamma` without one.
fn scale(d: &mut [f64], h: Option<&[f64]>, gamma: f64) {
    match h {
        Some(h) => d.iter_mut().zip(h).for_each(|(d, h)| *d *= gamma * h),
        None => d.iter_mut().for_each(|d| *d *= gamma),
    }
}

fn axpy_chunk(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

/// Vectors are cut into chunks of this many entries for the dot products, whose sums add the
/// chunks' partial sums in chunk order: the same bits on one thread and on many, and for a
/// vector of one chunk the bits of a plain four-lane sum.
const CHUNK: usize = 1 << 15;

/// Below this length the vector operations stay on the calling thread.
const PARALLEL: usize = 4 * CHUNK;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    if a.len() < PARALLEL {
        return a
            .chunks(CHUNK)
            .zip(b.chunks(CHUNK))
            .map(|(a, b)| dot4(a, b))
            .fold(0.0, |s, p| s + p);
    }
    let parts: Vec<f64> = a
        .par_chunks(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .map(|(a, b)| dot4(a, b))
        .collect();
    parts.iter().fold(0.0, |s, p| s + p)
}

/// `sum_i a_i^2 h_i` over one chunk.
fn weighted(a: &[f64], h: &[f64]) -> f64 {
    a.iter().zip(h).map(|(a, h)| a * a * h).sum::<f64>()
}

/// Calls `f(at, chunk)` on the chunks of `d` (`at`: the chunk's first index), in parallel for
/// long vectors, and adds the results in chunk order: the same bits for any number of
/// threads, and those of `dot` when `f` returns a chunk's `dot4`.
fn chunked(d: &mut [f64], f: impl Fn(usize, &mut [f64]) -> f64 + Sync) -> f64 {
    if d.len() < PARALLEL {
        return d
            .chunks_mut(CHUNK)
            .enumerate()
            .map(|(k, d)| f(k * CHUNK, d))
            .fold(0.0, |s, p| s + p);
    }
    let parts: Vec<f64> = d
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(k, d)| f(k * CHUNK, d))
        .collect();
    parts.iter().fold(0.0, |s, p| s + p)
}

/// `f(at, x, s, y)` on the same chunk of three vectors, in parallel for long vectors; the
/// results in chunk order.
fn chunks3<R: Send>(
    x: &mut [f64],
    s: &mut [f64],
    y: &mut [f64],
    f: impl Fn(usize, &mut [f64], &mut [f64], &mut [f64]) -> R + Sync,
) -> Vec<R> {
    type Chunks<'a> = (usize, ((&'a mut [f64], &'a mut [f64]), &'a mut [f64]));
    let part = |(k, ((x, s), y)): Chunks| f(k * CHUNK, x, s, y);
    if x.len() < PARALLEL {
        return x
            .chunks_mut(CHUNK)
            .zip(s.chunks_mut(CHUNK))
            .zip(y.chunks_mut(CHUNK))
            .enumerate()
            .map(part)
            .collect();
    }
    x.par_chunks_mut(CHUNK)
        .zip(s.par_chunks_mut(CHUNK))
        .zip(y.par_chunks_mut(CHUNK))
        .enumerate()
        .map(part)
        .collect()
}

/// Four independent partial sums: one accumulator would force the additions into sequence and
/// keep the loop from vectorising, since float addition is not reassociated by the compiler.
pub(crate) fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a4.zip(b4) {
        for ((acc, x), y) in acc.iter_mut().zip(x).zip(y) {
            *acc += x * y;
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests;
