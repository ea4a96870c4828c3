//! A unary factor over a step's whole output (a factorial HMM's emission over both chains'
//! states, a mixture's over component and state) read from each lane's table where it lies.
//! Copying every lane's table into the batch's layout first (entries outermost, lanes
//! innermost) wrote a position's worth of values per lane that each sweep then read back:
//! with the tape, more than the second-level cache holds, so that the copy and the two
//! passes over it were a fifth of W8's time. Here each pass transposes four lanes' rows
//! in registers as it goes. Both passes do what the plain loops do in the same order, so
//! they give the same bits as the copy did.

/// Per entry `e < out.len() / n` and lane `l < n = base.len()`:
/// `out[e * n + l] = out[e * n + l] * src[base[l] + e] * c[l]`, and `max[l]` the largest
/// of itself and the lane's new values.
pub fn multiply(out: &mut [f64], src: &[f64], base: &[usize], c: &[f64], max: &mut [f64]) {
    let n = base.len();
    if n == 0 {
        return;
    }
    let len = out.len() / n;
    let top = base.iter().max().map_or(0, |b| b + len);
    assert!(
        top <= src.len() && c.len() == n && max.len() == n && out.len() == len * n,
        "rows inside the slices"
    );
    #[cfg(target_arch = "x86_64")]
    if n.is_multiple_of(4) && crate::kernel::gemm::avx2::available() {
        // SAFETY: AVX2 was detected just above; the assert bounds every read of `src` at
        // `base[l] + e < src.len()` and every access of `out` at `e * n + l < out.len()`.
        unsafe { avx2::multiply(out, src, base, c, max) };
        return;
    }
    multiply_plain(out, src, base, c, max);
}

fn multiply_plain(out: &mut [f64], src: &[f64], base: &[usize], c: &[f64], max: &mut [f64]) {
    let n = base.len();
    for (e, row) in out.chunks_exact_mut(n).enumerate() {
        for (l, (o, m)) in row.iter_mut().zip(max.iter_mut()).enumerate() {
            *o = *o * src[base[l] + e] * c[l];
            *m = m.max(*o);
        }
    }
}

/// Per entry `e < o.len() / n` and lane `l < n = base.len()`, lanes in order:
/// `dst[base[l] + e] += o[e * n + l] * g[e * n + l]` (the value's mass into its lane's
/// table), then `g[e * n + l] = g[e * n + l] * src[base[l] + e] * c[l]` (the derivative
/// through the factor and the step's scale).
pub fn mass_and_derivative(
    o: &[f64],
    g: &mut [f64],
    src: &[f64],
    base: &[usize],
    c: &[f64],
    dst: &mut [f64],
) {
    let n = base.len();
    if n == 0 {
        return;
    }
    let len = o.len() / n;
    let top = base.iter().max().map_or(0, |b| b + len);
    assert!(
        top <= src.len()
            && top <= dst.len()
            && c.len() == n
            && o.len() == len * n
            && g.len() == len * n,
        "rows inside the slices"
    );
    #[cfg(target_arch = "x86_64")]
    if n.is_multiple_of(4) && crate::kernel::gemm::avx2::available() {
        // SAFETY: AVX2 was detected just above; the assert bounds every access of `src`
        // and `dst` at `base[l] + e` and of `o` and `g` at `e * n + l`.
        unsafe { avx2::mass_and_derivative(o, g, src, base, c, dst) };
        return;
    }
    mass_and_derivative_plain(o, g, src, base, c, dst);
}

