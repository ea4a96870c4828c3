//! Logistic (featurised) families, Berg-Kirkpatrick et al. (2010): each row is a softmax over
//! feature weights. The M-step (their Algorithm 1) maximises
//! `sum_{c,o} e[c,o] log theta_w[c,o] - kappa |w|^2` by L-BFGS, warm-started from the previous
//! weights; the same expression's gradient serves the direct optimisation (Algorithm 2), where
//! `e` are the expected counts at the current weights (Fisher's identity).
//!
//! The family's slice of the parameter vector is its probabilities (rows of `n_out`, what the
//! E-step reads) followed by its weights.

mod parts;
mod schur;

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use super::special::exp_nonpositive;
use super::{Allowed, Estimator};
use crate::features::{Block, FeatureIndex};
use crate::optim::{
    dot4, largest, minimize_preconditioned, minimize_preconditioned_from,
    minimize_with_operator_from, Options, Spare,
};
use parts::{Part, MIN_PARTS};
use rayon::prelude::*;

pub struct Logistic {
    pub n_cond: usize,
    pub features: Arc<FeatureIndex>,
    pub l2: f64,
    /// `Options::gradient_reduction` of the M-step (0: to convergence).
    pub m_step_tolerance: f64,
    /// The weights' blocks and parts, found at the first fit: they depend on the features
    /// alone.
    layout: OnceLock<Layout>,
}

/// How a family's weights split for its M-step.
struct Layout {
    blocks: Vec<Block>,
    parts: Vec<Part>,
    /// Per part, the structure of its block-elimination preconditioner, where it applies.
    shapes: Vec<Option<schur::Shape>>,
}

/// What an objective evaluation writes besides the gradient, taken once per M-step (or per
/// part) from the thread's spare vectors: the probabilities and the gradient's
/// per-(row, outcome) factors, each entry written before it is read.
struct Workspace {
    probs: Spare,
    residual: Spare,
}

impl Logistic {
    pub fn new(n_cond: usize, features: Arc<FeatureIndex>, l2: f64, m_step_tolerance: f64) -> Self {
        Logistic {
            n_cond,
            features,
            l2,
            m_step_tolerance,
            layout: OnceLock::new(),
        }
    }

    fn layout(&self) -> &Layout {
        self.layout.get_or_init(|| {
            let blocks = self.features.blocks();
            let parts = parts::parts(&self.features, &blocks, self.n_cond);
            let shapes = if parts.len() >= MIN_PARTS {
                parts
                    .iter()
                    .map(|p| schur::Shape::new(self, p, &blocks))
                    .collect()
            } else {
                Vec::new()
            };
            Layout {
                blocks,
                parts,
                shapes,
            }
        })
    }

    /// `layout` with the diagonal preconditioner for every part.
    #[cfg(test)]
    fn layout_with_diagonals(&self) -> Layout {
        let blocks = self.features.blocks();
        let parts = parts::parts(&self.features, &blocks, self.n_cond);
        let shapes = parts.iter().map(|_| None).collect();
        Layout {
            blocks,
            parts,
            shapes,
        }
    }

    fn n_probs(&self) -> usize {
        self.n_cond * self.features.n_out()
    }

    fn workspace(&self) -> Workspace {
        Workspace {
            probs: Spare::new(self.n_probs()),
            residual: Spare::new(self.n_probs()),
        }
    }

    /// `-(sum e log theta_w) + kappa |w|^2` and its gradient; `ws.probs` gets theta_w. Rows
    /// are scored in parallel and their values summed in row order; the gradient is filled
    /// block by block, each block summing its rows in order: the same bits for any number of
    /// threads.
    fn objective(
        &self,
        counts: &[f64],
        sets: &[RowSet],
        w: &[f64],
        grad: &mut [f64],
        blocks: &[Block],
        ws: &mut Workspace,
    ) -> f64 {
        let n_out = self.features.n_out().max(1);
        let rows: Vec<f64> = ws
            .probs
            .par_chunks_mut(n_out)
            .zip(ws.residual.par_chunks_mut(n_out))
            .zip(counts.par_chunks(n_out))
            .enumerate()
            .map(|(c, ((p, r), e))| {
                self.features.scores(w, c, p);
                self.row(c, e, sets, p, r)
            })
            .collect();
        let mut value = self.l2 * w.iter().map(|x| x * x).sum::<f64>();
        value += rows.iter().sum::<f64>();
        let residual = &ws.residual;
        for_blocks(blocks, grad, |block, g| {
            let from = &w[block.first..block.first + block.len];
            g.iter_mut()
                .zip(from)
                .for_each(|(g, x)| *g = 2.0 * self.l2 * x);
            for c in &block.rows {
                let c = *c as usize;
                let r = &residual[c * n_out..(c + 1) * n_out];
                self.features.add_to_block(block, c, r, g);
            }
        });
        value
    }

