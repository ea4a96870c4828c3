//! The featurised M-step's initial inverse Hessian when each row's scores start from weights
//! of its own, one per outcome (the word identity conjoined with the state): the block
//! elimination of those weights, where the Hessian's diagonal was used before.
//!
//! A row's score of outcome `o` is `w_o + (S v)_o`: its own weight plus the shared features'
//! (suffixes, shape) weights `v`. With `M = D - N p p'` the softmax's curvature in the scores
//! (`N` the row's total count, `p` its probabilities, `D = N diag(p)`), the Hessian is
//! `[[H_ww, M S], [S' M, S' M S + 2 kappa]]`, `H_ww = M + 2 kappa`. Raising a suffix's weight
//! and lowering the weights of the words it fires on by as much leaves the scores as they
//! were: only the penalty curves that direction, while the diagonal sees a suffix's weight as
//! curved by every count it fires on, so L-BFGS spent its iterations learning those
//! directions. `H_ww^-1` is diagonal plus rank one (Sherman-Morrison: `A_D^-1 + gamma r r'`,
//! `A_D = D + 2 kappa`, `r = A_D^-1 p`, `gamma = N / (1 - N p'r)`), and eliminating `w` leaves
//! `C = S' (E - 4 kappa^2 gamma r r') S + 2 kappa`, `E = 2 kappa D A_D^-1`, so that
//! `H^-1 = [[I, -H_ww^-1 M S], [0, I]] [[H_ww^-1, 0], [0, C^-1]] [[I, 0], [-S' M H_ww^-1, I]]`,
//! exact but for `C`: the block of the `HEAVY` shared weights that fire on the most outcomes
//! (the shape features, the short suffixes: they overlap, "s" with "es" and with capitals)
//! is kept whole and factorised, the rest of `C` by its diagonal. Symmetric and positive
//! definite, as L-BFGS needs; applying it costs one pass of the shared features each way and
//! four passes over a row. The rank-one part matters where a state's mass sits on a few words
//! or on one feature (a state of capitalised words: the capital weight's curvature is
//! `N P (1 - P)`, not `N P`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;

use nalgebra::{linalg::Cholesky, DMatrix, DVector, Dyn};

use super::parts::Part;
use super::{Logistic, Workspace};
use crate::features::Block;
use crate::optim::{Operator, Spare};

/// Shared weights whose block of `C` is kept whole. Its factorisation (`HEAVY^3 / 3`
/// multiply-adds) at each refresh, about once an M-step, took 1.5% of a W5 run; 512 weights
/// saved iterations but cost more than the whole M-step had (BENCHMARKS.md, eleventh session).
const HEAVY: usize = 128;

/// What a part's operator needs of its structure, the same at every M-step.
pub(super) struct Shape {
    /// Where each row's own weights start in the part's vector.
    own: Vec<usize>,
    /// The ranges of the part's vector that hold shared weights.
    shared: Vec<Range<usize>>,
    /// The heavy weights' positions in the part's vector.
    heavy: Vec<u32>,
    /// The distinct sets of heavy weights that fire together on an outcome (indices into
    /// `heavy`, as offsets into `fired`), and per row and outcome its set (`u32::MAX`:
    /// none): `C`'s heavy block adds `E` set by set, each set's sum once.
    offsets: Vec<u32>,
    fired: Vec<u32>,
    set_of: Vec<u32>,
}

