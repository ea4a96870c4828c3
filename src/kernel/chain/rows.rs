//! The per-token passes of forward-backward over one row (one member's states at one
//! position): the forward product, sum and scaling, the backward posterior and message. They
//! are inlined into the batch's function (`batch`), which is compiled for the processor's
//! instruction set, and compiled once per row width up to 15 (`by_width`).

use super::precision::Message;
use crate::kernel::gemm::Isa;
use crate::kernel::prefetch::prefetch_row as prefetch;

/// Calls `$f::<$t, K>` with `K` the row width `$k` where it is one of the widths the passes are
/// compiled for, `K = 0` (the width read at run time) otherwise. With the width known, the
/// per-token passes' loops are unrolled with no loop counters or tails: a fifth of an
/// iteration at 10 states (W2), in either precision; from 16 states the loops are long enough
/// not to need it. The bits are the same either way (the same operations in the same order).
macro_rules! by_width {
    ($k:expr, $f:ident::<$t:ty>($($arg:expr),* $(,)?)) => {
        match $k {
            2 => $f::<$t, 2>($($arg),*),
            3 => $f::<$t, 3>($($arg),*),
            4 => $f::<$t, 4>($($arg),*),
            5 => $f::<$t, 5>($($arg),*),
            6 => $f::<$t, 6>($($arg),*),
            7 => $f::<$t, 7>($($arg),*),
            8 => $f::<$t, 8>($($arg),*),
            9 => $f::<$t, 9>($($arg),*),
            10 => $f::<$t, 10>($($arg),*),
            11 => $f::<$t, 11>($($arg),*),
            12 => $f::<$t, 12>($($arg),*),
            13 => $f::<$t, 13>($($arg),*),
            14 => $f::<$t, 14>($($arg),*),
            15 => $f::<$t, 15>($($arg),*),
            _ => $f::<$t, 0>($($arg),*),
        }
    };
}
pub(super) use by_width;

/// A running product of a line's forward scales: a mantissa in [1, 2) and a power of two,
/// so that the scales multiply without underflow and the log is taken once a line rather
/// than once a token (the logs took about a seventh of an iteration at 10 states).
#[derive(Clone, Copy)]
pub(super) struct Scales {
    mantissa: f64,
    exponent: i64,
    /// What was taken out as a log: a product that reached zero, a subnormal, or worse.
    log: f64,
}

impl Scales {
    pub const ONE: Scales = Scales {
        mantissa: 1.0,
        exponent: 0,
        log: 0.0,
    };

    #[inline(always)]
    pub(super) fn times(&mut self, x: f64) {
        const FIELD: u64 = 0x7ff << 52;
        let p = self.mantissa * x;
        let bits = p.to_bits();
        let field = (bits & FIELD) >> 52;
        if field == 0 || field == 0x7ff {
            // Zero (a dead line), a subnormal, an infinity or NaN: its log, as it is.
            self.log += p.ln();
            self.mantissa = 1.0;
            return;
        }
        self.exponent += field as i64 - 1023;
        self.mantissa = f64::from_bits((bits & !FIELD) | (1023 << 52));
    }

    pub(super) fn ln(&self) -> f64 {
        self.log + (self.mantissa.ln() + self.exponent as f64 * std::f64::consts::LN_2)
    }
}

/// Rows ahead of the current one whose unary values and counts are fetched into cache early:
/// an HMM reads them by word, in an order no hardware prefetcher can guess. Eight rows ahead
/// rather than four took about 1.5% off W1 (45 states, whose counts rows span six cache lines)
/// and left 10 states as they were; twelve did no better than eight.
pub(super) const AHEAD: usize = 8;

/// Where in position-major order the row `AHEAD` further on in the backward pass lies, from
/// row `b` of position `t`: this position's, then the previous position's.
#[inline(always)]
pub(super) fn ahead_backward(t: usize, b: usize, rows: usize) -> Option<usize> {
    match (b + AHEAD).checked_sub(rows) {
        None => Some(t * rows + b + AHEAD),
        Some(back) => (t > 0 && back < rows).then(|| (t - 1) * rows + back),
    }
}

