//! The small kernels under AVX-512: vectors of eight doubles or sixteen floats, and 32
//! registers, so a tile is eight rows by three vectors (24 accumulators), where AVX2's 16
//! registers hold four rows by two. A 45-state single-precision row is one tile. The tiles'
//! arithmetic is the same chain of fused multiply-adds as under AVX2, so results do not
//! depend on which one ran.

use super::tiles::{entry_points, Lanes};
use std::arch::x86_64::*;

pub fn available() -> bool {
    is_x86_feature_detected!("avx512f")
}

pub(super) struct Avx512;

impl Lanes for Avx512 {
    type E = f64;
    type V = __m512d;
    type M = __mmask8;
    const N: usize = 8;
    const WIDE: usize = 3;
    const TALL: bool = true;
    #[inline(always)]
    unsafe fn zero() -> __m512d {
        _mm512_setzero_pd()
    }
    #[inline(always)]
    unsafe fn splat(p: *const f64) -> __m512d {
        _mm512_set1_pd(*p)
    }
    #[inline(always)]
    unsafe fn load(p: *const f64) -> __m512d {
        _mm512_loadu_pd(p)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f64, m: __mmask8) -> __m512d {
        _mm512_maskz_loadu_pd(m, p)
    }
    #[inline(always)]
    unsafe fn load_padded(p: *const f64, m: __mmask8) -> __m512d {
        // Padding reaches only to a multiple of four lanes: eight could cross it.
        _mm512_maskz_loadu_pd(m, p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f64, v: __m512d) {
        _mm512_storeu_pd(p, v)
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f64, m: __mmask8, v: __m512d) {
        _mm512_mask_storeu_pd(p, m, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m512d, b: __m512d, c: __m512d) -> __m512d {
        _mm512_fmadd_pd(a, b, c)
    }
    #[inline(always)]
    unsafe fn mask(valid: usize) -> __mmask8 {
        ((1u32 << valid) - 1) as __mmask8
    }
    #[inline(always)]
    unsafe fn all() -> __mmask8 {
        0xff
    }
}

/// Vectors of sixteen floats, for the single-precision chain kernel.
pub(super) struct Avx512F32;

impl Lanes for Avx512F32 {
    type E = f32;
    type V = __m512;
    type M = __mmask16;
    const N: usize = 16;
    const WIDE: usize = 3;
    const TALL: bool = true;
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        _mm512_setzero_ps()
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> __m512 {
        _mm512_set1_ps(*p)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn load_masked(p: *const f32, m: __mmask16) -> __m512 {
        _mm512_maskz_loadu_ps(m, p)
    }
    #[inline(always)]
    unsafe fn load_padded(p: *const f32, m: __mmask16) -> __m512 {
        // Padding reaches only to a multiple of four elements: 16 could cross it.
        _mm512_maskz_loadu_ps(m, p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        _mm512_storeu_ps(p, v)
    }
    #[inline(always)]
    unsafe fn store_masked(p: *mut f32, m: __mmask16, v: __m512) {
        _mm512_mask_storeu_ps(p, m, v)
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m512, b: __m512, c: __m512) -> __m512 {
        _mm512_fmadd_ps(a, b, c)
    }
    #[inline(always)]
    unsafe fn mask(valid: usize) -> __mmask16 {
        ((1u32 << valid) - 1) as __mmask16
    }
    #[inline(always)]
    unsafe fn all() -> __mmask16 {
        0xffff
    }
}

entry_points!("avx512f", "AVX-512F", Avx512, f64, product, add_at_b);
entry_points!(
    "avx512f",
    "AVX-512F",
    Avx512F32,
    f32,
    product_f32,
    add_at_b_f32
);

/// `c[i][j] += sum_l a[i][l] b[j][l]` for `R` rows of `a` and `2 * P` of `b`, `k` a multiple
/// of 4, with `avx2::dots`'s arithmetic: each entry's four partial sums (lane `q` takes the
/// terms with `l % 4 == q`, in order of `l`) added as `(s0 + s1) + (s2 + s3)`. A register
/// holds two entries' partial sums (rows `j` and `j + 1` of `b` side by side, the row of `a`
/// twice), so each multiply-add does the work of two under AVX2 and the bits are AVX2's.
#[inline(always)]
unsafe fn dots_tile<const R: usize, const P: usize>(
    a: *const f64,
    lda: usize,
    b: *const f64,
    ldb: usize,
    k: usize,
    c: *mut f64,
    ldc: usize,
) {
    let mut acc = [[_mm512_setzero_pd(); P]; R];
    let mut l = 0;
    while l < k {
        let mut bv = [_mm512_setzero_pd(); P];
        for (p, x) in bv.iter_mut().enumerate() {
            let low = _mm256_loadu_pd(b.add(2 * p * ldb + l));
            let high = _mm256_loadu_pd(b.add((2 * p + 1) * ldb + l));
            *x = _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(low), high);
        }
        for (i, row) in acc.iter_mut().enumerate() {
            let x = _mm512_broadcast_f64x4(_mm256_loadu_pd(a.add(i * lda + l)));
            for (o, y) in row.iter_mut().zip(&bv) {
                *o = _mm512_fmadd_pd(x, *y, *o);
            }
        }
        l += 4;
    }
    for (i, row) in acc.iter().enumerate() {
        for (p, v) in row.iter().enumerate() {
            let mut lanes = [0.0; 8];
            _mm512_storeu_pd(lanes.as_mut_ptr(), *v);
            *c.add(i * ldc + 2 * p) += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
            *c.add(i * ldc + 2 * p + 1) += (lanes[4] + lanes[5]) + (lanes[6] + lanes[7]);
        }
    }
}

/// `2 * P` columns of `dots` for every row of `a`, four rows at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn dots_columns<const P: usize>(
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
    while i + 4 <= m {
        dots_tile::<4, P>(a.add(i * lda), lda, b, ldb, k, c.add(i * ldc), ldc);
        i += 4;
    }
    let (a, c) = (a.add(i * lda), c.add(i * ldc));
    match m - i {
        3 => dots_tile::<3, P>(a, lda, b, ldb, k, c, ldc),
        2 => dots_tile::<2, P>(a, lda, b, ldb, k, c, ldc),
        1 => dots_tile::<1, P>(a, lda, b, ldb, k, c, ldc),
        _ => {}
    }
}

/// `avx2::dots` under AVX-512, with its bits: `c += a b^T`, `a` `m` x `k` with row stride
/// `lda`, `b` `nb` x `k` with row stride `ldb`, `c` `m` x `nb` with row stride `ldc`. An odd
/// last column of `b` goes through `avx2::dots`.
///
/// # Safety
/// AVX-512F, AVX2 and FMA must be available, and the arguments meet `avx2::dots`'s
/// requirements; every read and write is then one `avx2::dots` makes.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx2,fma")]
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
    let (pa, pb, pc) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    let mut j = 0;
    while j + 8 <= nb {
        dots_columns::<4>(pa, lda, m, pb.add(j * ldb), ldb, k, pc.add(j), ldc);
        j += 8;
    }
    let (pb2, pc2) = (pb.add(j * ldb), pc.add(j));
    match (nb - j) / 2 {
        3 => dots_columns::<3>(pa, lda, m, pb2, ldb, k, pc2, ldc),
        2 => dots_columns::<2>(pa, lda, m, pb2, ldb, k, pc2, ldc),
        1 => dots_columns::<1>(pa, lda, m, pb2, ldb, k, pc2, ldc),
        _ => {}
    }
    if nb % 2 == 1 {
        let last = nb - 1;
        super::avx2::dots(a, lda, m, &b[last * ldb..], ldb, 1, k, &mut c[last..], ldc);
    }
}
