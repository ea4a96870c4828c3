//! `row *= u` and the row's new sum, the forward pass's step per row (`Message::
//! multiply_and_sum`): in running sums a lane each, so that the additions do not wait on each
//! other, with the lanes' order of additions fixed so that every build gives the same bits.

use crate::kernel::gemm::Isa;
use std::ops::{Add, AddAssign, MulAssign};

/// Four lanes (doubles): entry `i` of each whole chunk of four into lane `i`, the rest into
/// lane 0 in order, then `(l0 + l1) + (l2 + l3)`.
#[inline(always)]
pub(super) fn four_lanes<T>(row: &mut [T], u: &[T]) -> T
where
    T: Copy + Default + Add<Output = T> + AddAssign + MulAssign,
{
    let mut lanes = [T::default(); 4];
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

/// Sixteen lanes (floats), a whole AVX-512 register: entry `i` into lane `i % 16`, in order,
/// then the lanes folded by halves (lane `l` plus lane `l + 8`, then `l + 4`, `l + 2`, `l +
/// 1`). Four lanes of floats vectorised into two-float halves, a fifth of W1's per-token
/// passes; sixteen lanes written plainly did not vectorise at all, hence the intrinsics.
/// Vector builds pad the last chunk with zeros, which leave a lane's bits alone.
#[inline(always)]
pub(super) fn sixteen_lanes(row: &mut [f32], u: &[f32], isa: Option<Isa>) -> f32 {
    assert_eq!(row.len(), u.len(), "a row and its unary values");
    #[cfg(target_arch = "x86_64")]
    match isa {
        // SAFETY: `isa` is no wider than what the processor has (`ChainKernel::isa`).
        Some(Isa::Avx512) => return unsafe { x86::avx512(row, u) },
        // SAFETY: as above.
        Some(Isa::Avx2) => return unsafe { x86::avx2(row, u) },
        None => {}
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = isa;
    sixteen_lanes_plain(row, u)
}

fn sixteen_lanes_plain(row: &mut [f32], u: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 16];
    for (i, (r, x)) in row.iter_mut().zip(u).enumerate() {
        *r *= *x;
        lanes[i % 16] += *r;
    }
    let mut half = 8;
    while half > 0 {
        for i in 0..half {
            lanes[i] += lanes[i + half];
        }
        half /= 2;
    }
    lanes[0]
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Lanes 0..8 of the sixteen plus lanes 8..16, then the fold by halves from eight.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn fold(lo: __m256, hi: __m256) -> f32 {
        let eight = _mm256_add_ps(lo, hi);
        let four = _mm_add_ps(
            _mm256_castps256_ps128(eight),
            _mm256_extractf128_ps(eight, 1),
        );
        let two = _mm_add_ps(four, _mm_movehl_ps(four, four));
        _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)))
    }

    /// # Safety
    /// The processor has AVX-512F; `u` is at least as long as `row`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(row: &mut [f32], u: &[f32]) -> f32 {
        let (n, r, x) = (row.len(), row.as_mut_ptr(), u.as_ptr());
        let mut acc = _mm512_setzero_ps();
        let mut i = 0;
        while i + 16 <= n {
            let p = _mm512_mul_ps(_mm512_loadu_ps(r.add(i)), _mm512_loadu_ps(x.add(i)));
            _mm512_storeu_ps(r.add(i), p);
            acc = _mm512_add_ps(acc, p);
            i += 16;
        }
        if i < n {
            // Masked: nothing past the row is read or written.
            let m = ((1u32 << (n - i)) - 1) as __mmask16;
            let p = _mm512_mul_ps(
                _mm512_maskz_loadu_ps(m, r.add(i)),
                _mm512_maskz_loadu_ps(m, x.add(i)),
            );
            _mm512_mask_storeu_ps(r.add(i), m, p);
            acc = _mm512_add_ps(acc, p);
        }
        let lo = _mm512_castps512_ps256(acc);
        let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
        fold(lo, hi)
    }

    /// # Safety
    /// The processor has AVX2; `u` is at least as long as `row`.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(row: &mut [f32], u: &[f32]) -> f32 {
        let (n, r, x) = (row.len(), row.as_mut_ptr(), u.as_ptr());
        let (mut lo, mut hi) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        while i + 16 <= n {
            let p = _mm256_mul_ps(_mm256_loadu_ps(r.add(i)), _mm256_loadu_ps(x.add(i)));
            _mm256_storeu_ps(r.add(i), p);
            lo = _mm256_add_ps(lo, p);
            let p = _mm256_mul_ps(_mm256_loadu_ps(r.add(i + 8)), _mm256_loadu_ps(x.add(i + 8)));
            _mm256_storeu_ps(r.add(i + 8), p);
            hi = _mm256_add_ps(hi, p);
            i += 16;
        }
        if i < n {
            // Masked: nothing past the row is read or written (the second half's addresses
            // may lie past it, hence `wrapping_add`; its masked-off lanes are never touched).
            let left = (n - i) as i32;
            let index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            for (half, acc) in [(0, &mut lo), (8, &mut hi)] {
                let m = _mm256_cmpgt_epi32(_mm256_set1_epi32(left - half as i32), index);
                let (rp, xp) = (r.wrapping_add(i + half), x.wrapping_add(i + half));
                let p = _mm256_mul_ps(_mm256_maskload_ps(rp, m), _mm256_maskload_ps(xp, m));
                _mm256_maskstore_ps(rp, m, p);
                *acc = _mm256_add_ps(*acc, p);
            }
        }
        fold(lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every build gives the plain loop's bits, for every length around the chunks and the
    /// masks, and leaves the products in the row.
    #[test]
    fn every_build_gives_the_plain_loops_bits() {
        let numbers = |n, seed| -> Vec<f32> {
            let xs = crate::kernel::strided::tests::numbers(n, seed);
            xs.iter().map(|x| x.abs() as f32).collect()
        };
        for n in 0..=50 {
            let (row, u) = (numbers(n, 2 * n as u64), numbers(n, 2 * n as u64 + 1));
            let mut want_row = row.clone();
            let want = sixteen_lanes_plain(&mut want_row, &u);
            let naive: f64 = row.iter().zip(&u).map(|(a, b)| f64::from(a * b)).sum();
            assert!(
                (f64::from(want) - naive).abs() <= 1e-5 * naive.abs().max(1e-30),
                "{n}"
            );
            for isa in [Some(Isa::Avx512), Some(Isa::Avx2), None] {
                if isa > crate::kernel::gemm::isa() {
                    continue;
                }
                let mut got_row = row.clone();
                let got = sixteen_lanes(&mut got_row, &u, isa);
                assert_eq!(got.to_bits(), want.to_bits(), "{n} {isa:?}");
                assert_eq!(got_row, want_row, "{n} {isa:?}");
            }
        }
    }
}