    /// Row `c`'s part of the value from its scores `p`; `p` gets its probabilities and
    /// `residual` the factor of each outcome's features in the gradient.
    fn row(
        &self,
        c: usize,
        e: &[f64],
        sets: &[RowSet],
        p: &mut [f64],
        residual: &mut [f64],
    ) -> f64 {
        // -(e . log theta) = total * lse - e . scores, so each outcome costs one exp. Both
        // sums in one pass, each in its own order: two chains of dependent additions side
        // by side take the time of one.
        let (mut total, mut observed) = (0.0, 0.0);
        for (x, s) in e.iter().zip(p.iter()) {
            total += x;
            if *x != 0.0 {
                observed += x * s;
            }
        }
        let lse = softmax(p);
        let mut value = if total != 0.0 {
            total * lse - observed
        } else {
            0.0
        };
        // d/dw of -(e . log theta) is -(e - total * theta) . g
        for ((r, t), x) in residual.iter_mut().zip(p.iter()).zip(e) {
            *r = total * t - x;
        }
        // A draw restricted to S scores `theta_o / Z_S`: it adds `n_S log Z_S` to the
        // value and moves its share of `total * theta` onto the softmax over S.
        let from = sets.partition_point(|(row, _, _)| *row < c);
        for (_, set, uses) in sets[from..].iter().take_while(|(row, _, _)| *row == c) {
            let z: f64 = set.iter().map(|o| p[*o as usize]).sum();
            if z > 0.0 {
                value += uses * z.ln();
                residual
                    .iter_mut()
                    .zip(p.iter())
                    .for_each(|(r, t)| *r -= uses * t);
                for o in *set {
                    residual[*o as usize] += uses * p[*o as usize] / z;
                }
            }
        }
        value
    }

    /// The inverse of the diagonal of the objective's Hessian at `w` (drawing restrictions
    /// left out) into `diagonal`: per
    /// row, `total * (P_k - P_k^2)` for the probability `P_k` of the outcomes a weight fires
    /// on, plus `2 kappa`. Its inverse preconditions the M-step's L-BFGS: the counts of a
    /// frequent word and of a word seen once differ by four orders, and so do the curvatures
    /// along their weights, which left the plain iteration needing 100-150 steps.
    fn curvature(
        &self,
        counts: &[f64],
        w: &[f64],
        blocks: &[Block],
        probs: &mut [f64],
        diagonal: &mut [f64],
    ) {
        let n_out = self.features.n_out().max(1);
        self.probabilities(w, probs);
        let probs = &*probs;
        for_blocks(blocks, diagonal, |block, d| {
            let rows = block.rows.iter().map(|c| *c as usize);
            let rows = rows.map(|c| {
                (
                    c,
                    &counts[c * n_out..][..n_out],
                    &probs[c * n_out..][..n_out],
                )
            });
            self.block_curvature(block, rows, d);
        });
        self.invert_curvature(diagonal);
    }