/// The row width: `K`, or `k` when `K` is 0.
#[inline(always)]
fn width<const K: usize>(k: usize) -> usize {
    if K == 0 {
        k
    } else {
        debug_assert_eq!(k, K);
        K
    }
}

/// One forward step's rows without densities: each row times its unary values (`unary`'s row
/// `ids[b]`) and its sum, then (`scale_rows`) every row scaled. Whether every sum is sound.
#[inline(always)]
pub(super) fn forward_rows<T: Message, const K: usize>(
    k: usize,
    cur: &mut [T],
    ids: &[u32],
    unary: &[T],
    sums: &mut [T],
    scales: &mut [Scales],
    isa: Option<Isa>,
) -> bool {
    let k = width::<K>(k);
    // Every row's sum first, then every row scaled: a row's scaling waits on its sum and the
    // division after it, which rows in turn could not hide (a fifth of the batch's time at
    // 10 states); all sums first leave the divisions independent.
    for (b, (row, sum)) in cur.chunks_exact_mut(k).zip(sums.iter_mut()).enumerate() {
        if let Some(id) = ids.get(b + AHEAD) {
            let id = *id as usize;
            prefetch(&unary[id * k..(id + 1) * k]);
        }
        let u = ids[b] as usize;
        *sum = T::multiply_and_sum(row, &unary[u * k..(u + 1) * k], isa);
    }
    scale_rows::<T, K>(k, cur, sums, scales)
}

/// Each row divided by its sum (`sums`, which become the inverses), and the sum into the
/// row's scales. Whether every sum is sound.
#[inline(always)]
pub(super) fn scale_rows<T: Message, const K: usize>(
    k: usize,
    cur: &mut [T],
    sums: &mut [T],
    scales: &mut [Scales],
) -> bool {
    let k = width::<K>(k);
    let mut sound = true;
    for ((row, inv), scale) in cur.chunks_exact_mut(k).zip(sums).zip(scales.iter_mut()) {
        let sum = *inv;
        sound &= T::sound_sum(sum);
        scale.times(sum.to_f64());
        // A zero sum is a dead line, which never reaches the backward pass.
        *inv = T::ZERO;
        if sum > T::ZERO {
            *inv = T::ONE / sum;
            row.iter_mut().for_each(|a| *a *= *inv);
        }
    }
    sound
}

/// What one backward step's rows read and write (without densities).
pub(super) struct Rows<'a, T> {
    pub(super) t: usize,
    /// This position's forward rows and backward messages.
    pub(super) alpha: &'a [T],
    pub(super) beta: &'a [T],
    /// The message for the step back, plain and instance-weighted (this position's rows).
    pub(super) w: &'a mut [T],
    pub(super) weighted: &'a mut [T],
    /// Every position's unary product ids, position-major; the members' weights; every
    /// position's inverse scales.
    pub(super) ids: &'a [u32],
    pub(super) weights: &'a [f64],
    pub(super) inverse: &'a [T],
    pub(super) unary: &'a [T],
    /// The unary counts.
    pub(super) counts: &'a mut [f64],
}

/// One backward step's rows without densities: each state posterior into the counts and,
/// after the first position, the message for the step back (plain and instance-weighted).
/// Whether every message is sound: where one is not (single precision), some of the batch
/// has been counted already (`batch::Ran::Spoilt`).
#[inline(always)]
pub(super) fn backward_rows<T: Message, const K: usize>(k: usize, r: Rows<T>) -> bool {
    let k = width::<K>(k);
    let (t, rows) = (r.t, r.weights.len());
    for (b, (((a_row, b_row), w_row), wt_row)) in r
        .alpha
        .chunks_exact(k)
        .zip(r.beta.chunks_exact(k))
        .zip(r.w.chunks_exact_mut(k))
        .zip(r.weighted.chunks_exact_mut(k))
        .enumerate()
    {
        let u = r.ids[t * rows + b] as usize;
        if let Some(next) = ahead_backward(t, b, rows) {
            let id = r.ids[next] as usize;
            prefetch(&r.counts[id * k..(id + 1) * k]);
            prefetch(&r.unary[id * k..(id + 1) * k]);
        }
        let step = Step {
            weight: r.weights[b],
            inv: if t == 0 {
                None
            } else {
                Some(r.inverse[t * rows + b])
            },
            alpha: a_row,
            beta: b_row,
            unary: &r.unary[u * k..(u + 1) * k],
        };
        if !step.count_and_message(&mut r.counts[u * k..(u + 1) * k], w_row, wt_row) {
            return false;
        }
    }
    true
}

