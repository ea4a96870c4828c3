//! Forward-backward over one batch: the hot loop of the chain kernel. Its small helpers live
//! beside it so that they are compiled (and inlined) with it.

use super::precision::{Message, Messages};

use super::*;
use crate::kernel::gemm::{gemm_packed, Isa};
use crate::kernel::prefetch::prefetch_row as prefetch;

/// What one batch came to.
pub(super) enum Ran {
    /// Counted.
    Counted,
    /// Nothing counted: these members have probability zero.
    Dead(Vec<u32>),
    /// Nothing counted: single precision could not be trusted with this batch.
    Unsound,
}

impl ChainKernel {
    /// Forward-backward over `members` (all of `batch`'s shape) with messages in `T`,
    /// compiled for the widest instruction set the processor has: the per-token passes (the
    /// unary factors, the scaling, the posteriors and messages) then take eight or four
    /// doubles a register instead of two. No build fuses a multiply and an add, and every
    /// reduction keeps its written order, so all give the same bits.
    pub(super) fn run_batch<T: Message>(
        &self,
        batch: &Batch,
        members: &[u32],
        values: &Values,
        theta: &[f64],
        acc: &mut Acc,
        s: &mut Scratch,
    ) -> Ran {
        match self.isa {
            // SAFETY: `isa` is no wider than what the processor has (`gemm::isa`).
            #[cfg(target_arch = "x86_64")]
            Some(Isa::Avx512) => unsafe {
                self.run_batch_avx512::<T>(batch, members, values, theta, acc, s)
            },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Some(Isa::Avx2) => unsafe {
                self.run_batch_avx2::<T>(batch, members, values, theta, acc, s)
            },
            _ => self.forward_backward::<T>(batch, members, values, theta, acc, s),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn run_batch_avx512<T: Message>(
        &self,
        batch: &Batch,
        members: &[u32],
        values: &Values,
        theta: &[f64],
        acc: &mut Acc,
        s: &mut Scratch,
    ) -> Ran {
        self.forward_backward::<T>(batch, members, values, theta, acc, s)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_batch_avx2<T: Message>(
        &self,
        batch: &Batch,
        members: &[u32],
        values: &Values,
        theta: &[f64],
        acc: &mut Acc,
        s: &mut Scratch,
    ) -> Ran {
        self.forward_backward::<T>(batch, members, values, theta, acc, s)
    }

    #[inline(always)]
    fn forward_backward<T: Message>(
        &self,
        batch: &Batch,
        members: &[u32],
        values: &Values,
        theta: &[f64],
        acc: &mut Acc,
        s: &mut Scratch,
    ) -> Ran {
        let (k, n, rows) = (self.k, batch.len, members.len());
        let bk = rows * k;
        let Scratch {
            wide,
            narrow,
            x,
            ld,
            g,
            y,
            starts,
            weights,
            log_z,
            scales,
            ids,
            log_density,
        } = s;
        let Messages {
            alpha,
            u: unary_values,
            inverse,
            beta,
            w,
            weighted,
            post,
            block,
        } = T::messages(wide, narrow);
        let (unary_table, pair_packed, pair_packed_t) = T::tables(values);
        starts.clear();
        weights.clear();
        log_z.clear();
        let full = rows == batch.members.len();
        if !full {
            ids.resize(n * rows, 0);
        }
        // Without densities, constants or members left out, the batch holds all this; else
        // each member's instance is looked up (they lie all over the data).
        let dense = !self.densities.list.is_empty();
        let plain = full && !dense && !batch.constants;
        if plain {
            log_z.resize(rows, 0.0);
        }
        for (b, m) in members.iter().enumerate().filter(|_| !plain) {
            let i = &self.instances[*m as usize];
            starts.push(i.unary.start);
            weights.push(i.weight);
            log_z.push(
                self.constants[i.constants.clone()]
                    .iter()
                    .map(|e| value(*e, theta).ln())
                    .sum(),
            );
            if !full {
                for (t, u) in self.unary[i.unary.clone()].iter().enumerate() {
                    ids[t * rows + b] = *u;
                }
            }
        }
        let ids: &[u32] = if full { &batch.ids } else { ids };
        let weights: &[f64] = if plain { &batch.weights } else { weights };
        // Without densities a position's unary values are its product's row of
        // `values.unary`, read in place; with them, each position gets its own copy.
        alpha.resize(n * bk, T::ZERO);
        inverse.resize(n * rows, T::ZERO);
        // Each position's unary values: the product of its tables, times its densities
        // scaled to a maximum of 1 (the log of the scale goes into log Z).
        if dense {
            unary_values.resize(n * bk, T::ZERO);
            log_density.resize(k, 0.0);
        }
        for t in 0..n {
            let ids_t = &ids[t * rows..(t + 1) * rows];
            if !dense {
                for (z, u) in log_z.iter_mut().zip(ids_t) {
                    *z += values.unary_log[*u as usize];
                }
                continue;
            }
            let batched = self.batched_set(starts, t);
            if let Some((set, dim)) = batched {
                self.gather(starts, t, dim, x);
                densities::batch_log_densities(
                    x,
                    dim,
                    self.densities.rowsets.table(set as usize),
                    theta,
                    &values.inverses,
                    ld,
                    y,
                );
            }
            for (b, u_row) in unary_values[t * bk..(t + 1) * bk]
                .chunks_exact_mut(k)
                .enumerate()
            {
                let u = ids_t[b] as usize;
                u_row.copy_from_slice(&unary_table[u * k..(u + 1) * k]);
                log_z[b] += values.unary_log[u];
                let here = self.densities.at_position(starts[b] + t);
                if here.is_empty() {
                    continue;
                }
                if batched.is_some() {
                    log_density.copy_from_slice(&ld[b * k..(b + 1) * k]);
                } else {
                    log_density.fill(0.0);
                }
                for (set, obs) in here.iter().filter(|_| batched.is_none()) {
                    let x = self.densities.observation(*obs);
                    for (l, e) in log_density
                        .iter_mut()
                        .zip(self.densities.rowsets.table(*set as usize))
                    {
                        if let Entry::Density { row, .. } = e {
                            *l += density::log_density(
                                &density::row(&theta[*row as usize..], x.len()),
                                x,
                            );
                        }
                    }
                }
                let m = log_density
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max);
                log_z[b] += m;
                u_row
                    .iter_mut()
                    .zip(log_density.iter())
                    .for_each(|(v, l)| *v = T::from_f64(v.to_f64() * (l - m).exp()));
            }
        }
        // The unary values of position `t`, member `b`.
        let unary: &[T] = if dense { unary_values } else { unary_table };
        let unary_at = |t: usize, b: usize| -> &[T] {
            let at = if dense {
                t * rows + b
            } else {
                ids[t * rows + b] as usize
            };
            &unary[at * k..(at + 1) * k]
        };
        // Forward: alpha_t = (alpha_{t-1} P_t) .* u_t, each row scaled to sum 1.
        let mut sound = true;
        scales.clear();
        scales.resize(rows, Scales::ONE);
        for t in 0..n {
            let (done, rest) = alpha.split_at_mut(t * bk);
            let cur = &mut rest[..bk];
            if t == 0 {
                cur.fill(T::ONE);
            } else {
                let p = batch.pairs[t - 1] as usize;
                let prev = View::new(&done[(t - 1) * bk..], rows, k);
                gemm_packed(prev, &pair_packed[p], cur);
                log_z.iter_mut().for_each(|z| *z += values.pair_log[p]);
            }
            // Every row's sum first, then every row scaled: a row's scaling waits on its sum
            // and the division after it, which rows in turn could not hide (a fifth of the
            // batch's time at 10 states); all sums first leave the divisions independent.
            let sums = &mut inverse[t * rows..(t + 1) * rows];
            for (b, (row, sum)) in cur.chunks_exact_mut(k).zip(sums.iter_mut()).enumerate() {
                if let (false, Some(id)) = (dense, ids.get(t * rows + b + AHEAD)) {
                    let id = *id as usize;
                    prefetch(&unary_table[id * k..(id + 1) * k]);
                }
                *sum = multiply_and_sum(row, unary_at(t, b));
            }
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
        }
        if !sound {
            return Ran::Unsound;
        }
        log_z
            .iter_mut()
            .zip(scales.iter())
            .for_each(|(z, s)| *z += s.ln());
        let dead: Vec<u32> = members
            .iter()
            .zip(log_z.iter())
            .filter(|(_, z)| !z.is_finite())
            .map(|(m, _)| *m)
            .collect();
        if !dead.is_empty() {
            return Ran::Dead(dead);
        }
        // Backward: beta_{t-1} = w_t P_t^T with w_t = u_t .* beta_t / c_t; the state posterior
        // is alpha_t .* beta_t and the edge posterior alpha_{t-1}(i) P_t(i, j) w_t(j).
        beta.clear();
        beta.resize(bk, T::ONE);
        w.resize(bk, T::ZERO);
        weighted.resize(n * bk, T::ZERO);
        if T::SINGLE {
            post.resize(n * bk, T::ZERO);
        }
        g.resize(bk, 0.0);
        for t in (0..n).rev() {
            let batched = if dense {
                self.batched_set(starts, t)
            } else {
                None
            };
            let alpha_t = &alpha[t * bk..(t + 1) * bk];
            // One pass per row: the state posterior into the counts (single precision: into
            // `post`, counted once the batch is through) and, before the first position, the
            // message for the step back (plain and instance-weighted).
            for (b, (((a_row, b_row), w_row), wt_row)) in alpha_t
                .chunks_exact(k)
                .zip(beta.chunks_exact(k))
                .zip(w.chunks_exact_mut(k))
                .zip(weighted[t * bk..(t + 1) * bk].chunks_exact_mut(k))
                .enumerate()
            {
                let u = ids[t * rows + b] as usize;
                let weight = weights[b];
                // The row `AHEAD` further on in backward order: this position's, then the
                // previous position's.
                let ahead = match (b + AHEAD).checked_sub(rows) {
                    None => Some(t * rows + b + AHEAD),
                    Some(back) => (t > 0 && back < rows).then(|| (t - 1) * rows + back),
                };
                if let Some(next) = ahead {
                    let id = ids[next] as usize;
                    if !T::SINGLE {
                        prefetch(&acc.unary[id * k..(id + 1) * k]);
                    }
                    if !dense {
                        prefetch(&unary_table[id * k..(id + 1) * k]);
                    }
                }
                if dense {
                    if batched.is_some() {
                        for ((g, a), be) in g[b * k..(b + 1) * k].iter_mut().zip(a_row).zip(b_row) {
                            *g = weight * a.to_f64() * be.to_f64();
                        }
                    }
                    for (set, obs) in self
                        .densities
                        .at_position(starts[b] + t)
                        .iter()
                        .filter(|_| batched.is_none())
                    {
                        let x = self.densities.observation(*obs);
                        let width = density::width(x.len());
                        for ((e, a), be) in self
                            .densities
                            .rowsets
                            .table(*set as usize)
                            .iter()
                            .zip(a_row)
                            .zip(b_row)
                        {
                            if let Entry::Density { row, .. } = e {
                                let row = *row as usize;
                                density::add_stats(
                                    &density::row(&theta[row..], x.len()),
                                    x,
                                    weight * a.to_f64() * be.to_f64(),
                                    &mut acc.stats[row..row + width],
                                );
                            }
                        }
                    }
                }
                let step = Step {
                    weight,
                    inv: if t == 0 {
                        None
                    } else {
                        Some(inverse[t * rows + b])
                    },
                    alpha: a_row,
                    beta: b_row,
                    unary: unary_at(t, b),
                };
                if T::SINGLE {
                    let at = (t * rows + b) * k;
                    let out = &mut post[at..at + k];
                    if !step.message_and_posterior(out, w_row, wt_row) {
                        return Ran::Unsound;
                    }
                } else {
                    step.count_and_message(&mut acc.unary[u * k..(u + 1) * k], w_row, wt_row);
                }
            }
            if let Some((set, dim)) = batched {
                self.gather(starts, t, dim, x);
                densities::batch_stats(
                    x,
                    dim,
                    self.densities.rowsets.table(set as usize),
                    g,
                    &mut acc.stats,
                    y,
                );
            }
            if t == 0 {
                break;
            }
            let p = batch.pairs[t - 1] as usize;
            gemm_packed(View::new(w, rows, k), &pair_packed_t[p], beta);
        }
        if T::SINGLE {
            for (i, (row, u)) in post[..n * bk].chunks_exact(k).zip(ids).enumerate() {
                if let Some(id) = ids.get(i + AHEAD) {
                    let id = *id as usize;
                    prefetch(&acc.unary[id * k..(id + 1) * k]);
                }
                let u = *u as usize;
                let out = &mut acc.unary[u * k..(u + 1) * k];
                out.iter_mut().zip(row).for_each(|(o, p)| *o += p.to_f64());
            }
        }
        for ((m, z), weight) in members.iter().zip(log_z.iter()).zip(weights.iter()) {
            acc.log_likelihood += weight * z;
            acc.instances += 1;
            if !batch.constants {
                continue;
            }
            let i = &self.instances[*m as usize];
            for e in &self.constants[i.constants.clone()] {
                if let Entry::Param(p) = e {
                    acc.constants.push((*p, i.weight));
                }
            }
        }
        self.edge_counts(batch, rows, alpha, weighted, block, &mut acc.pair);
        Ran::Counted
    }

    /// Adds `alpha_{t-1}^T w_t` (w instance-weighted) for every edge to its pair product's
    /// counts: one product over all positions when they share a pair product (an HMM), so
    /// the matrix kernel runs on long operands.
    fn edge_counts<T: Message>(
        &self,
        batch: &Batch,
        rows: usize,
        alpha: &[T],
        weighted: &[T],
        block: &mut Vec<T>,
        out: &mut [f64],
    ) {
        let (k, n) = (self.k, batch.len);
        let bk = rows * k;
        let Some(first) = batch.pairs.first() else {
            return;
        };
        let kk = k * k;
        if batch.pairs.iter().all(|p| p == first) {
            let p = *first as usize;
            T::add_edge_counts(
                View::new(&alpha[..(n - 1) * bk], (n - 1) * rows, k),
                View::new(&weighted[bk..n * bk], (n - 1) * rows, k),
                &mut out[p * kk..(p + 1) * kk],
                block,
            );
            return;
        }
        for t in 1..n {
            let p = batch.pairs[t - 1] as usize;
            T::add_edge_counts(
                View::new(&alpha[(t - 1) * bk..t * bk], rows, k),
                View::new(&weighted[t * bk..(t + 1) * bk], rows, k),
                &mut out[p * kk..(p + 1) * kk],
                block,
            );
        }
    }
}

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
    fn times(&mut self, x: f64) {
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

    fn ln(&self) -> f64 {
        self.log + (self.mantissa.ln() + self.exponent as f64 * std::f64::consts::LN_2)
    }
}

/// Rows ahead of the current one whose unary values and counts are fetched into cache early:
/// an HMM reads them by word, in an order no hardware prefetcher can guess.
const AHEAD: usize = 4;

/// `row *= u` and the new sum, in four lanes so that the loop vectorises (a single running
/// sum would be a chain of dependent additions).
fn multiply_and_sum<T: Message>(row: &mut [T], u: &[T]) -> T {
    let mut lanes = [T::ZERO; 4];
    let mut rows = row.chunks_exact_mut(4);
    let mut us = u.chunks_exact(4);
    for (r, x) in (&mut rows).zip(&mut us) {
        for i in 0..4 {
            r[i] *= x[i];
            lanes[i] += r[i];
        }
    }
    for (r, x) in rows.into_remainder().iter_mut().zip(us.remainder()) {
        *r *= *x;
        lanes[0] += *r;
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

/// One row of the backward pass: its state posterior and, after the first position, the
/// message for the step back.
struct Step<'a, T> {
    weight: f64,
    /// `1 / c_t`, the forward pass's scale at this position; none at the first.
    inv: Option<T>,
    alpha: &'a [T],
    beta: &'a [T],
    unary: &'a [T],
}

impl<T: Message> Step<'_, T> {
    /// `out += weight * alpha .* beta` in double precision and, after the first position, `w
    /// = unary .* beta / c_t` and `weighted = weight * w`, over indices: one long zip of six
    /// slices does not vectorise, and these element-wise products give the same bits in any
    /// order.
    #[inline(always)]
    fn count_and_message(&self, out: &mut [f64], w: &mut [T], weighted: &mut [T]) {
        let (k, weight) = (out.len(), self.weight);
        let (a, be) = (&self.alpha[..k], &self.beta[..k]);
        for j in 0..k {
            out[j] += weight * a[j].to_f64() * be[j].to_f64();
        }
        self.message(w, weighted);
    }

    /// `count_and_message` with the posterior written to `out` in `T` (for single precision,
    /// which counts a batch only once it is through), and whether every entry of `beta` is
    /// safe to carry on.
    #[inline(always)]
    fn message_and_posterior(&self, out: &mut [T], w: &mut [T], weighted: &mut [T]) -> bool {
        let (k, weight) = (out.len(), T::from_f64(self.weight));
        let (a, be) = (&self.alpha[..k], &self.beta[..k]);
        let mut sound = true;
        for j in 0..k {
            out[j] = weight * a[j] * be[j];
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
