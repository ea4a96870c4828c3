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
