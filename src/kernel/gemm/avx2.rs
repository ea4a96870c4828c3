//! The small kernels under AVX2 and FMA: sixteen registers of four doubles, so tiles of 4
//! rows by 8 columns (eight accumulators, two vectors of the right-hand side, a broadcast).

use super::tiles::{entry_points, Lanes};
use std::arch::x86_64::*;

pub fn available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

pub(super) struct Avx2;

impl Lanes for Avx2 {
    type E = f64;
    type V = __m256d;
    type M = __m256i;
    const N: usize = 4;
    const WIDE: usize = 2;
    const TALL: bool = false;
    #[inline(always)]
    unsafe fn zero() -> __m256d {
        _mm256_setzero_pd()
    }
    #[inline(always)]
    unsafe fn splat(p: *const f64) -> __m256d {
        _mm256_broadcast_sd(&*p)
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> __m256d {
        _mm256_loadu_pd(p)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f64, m: __m256i) -> __m256d {
        _mm256_maskload_pd(p, m)
    }
    #[inline(always)]
    unsafe fn load_padded(p: *const f64, _: __m256i) -> __m256d {
        _mm256_loadu_pd(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: __m256d) {
        _mm256_storeu_pd(p, v)
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f64, m: __m256i, v: __m256d) {
        _mm256_maskstore_pd(p, m, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        _mm256_fmadd_pd(a, b, c)
    }
    #[inline(always)]
    unsafe fn mask(valid: usize) -> __m256i {
        let lane = |i: usize| if i < valid { -1 } else { 0 };
        _mm256_setr_epi64x(lane(0), lane(1), lane(2), lane(3))
    }
    #[inline(always)]
    unsafe fn all() -> __m256i {
        _mm256_set1_epi64x(-1)
    }
}

/// Vectors of eight floats, for the single-precision chain kernel.
pub(super) struct Avx2F32;

impl Lanes for Avx2F32 {
    type E = f32;
    type V = __m256;
    type M = __m256i;
    const N: usize = 8;
    const WIDE: usize = 2;
    const TALL: bool = false;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        _mm256_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> __m256 {
        _mm256_broadcast_ss(&*p)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __m256i) -> __m256 {
        _mm256_maskload_ps(p, m)
    }
    #[inline(always)]
    unsafe fn load_padded(p: *const f32, m: __m256i) -> __m256 {
        // Padding reaches only to a multiple of four elements: 8 could cross it.
        _mm256_maskload_ps(p, m)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        _mm256_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: __m256i, v: __m256) {
        _mm256_maskstore_ps(p, m, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256, b: __m256, c: __m256) -> __m256 {
        _mm256_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn mask(valid: usize) -> __m256i {
        let lane = |i: usize| if i < valid { -1 } else { 0 };
        _mm256_setr_epi32(
            lane(0),
            lane(1),
            lane(2),
            lane(3),
            lane(4),
            lane(5),
            lane(6),
            lane(7),
        )
    }
    #[inline(always)]
    unsafe fn all() -> __m256i {
        _mm256_set1_epi32(-1)
    }
}

entry_points!("avx2,fma", "AVX2 and FMA", Avx2, f64, product, add_at_b);
entry_points!(
    "avx2,fma",
    "AVX2 and FMA",
    Avx2F32,
    f32,
    product_f32,
    add_at_b_f32
);

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
