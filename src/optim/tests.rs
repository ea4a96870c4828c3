use super::line_search::{cubic_minimiser, interpolate, quadratic_minimiser, Point};
use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Runs `minimize` and checks what every run must satisfy: the evaluation count is right and
/// within budget, the reported value is the objective at the returned point, and it is finite
/// and no worse than the start.
fn run<F: FnMut(&[f64], &mut [f64]) -> f64>(mut f: F, x: &mut [f64], options: &Options) -> Report {
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
        axpy_chunk(-2.0 * p, &self.v, r);
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
                axpy_chunk(p, input, row);
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

/// `sum_i a_i (x_i - c_i)^2 / 2 + eps (sum_i x_i)^2 / 2` with curvatures `a_i` over four orders
/// of magnitude (as a frequent and a rare word's weights), and its diagonal.
fn badly_scaled(n: usize) -> (impl Fn(&[f64], &mut [f64]) -> f64, Vec<f64>) {
    let a: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(4.0 * i as f64 / n as f64))
        .collect();
    let c: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
    let eps = 0.5;
    let diagonal = a.iter().map(|a| 1.0 / (a + eps)).collect();
    let f = move |x: &[f64], g: &mut [f64]| {
        let sum: f64 = x.iter().sum();
        let mut value = eps * sum * sum / 2.0;
        for i in 0..x.len() {
            value += a[i] * (x[i] - c[i]).powi(2) / 2.0;
            g[i] = a[i] * (x[i] - c[i]) + eps * sum;
        }
        value
    };
    (f, diagonal)
}

#[test]
fn a_diagonal_near_the_hessians_saves_most_iterations_and_finds_the_same_minimiser() {
    let (f, diagonal) = badly_scaled(200);
    let options = Options {
        gradient_tolerance: 1e-8,
        relative_tolerance: 0.0,
        max_iterations: 5000,
        max_evaluations: 10000,
        ..Options::default()
    };
    let mut plain = vec![0.0; 200];
    let p = run(&f, &mut plain, &options);
    let mut scaled = vec![0.0; 200];
    let mut refreshes = 0;
    let s = minimize_preconditioned(&f, &mut scaled, &options, 7, |_, d| {
        refreshes += 1;
        d.copy_from_slice(&diagonal);
    });
    // Plain L-BFGS ends on rounding error here before the gradient test holds.
    assert!(
        matches!(p.stop, Stop::Gradient | Stop::LineSearchFailed),
        "{p:?}"
    );
    assert_eq!(s.stop, Stop::Gradient);
    assert!(
        s.iterations * 5 < p.iterations,
        "{} iterations preconditioned, {} plain",
        s.iterations,
        p.iterations
    );
    // Refreshed at the start and every 7 iterations after.
    assert_eq!(refreshes, s.iterations.div_ceil(7).max(1));
    for (a, b) in plain.iter().zip(&scaled) {
        assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "{a} against {b}");
    }
}

#[test]
fn gradient_reduction_stops_at_that_fraction_of_the_starting_gradient() {
    let (f, diagonal) = badly_scaled(50);
    let mut g = vec![0.0; 50];
    f(&[0.0; 50], &mut g);
    let start = largest(&g);
    let options = Options {
        gradient_reduction: 1e-2,
        gradient_tolerance: 1e-8,
        relative_tolerance: 0.0,
        ..Options::default()
    };
    let mut x = vec![0.0; 50];
    let r = minimize_preconditioned(&f, &mut x, &options, 10, |_, d| {
        d.copy_from_slice(&diagonal)
    });
    assert_eq!(r.stop, Stop::GradientReduced);
    f(&x, &mut g);
    assert!(largest(&g) <= 1e-2 * start);
    // Without it the same run goes on to the absolute test.
    let mut y = vec![0.0; 50];
    let full = Options {
        gradient_reduction: 0.0,
        ..options
    };
    let r2 = minimize_preconditioned(&f, &mut y, &full, 10, |_, d| d.copy_from_slice(&diagonal));
    assert_eq!(r2.stop, Stop::Gradient);
    assert!(r2.iterations > r.iterations);
}

