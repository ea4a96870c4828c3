//! One batch's forward sweep and its reverse. Values are laid out joint value by joint value,
//! the batch's lanes innermost, so that a contraction of every lane at once is a matrix
//! product per value of the axes it keeps, with the lanes as its columns. Every step's output
//! is kept (the tape), and a scaling step's output scaled per lane by the inverse of the
//! largest value of the previous scaling step's output, in the pass that multiplies in its
//! unary factors (instead of a pass of its own over every such output), so that its
//! largest value is about its own step's factor (`deferred`). The
//! reverse sweep carries each lane's derivative of `weight * Z / Z` (Z held fixed) back
//! through the steps, so that a value times its derivative is its posterior mass times the
//! weight.

use super::{Batch, FrontierKernel, Kind, Values};
use crate::graph::Entry;
use crate::infer::CountStore;
use crate::kernel::strided::{
    add_dots, gather_rows, product_strided, scatter_add_rows, Strided, StridedMut,
};

#[derive(Default)]
pub struct Work {
    tape: Vec<f64>,
    g: Vec<f64>,
    h: Vec<f64>,
    /// Per step and lane, the inverse of the scale its output was divided by.
    inv: Vec<f64>,
    /// Per lane, the log of every scale and unary table's scale.
    logs: Vec<f64>,
    ones: Vec<f64>,
    /// Per unary slot and lane, where the lane's table starts.
    base: Vec<usize>,
    /// Per entry of one unary slot's tables and lane: its mass, and its value.
    mass: Vec<f64>,
    vals: Vec<f64>,
    voff: Vec<usize>,
    marg: Vec<f64>,
    max: Vec<f64>,
    /// Per lane, the factor the next scaling step applies (the inverse of the largest value
    /// of the last scaled output, or 1), and the factor being found for the step after.
    pending: Vec<f64>,
    next: Vec<f64>,
    /// The lanes whose probability the sweep could not hold (or that have none).
    pub dead: Vec<usize>,
}

/// One batch's sweeps, compiled for AVX2 where the processor has it: the passes over the
/// frontier's rows (the unary factors, the scaling, the masses) take four lanes a register
/// instead of two. Neither build fuses a multiply and an add, so both give the same bits.
pub fn count_batch(
    k: &FrontierKernel,
    batch: &Batch,
    v: &Values,
    theta: &[f64],
    w: &mut Work,
    store: &mut CountStore,
    mass: (&mut [f64], &mut [f64]),
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, just checked.
        return unsafe { count_batch_avx2(k, batch, v, theta, w, store, mass) };
    }
    sweeps(k, batch, v, theta, w, store, mass)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn count_batch_avx2(
    k: &FrontierKernel,
    batch: &Batch,
    v: &Values,
    theta: &[f64],
    w: &mut Work,
    store: &mut CountStore,
    mass: (&mut [f64], &mut [f64]),
) {
    sweeps(k, batch, v, theta, w, store, mass)
}