impl Shape {
    /// The shape of `part`, if its rows' first template is the identity with a block of each
    /// row's own and the penalty is positive (`A` invertible, `C` positive definite).
    pub(super) fn new(family: &Logistic, part: &Part, blocks: &[Block]) -> Option<Shape> {
        let features = &family.features;
        let identity = |pb: &&super::parts::PartBlock| features.is_identity(&blocks[pb.block]);
        let own_blocks: Vec<_> = part.blocks.iter().filter(identity).collect();
        let applies = family.l2 > 0.0
            && !part.rows.is_empty()
            && own_blocks.len() == part.rows.len()
            && own_blocks.iter().all(|pb| pb.rows.len() == 1);
        if !applies {
            return None;
        }
        let n_out = features.n_out();
        let templates = features.templates();
        let own = (0..part.rows.len())
            .map(|i| part.bases[i * templates])
            .collect();
        let shared_blocks = || {
            (part.blocks.iter())
                .map(move |pb| (pb, &blocks[pb.block]))
                .filter(|(_, b)| !features.is_identity(b))
        };
        let shared = shared_blocks()
            .map(|(pb, b)| pb.start..pb.start + b.len)
            .collect();
        // Every (row, outcome, position) a shared weight fires on.
        let each = |f: &mut dyn FnMut(usize, usize)| {
            for (pb, block) in shared_blocks() {
                for (c, i) in block.rows.iter().zip(&pb.rows) {
                    let row = *i as usize * n_out;
                    features.each_fired(block, *c as usize, |o, k| f(row + o, pb.start + k));
                }
            }
        };
        let mut fires = vec![0u32; part.len];
        each(&mut |_, j| fires[j] += 1);
        let mut by_fires: Vec<u32> = (0..part.len as u32)
            .filter(|j| fires[*j as usize] > 0)
            .collect();
        by_fires.sort_by(|a, b| fires[*b as usize].cmp(&fires[*a as usize]).then(a.cmp(b)));
        by_fires.truncate(HEAVY);
        let heavy = by_fires;
        let mut index = vec![u32::MAX; part.len];
        for (k, j) in heavy.iter().enumerate() {
            index[*j as usize] = k as u32;
        }
        let n = part.rows.len() * n_out;
        let mut lists = vec![Vec::new(); n];
        each(&mut |at, j| {
            if index[j] != u32::MAX {
                lists[at].push(index[j]);
            }
        });
        let mut sets: HashMap<Vec<u32>, u32> = HashMap::new();
        let (mut offsets, mut fired) = (vec![0u32], Vec::new());
        let set_of = (lists.into_iter())
            .map(|mut l| {
                if l.is_empty() {
                    return u32::MAX;
                }
                l.sort_unstable();
                *sets.entry(l).or_insert_with_key(|l| {
                    fired.extend_from_slice(l);
                    offsets.push(fired.len() as u32);
                    offsets.len() as u32 - 2
                })
            })
            .collect();
        Some(Shape {
            own,
            shared,
            heavy,
            offsets,
            fired,
            set_of,
        })
    }
}

#[cfg(test)]
impl Shape {
    /// Whether every shared weight that fires is in the factorised block.
    pub(super) fn keeps_whole(&self) -> bool {
        self.heavy.len() < HEAVY
    }
}

/// A row's constants for the rank-one part of its curvature.
#[derive(Clone, Copy)]
struct Row {
    /// `N`.
    total: f64,
    /// `N / (1 - N p'r)`.
    gamma: f64,
    /// `p'r = p' A_D^-1 p`.
    pap: f64,
}

/// `Operator` over one part's weights (laid out as `Part` says).
pub(super) struct Schur<'a> {
    shape: &'a Shape,
    family: &'a Logistic,
    part: &'a Part,
    counts: &'a [f64],
    blocks: &'a [Block],
    /// The fit's workspace, its evaluations and the point of its last one (`fit_parts`): the
    /// probabilities at a refresh are the last evaluation's when it was there.
    state: &'a RefCell<(Workspace, usize, Vec<f64>)>,
    /// Per row and outcome: `D`, `A_D^-1`, the probabilities, and scratch.
    d: Spare,
    a: Spare,
    p: Spare,
    t: Spare,
    /// Per row, the constants of its rank-one part.
    rows: Vec<Row>,
    /// `S' A_D^-1 p` of one row at a time (a refresh's scratch), at the shared weights'
    /// positions.
    q: Spare,
    /// `C`'s diagonal inverted, at the shared weights' positions (the own weights' unused).
    c: Spare,
    /// The heavy block of `C` factorised (`None`: not positive definite in floating point;
    /// the diagonal stands in).
    factor: Option<Cholesky<f64, Dyn>>,
    /// Probabilities at a refresh away from the last evaluation; one row's shared scores.
    probs: Spare,
    u: Spare,
}

