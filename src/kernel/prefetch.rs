//! Hints that start loading memory a kernel is about to touch in an order no hardware
//! prefetcher can guess. They have no effect on results.

use crate::graph::Entry;

/// Tables ahead of the current one whose parameters are fetched into cache early: a word's
/// emission parameters lie a vocabulary apart, and tables come in the data's order of words.
pub(super) const PARAMS_AHEAD: usize = 4;

/// Asks the processor to start loading the entries of `xs` (indexed like the parameters) that
/// `entries` name: a hint, with no effect on results.
#[inline(always)]
pub(super) fn prefetch_params(entries: &[Entry], xs: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    for e in entries {
        if let Entry::Param(p) = e {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: SSE is part of the x86_64 baseline; a prefetch never faults and reads
            // nothing into the program, so any address is sound.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(xs.as_ptr().wrapping_add(*p as usize).cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (entries, xs);
}

/// Asks the processor to start loading `row` into cache (a hint: no effect on results).
#[inline(always)]
pub(super) fn prefetch_row<T>(row: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = row.as_ptr().cast::<i8>();
        let bytes = std::mem::size_of_val(row);
        if bytes == 0 {
            return;
        }
        // Every cache line the row touches: one per 64 bytes from its start, and its end.
        let mut offset = 0;
        while offset < bytes + 63 {
            // SAFETY: SSE is part of the x86_64 baseline, so the instruction exists; a
            // prefetch never faults and reads nothing into the program, so any address is
            // sound (these are inside `row`, or its last byte).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(offset.min(bytes - 1))) };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// Asks the processor to start loading the cache line of `x`.
#[inline(always)]
pub(super) fn prefetch(x: &f64) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: as in `prefetch_params`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((x as *const f64).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Asks the processor to start loading `base[i]` for each of `indices` (a hint: no effect on
/// results; nothing is read, so `base` need not point into anything).
#[inline(always)]
pub(super) fn prefetch_indexed(indices: &[u32], base: *const f64) {
    #[cfg(target_arch = "x86_64")]
    for i in indices {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: as in `prefetch_params`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(*i as usize).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (indices, base);
}
