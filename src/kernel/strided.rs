//! Matrix products over slices of tensors: operands read through any row and column
//! strides, for the frontier kernel, whose contractions are many small products over a
//! sweep's values with the batch's lanes innermost. The hand-written kernels of `gemm` run
//! them when the processor has them and the rows are contiguous; matrixmultiply otherwise.

use super::gemm::product_small;
#[cfg(target_arch = "x86_64")]
use super::gemm::{avx2, avx512};

/// A matrix read from a slice with any non-negative row and column strides (a slice of a
/// tensor with one axis as rows and another as columns).
#[derive(Clone, Copy)]
pub struct Strided<'a> {
    data: &'a [f64],
    rs: usize,
    cs: usize,
}

impl<'a> Strided<'a> {
    pub fn new(data: &'a [f64], rs: usize, cs: usize) -> Strided<'a> {
        Strided { data, rs, cs }
    }
}

/// The output of `gemm_strided`.
pub struct StridedMut<'a> {
    data: &'a mut [f64],
    rs: usize,
    cs: usize,
}

impl<'a> StridedMut<'a> {
    pub fn new(data: &'a mut [f64], rs: usize, cs: usize) -> StridedMut<'a> {
        StridedMut { data, rs, cs }
    }
}

/// The last index a `rows` x `cols` matrix with these strides reaches, plus one.
fn reach(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    (rows - 1) * rs + (cols - 1) * cs + 1
}

/// `c = a * b + beta * c` for `(m, k, n)`: `a` is m x k, `b` k x n, `c` m x n, each read
/// through its strides (`c`'s must not make two entries one).
pub fn gemm_strided(
    (m, k, n): (usize, usize, usize),
    a: Strided,
    b: Strided,
    beta: f64,
    c: StridedMut,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        k == 0
            || (reach(m, k, a.rs, a.cs) <= a.data.len() && reach(k, n, b.rs, b.cs) <= b.data.len()),
        "the operands' strides must stay inside their slices"
    );
    assert!(
        reach(m, n, c.rs, c.cs) <= c.data.len(),
        "the output's strides must stay inside its slice"
    );
    // SAFETY: the asserts keep every index the strides reach inside the slices; `c` is
    // borrowed mutably, so it aliases neither input. With k = 0 matrixmultiply reads
    // neither operand (it scales `c` by beta).
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.data.as_mut_ptr(),
            c.rs as isize,
            c.cs as isize,
        );
    }
}

/// `c = a * b` for `(m, k, n)` with every operand's rows contiguous (`a`, `b` and `c` read
/// with column stride 1 and their own row strides): the hand-written kernel when the processor
/// has it and `b`'s row stride and `n` are multiples of 4 (no packing: the frontier kernel's
/// products are many and small), else `gemm_strided`.
pub fn product_strided((m, k, n): (usize, usize, usize), a: Strided, b: Strided, c: StridedMut) {
    if m == 0 || n == 0 {
        return;
    }
    if a.cs == 1
        && b.cs == 1
        && c.cs == 1
        && n.is_multiple_of(4)
        && a.rs >= k
        && c.rs >= n
        && b.rs >= n
        && b.rs.is_multiple_of(4)
        && product_small((m, k, n), (a.data, a.rs), (b.data, b.rs), (c.data, c.rs))
    {
        return;
    }
    gemm_strided((m, k, n), a, b, 0.0, c);
}

/// `c += a b^T` for `(m, nb, k)`: `a` is m x k and `b` nb x k, both with contiguous rows,
/// `c` m x nb: the hand-written kernel when the processor has it and `k` is a multiple of 4,
/// else matrixmultiply.
pub fn add_dots((m, nb, k): (usize, usize, usize), a: Strided, b: Strided, c: StridedMut) {
    if m == 0 || nb == 0 || k == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if a.cs == 1 && b.cs == 1 && c.cs == 1 && k.is_multiple_of(4) && avx2::available() {
        assert!(
            reach(m, k, a.rs, 1) <= a.data.len()
                && reach(nb, k, b.rs, 1) <= b.data.len()
                && reach(m, nb, c.rs, 1) <= c.data.len(),
            "the operands' strides must stay inside their slices"
        );
        // SAFETY: the features were detected just above (AVX-512F before its kernel); the
        // conditions and the assert are `avx2::dots`'s requirements, which are
        // `avx512::dots`'s.
        unsafe {
            if avx512::available() {
                avx512::dots(a.data, a.rs, m, b.data, b.rs, nb, k, c.data, c.rs)
            } else {
                avx2::dots(a.data, a.rs, m, b.data, b.rs, nb, k, c.data, c.rs)
            }
        };
        return;
    }
    let bt = Strided::new(b.data, b.cs, b.rs);
    gemm_strided((m, k, nb), a, bt, 1.0, c);
}