#[inline(always)]
fn sweeps(
    k: &FrontierKernel,
    batch: &Batch,
    v: &Values,
    theta: &[f64],
    w: &mut Work,
    store: &mut CountStore,
    (tmass, umass): (&mut [f64], &mut [f64]),
) {
    let shape = &k.shapes[batch.shape as usize];
    let n = batch.members.len();
    w.tape.resize(shape.tape * n, 0.0);
    w.g.resize(shape.widest * n, 0.0);
    w.h.resize(shape.widest * n, 0.0);
    w.inv.resize(shape.steps.len() * n, 1.0);
    w.logs.clear();
    w.logs.resize(n, 0.0);
    w.ones.clear();
    w.ones.resize(n, 1.0);
    w.base.clear();
    for s in 0..shape.slots {
        for (lane, m) in batch.members.iter().enumerate() {
            let t = k.slots[k.instances[*m as usize].slots.start as usize + s];
            w.base.push(k.table_start[t as usize]);
            w.logs[lane] += v.table_log[t as usize];
        }
    }
    let first = &k.instances[batch.members[0] as usize];
    let lens = |slot: usize| match shape.in_place[slot] {
        true => 0,
        false => k.table(k.slots[first.slots.start as usize + slot]).len(),
    };
    gather(v, n, shape.slots, lens, &w.base, &mut w.vals, &mut w.voff);
    forward(k, batch, v, w);
    let last = shape.steps.last();
    let final_at = last.map_or(0, |s| s.offset * n);
    let product_log: f64 = batch
        .products
        .iter()
        .map(|p| v.product_log[*p as usize])
        .sum();
    w.dead.clear();
    w.g[batch.live..n].fill(0.0);
    for (lane, m) in batch.members[..batch.live].iter().enumerate() {
        let inst = &k.instances[*m as usize];
        let z = last.map_or(1.0, |_| w.tape[final_at + lane]);
        let constants = &k.constants[inst.constants.start as usize..inst.constants.end as usize];
        let c: f64 = constants.iter().map(|e| super::value(*e, theta).ln()).sum();
        let log_z = z.ln() + w.logs[lane] + product_log + c;
        if !(z > 0.0 && log_z.is_finite()) {
            w.dead.push(lane);
            w.g[lane] = 0.0;
            continue;
        }
        w.g[lane] = inst.weight / z;
        store.log_likelihood += inst.weight * log_z;
        store.instances += 1;
        for e in constants {
            if let Entry::Param(p) = e {
                store.expected[*p as usize] += inst.weight;
            }
        }
    }
    backward(k, batch, v, w, tmass, umass);
}

#[inline(always)]
fn forward(k: &FrontierKernel, batch: &Batch, v: &Values, w: &mut Work) {
    let shape = &k.shapes[batch.shape as usize];
    let n = batch.members.len();
    let mut contract = 0;
    let mut prev = None;
    w.pending.clear();
    w.pending.resize(n, 1.0);
    w.next.resize(n, 1.0);
    for (i, st) in shape.steps.iter().enumerate() {
        let (before, rest) = w.tape.split_at_mut(st.offset * n);
        let input: &[f64] = match prev {
            Some(at) => &before[at * n..],
            None => &w.ones,
        };
        let out = &mut rest[..st.out_size * n];
        match st.kind {
            Kind::Broadcast => {
                for (x, src) in input[..st.in_size * n].chunks_exact(n).enumerate() {
                    for dst in out[x * st.v_card * n..(x + 1) * st.v_card * n].chunks_exact_mut(n) {
                        dst.copy_from_slice(src);
                    }
                }
            }
            Kind::Contract => {
                let p = batch.products[contract] as usize;
                contract += 1;
                let tt = &v.transposed[v.product_start[p]..v.product_start[p + 1]];
                let (uc, vc) = (st.u_card, st.v_card);
                for (o, (base, s)) in st.groups.iter().enumerate() {
                    let (base, s) = (*base as usize, *s as usize);
                    // out[o, v, :] = sum_u t[s, u, v] in[base + u * stride, :]
                    product_strided(
                        (vc, uc, n),
                        Strided::new(&tt[s * uc * vc..], uc, 1),
                        Strided::new(&input[base * n..], st.u_stride * n, 1),
                        StridedMut::new(&mut out[o * vc * n..], n, 1),
                    );
                }
            }
            Kind::SumOut => {
                for (o, (base, _)) in st.groups.iter().enumerate() {
                    let dst = &mut out[o * n..(o + 1) * n];
                    for u in 0..st.u_card {
                        let at = (*base as usize + u * st.u_stride) * n;
                        let src = &input[at..at + n];
                        if u == 0 {
                            dst.copy_from_slice(src);
                        } else {
                            dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
                        }
                    }
                }
            }
        }
        let max = &mut w.max;
        max.clear();
        max.resize(n, 0.0);
        let pending = &w.pending;
        if st.in_place {
            let base = &w.base[st.slot * n..(st.slot + 1) * n];
            super::unary::multiply(out, &v.table, base, pending, max);
        }
        for (j, proj) in st.unary.iter().enumerate().filter(|_| !st.in_place) {
            let proj = &k.projections[*proj as usize];
            let vals = &w.vals[w.voff[st.slot + j]..];
            let last = j + 1 == st.unary.len() && st.rescale;
            for (row, x) in out.chunks_exact_mut(n).zip(proj) {
                let u = &vals[*x as usize * n..][..n];
                if last {
                    // The last factor's pass also applies the scale the step before found,
                    // and finds each lane's largest value.
                    for (((o, u), c), m) in row.iter_mut().zip(u).zip(pending).zip(max.iter_mut()) {
                        *o = *o * u * c;
                        *m = m.max(*o);
                    }
                } else {
                    row.iter_mut().zip(u).for_each(|(o, u)| *o *= u);
                }
            }
        }
        let inv = &mut w.inv[i * n..(i + 1) * n];
        if !st.rescale {
            inv.fill(1.0);
        } else {
            if st.unary.is_empty() {
                for row in out.chunks_exact_mut(n) {
                    for ((x, c), m) in row.iter_mut().zip(pending).zip(max.iter_mut()) {
                        *x *= c;
                        *m = m.max(*x);
                    }
                }
            }
            // The output keeps its largest value `m` (its scale waits for the next scaling
            // step's pass over its own output), unless `m` is so far from 1 that the next
            // step's values, `m` times a position's factor, could leave the exponent's range:
            // then the output is scaled now. A lane at zero stays at zero: `count_batch`
            // finds it at the end.
            let mut now = false;
            for (((i, m), c), p) in inv.iter_mut().zip(max.iter()).zip(pending).zip(&mut w.next) {
                let near = deferred(*m);
                now |= !near && *m > 0.0;
                *i = if near || *m == 0.0 { *c } else { c / m };
                *p = if near { 1.0 / m } else { 1.0 };
            }
            if now {
                for row in out.chunks_exact_mut(n) {
                    for (x, m) in row.iter_mut().zip(max.iter()) {
                        if !deferred(*m) && *m > 0.0 {
                            *x /= m;
                        }
                    }
                }
            }
            for (log, i) in w.logs.iter_mut().zip(inv.iter()) {
                *log -= i.ln();
            }
            std::mem::swap(&mut w.pending, &mut w.next);
        }
        prev = Some(st.offset);
    }
}