    /// The Hessian's diagonal over `block`'s weights into `d`, from its rows: (row, counts,
    /// probabilities).
    fn block_curvature<'a>(
        &self,
        block: &Block,
        rows: impl Iterator<Item = (usize, &'a [f64], &'a [f64])>,
        d: &mut [f64],
    ) {
        d.iter_mut().for_each(|d| *d = 0.0);
        let mut mass = vec![0.0; block.len];
        for (c, counts, p) in rows {
            let total: f64 = counts.iter().sum();
            mass.iter_mut().for_each(|m| *m = 0.0);
            self.features.add_to_block(block, c, p, &mut mass);
            for (d, m) in d.iter_mut().zip(&mass) {
                *d += total * (m - m * m).max(0.0);
            }
        }
    }

    /// The diagonal's entries (with the penalty's) inverted.
    fn invert_curvature(&self, diagonal: &mut [f64]) {
        // A weight no count reaches (and no penalty holds) is flat: any positive value keeps
        // the scaling finite, and its gradient is zero.
        let largest = diagonal.iter().fold(0.0f64, |m, d| m.max(*d));
        let floor = (1e-9 * largest).max(f64::MIN_POSITIVE);
        diagonal
            .iter_mut()
            .for_each(|d| *d = 1.0 / (*d + 2.0 * self.l2).max(floor));
    }

    /// Probabilities from the weights.
    fn probabilities(&self, w: &[f64], probs: &mut [f64]) {
        let n_out = self.features.n_out().max(1);
        probs.par_chunks_mut(n_out).enumerate().for_each(|(c, p)| {
            self.features.scores(w, c, p);
            softmax(p);
        });
    }
}

/// Scores to probabilities in place; returns their log-sum-exp. Compiled for the widest
/// instruction set the processor has, as the E-step's kernels are: the exponentials take
/// eight or four numbers a register instead of two. No build fuses a multiply and an add,
/// and the sum keeps its four lanes, so all give the same bits.
fn softmax(p: &mut [f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor has AVX-512, just checked.
            return unsafe { softmax_avx512(p) };
        }
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, just checked.
            return unsafe { softmax_avx2(p) };
        }
    }
    softmax_lanes(p)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn softmax_avx512(p: &mut [f64]) -> f64 {
    softmax_lanes(p)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn softmax_avx2(p: &mut [f64]) -> f64 {
    softmax_lanes(p)
}

#[inline(always)]
fn softmax_lanes(p: &mut [f64]) -> f64 {
    let m = p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    // The exponentials in one pass that vectorises, then their sum in four lanes: a single
    // running sum is a chain of dependent additions as long as the row.
    p.iter_mut().for_each(|x| *x = exp_nonpositive(*x - m));
    let mut lanes = [0.0; 4];
    let mut quads = p.chunks_exact(4);
    for q in &mut quads {
        lanes.iter_mut().zip(q).for_each(|(l, x)| *l += x);
    }
    let tail: f64 = quads.remainder().iter().sum();
    let sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail;
    let inv = 1.0 / sum;
    p.iter_mut().for_each(|x| *x *= inv);
    m + sum.ln()
}

/// Calls `f` on every block with its slice of `out` (the blocks partition it), in parallel.
fn for_blocks(blocks: &[Block], out: &mut [f64], f: impl Fn(&Block, &mut [f64]) + Sync) {
    let mut parts = Vec::with_capacity(blocks.len());
    let mut rest = out;
    for block in blocks {
        let (head, tail) = rest.split_at_mut(block.len);
        parts.push((block, head));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(block, out)| f(block, out));
}

/// L-BFGS settings for one M-step. Warm-started, so any number of iterations improves the
/// expected complete-data objective and EM stays monotone; the tolerance makes indicator
/// features reproduce categorical EM to 1e-6, and the cap bounds an M-step's cost while the
/// weights are still far from converged. A family's `m_step_tolerance` adds the stop
/// `||g|| <= m_step_tolerance * ||g_0||`.
const M_STEP: Options = Options {
    // Each pair is two vectors as long as the weights: few pairs keep the two-loop recursion
    // from dominating an M-step over hundreds of thousands of weights.
    memory: 5,
    max_iterations: 300,
    max_evaluations: 600,
    gradient_tolerance: 1e-8,
    gradient_reduction: 0.0,
    gradient_target: 0.0,
    relative_tolerance: 0.0,
};

/// Where the first fit of the weights (from zero) to the counts under random initial
/// probabilities stops: once its largest gradient is this fraction of its start's. It makes a
/// start in the family near those probabilities, not an estimate, and noise needs no more;
/// EM's M-steps take over from it. On EWT's featurised HMM it stops after 39 L-BFGS
/// iterations with the objective 3e-5 (relative) above its optimum, where converging took
/// 102. Counts under uniform or given probabilities (a designed start, such as the DMV's
/// harmonic one) are fitted to convergence.
const ROUGH: f64 = 0.01;

/// Iterations between refreshes of the preconditioner (`Logistic::curvature`): it costs
/// about one evaluation, and the curvature moves with the probabilities, far at a cold start.
const REFRESH: usize = 10;

/// A row's draws restricted to an allowed set: (row, outcomes in the row, uses).
type RowSet<'a> = (usize, &'a [u32], f64);