/// `out[e * n + lane] = src[base[lane] + e]` for `e < len`, `n = base.len()`: each lane's row
/// of `src` (its table) turned into a column of `out`, entries outermost.
pub fn gather_rows(src: &[f64], base: &[usize], len: usize, out: &mut [f64]) {
    let n = base.len();
    let top = base.iter().max().map_or(0, |b| b + len);
    assert!(
        top <= src.len() && out.len() >= len * n,
        "rows inside the slices"
    );
    #[cfg(target_arch = "x86_64")]
    if n.is_multiple_of(4) && avx2::available() {
        // SAFETY: the features were detected just above; the assert bounds every read at
        // `base[lane] + e < src.len()` and every write at `e * n + lane < out.len()`.
        unsafe { transpose::gather(src, base, len, out) };
        return;
    }
    // In blocks of 8 lanes: their rows and the block's columns of `out` stay in cache.
    for (block, bases) in base.chunks(8).enumerate() {
        for (e, row) in out[..len * n].chunks_exact_mut(n).enumerate() {
            let row = &mut row[block * 8..block * 8 + bases.len()];
            row.iter_mut().zip(bases).for_each(|(x, b)| *x = src[b + e]);
        }
    }
}

/// `dst[base[lane] + e] += m[e * n + lane]` for `e < len`, `n = base.len()`: `gather_rows`
/// backwards, adding. Lanes that share a row add in lane order, whichever path runs.
pub fn scatter_add_rows(m: &[f64], base: &[usize], len: usize, dst: &mut [f64]) {
    let n = base.len();
    let top = base.iter().max().map_or(0, |b| b + len);
    assert!(
        top <= dst.len() && m.len() >= len * n,
        "rows inside the slices"
    );
    #[cfg(target_arch = "x86_64")]
    if n.is_multiple_of(4) && avx2::available() {
        // SAFETY: the features were detected just above; the assert bounds every read of
        // `m` at `e * n + lane` and every read and write of `dst` at `base[lane] + e`.
        unsafe { transpose::scatter_add(m, base, len, dst) };
        return;
    }
    for (block, bases) in base.chunks(8).enumerate() {
        for (e, row) in m[..len * n].chunks_exact(n).enumerate() {
            let row = &row[block * 8..block * 8 + bases.len()];
            row.iter().zip(bases).for_each(|(x, b)| dst[b + e] += x);
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) use transpose::t4;

/// 4 x 4 transposes in AVX registers for `gather_rows` and `scatter_add_rows`: four lanes'
/// rows at a time, four entries at a time.
#[cfg(target_arch = "x86_64")]
mod transpose {
    use std::arch::x86_64::*;

    /// Rows `r` as columns: `out[i][j] = r[j][i]`.
    ///
    /// # Safety
    /// AVX must be available.
    #[inline(always)]
    pub unsafe fn t4(r: [__m256d; 4]) -> [__m256d; 4] {
        let t0 = _mm256_unpacklo_pd(r[0], r[1]);
        let t1 = _mm256_unpackhi_pd(r[0], r[1]);
        let t2 = _mm256_unpacklo_pd(r[2], r[3]);
        let t3 = _mm256_unpackhi_pd(r[2], r[3]);
        [
            _mm256_permute2f128_pd(t0, t2, 0x20),
            _mm256_permute2f128_pd(t1, t3, 0x20),
            _mm256_permute2f128_pd(t0, t2, 0x31),
            _mm256_permute2f128_pd(t1, t3, 0x31),
        ]
    }

    /// # Safety
    /// AVX must be available; `base.len()` a multiple of 4, `base[lane] + len <= src.len()`
    /// and `out.len() >= len * base.len()`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn gather(src: &[f64], base: &[usize], len: usize, out: &mut [f64]) {
        let n = base.len();
        let (s, o) = (src.as_ptr(), out.as_mut_ptr());
        for l in (0..n).step_by(4) {
            let b = [base[l], base[l + 1], base[l + 2], base[l + 3]];
            let mut e = 0;
            while e + 4 <= len {
                let r = b.map(|b| _mm256_loadu_pd(s.add(b + e)));
                for (i, c) in t4(r).iter().enumerate() {
                    _mm256_storeu_pd(o.add((e + i) * n + l), *c);
                }
                e += 4;
            }
            for e in e..len {
                for (j, b) in b.iter().enumerate() {
                    *o.add(e * n + l + j) = *s.add(b + e);
                }
            }
        }
    }

    /// # Safety
    /// AVX must be available; `base.len()` a multiple of 4, `base[lane] + len <= dst.len()`
    /// and `m.len() >= len * base.len()`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn scatter_add(m: &[f64], base: &[usize], len: usize, dst: &mut [f64]) {
        let n = base.len();
        let (s, d) = (m.as_ptr(), dst.as_mut_ptr());
        for l in (0..n).step_by(4) {
            let b = [base[l], base[l + 1], base[l + 2], base[l + 3]];
            let mut e = 0;
            while e + 4 <= len {
                let c = [0, 1, 2, 3].map(|i| _mm256_loadu_pd(s.add((e + i) * n + l)));
                // One lane's four entries at a time, in lane order: lanes with the same
                // row (the same word) add one after the other.
                for (r, b) in t4(c).iter().zip(&b) {
                    let p = d.add(b + e);
                    _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), *r));
                }
                e += 4;
            }
            for e in e..len {
                for (j, b) in b.iter().enumerate() {
                    *d.add(b + e) += *s.add(e * n + l + j);
                }
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Numbers in (0, 1) from a fixed generator.
    pub(in crate::kernel) fn numbers(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
            })
            .collect()
    }

    /// The lanes' dot products give AVX2's bits under AVX-512 (two entries to a register),
    /// for every count of rows and columns around the tiles, odd ones included.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn dots_give_the_same_bits_under_both_instruction_sets() {
        if !(avx2::available() && avx512::available()) {
            eprintln!("skipped: this processor lacks AVX-512 or AVX2");
            return;
        }
        for (m, nb, k) in (1..=11).flat_map(|m| [(m, m, 64), (m, 12 - m, 4), (m, 9, 8)]) {
            let (lda, ldb, ldc) = (k + 4, k + 8, nb + 3);
            let a = numbers(m * lda, 4);
            let b = numbers(nb * ldb, 5);
            let mut wide = numbers(m * ldc, 6);
            let mut narrow = wide.clone();
            // SAFETY: both instruction sets were found above; `k` is a multiple of 4 and the
            // slices hold `m` rows of `lda`, `nb` of `ldb` and `m` of `ldc`.
            unsafe {
                avx512::dots(&a, lda, m, &b, ldb, nb, k, &mut wide, ldc);
                avx2::dots(&a, lda, m, &b, ldb, nb, k, &mut narrow, ldc);
            }
            assert_eq!(wide, narrow, "({m}, {nb}, {k})");
        }
    }

    /// The products against plain loops, with strided rows (as a sweep reads a tensor's
    /// slices), for shapes on both sides of the kernels' tiles and vector widths.
    #[test]
    fn strided_products_and_dots_match_plain_loops() {
        for (m, k, n) in [
            (1usize, 1usize, 4usize),
            (3, 5, 8),
            (10, 10, 64),
            (7, 13, 12),
            (20, 20, 36),
            (5, 3, 7),
        ] {
            let (lda, ldb, ldc) = (k + 3, (n + 5).next_multiple_of(4), n + 2);
            let a = numbers(m * lda, 1);
            let b = numbers(k * ldb, 2);
            let mut c = vec![0.5; m * ldc];
            product_strided(
                (m, k, n),
                Strided::new(&a, lda, 1),
                Strided::new(&b, ldb, 1),
                StridedMut::new(&mut c, ldc, 1),
            );
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k).map(|l| a[i * lda + l] * b[l * ldb + j]).sum();
                    assert!(
                        (c[i * ldc + j] - want).abs() < 1e-12,
                        "({m}, {k}, {n}) at ({i}, {j})"
                    );
                }
            }
            // c += a b^T with b's rows `n` long over the same inner dimension `k`.
            let bt = numbers(n * lda, 3);
            let mut d = vec![0.25; m * ldc];
            add_dots(
                (m, n, k),
                Strided::new(&a, lda, 1),
                Strided::new(&bt, lda, 1),
                StridedMut::new(&mut d, ldc, 1),
            );
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = 0.25
                        + (0..k)
                            .map(|l| a[i * lda + l] * bt[j * lda + l])
                            .sum::<f64>();
                    assert!(
                        (d[i * ldc + j] - want).abs() < 1e-12,
                        "dots ({m}, {n}, {k}) at ({i}, {j})"
                    );
                }
            }
        }
    }

    /// Rows gathered into columns and added back, lanes sharing rows included, against plain
    /// loops: the same bits on the vector path (lanes a multiple of 4) and off it.
    #[test]
    fn rows_gather_and_scatter_like_plain_loops() {
        for (lanes, len) in [(4, 1), (8, 3), (12, 30), (5, 7), (64, 100)] {
            let src = numbers(10 * len + 3, 4);
            let base: Vec<usize> = (0..lanes).map(|l| (l * 7 % 10) * len + l % 3).collect();
            let base: Vec<usize> = base.iter().map(|b| (*b).min(src.len() - len)).collect();
            let mut out = vec![0.0; len * lanes];
            gather_rows(&src, &base, len, &mut out);
            for e in 0..len {
                for l in 0..lanes {
                    assert_eq!(out[e * lanes + l], src[base[l] + e]);
                }
            }
            let m = numbers(len * lanes, 5);
            let mut dst = numbers(src.len(), 6);
            let mut want = dst.clone();
            for l in 0..lanes {
                for e in 0..len {
                    want[base[l] + e] += m[e * lanes + l];
                }
            }
            scatter_add_rows(&m, &base, len, &mut dst);
            for (x, y) in dst.iter().zip(&want) {
                assert!((x - y).abs() < 1e-14, "{lanes} lanes, {len} entries");
            }
        }
    }
}