/// Whether an output whose largest value is `m` may stay unscaled until the next scaling
/// step: within 2^-128..=2^128, so that the next step's values (`m` times a position's
/// factor) lose at most 128 of the exponent's 2046 binary orders to the wait.
fn deferred(m: f64) -> bool {
    const ABOVE: f64 = 3.402823669209385e38; // 2^128
    (1.0 / ABOVE..=ABOVE).contains(&m)
}

/// The reverse sweep: each contraction's table mass into `tmass`, each unary table's into
/// `umass` (both laid out as the kernel's products and tables are).
#[inline(always)]
fn backward(
    k: &FrontierKernel,
    batch: &Batch,
    v: &Values,
    w: &mut Work,
    tmass: &mut [f64],
    umass: &mut [f64],
) {
    let shape = &k.shapes[batch.shape as usize];
    let n = batch.members.len();
    let mut contract = batch.products.len();
    for (i, st) in shape.steps.iter().enumerate().rev() {
        let input: &[f64] = match i {
            0 => &w.ones,
            _ => &w.tape[shape.steps[i - 1].offset * n..],
        };
        let out = &w.tape[st.offset * n..][..st.out_size * n];
        let g = &mut w.g[..st.out_size * n];
        // A joint value's posterior mass (times the weight) is its value times its
        // derivative; a unary factor's entry gets the mass of the values that read it,
        // before any factor is divided out of the derivative. A factor over the whole
        // output (a mixture's emissions) reads each value once: its masses are the values',
        // added where its table lies (`unary`; such a step always scales, so `in_place`).
        let inv = &w.inv[i * n..(i + 1) * n];
        if st.in_place {
            let base = &w.base[st.slot * n..(st.slot + 1) * n];
            super::unary::mass_and_derivative(out, g, &v.table, base, inv, umass);
        } else {
            if !st.unary.is_empty() {
                w.marg.clear();
                w.marg.extend(out.iter().zip(g.iter()).map(|(o, d)| o * d));
            }
            for (j, p) in st.unary.iter().enumerate() {
                let proj = &k.projections[*p as usize];
                let slot = st.slot + j;
                let first = k.instances[batch.members[0] as usize].slots.start as usize;
                let len = k.table(k.slots[first + slot]).len();
                w.mass.clear();
                w.mass.resize(len * n, 0.0);
                for (row, e) in w.marg.chunks_exact(n).zip(proj) {
                    let acc = &mut w.mass[*e as usize * n..][..n];
                    acc.iter_mut().zip(row).for_each(|(a, m)| *a += m);
                }
                scatter_add_rows(&w.mass, &w.base[slot * n..(slot + 1) * n], len, umass);
            }
            for (j, p) in st.unary.iter().enumerate() {
                let proj = &k.projections[*p as usize];
                let vals = &w.vals[w.voff[st.slot + j]..];
                let last = j + 1 == st.unary.len();
                for (row, x) in g.chunks_exact_mut(n).zip(proj) {
                    let u = &vals[*x as usize * n..][..n];
                    if last {
                        for ((d, u), i) in row.iter_mut().zip(u).zip(inv) {
                            *d = *d * u * i;
                        }
                    } else {
                        row.iter_mut().zip(u).for_each(|(d, u)| *d *= u);
                    }
                }
            }
        }
        if st.unary.is_empty() && st.rescale {
            for row in g.chunks_exact_mut(n) {
                row.iter_mut().zip(inv).for_each(|(d, i)| *d *= i);
            }
        }
        let h = &mut w.h[..st.in_size * n];
        match st.kind {
            Kind::Broadcast => {
                for (x, dst) in h.chunks_exact_mut(n).enumerate() {
                    let rows = &g[x * st.v_card * n..(x + 1) * st.v_card * n];
                    dst.copy_from_slice(&rows[..n]);
                    for src in rows.chunks_exact(n).skip(1) {
                        dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
                    }
                }
            }
            Kind::Contract => {
                contract -= 1;
                let p = batch.products[contract] as usize;
                let at = v.product_start[p];
                let t = &v.product[at..v.product_start[p + 1]];
                let (uc, vc) = (st.u_card, st.v_card);
                for (o, (base, s)) in st.groups.iter().enumerate() {
                    let (base, s) = (*base as usize, *s as usize);
                    let g_o = &g[o * vc * n..(o + 1) * vc * n];
                    // d in[base + u * stride, :] = sum_v t[s, u, v] d out[o, v, :]
                    product_strided(
                        (uc, vc, n),
                        Strided::new(&t[s * uc * vc..], vc, 1),
                        Strided::new(g_o, n, 1),
                        StridedMut::new(&mut h[base * n..], st.u_stride * n, 1),
                    );
                    // d t[s, u, v] += sum_lanes in[base + u * stride, :] d out[o, v, :]
                    add_dots(
                        (uc, vc, n),
                        Strided::new(&input[base * n..], st.u_stride * n, 1),
                        Strided::new(g_o, n, 1),
                        StridedMut::new(&mut tmass[at + s * uc * vc..], vc, 1),
                    );
                }
            }
            Kind::SumOut => {
                for (o, (base, _)) in st.groups.iter().enumerate() {
                    for u in 0..st.u_card {
                        let at = (*base as usize + u * st.u_stride) * n;
                        h[at..at + n].copy_from_slice(&g[o * n..(o + 1) * n]);
                    }
                }
            }
        }
        std::mem::swap(&mut w.g, &mut w.h);
    }
}

/// Writes the values of each lane's table in every unary slot into `vals`, entry by entry,
/// lanes innermost, and where each slot's start into `voff`.
fn gather(
    v: &Values,
    n: usize,
    slots: usize,
    lens: impl Fn(usize) -> usize,
    base: &[usize],
    vals: &mut Vec<f64>,
    voff: &mut Vec<usize>,
) {
    voff.clear();
    let mut end = 0;
    for slot in 0..slots {
        voff.push(end);
        end += lens(slot) * n;
    }
    // Every value up to `end` is written below, so `vals` only grows: zeroing it for each
    // batch was 3.5% of W8's time. What lies past `end` is a batch before's, never read.
    if vals.len() < end {
        vals.resize(end, 0.0);
    }
    for slot in 0..slots {
        let (len, at) = (lens(slot), voff[slot]);
        gather_rows(
            &v.table,
            &base[slot * n..(slot + 1) * n],
            len,
            &mut vals[at..],
        );
    }
}