impl Logistic {
    /// The allowed sets by row, in row order (outcome indices within the row).
    fn row_sets(&self, allowed: &[Allowed]) -> (Vec<Vec<u32>>, Vec<(usize, f64)>) {
        let n_out = self.features.n_out() as u32;
        let mut v: Vec<(usize, Vec<u32>, f64)> = allowed
            .iter()
            .filter_map(|a| {
                let row = *a.set.first()? / n_out;
                let set = a.set.iter().map(|k| k - row * n_out).collect();
                Some((row as usize, set, a.uses))
            })
            .collect();
        v.sort_by_key(|(row, _, _)| *row);
        v.into_iter().map(|(r, s, u)| (s, (r, u))).unzip()
    }
}

fn row_set_refs<'a>(outcomes: &'a [Vec<u32>], rows: &[(usize, f64)]) -> Vec<RowSet<'a>> {
    outcomes
        .iter()
        .zip(rows)
        .map(|(s, (r, u))| (*r, s.as_slice(), *u))
        .collect()
}

impl Logistic {
    /// Fits the weights (warm-started from `theta`'s) to `counts`, then the probabilities to
    /// the weights; `reduction` is `Options::gradient_reduction`.
    fn fit(&self, counts: &[f64], allowed: &[Allowed], theta: &mut [f64], reduction: f64) {
        let (outcomes, rows) = self.row_sets(allowed);
        let sets = row_set_refs(&outcomes, &rows);
        let (probs, w) = theta.split_at_mut(self.n_probs());
        let counts = &counts[..self.n_probs()];
        let layout = self.layout();
        if layout.parts.len() >= MIN_PARTS {
            self.fit_parts(counts, &sets, layout, w, reduction);
        } else {
            self.fit_whole(counts, &sets, &layout.blocks, w, reduction);
        }
        self.probabilities(w, probs);
    }

    /// `fit`'s weights as one problem.
    fn fit_whole(
        &self,
        counts: &[f64],
        sets: &[RowSet],
        blocks: &[Block],
        w: &mut [f64],
        reduction: f64,
    ) {
        let mut ws = self.workspace();
        let mut scratch = vec![0.0; self.n_probs()];
        let options = Options {
            gradient_reduction: reduction,
            ..M_STEP
        };
        minimize_preconditioned(
            |x, g| self.objective(counts, sets, x, g, blocks, &mut ws),
            w,
            &options,
            REFRESH,
            |x, d| self.curvature(counts, x, blocks, &mut scratch, d),
        );
    }
}

