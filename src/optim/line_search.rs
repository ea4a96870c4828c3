//! The strong-Wolfe line search of `minimize`: brackets a step that decreases the objective
//! enough, then zooms in by safeguarded cubic or quadratic interpolation (Nocedal & Wright,
//! Alg. 3.5 and 3.6).

use super::{chunked, dot, Spare};

/// Sufficient-decrease constant of the Wolfe conditions.
const C1: f64 = 1e-4;
/// Curvature constant of the strong Wolfe conditions; 0.9 keeps the line search cheap, since the
/// quasi-Newton step is usually acceptable as it is.
const C2: f64 = 0.9;
/// Trial points one line search may evaluate before it gives up.
const MAX_SEARCH_EVALUATIONS: usize = 30;

/// The line `x + alpha * d` with the value and directional derivative at `alpha = 0`.
pub(super) struct Ray<'a> {
    pub(super) x: &'a [f64],
    pub(super) d: &'a [f64],
    pub(super) value: f64,
    pub(super) slope: f64,
}

/// A trial point on the ray. A non-finite value or slope is stored as `value = +inf`, which
/// fails the sufficient-decrease test and so marks the point as too far.
#[derive(Clone, Copy)]
pub(super) struct Point {
    pub(super) alpha: f64,
    pub(super) value: f64,
    pub(super) slope: f64,
}

/// Where a line search ended: `alpha == 0` when it found no decrease.
pub(super) struct Step {
    pub(super) alpha: f64,
    pub(super) value: f64,
    /// The evaluation budget ran out during the search.
    pub(super) exhausted: bool,
}

/// The objective with the line search's buffers. After `run` accepts a point, its gradient is
/// in `g_trial`.
pub(super) struct Search<F> {
    pub(super) f: F,
    pub(super) evaluations: usize,
    pub(super) x_trial: Spare,
    pub(super) g_trial: Spare,
    /// Gradient at the best point so far that satisfies sufficient decrease, kept so that a
    /// search that cannot meet the curvature condition can still return that point.
    pub(super) g_lo: Spare,
}

impl<F: FnMut(&[f64], &mut [f64]) -> f64> Search<F> {
    fn probe(&mut self, ray: &Ray, alpha: f64) -> Point {
        let (x, d) = (ray.x, ray.d);
        chunked(&mut self.x_trial, |at, t| {
            t.iter_mut()
                .zip(&x[at..])
                .zip(&d[at..])
                .for_each(|((t, x), d)| *t = x + alpha * d);
            0.0
        });
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
    pub(super) fn run(&mut self, ray: &Ray, first: f64, budget: usize) -> Step {
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
pub(super) fn interpolate(lo: &Point, hi: &Point) -> f64 {
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
pub(super) fn cubic_minimiser(a: &Point, b: &Point) -> Option<f64> {
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
pub(super) fn quadratic_minimiser(a: &Point, b: &Point) -> Option<f64> {
    let h = b.alpha - a.alpha;
    let curvature = (b.value - a.value - a.slope * h) / (h * h);
    let t = a.alpha - a.slope / (2.0 * curvature);
    (curvature > 0.0 && t.is_finite()).then_some(t)
}
