//! Dense matrix products for the batched kernels. matrixmultiply picks an AVX/FMA
//! micro-kernel at run time, which is what makes a batch of forward steps run near the
//! machine's arithmetic bound; this wrapper keeps its raw-pointer interface behind checked
//! slices.
//!
//! The chain kernel's products are small and of two fixed shapes: a batch of rows times one
//! K x K table (forward and backward steps), and the sum of outer products over a batch
//! (edge counts). For those, `gemm_packed` and `gemm_at_b_add` run a hand-written AVX2/FMA
//! kernel when the processor has it and the matrices are small (no packing of the rows, the
//! table packed once per iteration), and matrixmultiply otherwise.

/// A row-major matrix, or the transpose of one, read from a slice.
#[derive(Clone, Copy)]
pub struct View<'a> {
    data: &'a [f64],
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl<'a> View<'a> {
    /// `data` holds a `rows` x `cols` row-major matrix.
    pub fn new(data: &'a [f64], rows: usize, cols: usize) -> View<'a> {
        assert_eq!(
            data.len(),
            rows * cols,
            "a matrix view must cover its slice"
        );
        View {
            data,
            rows,
            cols,
            transposed: false,
        }
    }

    /// The same numbers read as the transpose.
    pub fn t(self) -> View<'a> {
        View {
            rows: self.cols,
            cols: self.rows,
            transposed: !self.transposed,
            ..self
        }
    }

    /// Row and column strides of the matrix this view shows.
    fn strides(&self) -> (isize, isize) {
        // The stored matrix is row-major with `cols` (or, transposed, `rows`) per row.
        if self.transposed {
            (1, self.rows as isize)
        } else {
            (self.cols as isize, 1)
        }
    }
}

/// Tables wider or longer than this go through matrixmultiply even with the small kernel
/// available: its blocking keeps large tables in cache, which the small kernel does not try.
const SMALL: usize = 128;

/// The right-hand side of `gemm_packed`: a matrix copied row-major with every row padded
/// with zeros to a multiple of four columns, so that the small kernel reads whole vectors.
pub struct Packed {
    data: Vec<f64>,
    rows: usize,
    cols: usize,
    stride: usize,
}

impl Packed {
    pub fn new(b: View) -> Packed {
        let stride = b.cols.next_multiple_of(4);
        let mut data = vec![0.0; b.rows * stride];
        let (rs, cs) = b.strides();
        for (i, row) in data.chunks_exact_mut(stride).enumerate() {
            for (j, x) in row[..b.cols].iter_mut().enumerate() {
                *x = b.data[i * rs as usize + j * cs as usize];
            }
        }
        Packed {
            data,
            rows: b.rows,
            cols: b.cols,
            stride,
        }
    }
}

/// `c = a * b`, with `a` a plain (untransposed) view and `c` row-major (`a.rows` x `b.cols`).
pub fn gemm_packed(a: View, b: &Packed, c: &mut [f64]) {
    assert_eq!(a.cols, b.rows, "inner dimensions must agree");
    assert_eq!(
        c.len(),
        a.rows * b.cols,
        "the output must be a.rows x b.cols"
    );
    if c.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if !a.transposed && b.rows <= SMALL && b.cols <= SMALL && avx2::available() {
        // SAFETY: the features were detected just above; `View::new` and the asserts give
        // `a.data.len() == a.rows * b.rows`, `c.len() == a.rows * b.cols`, and `Packed::new`
        // gives `b.data.len() == b.rows * b.stride` with `b.stride` the multiple of four
        // at or above `b.cols`, which is what `avx2::product` requires.
        unsafe {
            avx2::product(
                a.data, a.cols, a.rows, b.rows, &b.data, b.stride, c, b.cols, b.cols,
            )
        };
        return;
    }
    product_fallback(a, b, c);
}

/// `gemm_packed` through matrixmultiply, on any processor.
fn product_fallback(a: View, b: &Packed, c: &mut [f64]) {
    let (rsa, csa) = a.strides();
    // SAFETY: as in `gemm`: the asserts of the caller and `View::new` keep every index the
    // strides reach inside `a.data` and `c`; `b.data` holds `b.rows` rows of `b.stride`, of
    // which the first `b.cols` are read; `c` is borrowed mutably and aliases neither input.
    unsafe {
        matrixmultiply::dgemm(
            a.rows,
            a.cols,
            b.cols,
            1.0,
            a.data.as_ptr(),
            rsa,
            csa,
            b.data.as_ptr(),
            b.stride as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            b.cols as isize,
            1,
        );
    }
}

