//! Forward-backward over one batch: the hot loop of the chain kernel. Its passes over each
//! row (`rows`) are inlined into it, so that they are compiled for its instruction set.

use super::precision::{Message, Messages};
use super::rows::{
    ahead_backward, backward_rows, by_width, forward_rows, scale_rows, Rows, Scales, Step,
};

use super::*;
use crate::kernel::gemm::{gemm_packed, Isa};
use crate::kernel::prefetch::prefetch_row as prefetch;

/// What one batch came to.
pub(super) enum Ran {
    /// Counted.
    Counted,
    /// Nothing counted: these members have probability zero.
    Dead(Vec<u32>),
    /// Nothing of this batch counted: single precision could not be trusted with its
    /// forward pass (the unit goes to double precision).
    Unsound,
    /// Single precision could not be trusted with this batch's backward pass, found once
    /// some of the batch was counted (the unit goes to double precision).
    Spoilt,
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
        // The row width the per-token passes are compiled for (0: any).
        let fixed = if self.widths { k } else { 0 };
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
            // Every row's sum, then every row scaled (`rows::forward_rows`).
            let sums = &mut inverse[t * rows..(t + 1) * rows];
            if dense {
                for (b, (row, sum)) in cur.chunks_exact_mut(k).zip(sums.iter_mut()).enumerate() {
                    *sum = T::multiply_and_sum(row, unary_at(t, b), self.isa);
                }
                sound &= scale_rows::<T, 0>(k, cur, sums, scales);
            } else {
                let ids = &ids[t * rows..];
                sound &= by_width!(
                    fixed,
                    forward_rows::<T>(k, cur, ids, unary_table, sums, scales, self.isa)
                );
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
        g.resize(bk, 0.0);
        for t in (0..n).rev() {
            let alpha_t = &alpha[t * bk..(t + 1) * bk];
            if !dense {
                let passes = Rows {
                    t,
                    alpha: alpha_t,
                    beta,
                    w,
                    weighted: &mut weighted[t * bk..(t + 1) * bk],
                    ids,
                    weights,
                    inverse,
                    unary: unary_table,
                    counts: &mut acc.unary,
                };
                if !by_width!(fixed, backward_rows::<T>(k, passes)) {
                    return Ran::Spoilt;
                }
                if t == 0 {
                    break;
                }
                let p = batch.pairs[t - 1] as usize;
                gemm_packed(View::new(w, rows, k), &pair_packed_t[p], beta);
                continue;
            }
            // With densities, `backward_rows`' pass with each row's densities' statistics.
            let batched = self.batched_set(starts, t);
            for (b, (((a_row, b_row), w_row), wt_row)) in alpha_t
                .chunks_exact(k)
                .zip(beta.chunks_exact(k))
                .zip(w.chunks_exact_mut(k))
                .zip(weighted[t * bk..(t + 1) * bk].chunks_exact_mut(k))
                .enumerate()
            {
                let u = ids[t * rows + b] as usize;
                let weight = weights[b];
                if let Some(next) = ahead_backward(t, b, rows) {
                    let id = ids[next] as usize;
                    prefetch(&acc.unary[id * k..(id + 1) * k]);
                }
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
                if !step.count_and_message(&mut acc.unary[u * k..(u + 1) * k], w_row, wt_row) {
                    return Ran::Spoilt;
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
    /// the matrix kernel runs on long operands. Inlined into the batch's function, so that
    /// single precision's additions into the double sums are compiled for its instruction set
    /// (built for the baseline, they took 3% of a W1 iteration).
    #[inline(always)]
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