/// The M-step by independent parts (see `parts`).
impl Logistic {
    /// `fit` part by part, the parts in parallel. The stopping rule is the whole problem's:
    /// its gradient's largest entry is the largest over the parts, so each part stops once
    /// its own is `reduction` times the whole start's, or `M_STEP`'s gradient test of the
    /// whole objective (taken at the start's value, which an M-step moves by far less than
    /// 1%). Testing each part against its own value instead asked 49 times more of EWT's.
    fn fit_parts(
        &self,
        counts: &[f64],
        sets: &[RowSet],
        layout: &Layout,
        w: &mut [f64],
        reduction: f64,
    ) {
        let (blocks, parts) = (&layout.blocks, &layout.parts);
        let mut xs: Vec<Vec<f64>> = parts.iter().map(|p| parts::gather(p, blocks, w)).collect();
        // Every part's start is evaluated first, for the whole gradient; L-BFGS then starts
        // from those evaluations, and the first preconditioner from their probabilities.
        let starts: Vec<_> = (parts.par_iter().zip(&xs))
            .map(|(part, x)| {
                let mut g = Spare::new(x.len());
                let mut ws = self.part_workspace(part);
                let value = self.part_objective(part, counts, sets, blocks, x, &mut g, &mut ws);
                (value, g.into_vec(), ws)
            })
            .collect();
        let start = starts.iter().fold(0.0f64, |m, (_, g, _)| m.max(largest(g)));
        let value: f64 = starts.iter().map(|(v, _, _)| v).sum();
        let options = Options {
            gradient_target: (reduction * start)
                .max(M_STEP.gradient_tolerance * value.abs().max(1.0)),
            gradient_tolerance: 0.0,
            ..M_STEP
        };
        let work = (parts.par_iter().zip(&layout.shapes))
            .zip(xs.par_iter_mut())
            .zip(starts);
        work.for_each(|(((part, shape), x), (value, g, ws))| {
            // The probabilities in `ws`, the evaluations since the start's, and the point of
            // the last one: the objective leaves the probabilities, and the preconditioner
            // reads them when it is refreshed there. It is refreshed at the start (no
            // evaluation yet, the probabilities the start's) and every `REFRESH` iterations,
            // each at least one evaluation, so the point is kept only from the `REFRESH`th
            // evaluation on: an M-step of a few iterations copies no vector per evaluation.
            let state = RefCell::new((ws, 0usize, Vec::new()));
            let objective = |x: &[f64], g: &mut [f64]| {
                let (ws, evaluations, at) = &mut *state.borrow_mut();
                *evaluations += 1;
                if *evaluations >= REFRESH {
                    at.clear();
                    at.extend_from_slice(x);
                }
                self.part_objective(part, counts, sets, blocks, x, g, ws)
            };
            let start = (value, g);
            if let Some(shape) = shape {
                let mut op = schur::Schur::new(shape, self, part, counts, blocks, &state);
                minimize_with_operator_from(objective, x, start, &options, REFRESH, &mut op);
            } else {
                let mut scratch = Spare::new(part.rows.len() * self.features.n_out());
                let refresh = |x: &[f64], d: &mut [f64]| {
                    let state = state.borrow();
                    let probs = self.part_probabilities_at(part, &state, x, &mut scratch);
                    self.part_curvature(part, counts, blocks, probs, d);
                };
                minimize_preconditioned_from(objective, x, start, &options, REFRESH, refresh);
            }
        });
        for (part, x) in parts.iter().zip(&xs) {
            parts::scatter(part, blocks, x, w);
        }
    }

    fn part_workspace(&self, part: &Part) -> Workspace {
        let n = part.rows.len() * self.features.n_out();
        Workspace {
            probs: Spare::new(n),
            residual: Spare::new(n),
        }
    }

    /// `objective` over one part's rows and weights `x` (laid out as `part` says), on the
    /// calling thread: the parts are what runs in parallel.
    #[allow(clippy::too_many_arguments)]
    fn part_objective(
        &self,
        part: &Part,
        counts: &[f64],
        sets: &[RowSet],
        blocks: &[Block],
        x: &[f64],
        grad: &mut [f64],
        ws: &mut Workspace,
    ) -> f64 {
        let n_out = self.features.n_out().max(1);
        let templates = self.features.templates();
        let mut rows = 0.0;
        for (i, c) in part.rows.iter().enumerate() {
            let c = *c as usize;
            let p = &mut ws.probs[i * n_out..][..n_out];
            let r = &mut ws.residual[i * n_out..][..n_out];
            self.features
                .scores_at(x, &part.bases[i * templates..][..templates], c, p);
            rows += self.row(c, &counts[c * n_out..][..n_out], sets, p, r);
        }
        // Four partial sums: one chain of dependent additions over a part's weights waits
        // on each addition in turn.
        let value = self.l2 * dot4(x, x) + rows;
        for pb in &part.blocks {
            let block = &blocks[pb.block];
            let g = &mut grad[pb.start..][..block.len];
            let from = &x[pb.start..][..block.len];
            g.iter_mut()
                .zip(from)
                .for_each(|(g, x)| *g = 2.0 * self.l2 * x);
            for (c, i) in block.rows.iter().zip(&pb.rows) {
                let r = &ws.residual[*i as usize * n_out..][..n_out];
                self.features.add_to_block(block, *c as usize, r, g);
            }
        }
        value
    }

