//! Single precision for the chain kernel: messages and tables held as `f32`, so that twice as
//! many go through each vector instruction and half the bytes through the caches, with
//! everything that is summed over many positions (log-likelihoods, state and edge counts) in
//! `f64`. A unit of work runs in single precision or in double as a whole: where a batch's
//! floats could lose what doubles keep (a row of the forward pass summing below `FLOOR`, a
//! backward message above `CEILING`), the whole unit is counted afresh in double precision,
//! so single precision never changes which lines have probability zero, and the results,
//! like double precision's, depend only on the data. A unit counted in single precision has
//! its log-likelihood corrected for the rounding of the tables (`SingleTables::correction`),
//! which alone would move it by up to about 1e-8 on a model of few, frequent symbols.

use super::{sums, Packed, Values, View};
use crate::kernel::gemm::{gemm_at_b_add, Element, Isa};
use std::ops::{Add, AddAssign, Div, Mul, MulAssign};

/// Which precision the chain kernel's messages and tables are held in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Precision {
    /// Single where it is known to keep the log-likelihood within 1e-9 of double (`auto`).
    #[default]
    Auto,
    /// Double everywhere.
    Double,
    /// Single wherever the chain kernel can (no Gaussian draws), whatever the model's size.
    Single,
}

/// Fewest states for which `auto` chooses single precision. Measured on 1M tokens of
/// 10,000 word types (`scripts/bench/gen_hmm.py`, AVX-512): an iteration in single took
/// about 0.8 of double's time at 9, 10 and 12 states, more than double's at 4, 7 and 8 (a
/// row of 8 doubles is one AVX-512 register; below it the matrix products, where single
/// precision pays, are a small part of the work).
pub const AUTO_STATES: usize = 9;

/// Fewest tokens in the data for which `auto` chooses single precision: below them an
/// iteration takes milliseconds in either, and EM's gain in an iteration near convergence
/// can be smaller than single precision's rounding (the zoo's 10-state HMM on 11,600 tokens,
/// annealed, fell by 2e-9 of its objective in an iteration), which double keeps
/// monotone.
pub const AUTO_TOKENS: usize = 1 << 15;

/// Smallest forward row sum a single-precision batch accepts: 2^-60, far enough above the
/// smallest normal float (2^-126) that entries lost to underflow weigh nothing in the sum.
const FLOOR: f32 = 8.673_617e-19;
/// Largest backward message entry a single-precision batch accepts: 2^100. Every message is
/// checked as it is used, and an overflow anywhere in a step back (to infinity, or NaN from
/// zero times infinity) reaches the next message, which fails the check (the first position's
/// is checked too); the margin below the largest float (about 2^128) keeps the posteriors of
/// an accepted row finite.
const CEILING: f32 = 1.267_650_6e30;

/// The unary values and pair products in single precision (`Message::tables`), and what
/// their rounding did to each entry (`correction`).
pub(super) struct SingleTables {
    pub unary: Vec<f32>,
    pub pair_packed: Vec<Packed<f32>>,
    pub pair_packed_t: Vec<Packed<f32>>,
    /// Per unary value, `(x - rounded) / rounded` (zero where the float is zero).
    unary_error: Vec<f32>,
    /// Per pair product entry, `x - rounded`.
    pair_error: Vec<f64>,
}

impl SingleTables {
    /// The tables rounded to single precision, the unary values (a row per word type) on
    /// `pool` where there is one: they are otherwise a serial part of the E-step.
    pub fn new(
        unary: &[f64],
        pair: &[f64],
        k: usize,
        pool: Option<&rayon::ThreadPool>,
    ) -> SingleTables {
        use rayon::prelude::*;
        let table = |p: usize| View::new(&pair[p * k * k..(p + 1) * k * k], k, k);
        let pairs = 0..pair.len() / (k * k).max(1);
        let round = |xs: &[f64], out: &mut [f32], error: &mut [f32]| {
            for ((o, e), x) in out.iter_mut().zip(error.iter_mut()).zip(xs) {
                *o = *x as f32;
                let r = f64::from(*o);
                *e = if r == 0.0 { 0.0 } else { ((x - r) / r) as f32 };
            }
        };
        let mut single = vec![0.0f32; unary.len()];
        let mut unary_error = vec![0.0f32; unary.len()];
        match pool {
            Some(pool) => pool.install(|| {
                single
                    .par_chunks_mut(1 << 16)
                    .zip(unary_error.par_chunks_mut(1 << 16))
                    .zip(unary.par_chunks(1 << 16))
                    .for_each(|((o, e), x)| round(x, o, e))
            }),
            None => round(unary, &mut single, &mut unary_error),
        }
        SingleTables {
            unary: single,
            pair_packed: pairs.clone().map(|p| Packed::rounded(table(p))).collect(),
            pair_packed_t: pairs.map(|p| Packed::rounded(table(p).t())).collect(),
            unary_error,
            pair_error: pair.iter().map(|x| x - f64::from(*x as f32)).collect(),
        }
    }

    /// What a unit's log-likelihood, summed over rounded tables, is missing to first order:
    /// `d log L / d log x` is the expected count of `x`, so a table entry `x` rounded to
    /// `r`, with `x = r (1 + e)`, takes about `count * e` from log L. The errors are fixed per word type,
    /// so over a corpus they add up (about 1e-9 of W2's log-likelihood at 10 states) where
    /// the forward sums' rounding, which changes sign from token to token, does not; what
    /// is left is second order, below 1e-15 an entry. `unary` holds the posterior state mass
    /// per unary value, `pair` the products whose entries times the pair products' are the
    /// edge mass (`Acc`). In four lanes, in a fixed order: every build and every thread
    /// count gives the same bits.
    pub fn correction(&self, unary: &[f64], pair: &[f64]) -> f64 {
        let unary = dot_in_lanes(unary, &self.unary_error, |e| f64::from(*e));
        unary + dot_in_lanes(pair, &self.pair_error, |e| *e)
    }
}