/// A start evaluated by the caller is the run's first evaluation: the same steps, the same
/// bits, one call fewer. A gradient target is the reduction test with the start's size given.
#[test]
fn a_given_start_and_a_gradient_target_act_as_their_evaluated_forms() {
    let (f, diagonal) = badly_scaled(50);
    let x0: Vec<f64> = (0..50).map(|i| (i as f64 * 0.37).sin()).collect();
    let mut g = vec![0.0; 50];
    let value = f(&x0, &mut g);
    let options = Options {
        gradient_reduction: 1e-2,
        relative_tolerance: 0.0,
        ..Options::default()
    };
    let mut x = x0.clone();
    let a = minimize_preconditioned(&f, &mut x, &options, 10, |_, d| {
        d.copy_from_slice(&diagonal)
    });
    let targeted = Options {
        gradient_reduction: 0.0,
        gradient_target: 1e-2 * largest(&g),
        ..options
    };
    let mut y = x0.clone();
    let mut calls = 0;
    let b = minimize_preconditioned_from(
        |x, g| {
            calls += 1;
            f(x, g)
        },
        &mut y,
        (value, g),
        &targeted,
        10,
        |_, d| d.copy_from_slice(&diagonal),
    );
    assert_eq!(a, b);
    assert_eq!(x, y);
    assert_eq!(calls + 1, b.evaluations);
    assert_eq!(b.stop, Stop::GradientReduced);
}

#[test]
fn long_vectors_give_the_same_bits_on_one_thread_and_on_two() {
    // Past `PARALLEL`, so the dot products and updates run chunked on the pool.
    let n = PARALLEL + 12_345;
    let (f, diagonal) = badly_scaled(n);
    let solve = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut x = vec![0.0; n];
            let options = Options {
                max_iterations: 30,
                ..Options::default()
            };
            minimize_preconditioned(&f, &mut x, &options, 5, |_, d| d.copy_from_slice(&diagonal));
            let mut y = vec![0.0; n];
            minimize(&f, &mut y, &options);
            (x, y)
        })
    };
    let (one, two) = (solve(1), solve(2));
    assert!(one
        .0
        .iter()
        .zip(&two.0)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(one
        .1
        .iter()
        .zip(&two.1)
        .all(|(a, b)| a.to_bits() == b.to_bits()));
}

/// The two-loop recursion as Nocedal & Wright write it, one vector operation at a time (each
/// dot product chunked as `dot`): what `History::direction` and `History::step` fuse.
#[allow(clippy::assign_op_pattern)] // written out as the fused passes write them
fn textbook_direction(h: &History, g: &[f64]) -> (Vec<f64>, f64) {
    let n = h.n;
    let pair = |v: &[f64], i: usize| v[i * n..(i + 1) * n].to_vec();
    let order: Vec<usize> = (0..h.len)
        .map(|k| (h.next + h.memory - 1 - k) % h.memory)
        .collect();
    let mut d: Vec<f64> = g.iter().map(|g| -g).collect();
    let mut alpha = vec![0.0; h.memory];
    for &i in &order {
        alpha[i] = h.rho[i] * dot(&pair(&h.s, i), &d);
        let a = -alpha[i];
        d.iter_mut()
            .zip(pair(&h.y, i))
            .for_each(|(d, y)| *d = *d + a * y);
    }
    match &h.diagonal {
        Some(diag) => d
            .iter_mut()
            .zip(diag)
            .for_each(|(d, w)| *d = *d * (h.gamma * w)),
        None => d.iter_mut().for_each(|d| *d = *d * h.gamma),
    }
    for &i in order.iter().rev() {
        let c = alpha[i] - h.rho[i] * dot(&pair(&h.y, i), &d);
        d.iter_mut()
            .zip(pair(&h.s, i))
            .for_each(|(d, s)| *d = *d + c * s);
    }
    let slope = dot(g, &d);
    (d, slope)
}