    /// The probabilities of a part's rows at `x` for a preconditioner's refresh, from a fit's
    /// state (`fit_parts`): the last evaluation's when it was at `x` (or, before any, the
    /// start's), else computed into `scratch`.
    fn part_probabilities_at<'b>(
        &self,
        part: &Part,
        state: &'b (Workspace, usize, Vec<f64>),
        x: &[f64],
        scratch: &'b mut [f64],
    ) -> &'b [f64] {
        let (ws, evaluations, at) = state;
        if *evaluations == 0 || at.as_slice() == x {
            &ws.probs
        } else {
            self.part_probabilities(part, x, scratch);
            scratch
        }
    }

    /// The probabilities of a part's rows at its weights `x`.
    fn part_probabilities(&self, part: &Part, x: &[f64], probs: &mut [f64]) {
        let n_out = self.features.n_out().max(1);
        let templates = self.features.templates();
        for (i, c) in part.rows.iter().enumerate() {
            let p = &mut probs[i * n_out..][..n_out];
            let bases = &part.bases[i * templates..][..templates];
            self.features.scores_at(x, bases, *c as usize, p);
            softmax(p);
        }
    }

    /// `curvature` over one part, from its rows' probabilities.
    fn part_curvature(
        &self,
        part: &Part,
        counts: &[f64],
        blocks: &[Block],
        probs: &[f64],
        diagonal: &mut [f64],
    ) {
        let n_out = self.features.n_out().max(1);
        for pb in &part.blocks {
            let block = &blocks[pb.block];
            let rows = block.rows.iter().zip(&pb.rows).map(|(c, i)| {
                let c = *c as usize;
                let p = &probs[*i as usize * n_out..][..n_out];
                (c, &counts[c * n_out..][..n_out], p)
            });
            self.block_curvature(block, rows, &mut diagonal[pb.start..][..block.len]);
        }
        self.invert_curvature(diagonal);
    }
}

#[cfg(test)]
mod tests;

impl Estimator for Logistic {
    fn vb_refusal(&self) -> Option<&'static str> {
        Some(
            "a Logistic family's weights have no conjugate prior, so variational Bayes (over \
             Dirichlet-Categorical tables) cannot train it: use `em` (Algorithm 1) or `direct`",
        )
    }

    fn m_step(&self, counts: &[f64], theta: &mut [f64]) -> Vec<String> {
        self.m_step_restricted(counts, &[], theta)
    }

    fn m_step_restricted(
        &self,
        counts: &[f64],
        allowed: &[Allowed],
        theta: &mut [f64],
    ) -> Vec<String> {
        self.fit(counts, allowed, theta, self.m_step_tolerance);
        Vec::new()
    }

    fn fit_restricted(&self, counts: &[f64], allowed: &[Allowed], theta: &mut [f64], rough: bool) {
        self.fit(counts, allowed, theta, if rough { ROUGH } else { 0.0 });
    }

    fn gradient_restricted(
        &self,
        x: &[f64],
        counts: &[f64],
        allowed: &[Allowed],
        _theta: &[f64],
        grad: &mut [f64],
    ) {
        let (outcomes, rows) = self.row_sets(allowed);
        let sets = row_set_refs(&outcomes, &rows);
        let mut ws = self.workspace();
        let blocks = self.features.blocks();
        self.objective(&counts[..self.n_probs()], &sets, x, grad, &blocks, &mut ws);
        grad.iter_mut().for_each(|g| *g = -*g);
    }

    fn log_prior(&self, theta: &[f64]) -> f64 {
        let w = &theta[self.n_probs()..];
        -self.l2 * w.iter().map(|x| x * x).sum::<f64>()
    }

    fn variables(&self, theta: &[f64]) -> Vec<f64> {
        theta[self.n_probs()..].to_vec()
    }

    fn set_variables(&self, x: &[f64], theta: &mut [f64]) {
        let (probs, w) = theta.split_at_mut(self.n_probs());
        w.copy_from_slice(x);
        self.probabilities(x, probs);
    }

    fn gradient(&self, x: &[f64], counts: &[f64], theta: &[f64], grad: &mut [f64]) {
        // `objective` is the negated, penalised expected log-likelihood.
        self.gradient_restricted(x, counts, &[], theta, grad)
    }

    fn fits_features(&self) -> bool {
        true
    }
}