/// One row of the backward pass: its state posterior and, after the first position, the
/// message for the step back.
pub(super) struct Step<'a, T> {
    pub(super) weight: f64,
    /// `1 / c_t`, the forward pass's scale at this position; none at the first.
    pub(super) inv: Option<T>,
    pub(super) alpha: &'a [T],
    pub(super) beta: &'a [T],
    pub(super) unary: &'a [T],
}

impl<T: Message> Step<'_, T> {
    /// `out += weight * alpha .* beta`, the product in `T` and the sum in double precision,
    /// and, after the first position, `w = unary .* beta / c_t` and `weighted = weight * w`,
    /// over indices: one long zip of six slices does not vectorise, and these element-wise
    /// products give the same bits in any order. Whether every entry of `beta` is safe to
    /// carry on (always, in double precision).
    #[inline(always)]
    pub(super) fn count_and_message(
        &self,
        out: &mut [f64],
        w: &mut [T],
        weighted: &mut [T],
    ) -> bool {
        let (k, weight) = (out.len(), T::from_f64(self.weight));
        let (a, be) = (&self.alpha[..k], &self.beta[..k]);
        let mut sound = true;
        for j in 0..k {
            out[j] += (weight * a[j] * be[j]).to_f64();
            sound &= T::sound_message(be[j]);
        }
        self.message(w, weighted);
        sound
    }

    #[inline(always)]
    fn message(&self, w: &mut [T], weighted: &mut [T]) {
        let Some(inv) = self.inv else {
            return;
        };
        let k = w.len();
        let weight = T::from_f64(self.weight);
        let (be, x) = (&self.beta[..k], &self.unary[..k]);
        let weighted = &mut weighted[..k];
        for j in 0..k {
            w[j] = x[j] * be[j] * inv;
            weighted[j] = weight * w[j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Scales;

    fn product(xs: &[f64]) -> f64 {
        let mut s = Scales::ONE;
        xs.iter().for_each(|x| s.times(*x));
        s.ln()
    }

    #[test]
    fn scales_multiply_past_the_range_of_a_double_and_keep_the_sum_of_their_logs() {
        // 1e-10000 and 1e+9000 are far outside f64; their logs are not.
        let tiny = vec![1e-10f64; 1000];
        let want: f64 = tiny.iter().map(|x| x.ln()).sum();
        assert!((product(&tiny) - want).abs() <= 1e-12 * want.abs());
        let mixed: Vec<f64> = (0..3000).map(|i| [1e-3, 7.5, 1e9][i % 3]).collect();
        let want: f64 = mixed.iter().map(|x| x.ln()).sum();
        assert!((product(&mixed) - want).abs() <= 1e-12 * want.abs());
        // A subnormal scale is taken as its log; a zero kills the line whatever follows.
        let sub = [0.5f64, 1e-310, 3.0];
        let want: f64 = sub.iter().map(|x| x.ln()).sum();
        assert!((product(&sub) - want).abs() <= 1e-12 * want.abs());
        assert_eq!(product(&[0.5, 0.0, 2.0, 1e300]), f64::NEG_INFINITY);
        assert!(!product(&[0.5, f64::NAN, 2.0]).is_finite());
        assert_eq!(product(&[1.0; 5]), 0.0);
    }
}
