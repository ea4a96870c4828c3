//! The small kernels under AVX-512: vectors of eight doubles, so a tile of 4 rows covers 16
//! columns and a 45-state table's row is three tiles. The tiles' arithmetic is the same chain
//! of fused multiply-adds as under AVX2, so results do not depend on which one ran.

use super::tiles::{self, Lanes};
use std::arch::x86_64::*;

pub fn available() -> bool {
    is_x86_feature_detected!("avx512f")
}

pub(super) struct Avx512;

impl Lanes for Avx512 {
    type V = __m512d;
    type M = __mmask8;
    const N: usize = 8;
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

/// `tiles::product` under AVX-512.
///
/// # Safety
/// AVX-512F must be available, and the arguments meet `tiles::product`'s requirements.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
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
    tiles::product::<Avx512>(a, lda, m, kk, b, ldb, c, ldc, n)
}

/// `tiles::add_at_b` under AVX-512.
///
/// # Safety
/// AVX-512F must be available, and the arguments meet `tiles::add_at_b`'s requirements.
#[target_feature(enable = "avx512f")]
pub unsafe fn add_at_b(a: &[f64], w: &[f64], rows: usize, m: usize, n: usize, c: &mut [f64]) {
    tiles::add_at_b::<Avx512>(a, w, rows, m, n, c)
}