#[test]
fn the_fused_two_loop_recursion_gives_the_textbook_bits() {
    // Long enough for the parallel path, with a last chunk cut short; more steps than pairs
    // kept, so the ring wraps.
    let n = PARALLEL + CHUNK / 3 + 7;
    let wave = |k: usize, f: f64| -> Vec<f64> {
        (0..n)
            .map(|i| ((i * (k + 3)) as f64 * f).sin() + 0.1 * (k as f64 + 1.0))
            .collect()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for diagonal in [false, true] {
        let mut h = History::new(3, n, diagonal);
        if let Some(d) = &mut h.diagonal {
            *d = wave(9, 0.013).iter().map(|v| 1.5 + v.abs()).collect();
        }
        let mut x = wave(0, 0.001);
        let mut g = wave(1, 0.002);
        for k in 0..5 {
            let (d, slope) = textbook_direction(&h, &g);
            let mut fused = vec![f64::NAN; n];
            let fused_slope = pool.install(|| h.direction(&g, &mut fused, None));
            assert_eq!(slope.to_bits(), fused_slope.to_bits(), "step {k}");
            assert!(d
                .iter()
                .zip(&fused)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
            // A step whose gradient change has positive curvature along it.
            let g_new: Vec<f64> = g
                .iter()
                .zip(&d)
                .map(|(g, d)| g + 0.5 * d.abs().sqrt() * d.signum() * (k as f64 + 1.0))
                .collect();
            let before = x.clone();
            let largest = pool.install(|| h.step(&mut x, &d, 0.25, &g_new, &g));
            assert_eq!(largest, g_new.iter().fold(0.0f64, |m, v| m.max(v.abs())));
            assert!(x
                .iter()
                .zip(&before)
                .zip(&d)
                .all(|((x, b), d)| *x == *b + 0.25 * d));
            g = g_new;
        }
        assert_eq!(h.len, 3, "the pairs were kept");
    }
}

/// With the exact inverse Hessian of a quadratic as its operator, the first step (unit
/// length along `-H^-1 g`) lands on the minimum, which a diagonal cannot do when the
/// coordinates are coupled.
#[test]
fn an_exact_inverse_hessian_as_the_operator_takes_one_step() {
    // f(x) = x'Ax / 2 - b'x, A = [[4, 1], [1, 3]]: the minimum is A^-1 b = (1, 7) / 11.
    struct Inverse {
        refreshed: usize,
    }
    impl Operator for Inverse {
        fn refresh(&mut self, _: &[f64]) {
            self.refreshed += 1;
        }
        fn apply(&mut self, v: &mut [f64]) {
            let w = [(3.0 * v[0] - v[1]) / 11.0, (4.0 * v[1] - v[0]) / 11.0];
            v.copy_from_slice(&w);
        }
    }
    let f = |x: &[f64], g: &mut [f64]| {
        g[0] = 4.0 * x[0] + x[1] - 1.0;
        g[1] = x[0] + 3.0 * x[1] - 2.0;
        0.5 * (4.0 * x[0] * x[0] + 2.0 * x[0] * x[1] + 3.0 * x[1] * x[1]) - x[0] - 2.0 * x[1]
    };
    let mut x = vec![0.0, 0.0];
    let mut g = vec![0.0; 2];
    let value = f(&x, &mut g);
    let options = Options {
        gradient_tolerance: 1e-12,
        relative_tolerance: 0.0,
        ..Options::default()
    };
    let mut op = Inverse { refreshed: 0 };
    let r = minimize_with_operator_from(f, &mut x, (value, g), &options, 10, &mut op);
    assert_eq!((r.iterations, r.stop), (1, Stop::Gradient), "{r:?}");
    assert!(
        (x[0] - 1.0 / 11.0).abs() < 1e-15 && (x[1] - 7.0 / 11.0).abs() < 1e-15,
        "{x:?}"
    );
    assert_eq!(op.refreshed, 1);
}