impl<'a> Schur<'a> {
    pub(super) fn new(
        shape: &'a Shape,
        family: &'a Logistic,
        part: &'a Part,
        counts: &'a [f64],
        blocks: &'a [Block],
        state: &'a RefCell<(Workspace, usize, Vec<f64>)>,
    ) -> Schur<'a> {
        let n_out = family.features.n_out();
        let n = part.rows.len() * n_out;
        Schur {
            shape,
            family,
            part,
            counts,
            blocks,
            state,
            d: Spare::new(n),
            a: Spare::new(n),
            p: Spare::new(n),
            t: Spare::new(n),
            rows: Vec::new(),
            q: Spare::new(part.len),
            c: Spare::new(part.len),
            factor: None,
            probs: Spare::new(n),
            u: Spare::new(n_out),
        }
    }
}

/// `v[shared] += S' t` over `part`'s shared blocks, `t` per row and outcome.
fn add_shared(family: &Logistic, part: &Part, blocks: &[Block], t: &[f64], v: &mut [f64]) {
    let n_out = family.features.n_out();
    for pb in &part.blocks {
        let block = &blocks[pb.block];
        if family.features.is_identity(block) {
            continue;
        }
        let out = &mut v[pb.start..][..block.len];
        for (c, i) in block.rows.iter().zip(&pb.rows) {
            let t = &t[*i as usize * n_out..][..n_out];
            family.features.add_to_block(block, *c as usize, t, out);
        }
    }
}