fn mass_and_derivative_plain(
    o: &[f64],
    g: &mut [f64],
    src: &[f64],
    base: &[usize],
    c: &[f64],
    dst: &mut [f64],
) {
    let (n, len) = (base.len(), o.len() / base.len());
    // Lanes that share a table add in lane order, as the vector path's blocks do.
    for l in 0..n {
        for e in 0..len {
            dst[base[l] + e] += o[e * n + l] * g[e * n + l];
        }
    }
    for (e, row) in g.chunks_exact_mut(n).enumerate() {
        for (l, d) in row.iter_mut().enumerate() {
            *d = *d * src[base[l] + e] * c[l];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use crate::kernel::strided::t4;
    use std::arch::x86_64::*;

    /// Starts loading the line of the next four lanes' rows at entry `e` (once per line of
    /// eight entries, two blocks): each lane's table is its own short run of cache lines,
    /// too short for the hardware to learn before it ends. Spread over the blocks, the
    /// hints do not queue up behind each other as a burst per four lanes did.
    #[inline(always)]
    fn ahead(b: &[usize; 4], e: usize, rows: *const f64) {
        if e.is_multiple_of(8) {
            for b in b {
                // SAFETY: SSE is part of the x86_64 baseline; a prefetch never faults and
                // reads nothing into the program, so any address is sound.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(rows.wrapping_add(b + e).cast()) };
            }
        }
    }

    /// The bases of the four lanes after `l` (the last four's own, where none follow).
    #[inline(always)]
    fn next4(base: &[usize], l: usize) -> [usize; 4] {
        let at = if l + 8 <= base.len() { l + 4 } else { l };
        [base[at], base[at + 1], base[at + 2], base[at + 3]]
    }

    /// # Safety
    /// AVX2 must be available; `base.len()` a multiple of 4, `base[l] + len <= src.len()`,
    /// `out.len() == len * base.len()`, and `c` and `max` as long as `base`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn multiply(
        out: &mut [f64],
        src: &[f64],
        base: &[usize],
        c: &[f64],
        max: &mut [f64],
    ) {
        let n = base.len();
        let len = out.len() / n;
        let (s, o) = (src.as_ptr(), out.as_mut_ptr());
        for l in (0..n).step_by(4) {
            let b = [base[l], base[l + 1], base[l + 2], base[l + 3]];
            let nb = next4(base, l);
            let cv = _mm256_loadu_pd(c.as_ptr().add(l));
            let mut mv = _mm256_loadu_pd(max.as_ptr().add(l));
            let mut e = 0;
            while e + 4 <= len {
                ahead(&nb, e, s);
                let u = t4(b.map(|b| _mm256_loadu_pd(s.add(b + e))));
                for (i, u) in u.iter().enumerate() {
                    let p = o.add((e + i) * n + l);
                    let x = _mm256_mul_pd(_mm256_mul_pd(_mm256_loadu_pd(p), *u), cv);
                    // `max(x, m)` is `m` where `x` is NaN, as `f64::max` keeps its number.
                    mv = _mm256_max_pd(x, mv);
                    _mm256_storeu_pd(p, x);
                }
                e += 4;
            }
            _mm256_storeu_pd(max.as_mut_ptr().add(l), mv);
            for e in e..len {
                for (j, b) in b.iter().enumerate() {
                    let x = o.add(e * n + l + j);
                    *x = *x * *s.add(b + e) * c[l + j];
                    max[l + j] = max[l + j].max(*x);
                }
            }
        }
    }

    /// # Safety
    /// AVX2 must be available; `base.len()` a multiple of 4, `base[l] + len` at most the
    /// lengths of `src` and `dst`, `o` and `g` of `len * base.len()`, `c` as long as `base`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn mass_and_derivative(
        o: &[f64],
        g: &mut [f64],
        src: &[f64],
        base: &[usize],
        c: &[f64],
        dst: &mut [f64],
    ) {
        let n = base.len();
        let len = o.len() / n;
        let (s, op, gp, d) = (src.as_ptr(), o.as_ptr(), g.as_mut_ptr(), dst.as_mut_ptr());
        for l in (0..n).step_by(4) {
            let b = [base[l], base[l + 1], base[l + 2], base[l + 3]];
            let nb = next4(base, l);
            let cv = _mm256_loadu_pd(c.as_ptr().add(l));
            let mut e = 0;
            while e + 4 <= len {
                ahead(&nb, e, s);
                ahead(&nb, e, d);
                let at = [0, 1, 2, 3].map(|i| (e + i) * n + l);
                let gv = at.map(|a| _mm256_loadu_pd(gp.add(a)));
                let m = [0, 1, 2, 3].map(|i| _mm256_mul_pd(_mm256_loadu_pd(op.add(at[i])), gv[i]));
                // One lane's four entries at a time, in lane order: lanes with the same
                // table (the same word) add one after the other.
                for (r, b) in t4(m).iter().zip(&b) {
                    let p = d.add(b + e);
                    _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), *r));
                }
                let u = t4(b.map(|b| _mm256_loadu_pd(s.add(b + e))));
                for i in 0..4 {
                    let x = _mm256_mul_pd(_mm256_mul_pd(gv[i], u[i]), cv);
                    _mm256_storeu_pd(gp.add(at[i]), x);
                }
                e += 4;
            }
            for e in e..len {
                for (j, b) in b.iter().enumerate() {
                    let a = e * n + l + j;
                    *d.add(b + e) += *op.add(a) * *gp.add(a);
                }
            }
            for e in e..len {
                for (j, b) in b.iter().enumerate() {
                    let a = e * n + l + j;
                    *gp.add(a) = *gp.add(a) * *s.add(b + e) * c[l + j];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::strided::tests::numbers;

    type Multiply = fn(&mut [f64], &[f64], &[usize], &[f64], &mut [f64]);
    type Mass = fn(&[f64], &mut [f64], &[f64], &[usize], &[f64], &mut [f64]);

    /// Both passes against their definitions, bit for bit, for rows of lengths around the
    /// vector's four entries and lanes that share a table (whose masses add in lane order):
    /// the build this processor runs and the plain loops.
    #[test]
    fn the_passes_do_what_their_definitions_say() {
        let builds: [(Multiply, Mass); 2] = [
            (multiply, mass_and_derivative),
            (multiply_plain, mass_and_derivative_plain),
        ];
        for (multiply, mass_and_derivative) in builds {
            check(multiply, mass_and_derivative);
        }
    }

    fn check(multiply: Multiply, mass_and_derivative: Mass) {
        for len in [1usize, 3, 4, 5, 8, 11, 100] {
            for n in [4usize, 8, 12] {
                let src = numbers(len * 5, len as u64);
                // Lanes 0 and 2 read the same table; the rest apart.
                let base: Vec<usize> = (0..n).map(|l| [2, 1, 2, 0, 4, 3][l % 6] * len).collect();
                let c = numbers(n, 9);
                let out0 = numbers(len * n, 10);
                let mut max = vec![0.25; n];
                let mut out = out0.clone();
                multiply(&mut out, &src, &base, &c, &mut max);
                for l in 0..n {
                    let mut m = 0.25f64;
                    for e in 0..len {
                        let want = out0[e * n + l] * src[base[l] + e] * c[l];
                        assert_eq!(out[e * n + l].to_bits(), want.to_bits(), "({len}, {n})");
                        m = m.max(want);
                    }
                    assert_eq!(max[l], m, "({len}, {n})");
                }
                let g0 = numbers(len * n, 11);
                let mut g = g0.clone();
                let mut dst = numbers(src.len(), 12);
                let mut want_dst = dst.clone();
                mass_and_derivative(&out, &mut g, &src, &base, &c, &mut dst);
                for l in 0..n {
                    for e in 0..len {
                        want_dst[base[l] + e] += out[e * n + l] * g0[e * n + l];
                        let want = g0[e * n + l] * src[base[l] + e] * c[l];
                        assert_eq!(g[e * n + l].to_bits(), want.to_bits(), "({len}, {n})");
                    }
                }
                assert_eq!(dst, want_dst, "({len}, {n})");
            }
        }
    }
}
