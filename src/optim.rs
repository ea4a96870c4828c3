//! Unconstrained minimisation by L-BFGS, for the featurised (logistic) families' M-step and for
//! direct optimisation of the marginal likelihood (Berg-Kirkpatrick et al. 2010, Algorithms 1
//! and 2).
//!
//! The directions come from the two-loop recursion (Nocedal & Wright, Alg. 7.4) over at most
//! `memory` curvature pairs; the steps from a strong-Wolfe line search that brackets and then
//! zooms by safeguarded cubic or quadratic interpolation (Alg. 3.5 and 3.6). Every buffer is
//! allocated once, before the first iteration: `2 * memory + 5` vectors of the length of `x`.
//!
//! Hand-written rather than argmin's `LBFGS` (0.11, Moré-Thuente line search): on a 45-class
//! softmax regression with 45,000 parameters both needed the same evaluations (43 and 42 to
//! reach the optimum to 1e-9), but argmin spent about three times as long outside the objective
//! (0.19 s against 0.05 s over some 50 iterations; 0.54 s against 0.37 s in all), allocating new
//! vectors in every vector operation, and with tolerances below rounding error its line search
//! ran on for thousands of evaluations where this one stops.

/// Sufficient-decrease constant of the Wolfe conditions.
const C1: f64 = 1e-4;
/// Curvature constant of the strong Wolfe conditions; 0.9 keeps the line search cheap, since the
/// quasi-Newton step is usually acceptable as it is.
const C2: f64 = 0.9;
/// Trial points one line search may evaluate before it gives up.
const MAX_SEARCH_EVALUATIONS: usize = 30;

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
    mut f: F,
    x: &mut [f64],
    options: &Options,
) -> Report {
    let n = x.len();
    let max_evaluations = options.max_evaluations.max(1);
    let mut g = vec![0.0; n];
    let mut value = f(x, &mut g);
    let mut search = Search {
        f,
        evaluations: 1,
        x_trial: vec![0.0; n],
        g_trial: vec![0.0; n],
        g_lo: vec![0.0; n],
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
    if gradient_converged(&g, value, options) {
        return report(value, 0, 1, Stop::Gradient);
    }
    let mut history = History::new(options.memory.max(1), n);
    let mut d = vec![0.0; n];
    loop {
        if iterations >= options.max_iterations {
            return report(value, iterations, search.evaluations, Stop::MaxIterations);
        }
        if search.evaluations >= max_evaluations {
            return report(value, iterations, search.evaluations, Stop::MaxEvaluations);
        }
        history.direction(&g, &mut d);
        let slope = dot(&g, &d);
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
        // so the first step moves x by a unit distance.
        let first_step = if history.is_empty() {
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
        let (s, y) = history.slot();
        // `s` is the step actually taken after rounding, so that it matches `y`.
        for (x, (s, d)) in x.iter_mut().zip(s.iter_mut().zip(&d)) {
            let moved = *x + step.alpha * d;
            *s = moved - *x;
            *x = moved;
        }
        y.iter_mut()
            .zip(search.g_trial.iter().zip(&g))
            .for_each(|(y, (new, old))| *y = new - old);
        history.commit();
        std::mem::swap(&mut g, &mut search.g_trial);
        let previous = value;
        value = step.value;
        iterations += 1;
        if gradient_converged(&g, value, options) {
            return report(value, iterations, search.evaluations, Stop::Gradient);
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

fn gradient_converged(g: &[f64], value: f64, options: &Options) -> bool {
    let largest = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    largest <= options.gradient_tolerance * value.abs().max(1.0)
}

/// The curvature pairs `s = x_{k+1} - x_k`, `y = g_{k+1} - g_k` in a ring, newest at `next - 1`.
struct History {
    n: usize,
    memory: usize,
    s: Vec<f64>,
    y: Vec<f64>,
    rho: Vec<f64>,
    alpha: Vec<f64>,
    len: usize,
    next: usize,
    /// Initial inverse Hessian `s'y / y'y` of the newest pair: the inverse of the curvature
    /// along the last step, which makes the unit step the natural first trial.
    gamma: f64,
}

impl History {
    fn new(memory: usize, n: usize) -> History {
        History {
            n,
            memory,
            s: vec![0.0; memory * n],
            y: vec![0.0; memory * n],
            rho: vec![0.0; memory],
            alpha: vec![0.0; memory],
            len: 0,
            next: 0,
            gamma: 1.0,
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.len = 0;
        self.gamma = 1.0;
    }

    /// The slot the next pair is written into; `commit` decides whether it is kept.
    fn slot(&mut self) -> (&mut [f64], &mut [f64]) {
        let range = self.next * self.n..(self.next + 1) * self.n;
        (&mut self.s[range.clone()], &mut self.y[range])
    }

    /// Keeps the pair just written unless `s'y <= eps * ||s|| ||y||`: without positive
    /// curvature the update would make the inverse Hessian indefinite. The test is on the
    /// cosine so that it does not depend on the scale of `f` or of `x`.
    fn commit(&mut self) {
        let range = self.next * self.n..(self.next + 1) * self.n;
        let (s, y) = (&self.s[range.clone()], &self.y[range]);
        let sy = dot(s, y);
        let yy = dot(y, y);
        if sy > f64::EPSILON * (dot(s, s) * yy).sqrt() {
            self.rho[self.next] = 1.0 / sy;
            self.gamma = sy / yy;
            self.next = (self.next + 1) % self.memory;
            self.len = (self.len + 1).min(self.memory);
        }
    }

    /// Writes `-H g` into `d` by the two-loop recursion.
    fn direction(&mut self, g: &[f64], d: &mut [f64]) {
        let n = self.n;
        d.iter_mut().zip(g).for_each(|(d, g)| *d = -g);
        for k in 0..self.len {
            let i = (self.next + self.memory - 1 - k) % self.memory;
            let a = self.rho[i] * dot(&self.s[i * n..(i + 1) * n], d);
            self.alpha[i] = a;
            axpy(-a, &self.y[i * n..(i + 1) * n], d);
        }
        d.iter_mut().for_each(|d| *d *= self.gamma);
        for k in (0..self.len).rev() {
            let i = (self.next + self.memory - 1 - k) % self.memory;
            let b = self.rho[i] * dot(&self.y[i * n..(i + 1) * n], d);
            axpy(self.alpha[i] - b, &self.s[i * n..(i + 1) * n], d);
        }
    }
}

/// The line `x + alpha * d` with the value and directional derivative at `alpha = 0`.
struct Ray<'a> {
    x: &'a [f64],
    d: &'a [f64],
    value: f64,
    slope: f64,
}

/// A trial point on the ray. A non-finite value or slope is stored as `value = +inf`, which
/// fails the sufficient-decrease test and so marks the point as too far.
#[derive(Clone, Copy)]
struct Point {
    alpha: f64,
    value: f64,
    slope: f64,
}

/// Where a line search ended: `alpha == 0` when it found no decrease.
struct Step {
    alpha: f64,
    value: f64,
    /// The evaluation budget ran out during the search.
    exhausted: bool,
}

/// The objective with the line search's buffers. After `run` accepts a point, its gradient is
/// in `g_trial`.
struct Search<F> {
    f: F,
    evaluations: usize,
    x_trial: Vec<f64>,
    g_trial: Vec<f64>,
    /// Gradient at the best point so far that satisfies sufficient decrease, kept so that a
    /// search that cannot meet the curvature condition can still return that point.
    g_lo: Vec<f64>,
}

impl<F: FnMut(&[f64], &mut [f64]) -> f64> Search<F> {
    fn probe(&mut self, ray: &Ray, alpha: f64) -> Point {
        self.x_trial
            .iter_mut()
            .zip(ray.x.iter().zip(ray.d))
            .for_each(|(t, (x, d))| *t = x + alpha * d);
        let value = (self.f)(&self.x_trial, &mut self.g_trial);
        self.evaluations += 1;
        // A NaN or infinite gradient entry makes the slope non-finite (0 * inf is NaN too), so
        // this one test guards the gradient as well.
        let slope = dot(&self.g_trial, ray.d);
        if value.is_finite() && slope.is_finite() {
            Point {
                alpha,
                value,
                slope,
            }
        } else {
            Point {
                alpha,
                value: f64::INFINITY,
                slope: f64::NAN,
            }
        }
    }

    /// Strong-Wolfe line search (Nocedal & Wright, Alg. 3.5), at most `budget` evaluations.
    fn run(&mut self, ray: &Ray, first: f64, budget: usize) -> Step {
        let start = self.evaluations;
        let mut prev = Point {
            alpha: 0.0,
            value: ray.value,
            slope: ray.slope,
        };
        let mut alpha = first;
        loop {
            let used = self.evaluations - start;
            if used >= budget || used >= MAX_SEARCH_EVALUATIONS {
                return self.fall_back(prev, used >= budget);
            }
            let cur = self.probe(ray, alpha);
            // `>=` rather than `>` also for the first trial: a step that leaves the value
            // unchanged by rounding is no progress.
            if !sufficient_decrease(ray, &cur) || cur.value >= prev.value {
                return self.zoom(ray, prev, cur, start, budget);
            }
            if cur.slope.abs() <= -C2 * ray.slope {
                return accepted(&cur);
            }
            std::mem::swap(&mut self.g_trial, &mut self.g_lo);
            if cur.slope >= 0.0 {
                return self.zoom(ray, cur, prev, start, budget);
            }
            alpha = extrapolate(&prev, &cur);
            prev = cur;
        }
    }

    /// Narrows `[lo, hi]` (either order) until a point meets the strong Wolfe conditions
    /// (Alg. 3.6). `lo` is the best point so far with sufficient decrease (or the start), and
    /// the slope at `lo` points towards `hi`, so the interval holds such a point.
    fn zoom(
        &mut self,
        ray: &Ray,
        mut lo: Point,
        mut hi: Point,
        start: usize,
        budget: usize,
    ) -> Step {
        loop {
            let used = self.evaluations - start;
            let width = (hi.alpha - lo.alpha).abs();
            let narrow = width <= f64::EPSILON * lo.alpha.max(hi.alpha);
            // Near the optimum the value changes less across the interval than its rounding
            // error, and the comparisons that steer the zoom become noise.
            let unmeasurable = width * -ray.slope <= f64::EPSILON * ray.value.abs();
            if used >= budget || used >= MAX_SEARCH_EVALUATIONS || narrow || unmeasurable {
                return self.fall_back(lo, used >= budget);
            }
            let cur = self.probe(ray, interpolate(&lo, &hi));
            if !sufficient_decrease(ray, &cur) || cur.value >= lo.value {
                hi = cur;
                continue;
            }
            if cur.slope.abs() <= -C2 * ray.slope {
                return accepted(&cur);
            }
            if cur.slope * (hi.alpha - lo.alpha) >= 0.0 {
                hi = lo;
            }
            lo = cur;
            std::mem::swap(&mut self.g_trial, &mut self.g_lo);
        }
    }

    /// Returns `best` (whose gradient is in `g_lo` unless it is the start) when the search
    /// stops without meeting the curvature condition: a decrease is still progress.
    fn fall_back(&mut self, best: Point, exhausted: bool) -> Step {
        if best.alpha > 0.0 {
            std::mem::swap(&mut self.g_trial, &mut self.g_lo);
        }
        Step {
            alpha: best.alpha,
            value: best.value,
            exhausted,
        }
    }
}

fn accepted(p: &Point) -> Step {
    Step {
        alpha: p.alpha,
        value: p.value,
        exhausted: false,
    }
}

fn sufficient_decrease(ray: &Ray, p: &Point) -> bool {
    p.value <= ray.value + C1 * p.alpha * ray.slope
}

/// The next trial while the value still falls at `cur`: at least twice as far from `prev` as
/// `cur` is, so bracketing takes few steps, and at most ten times `cur`, so one optimistic
/// cubic cannot throw the search far past the region where the model holds.
fn extrapolate(prev: &Point, cur: &Point) -> f64 {
    let lower = cur.alpha + (cur.alpha - prev.alpha);
    let upper = 10.0 * cur.alpha;
    cubic_minimiser(prev, cur).map_or(upper, |t| t.clamp(lower, upper))
}

/// The next trial inside `[lo, hi]`: the cubic through both ends' values and slopes, else the
/// quadratic through `lo`'s value and slope and `hi`'s value, else the midpoint (always when
/// `hi` was not finite). Kept a tenth of the interval away from either end so that the
/// interval shrinks by at least that much whenever the trial replaces an end.
fn interpolate(lo: &Point, hi: &Point) -> f64 {
    let guess = if hi.value.is_finite() {
        cubic_minimiser(lo, hi).or_else(|| quadratic_minimiser(lo, hi))
    } else {
        None
    };
    let (a, b) = (lo.alpha.min(hi.alpha), lo.alpha.max(hi.alpha));
    let margin = 0.1 * (b - a);
    guess.unwrap_or(0.5 * (a + b)).clamp(a + margin, b - margin)
}

/// Minimiser of the cubic matching the values and slopes at `a` and `b` (Nocedal & Wright,
/// eq. 3.59), if it has one.
fn cubic_minimiser(a: &Point, b: &Point) -> Option<f64> {
    let d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.alpha - b.alpha);
    let discriminant = d1 * d1 - a.slope * b.slope;
    if discriminant.is_nan() || discriminant < 0.0 {
        return None;
    }
    let d2 = (b.alpha - a.alpha).signum() * discriminant.sqrt();
    let t = b.alpha - (b.alpha - a.alpha) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
    t.is_finite().then_some(t)
}

/// Minimiser of the quadratic matching the value and slope at `a` and the value at `b`, if it
/// is convex.
fn quadratic_minimiser(a: &Point, b: &Point) -> Option<f64> {
    let h = b.alpha - a.alpha;
    let curvature = (b.value - a.value - a.slope * h) / (h * h);
    let t = a.alpha - a.slope / (2.0 * curvature);
    (curvature > 0.0 && t.is_finite()).then_some(t)
}

/// Four independent partial sums: one accumulator would force the additions into sequence and
/// keep the loop from vectorising, since float addition is not reassociated by the compiler.
fn dot(a: &[f64], b: &[f64]) -> f64 {
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

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Runs `minimize` and checks what every run must satisfy: the evaluation count is right and
    /// within budget, the reported value is the objective at the returned point, and it is finite
    /// and no worse than the start.
    fn run<F: FnMut(&[f64], &mut [f64]) -> f64>(
        mut f: F,
        x: &mut [f64],
        options: &Options,
    ) -> Report {
        let mut g = vec![0.0; x.len()];
        let start = f(x, &mut g);
        let mut calls = 0;
        let report = minimize(
            |x, g| {
                calls += 1;
                f(x, g)
            },
            x,
            options,
        );
        assert_eq!(report.evaluations, calls);
        assert!(calls <= options.max_evaluations.max(1));
        assert!(x.iter().all(|v| v.is_finite()), "{x:?}");
        assert!(report.value.is_finite());
        assert!(report.value <= start, "{} > {start}", report.value);
        assert_eq!(f(x, &mut g), report.value);
        report
    }

    fn tight() -> Options {
        Options {
            max_iterations: 2000,
            max_evaluations: 4000,
            gradient_tolerance: 1e-12,
            relative_tolerance: 0.0,
            ..Options::default()
        }
    }

    /// `f = (x - c)' A (x - c) / 2` with `A = H diag(lambda) H`, `H` a Householder reflection,
    /// so that the eigenvectors are not the coordinate axes.
    struct Quadratic {
        lambda: Vec<f64>,
        v: Vec<f64>,
        c: Vec<f64>,
    }

    impl Quadratic {
        fn new(n: usize, condition: f64) -> Quadratic {
            let v: Vec<f64> = (0..n).map(|i| (i as f64 + 1.0).sin()).collect();
            let norm = dot(&v, &v).sqrt();
            Quadratic {
                lambda: (0..n)
                    .map(|i| condition.powf(i as f64 / (n - 1) as f64))
                    .collect(),
                v: v.iter().map(|v| v / norm).collect(),
                c: (0..n).map(|i| (0.37 * i as f64).cos()).collect(),
            }
        }

        fn reflect(&self, r: &mut [f64]) {
            let p = dot(&self.v, r);
            axpy(-2.0 * p, &self.v, r);
        }

        fn eval(&self, x: &[f64], g: &mut [f64]) -> f64 {
            g.iter_mut()
                .zip(x.iter().zip(&self.c))
                .for_each(|(g, (x, c))| *g = x - c);
            self.reflect(g);
            let mut value = 0.0;
            for (g, l) in g.iter_mut().zip(&self.lambda) {
                value += 0.5 * l * *g * *g;
                *g *= l;
            }
            self.reflect(g);
            value
        }
    }

    /// The chained Rosenbrock function, minimum 0 at all ones.
    fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
        g.iter_mut().for_each(|g| *g = 0.0);
        let mut value = 0.0;
        for i in 0..x.len() - 1 {
            let (a, b) = (x[i], x[i + 1]);
            let t = b - a * a;
            value += 100.0 * t * t + (1.0 - a) * (1.0 - a);
            g[i] += -400.0 * t * a - 2.0 * (1.0 - a);
            g[i + 1] += 200.0 * t;
        }
        value
    }

    /// Multinomial logistic regression with an L2 penalty `kappa / 2 ||W||^2`; `W` is
    /// classes x features, row-major.
    struct Softmax {
        classes: usize,
        features: usize,
        inputs: Vec<f64>,
        labels: Vec<usize>,
        kappa: f64,
    }

    impl Softmax {
        fn random(classes: usize, features: usize, samples: usize, seed: u64) -> Softmax {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            Softmax {
                classes,
                features,
                inputs: (0..samples * features)
                    .map(|_| rng.gen_range(-1.0..1.0))
                    .collect(),
                labels: (0..samples).map(|_| rng.gen_range(0..classes)).collect(),
                kappa: 1.0,
            }
        }

        fn eval(&self, w: &[f64], g: &mut [f64]) -> f64 {
            let mut value = 0.5 * self.kappa * dot(w, w);
            g.iter_mut().zip(w).for_each(|(g, w)| *g = self.kappa * w);
            let mut scores = vec![0.0; self.classes];
            for (input, &label) in self.inputs.chunks(self.features).zip(&self.labels) {
                for (s, row) in scores.iter_mut().zip(w.chunks(self.features)) {
                    *s = dot(row, input);
                }
                let top = scores.iter().fold(f64::NEG_INFINITY, |m, &s| m.max(s));
                let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
                value += top + total.ln() - scores[label];
                for (k, row) in g.chunks_mut(self.features).enumerate() {
                    let p = (scores[k] - top).exp() / total - f64::from(k == label);
                    axpy(p, input, row);
                }
            }
            value
        }
    }

    #[test]
    fn ill_conditioned_quadratic_reaches_its_minimiser() {
        let q = Quadratic::new(50, 1e4);
        let mut x = vec![0.0; 50];
        let report = run(|x, g| q.eval(x, g), &mut x, &tight());
        let error = x
            .iter()
            .zip(&q.c)
            .fold(0.0f64, |m, (x, c)| m.max((x - c).abs()));
        assert!(error < 1e-8, "{error:e} {report:?}");
    }

    #[test]
    fn rosenbrock_2d_from_the_standard_start() {
        let mut x = vec![-1.2, 1.0];
        let report = run(rosenbrock, &mut x, &tight());
        assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-6), "{x:?} {report:?}");
    }

    #[test]
    fn rosenbrock_10d_from_the_standard_start() {
        let mut x: Vec<f64> = (0..10)
            .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .collect();
        let report = run(rosenbrock, &mut x, &tight());
        assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-6), "{x:?} {report:?}");
    }

    #[test]
    fn softmax_regression_reaches_a_zero_gradient() {
        let problem = Softmax::random(5, 20, 300, 7);
        let mut w = vec![0.0; 5 * 20];
        let report = run(|w, g| problem.eval(w, g), &mut w, &tight());
        let mut g = vec![0.0; w.len()];
        problem.eval(&w, &mut g);
        let norm = dot(&g, &g).sqrt();
        assert!(norm < 1e-6, "{norm:e} {report:?}");
    }

    #[test]
    fn default_options_stop_on_the_tolerances() {
        let problem = Softmax::random(5, 20, 300, 11);
        let mut w = vec![0.0; 5 * 20];
        let report = run(|w, g| problem.eval(w, g), &mut w, &Options::default());
        assert!(
            matches!(report.stop, Stop::Gradient | Stop::RelativeDecrease),
            "{report:?}"
        );
    }

    /// `sum a_i x_i - ln x_i`: NaN for a negative coordinate, +inf at zero. The first step of
    /// length 1 from x = 1 crosses zero.
    #[test]
    fn nan_outside_the_domain_shrinks_the_step() {
        let a = [1.5, 3.0, 10.0, 40.0];
        let f = |x: &[f64], g: &mut [f64]| {
            let mut value = 0.0;
            for ((x, g), a) in x.iter().zip(g.iter_mut()).zip(&a) {
                value += a * x - x.ln();
                *g = a - 1.0 / x;
            }
            value
        };
        let mut x = vec![1.0; 4];
        let report = run(f, &mut x, &tight());
        for (x, a) in x.iter().zip(&a) {
            assert!((x - 1.0 / a).abs() < 1e-8, "{x} {a} {report:?}");
        }
    }

    #[test]
    fn infinity_outside_the_domain_shrinks_the_step() {
        // The ball of radius 1 around the origin; the unconstrained minimum of the quadratic
        // term lies outside it, so the optimum is pressed against the barrier.
        let f = |x: &[f64], g: &mut [f64]| {
            let r2 = dot(x, x);
            if r2 >= 1.0 {
                g.iter_mut().for_each(|g| *g = f64::NAN);
                return f64::INFINITY;
            }
            let mut value = -(1.0 - r2).ln();
            for (i, (x, g)) in x.iter().zip(g.iter_mut()).enumerate() {
                let target = 5.0 * (i as f64 + 1.0);
                value += 0.5 * (x - target) * (x - target);
                *g = 2.0 * x / (1.0 - r2) + (x - target);
            }
            value
        };
        let mut x = vec![0.0; 3];
        let report = run(f, &mut x, &tight());
        let mut g = vec![0.0; 3];
        f(&x, &mut g);
        assert!(dot(&x, &x) < 1.0);
        assert!(dot(&g, &g).sqrt() < 1e-6, "{g:?} {report:?}");
    }

    #[test]
    fn a_start_surrounded_by_non_finite_values_is_returned_unchanged() {
        let f = |x: &[f64], g: &mut [f64]| {
            g.copy_from_slice(&[1.0, -2.0]);
            if x == [0.5, 0.5] {
                1.0
            } else {
                f64::NAN
            }
        };
        let mut x = vec![0.5, 0.5];
        let report = run(f, &mut x, &Options::default());
        assert_eq!(x, [0.5, 0.5]);
        assert_eq!(report.stop, Stop::LineSearchFailed);
        assert_eq!(report.iterations, 0);
    }

    #[test]
    fn a_non_finite_start_is_returned_unchanged() {
        let mut x = vec![2.0];
        let report = minimize(
            |_, g| {
                g[0] = 1.0;
                f64::INFINITY
            },
            &mut x,
            &Options::default(),
        );
        assert_eq!(x, [2.0]);
        assert_eq!(
            (report.evaluations, report.stop),
            (1, Stop::LineSearchFailed)
        );
    }

    #[test]
    fn a_non_smooth_objective_never_ends_above_its_start() {
        // A weighted L1 distance: the curvature pairs and line searches are meaningless at the
        // kinks, so this exercises the failure and reset paths.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let c: Vec<f64> = (0..30).map(|_| rng.gen_range(-2.0..2.0)).collect();
        let w: Vec<f64> = (0..30).map(|_| rng.gen_range(0.1..10.0)).collect();
        let f = |x: &[f64], g: &mut [f64]| {
            let mut value = 0.0;
            for (((x, g), c), w) in x.iter().zip(g.iter_mut()).zip(&c).zip(&w) {
                value += w * (x - c).abs();
                *g = w * (x - c).signum();
            }
            value
        };
        let mut x = vec![0.0; 30];
        run(f, &mut x, &tight());
    }

    #[test]
    fn evaluations_never_exceed_the_budget() {
        for budget in 0..60 {
            let options = Options {
                max_evaluations: budget,
                ..tight()
            };
            let mut x: Vec<f64> = (0..10)
                .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
                .collect();
            let report = run(rosenbrock, &mut x, &options);
            assert_eq!(report.stop, Stop::MaxEvaluations);
            assert_eq!(report.evaluations, budget.max(1));
        }
    }

    #[test]
    fn iterations_never_exceed_the_limit() {
        let options = Options {
            max_iterations: 5,
            ..tight()
        };
        let mut x = vec![-1.2, 1.0];
        let report = run(rosenbrock, &mut x, &options);
        assert_eq!((report.iterations, report.stop), (5, Stop::MaxIterations));
    }

    #[test]
    fn a_stationary_start_stops_at_once() {
        let mut x = vec![1.0; 4];
        let report = run(rosenbrock, &mut x, &Options::default());
        assert_eq!((report.iterations, report.evaluations), (0, 1));
        assert_eq!(report.stop, Stop::Gradient);
    }

    #[test]
    fn interpolation_is_exact_on_a_quadratic() {
        // phi(t) = (t - 1.3)^2
        let point = |t: f64| Point {
            alpha: t,
            value: (t - 1.3) * (t - 1.3),
            slope: 2.0 * (t - 1.3),
        };
        let (a, b) = (point(0.0), point(3.0));
        assert!((cubic_minimiser(&a, &b).unwrap() - 1.3).abs() < 1e-12);
        assert!((quadratic_minimiser(&a, &b).unwrap() - 1.3).abs() < 1e-12);
        assert!((interpolate(&a, &b) - 1.3).abs() < 1e-12);
    }
}