/// `c += a^T b` for plain views with the same number of rows (`c` row-major, `a.cols` x
/// `b.cols`): the sum of the rows' outer products.
pub fn gemm_at_b_add(a: View, b: View, c: &mut [f64]) {
    assert!(!a.transposed && !b.transposed, "plain views only");
    assert_eq!(a.rows, b.rows, "the views must have the same rows");
    assert_eq!(
        c.len(),
        a.cols * b.cols,
        "the output must be a.cols x b.cols"
    );
    if c.is_empty() {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if a.cols <= SMALL && b.cols <= SMALL && avx2::available() {
        // SAFETY: the features were detected just above; `View::new` gives `a.data.len() ==
        // a.rows * a.cols` and `b.data.len() == a.rows * b.cols`, and the assert gives
        // `c.len() == a.cols * b.cols`, which is what `avx2::add_at_b` requires.
        unsafe { avx2::add_at_b(a.data, b.data, a.rows, a.cols, b.cols, c) };
        return;
    }
    gemm(a.t(), b, 1.0, c);
}

/// `c = a * b + beta * c`, with `c` row-major (`a.rows` x `b.cols`).
pub fn gemm(a: View, b: View, beta: f64, c: &mut [f64]) {
    assert_eq!(a.cols, b.rows, "inner dimensions must agree");
    assert_eq!(
        c.len(),
        a.rows * b.cols,
        "the output must be a.rows x b.cols"
    );
    if c.is_empty() {
        return;
    }
    let (rsa, csa) = a.strides();
    let (rsb, csb) = b.strides();
    // SAFETY: the asserts above and in `View::new` make every index the strides reach lie
    // inside the slices; `c` is borrowed mutably, so it aliases neither input.
    unsafe {
        matrixmultiply::dgemm(
            a.rows,
            a.cols,
            b.cols,
            1.0,
            a.data.as_ptr(),
            rsa,
            csa,
            b.data.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            b.cols as isize,
            1,
        );
    }
}

/// The small kernel: tiles of 4 rows by 8 columns of the output, whose eight accumulators,
/// two vectors of the right-hand side and one broadcast fit the sixteen AVX registers. Each
/// output entry is one chain of fused multiply-adds in the order of the inner index, as in
/// matrixmultiply's own kernel, so for inner dimensions under its block size (256) the two
/// give the same bits.
#[cfg(target_arch = "x86_64")]
pub(super) mod avx2 {
    use std::arch::x86_64::*;

    /// Rows of `a` summed per block in `add_at_b`: the block's rows of both operands stay in
    /// the first-level cache while every tile of the output passes over them.
    const BLOCK: usize = 64;

    pub fn available() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// `c[i][j] += sum_l a[i][l] b[j][l]` for `R` rows of `a` and `S` of `b`, `k` a multiple
    /// of 4: one accumulator vector per output entry, summed across at the end.
    #[inline(always)]
    unsafe fn dots_tile<const R: usize, const S: usize>(
        a: *const f64,
        lda: usize,
        b: *const f64,
        ldb: usize,
        k: usize,
        c: *mut f64,
        ldc: usize,
    ) {
        let mut acc = [[_mm256_setzero_pd(); S]; R];
        let mut l = 0;
        while l < k {
            let mut bv = [_mm256_setzero_pd(); S];
            for (j, x) in bv.iter_mut().enumerate() {
                *x = _mm256_loadu_pd(b.add(j * ldb + l));
            }
            for (i, row) in acc.iter_mut().enumerate() {
                let x = _mm256_loadu_pd(a.add(i * lda + l));
                for (o, y) in row.iter_mut().zip(&bv) {
                    *o = _mm256_fmadd_pd(x, *y, *o);
                }
            }
            l += 4;
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                let mut lanes = [0.0; 4];
                _mm256_storeu_pd(lanes.as_mut_ptr(), *v);
                *c.add(i * ldc + j) += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
            }
        }
    }

    /// `S` columns of `dots` for every row of `a`, two at a time.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn dots_columns<const S: usize>(
        a: *const f64,
        lda: usize,
        m: usize,
        b: *const f64,
        ldb: usize,
        k: usize,
        c: *mut f64,
        ldc: usize,
    ) {
        let mut i = 0;
        while i + 2 <= m {
            dots_tile::<2, S>(a.add(i * lda), lda, b, ldb, k, c.add(i * ldc), ldc);
            i += 2;
        }
        if i < m {
            dots_tile::<1, S>(a.add(i * lda), lda, b, ldb, k, c.add(i * ldc), ldc);
        }
    }

    /// `c += a b^T`: `a` is `m` x `k` with row stride `lda`, `b` is `nb` x `k` with row
    /// stride `ldb`, `c` is `m` x `nb` with row stride `ldc`: every entry a dot product of
    /// two rows.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `k` is a multiple of 4; `a.len() >= (m - 1) * lda +
    /// k`, `b.len() >= (nb - 1) * ldb + k` and `c.len() >= (m - 1) * ldc + nb`. Every read is
    /// then a vector at `i * lda + l` or `j * ldb + l` with `l + 4 <= k`, and every write at
    /// `i * ldc + j` with `i < m`, `j < nb`.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dots(
        a: &[f64],
        lda: usize,
        m: usize,
        b: &[f64],
        ldb: usize,
        nb: usize,
        k: usize,
        c: &mut [f64],
        ldc: usize,
    ) {
        debug_assert!(k.is_multiple_of(4) && m > 0 && nb > 0);
        debug_assert!(a.len() >= (m - 1) * lda + k && b.len() >= (nb - 1) * ldb + k);
        debug_assert!(c.len() >= (m - 1) * ldc + nb);
        let (a, b, c) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        let mut j = 0;
        while j + 4 <= nb {
            dots_columns::<4>(a, lda, m, b.add(j * ldb), ldb, k, c.add(j), ldc);
            j += 4;
        }
        let (b, c) = (b.add(j * ldb), c.add(j));
        match nb - j {
            3 => dots_columns::<3>(a, lda, m, b, ldb, k, c, ldc),
            2 => dots_columns::<2>(a, lda, m, b, ldb, k, c, ldc),
            1 => dots_columns::<1>(a, lda, m, b, ldb, k, c, ldc),
            _ => {}
        }
    }

    /// Rows of the output left for a last block after blocks of 4. One or two rows alone
    /// would run two or four chains of multiply-adds, too few to hide their latency, so they
    /// join the block before (5 or 6 rows: ten or twelve accumulators, still in registers).
    fn last_block(m: usize) -> usize {
        match m % 4 {
            1 | 2 if m > 4 => 4 + m % 4,
            rest => rest,
        }
    }

    /// Lanes `0..valid` set (`valid` in 1..=3), for the output's last, partial vector.
    #[inline(always)]
    unsafe fn mask(valid: usize) -> __m256i {
        let lane = |i: usize| if i < valid { -1 } else { 0 };
        _mm256_setr_epi64x(lane(0), lane(1), lane(2), lane(3))
    }

    /// Writes an `R` x `4 V` tile of accumulators to `c` (row stride `ldc`), the last
    /// vector's lanes in `last` only when `P`.
    #[inline(always)]
    unsafe fn store_tile<const R: usize, const V: usize, const P: bool>(
        acc: &[[__m256d; V]; R],
        c: *mut f64,
        ldc: usize,
        last: __m256i,
    ) {
        for (r, row) in acc.iter().enumerate() {
            for (v, x) in row.iter().enumerate() {
                let p = c.add(r * ldc + 4 * v);
                if P && v == V - 1 {
                    _mm256_maskstore_pd(p, last, *x);
                } else {
                    _mm256_storeu_pd(p, *x);
                }
            }
        }
    }

    /// `c = a * b` for `R` rows and `4 V` columns (the last vector's lanes in `last` only,
    /// when `P`). `a` has row stride `lda` and `kk` columns; `b` has `kk` rows of stride
    /// `ldb`, with `4 V` readable columns from the pointer.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn product_tile<const R: usize, const V: usize, const P: bool>(
        a: *const f64,
        lda: usize,
        kk: usize,
        b: *const f64,
        ldb: usize,
        c: *mut f64,
        ldc: usize,
        last: __m256i,
    ) {
        let mut acc = [[_mm256_setzero_pd(); V]; R];
        for l in 0..kk {
            let mut bv = [_mm256_setzero_pd(); V];
            for (v, x) in bv.iter_mut().enumerate() {
                *x = _mm256_loadu_pd(b.add(l * ldb + 4 * v));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let x = _mm256_broadcast_sd(&*a.add(r * lda + l));
                for (o, y) in row.iter_mut().zip(&bv) {
                    *o = _mm256_fmadd_pd(x, *y, *o);
                }
            }
        }
        store_tile::<R, V, P>(&acc, c, ldc, last);
    }

    /// `R` rows of `product`: every column tile.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn product_rows<const R: usize>(
        a: *const f64,
        lda: usize,
        kk: usize,
        b: *const f64,
        ldb: usize,
        c: *mut f64,
        ldc: usize,
        n: usize,
    ) {
        let full = _mm256_set1_epi64x(-1);
        let mut j = 0;
        while j + 8 <= n {
            product_tile::<R, 2, false>(a, lda, kk, b.add(j), ldb, c.add(j), ldc, full);
            j += 8;
        }
        let (b, c) = (b.add(j), c.add(j));
        match n - j {
            0 => {}
            4 => product_tile::<R, 1, false>(a, lda, kk, b, ldb, c, ldc, full),
            rest if rest > 4 => {
                product_tile::<R, 2, true>(a, lda, kk, b, ldb, c, ldc, mask(rest - 4))
            }
            rest => product_tile::<R, 1, true>(a, lda, kk, b, ldb, c, ldc, mask(rest)),
        }
    }

    /// `c = a * b`: `a` is `m` x `kk` with row stride `lda`, `b` is `kk` x `n` with row
    /// stride `ldb`, and `c` is `m` x `n` with row stride `ldc`.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `lda >= kk`, `ldc >= n`, `ldb` is a multiple of 4
    /// with `ldb >= n`; `a.len() >= (m - 1) * lda + kk`, `c.len() >= (m - 1) * ldc + n` and
    /// `b.len() >= (kk - 1) * ldb + n4`, with `n4` the multiple of 4 at or above `n`. Then
    /// every read of `a` is at `(i + r) * lda + l` with `i + r < m` and `l < kk`; every read
    /// of `b` is a vector at `l * ldb + j` with `l < kk` and `j + 4 <= n4` (a tile's vectors
    /// start below `n`, at a multiple of 4); every write to `c` is at `(i + r) * ldc + j`
    /// with `j < n` (the vector that would cross `n` is masked).
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn product(
        a: &[f64],
        lda: usize,
        m: usize,
        kk: usize,
        b: &[f64],
        ldb: usize,
        c: &mut [f64],
        ldc: usize,
        n: usize,
    ) {
        debug_assert!(m > 0 && kk > 0 && n > 0 && lda >= kk && ldc >= n);
        debug_assert!(a.len() >= (m - 1) * lda + kk && c.len() >= (m - 1) * ldc + n);
        debug_assert!(ldb.is_multiple_of(4) && ldb >= n);
        debug_assert!(b.len() >= (kk - 1) * ldb + n.next_multiple_of(4));
        let (a, b, c) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
        let mut i = 0;
        while i + 4 <= m - last_block(m) {
            product_rows::<4>(a.add(i * lda), lda, kk, b, ldb, c.add(i * ldc), ldc, n);
            i += 4;
        }
        let (a, c) = (a.add(i * lda), c.add(i * ldc));
        match m - i {
            6 => product_rows::<6>(a, lda, kk, b, ldb, c, ldc, n),
            5 => product_rows::<5>(a, lda, kk, b, ldb, c, ldc, n),
            3 => product_rows::<3>(a, lda, kk, b, ldb, c, ldc, n),
            2 => product_rows::<2>(a, lda, kk, b, ldb, c, ldc, n),
            1 => product_rows::<1>(a, lda, kk, b, ldb, c, ldc, n),
            _ => {}
        }
    }

    /// `c += a^T w` over `nr` rows, for `R` columns of `a` and `4 V` of `w` (the last vector's
    /// lanes in `last` only, when `P`).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn sum_tile<const R: usize, const V: usize, const P: bool>(
        a: *const f64,
        lda: usize,
        w: *const f64,
        ldw: usize,
        nr: usize,
        c: *mut f64,
        ldc: usize,
        last: __m256i,
    ) {
        let mut acc = [[_mm256_setzero_pd(); V]; R];
        for (r, row) in acc.iter_mut().enumerate() {
            for (v, o) in row.iter_mut().enumerate() {
                let p = c.add(r * ldc + 4 * v);
                *o = if P && v == V - 1 {
                    _mm256_maskload_pd(p, last)
                } else {
                    _mm256_loadu_pd(p)
                };
            }
        }
        for l in 0..nr {
            let mut wv = [_mm256_setzero_pd(); V];
            for (v, x) in wv.iter_mut().enumerate() {
                let p = w.add(l * ldw + 4 * v);
                *x = if P && v == V - 1 {
                    _mm256_maskload_pd(p, last)
                } else {
                    _mm256_loadu_pd(p)
                };
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let x = _mm256_broadcast_sd(&*a.add(l * lda + r));
                for (o, y) in row.iter_mut().zip(&wv) {
                    *o = _mm256_fmadd_pd(x, *y, *o);
                }
            }
        }
        store_tile::<R, V, P>(&acc, c, ldc, last);
    }

    /// `R` rows of the output of `add_at_b` over `nr` rows of the operands: every column tile.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn sum_rows<const R: usize>(
        a: *const f64,
        m: usize,
        w: *const f64,
        n: usize,
        nr: usize,
        c: *mut f64,
    ) {
        let full = _mm256_set1_epi64x(-1);
        let mut j = 0;
        while j + 8 <= n {
            sum_tile::<R, 2, false>(a, m, w.add(j), n, nr, c.add(j), n, full);
            j += 8;
        }
        let (w, c) = (w.add(j), c.add(j));
        match n - j {
            0 => {}
            4 => sum_tile::<R, 1, false>(a, m, w, n, nr, c, n, full),
            rest if rest > 4 => sum_tile::<R, 2, true>(a, m, w, n, nr, c, n, mask(rest - 4)),
            rest => sum_tile::<R, 1, true>(a, m, w, n, nr, c, n, mask(rest)),
        }
    }

    /// `c += a^T w`: `a` is `rows` x `m` and `w` is `rows` x `n`, both row-major, and `c` is
    /// `m` x `n` row-major. Each entry of `c` adds the rows' products in row order.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; `a.len() >= rows * m`, `w.len() >= rows * n` and
    /// `c.len() >= m * n`. Then every read of `a` is at `l * m + i + r` with `l < rows` and
    /// `i + r < m`; every vector read of `w` and access of `c` starts at a column `j < n`
    /// and is masked to lanes below `n` when it would cross it.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn add_at_b(a: &[f64], w: &[f64], rows: usize, m: usize, n: usize, c: &mut [f64]) {
        debug_assert!(a.len() >= rows * m && w.len() >= rows * n && c.len() >= m * n);
        let (a, w, c) = (a.as_ptr(), w.as_ptr(), c.as_mut_ptr());
        let mut start = 0;
        while start < rows {
            let nr = BLOCK.min(rows - start);
            let (a, w) = (a.add(start * m), w.add(start * n));
            let mut i = 0;
            while i + 4 <= m - last_block(m) {
                sum_rows::<4>(a.add(i), m, w, n, nr, c.add(i * n));
                i += 4;
            }
            let (a, c) = (a.add(i), c.add(i * n));
            match m - i {
                6 => sum_rows::<6>(a, m, w, n, nr, c),
                5 => sum_rows::<5>(a, m, w, n, nr, c),
                3 => sum_rows::<3>(a, m, w, n, nr, c),
                2 => sum_rows::<2>(a, m, w, n, nr, c),
                1 => sum_rows::<1>(a, m, w, n, nr, c),
                _ => {}
            }
            start += nr;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| a[i * k + l] * b[l * n + j]).sum();
            }
        }
        c
    }

    fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
        let mut t = vec![0.0; a.len()];
        for i in 0..rows {
            for j in 0..cols {
                t[j * rows + i] = a[i * cols + j];
            }
        }
        t
    }

    #[test]
    fn products_and_transposes_match_the_definition() {
        let (m, k, n) = (5, 3, 4);
        let a: Vec<f64> = (0..m * k).map(|x| (x as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x as f64 * 0.91).cos()).collect();
        let expected = naive(&a, &b, m, k, n);
        let mut c = vec![f64::NAN; m * n];
        gemm(View::new(&a, m, k), View::new(&b, k, n), 0.0, &mut c);
        assert!(c.iter().zip(&expected).all(|(x, y)| (x - y).abs() < 1e-12));

        let at = transpose(&a, m, k);
        let bt = transpose(&b, k, n);
        let mut c2 = vec![1.0; m * n];
        gemm(
            View::new(&at, k, m).t(),
            View::new(&bt, n, k).t(),
            1.0,
            &mut c2,
        );
        assert!(c2
            .iter()
            .zip(&expected)
            .all(|(x, y)| (x - (y + 1.0)).abs() < 1e-12));
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs().max(1.0))
    }

    /// Shapes around the small kernel's tiles: rows and columns on either side of multiples
    /// of 4 and 8, one row, one column.
    const SHAPES: [(usize, usize, usize); 10] = [
        (1, 1, 1),
        (1, 5, 3),
        (3, 4, 4),
        (4, 8, 8),
        (5, 7, 9),
        (7, 12, 13),
        (9, 45, 45),
        (130, 45, 45),
        (17, 3, 46),
        (6, 47, 11),
    ];

    #[test]
    fn packed_products_match_the_definition_on_every_path() {
        for (m, k, n) in SHAPES {
            let a: Vec<f64> = (0..m * k).map(|x| (x as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|x| (x as f64 * 0.91).cos()).collect();
            let expected = naive(&a, &b, m, k, n);
            let packed = Packed::new(View::new(&b, k, n));
            let mut c = vec![f64::NAN; m * n];
            gemm_packed(View::new(&a, m, k), &packed, &mut c);
            assert!(close(&c, &expected), "{m}x{k}x{n}");
            let mut portable = vec![f64::NAN; m * n];
            product_fallback(View::new(&a, m, k), &packed, &mut portable);
            assert!(close(&portable, &expected), "{m}x{k}x{n} (portable)");
            // A packed transpose reads the stored matrix the other way round.
            let bt = transpose(&b, k, n);
            let mut c2 = vec![f64::NAN; m * n];
            gemm_packed(
                View::new(&a, m, k),
                &Packed::new(View::new(&bt, n, k).t()),
                &mut c2,
            );
            assert!(close(&c2, &expected), "{m}x{k}x{n} (transposed)");
        }
    }

    #[test]
    fn sums_of_outer_products_match_the_definition_on_every_path() {
        for (rows, m, n) in SHAPES.iter().map(|&(a, b, c)| (a * 13, b, c)) {
            let a: Vec<f64> = (0..rows * m).map(|x| (x as f64 * 0.37).sin()).collect();
            let w: Vec<f64> = (0..rows * n).map(|x| (x as f64 * 0.91).cos()).collect();
            let mut expected = naive(&transpose(&a, rows, m), &w, m, rows, n);
            expected.iter_mut().for_each(|x| *x += 0.5);
            let mut c = vec![0.5; m * n];
            gemm_at_b_add(View::new(&a, rows, m), View::new(&w, rows, n), &mut c);
            assert!(close(&c, &expected), "{rows}x{m}x{n}");
            let mut portable = vec![0.5; m * n];
            gemm(
                View::new(&a, rows, m).t(),
                View::new(&w, rows, n),
                1.0,
                &mut portable,
            );
            assert!(close(&portable, &expected), "{rows}x{m}x{n} (portable)");
        }
    }

    /// The small kernel sums each entry in the inner index's order with fused multiply-adds,
    /// as matrixmultiply does below its block size: the same bits on either path.
    #[test]
    fn the_small_kernel_gives_matrixmultiplys_bits() {
        let (m, k, n) = (128, 45, 45);
        let a: Vec<f64> = (0..m * k).map(|x| (x as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x as f64 * 0.91).cos()).collect();
        let packed = Packed::new(View::new(&b, k, n));
        let mut c = vec![0.0; m * n];
        gemm_packed(View::new(&a, m, k), &packed, &mut c);
        let mut portable = vec![0.0; m * n];
        product_fallback(View::new(&a, m, k), &packed, &mut portable);
        assert_eq!(c, portable);
    }
}