/// `sum a_i f(b_i)`, entry `i` of each whole chunk of four into lane `i`, the rest into lane
/// 0, then `(l0 + l1) + (l2 + l3)`.
#[inline(always)]
fn dot_in_lanes<E>(a: &[f64], b: &[E], f: impl Fn(&E) -> f64) -> f64 {
    assert_eq!(a.len(), b.len(), "counts and their tables' errors");
    let mut lanes = [0.0f64; 4];
    let (mut xs, mut ys) = (a.chunks_exact(4), b.chunks_exact(4));
    for (x, y) in (&mut xs).zip(&mut ys) {
        for i in 0..4 {
            lanes[i] += x[i] * f(&y[i]);
        }
    }
    for (x, y) in xs.remainder().iter().zip(ys.remainder()) {
        lanes[0] += x * f(y);
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

/// A batch's messages, in the precision they are held in.
#[derive(Default)]
pub(super) struct Messages<T> {
    pub alpha: Vec<T>,
    /// Unary values per position and row, densities included.
    pub u: Vec<T>,
    /// `1 / c_t` per position and member: the forward pass's scale, inverted.
    pub inverse: Vec<T>,
    pub beta: Vec<T>,
    pub w: Vec<T>,
    pub weighted: Vec<T>,
    /// Single precision only: one block's edge counts before they join the double sums.
    pub block: Vec<T>,
}

/// What the chain kernel's batches run in: `f64`, or `f32` with checks.
pub(super) trait Message:
    Element
    + PartialOrd
    + Add<Output = Self>
    + AddAssign
    + Mul<Output = Self>
    + MulAssign
    + Div<Output = Self>
{
    const ZERO: Self;
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    /// The unary values and the packed pair products (forward, then transposed).
    fn tables(values: &Values) -> (&[Self], &[Packed<Self>], &[Packed<Self>]);
    fn messages<'s>(
        wide: &'s mut Messages<f64>,
        narrow: &'s mut Messages<f32>,
    ) -> &'s mut Messages<Self>;
    /// Whether a forward row summing to `sum` keeps what double precision would.
    fn sound_sum(sum: Self) -> bool;
    /// Whether a backward message entry is safe to carry another step back.
    fn sound_message(x: Self) -> bool;
    /// `out += a^T w`, the sums in double precision.
    fn add_edge_counts(a: View<Self>, w: View<Self>, out: &mut [f64], block: &mut Vec<Self>);
    /// `row *= u` and the new sum (`sums`), on the instruction set the batch runs under.
    fn multiply_and_sum(row: &mut [Self], u: &[Self], isa: Option<Isa>) -> Self;
}

impl Message for f64 {
    const ZERO: f64 = 0.0;
    fn from_f64(x: f64) -> f64 {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn tables(values: &Values) -> (&[f64], &[Packed<f64>], &[Packed<f64>]) {
        (&values.unary, &values.pair_packed, &values.pair_packed_t)
    }
    fn messages<'s>(
        wide: &'s mut Messages<f64>,
        _: &'s mut Messages<f32>,
    ) -> &'s mut Messages<f64> {
        wide
    }
    fn sound_sum(_: f64) -> bool {
        true
    }
    fn sound_message(_: f64) -> bool {
        true
    }
    #[inline(always)]
    fn add_edge_counts(a: View<f64>, w: View<f64>, out: &mut [f64], _: &mut Vec<f64>) {
        gemm_at_b_add(a, w, out);
    }
    #[inline(always)]
    fn multiply_and_sum(row: &mut [f64], u: &[f64], _: Option<Isa>) -> f64 {
        sums::four_lanes(row, u)
    }
}

/// Rows of an edge-count product summed in single precision before joining the double sums:
/// a float sum of 64 terms keeps about six digits of each.
const BLOCK_ROWS: usize = 64;

impl Message for f32 {
    const ZERO: f32 = 0.0;
    fn from_f64(x: f64) -> f32 {
        x as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn tables(values: &Values) -> (&[f32], &[Packed<f32>], &[Packed<f32>]) {
        let single = values
            .single
            .as_ref()
            .expect("a single-precision kernel works out single-precision tables");
        (&single.unary, &single.pair_packed, &single.pair_packed_t)
    }
    fn messages<'s>(
        _: &'s mut Messages<f64>,
        narrow: &'s mut Messages<f32>,
    ) -> &'s mut Messages<f32> {
        narrow
    }
    fn sound_sum(sum: f32) -> bool {
        sum >= FLOOR
    }
    fn sound_message(x: f32) -> bool {
        x <= CEILING
    }
    #[inline(always)]
    fn add_edge_counts(a: View<f32>, w: View<f32>, out: &mut [f64], block: &mut Vec<f32>) {
        let (rows, m, n) = (a.rows(), a.cols(), w.cols());
        block.resize(m * n, 0.0);
        block.fill(0.0);
        let mut start = 0;
        while start < rows {
            let end = (start + BLOCK_ROWS).min(rows);
            gemm_at_b_add(a.rows_range(start..end), w.rows_range(start..end), block);
            // Emptied as it is added, not by a pass of its own every 64 rows.
            out.iter_mut().zip(block.iter_mut()).for_each(|(o, b)| {
                *o += f64::from(*b);
                *b = 0.0;
            });
            start = end;
        }
    }
    #[inline(always)]
    fn multiply_and_sum(row: &mut [f32], u: &[f32], isa: Option<Isa>) -> f32 {
        sums::sixteen_lanes(row, u, isa)
    }
}