impl Operator for Schur<'_> {
    fn refresh(&mut self, x: &[f64]) {
        let n_out = self.family.features.n_out();
        let kappa2 = 2.0 * self.family.l2;
        self.rows.clear();
        {
            let state = self.state.borrow();
            let probs = (self.family).part_probabilities_at(self.part, &state, x, &mut self.probs);
            let n = self.p.len();
            self.p.copy_from_slice(&probs[..n]);
        }
        for (i, c) in self.part.rows.iter().enumerate() {
            let total: f64 = self.counts[*c as usize * n_out..][..n_out].iter().sum();
            let at = i * n_out..(i + 1) * n_out;
            let rows = self.d[at.clone()].iter_mut().zip(&mut self.a[at.clone()]);
            let mut pap = 0.0;
            for (((d, a), e), p) in rows.zip(&mut self.t[at.clone()]).zip(&self.p[at]) {
                *d = total * p;
                *a = 1.0 / (*d + kappa2);
                *e = kappa2 * *d * *a;
                pap += *a * p * p;
            }
            // `1 - N p'r = 1 - sum_o p_o d_o / (d_o + 2 kappa)` is positive: the
            // probabilities sum to 1.
            let gamma = total / (1.0 - total * pap).max(f64::EPSILON);
            self.rows.push(Row { total, gamma, pap });
        }
        let shape = self.shape;
        for range in &shape.shared {
            self.c[range.clone()].iter_mut().for_each(|c| *c = 0.0);
            self.q[range.clone()].iter_mut().for_each(|q| *q = 0.0);
        }
        add_shared(self.family, self.part, self.blocks, &self.t, &mut self.c);
        let m = shape.heavy.len();
        let mut sums = vec![0.0; shape.offsets.len() - 1];
        for (set, e) in shape.set_of.iter().zip(self.t.iter()) {
            if *set != u32::MAX {
                sums[*set as usize] += e;
            }
        }
        let mut block = DMatrix::<f64>::zeros(m, m);
        for (k, e) in sums.iter().enumerate() {
            let fired = &shape.fired[shape.offsets[k] as usize..shape.offsets[k + 1] as usize];
            for a in fired {
                for b in fired {
                    block[(*a as usize, *b as usize)] += e;
                }
            }
        }
        // The rank-one part: `C -= 4 kappa^2 gamma (S' r)(S' r)'` per row, `r = A_D^-1 p`.
        for (i, row) in self.rows.iter().enumerate() {
            let gamma = row.gamma;
            let at = i * n_out..(i + 1) * n_out;
            self.t.iter_mut().for_each(|t| *t = 0.0);
            let r = self.t[at.clone()]
                .iter_mut()
                .zip(&self.a[at.clone()])
                .zip(&self.p[at]);
            r.for_each(|((t, a), p)| *t = a * p);
            for range in &shape.shared {
                self.q[range.clone()].iter_mut().for_each(|q| *q = 0.0);
            }
            add_shared(self.family, self.part, self.blocks, &self.t, &mut self.q);
            let k = kappa2 * kappa2 * gamma;
            for range in &shape.shared {
                let q = &self.q[range.clone()];
                self.c[range.clone()]
                    .iter_mut()
                    .zip(q)
                    .for_each(|(c, q)| *c -= k * q * q);
            }
            for (ka, a) in shape.heavy.iter().enumerate() {
                for (kb, b) in shape.heavy.iter().enumerate() {
                    block[(ka, kb)] -= k * self.q[*a as usize] * self.q[*b as usize];
                }
            }
        }
        for k in 0..m {
            block[(k, k)] += kappa2;
        }
        self.factor = block.cholesky();
        // `C`'s diagonal is at least `2 kappa` (`E'` is positive semidefinite); rounding in
        // the rank-one correction must not take it below.
        for range in &shape.shared {
            (self.c[range.clone()].iter_mut()).for_each(|c| *c = 1.0 / (*c + kappa2).max(kappa2));
        }
    }

    fn apply(&mut self, v: &mut [f64]) {
        let n_out = self.family.features.n_out();
        let shape = self.shape;
        // [[I, 0], [-S' M H_ww^-1, I]]: with `r = A_D^-1 p`, `y = H_ww^-1 g = A_D^-1 g +
        // gamma (r'g) r` and `M y = D y - N (p'y) p`, where `p'y = r'g (1 + gamma p'r)`: one
        // pass for `r'g`, one to write `-M y`.
        let mut rg = vec![0.0; self.rows.len()];
        for (i, own) in shape.own.iter().enumerate() {
            let at = i * n_out..(i + 1) * n_out;
            let Row { total, gamma, pap } = self.rows[i];
            let (a, p, d) = (
                &self.a[at.clone()],
                &self.p[at.clone()],
                &self.d[at.clone()],
            );
            let g = &v[*own..][..n_out];
            rg[i] = (a.iter().zip(p).zip(g))
                .map(|((a, p), g)| a * p * g)
                .sum::<f64>();
            let k = gamma * rg[i];
            let np = total * rg[i] * (1.0 + gamma * pap);
            let out = self.t[at].iter_mut().zip(g);
            for (((t, g), a), (p, d)) in out.zip(a).zip(p.iter().zip(d)) {
                let y = a * g + k * a * p;
                *t = np * p - d * y;
            }
        }
        add_shared(self.family, self.part, self.blocks, &self.t, v);
        // C^-1 on the shared weights: the heavy block solved, the rest scaled.
        let mut heavy = DVector::from_iterator(
            shape.heavy.len(),
            shape.heavy.iter().map(|h| v[*h as usize]),
        );
        for range in &shape.shared {
            let c = &self.c[range.clone()];
            v[range.clone()]
                .iter_mut()
                .zip(c)
                .for_each(|(v, c)| *v *= c);
        }
        if let Some(factor) = &self.factor {
            factor.solve_mut(&mut heavy);
            for (h, z) in shape.heavy.iter().zip(heavy.iter()) {
                v[*h as usize] = *z;
            }
        }
        // [[H_ww^-1, -H_ww^-1 M S], [0, I]]: `h = g - M u` for `u = S z`, then `H_ww^-1 h`,
        // whose `r'h = r'g - r'D u + N (p'u) p'r` needs `p'u` and `r'D u` (one pass).
        let templates = self.family.features.templates();
        for (i, c) in self.part.rows.iter().enumerate() {
            let bases = &self.part.bases[i * templates..][..templates];
            (self.family.features).shared_scores_at(v, bases, *c as usize, &mut self.u);
            let at = i * n_out..(i + 1) * n_out;
            let Row { total, gamma, pap } = self.rows[i];
            let (a, p, d) = (
                &self.a[at.clone()],
                &self.p[at.clone()],
                &self.d[at.clone()],
            );
            let (mut pu, mut rdu) = (0.0, 0.0);
            for (((u, a), p), d) in self.u.iter().zip(a).zip(p).zip(d) {
                pu += p * u;
                rdu += a * p * d * u;
            }
            let rh = rg[i] - rdu + total * pu * pap;
            let (np, k) = (total * pu, gamma * rh);
            let own = &mut v[shape.own[i]..][..n_out];
            for (((w, u), a), (p, d)) in own
                .iter_mut()
                .zip(self.u.iter())
                .zip(a)
                .zip(p.iter().zip(d))
            {
                let h = *w - d * u + np * p;
                *w = a * h + k * a * p;
            }
        }
    }
}
