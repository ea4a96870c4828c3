//! The small kernels' tiles, written once over the vector width and the element (`Lanes`:
//! four doubles or eight floats under AVX2, eight doubles or sixteen floats under AVX-512). Every output entry is one chain of fused multiply-adds in the
//! order of the inner index, whatever the width or the tile, so both instruction sets give
//! the same bits (and, for inner dimensions under its block size of 256, matrixmultiply's).

/// One instruction set's vector of one element type, with the few operations the tiles need.
///
/// # Safety
/// Every method is an intrinsic of that instruction set: callers must have it (the entry
/// points are `#[target_feature]` functions that inline the tiles), and pointers must be
/// valid for the lanes read or written (the masked forms touch only the mask's lanes).
pub(super) trait Lanes {
    /// The element: `f64`, or `f32` for the single-precision chain kernel.
    type E: Copy;
    type V: Copy;
    type M: Copy;
    /// Lanes per vector.
    const N: usize;
    /// Vectors of columns per tile: as many as leave registers for a tile's rows (3 under
    /// AVX-512's 32 registers, 2 under AVX2's 16).
    const WIDE: usize;
    /// Whether tiles of eight rows fit the registers (with `WIDE` vectors).
    const TALL: bool;
    unsafe fn zero() -> Self::V;
    /// Every lane `*p`.
    unsafe fn splat(p: *const Self::E) -> Self::V;
    unsafe fn load(p: *const Self::E) -> Self::V;
    unsafe fn load_masked(p: *const Self::E, m: Self::M) -> Self::V;
    /// The lanes of `m`, reading at most up to the next multiple of four elements from `p`:
    /// a packed right-hand side's rows are padded to that, so a vector of four doubles is
    /// read whole (a plain load is faster than a masked one) and wider vectors are masked.
    unsafe fn load_padded(p: *const Self::E, m: Self::M) -> Self::V;
    unsafe fn store(p: *mut Self::E, v: Self::V);
    unsafe fn store_masked(p: *mut Self::E, m: Self::M, v: Self::V);
    /// `a * b + c`, rounded once.
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// Lanes `0..valid` (`valid` in `1..N`).
    unsafe fn mask(valid: usize) -> Self::M;
    unsafe fn all() -> Self::M;
}

/// Rows of `a` summed per block in `add_at_b`: the block's rows of both operands stay in the
/// first-level cache while every tile of the output passes over them.
const BLOCK: usize = 64;

/// Rows of the output left for a last block after blocks of 4. One or two rows alone would
/// run too few chains of multiply-adds to hide their latency, so they join the block before
/// (5 or 6 rows, still in registers).
fn last_block(m: usize) -> usize {
    match m % 4 {
        1 | 2 if m > 4 => 4 + m % 4,
        rest => rest,
    }
}

/// Writes an `R` x `V` vector tile of accumulators to `c` (row stride `ldc`), the last
/// vector's lanes in `last` only when `P`.
#[inline(always)]
unsafe fn store_tile<L: Lanes, const R: usize, const V: usize, const P: bool>(
    acc: &[[L::V; V]; R],
    c: *mut L::E,
    ldc: usize,
    last: L::M,
) {
    for (r, row) in acc.iter().enumerate() {
        for (v, x) in row.iter().enumerate() {
            let p = c.add(r * ldc + L::N * v);
            if P && v == V - 1 {
                L::store_masked(p, last, *x);
            } else {
                L::store(p, *x);
            }
        }
    }
}

/// `c = a * b` for `R` rows and `V` vectors of columns (the last vector's lanes in `last`
/// only, when `P`). `a` has row stride `lda` and `kk` columns; `b` has `kk` rows of stride
/// `ldb`, readable up to the multiple of four lanes past the tile's last column.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn product_tile<L: Lanes, const R: usize, const V: usize, const P: bool>(
    a: *const L::E,
    lda: usize,
    kk: usize,
    b: *const L::E,
    ldb: usize,
    c: *mut L::E,
    ldc: usize,
    last: L::M,
) {
    let mut acc = [[L::zero(); V]; R];
    for l in 0..kk {
        let mut bv = [L::zero(); V];
        for (v, x) in bv.iter_mut().enumerate() {
            let p = b.add(l * ldb + L::N * v);
            *x = if P && v == V - 1 {
                L::load_padded(p, last)
            } else {
                L::load(p)
            };
        }
        for (r, row) in acc.iter_mut().enumerate() {
            let x = L::splat(a.add(r * lda + l));
            for (o, y) in row.iter_mut().zip(&bv) {
                *o = L::fmadd(x, *y, *o);
            }
        }
    }
    store_tile::<L, R, V, P>(&acc, c, ldc, last);
}

/// `n` columns cut into tiles of `L::WIDE` vectors: `(first column, vectors, lanes of the
/// last vector when it is cut short)`. One tile of three vectors covers 45 single-precision
/// states, where tiles of two and one left the last one's four accumulators waiting on
/// their multiply-adds' latency (the same chains, so the same bits).
#[inline(always)]
fn column_tiles<L: Lanes>(n: usize) -> impl Iterator<Item = (usize, usize, Option<usize>)> {
    let step = L::WIDE * L::N;
    (0..n).step_by(step).map(move |j| {
        let rest = (n - j).min(step);
        (
            j,
            rest.div_ceil(L::N),
            (rest % L::N != 0).then_some(rest % L::N),
        )
    })
}

/// `R` rows of `product`: every column tile.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn product_rows<L: Lanes, const R: usize>(
    a: *const L::E,
    lda: usize,
    kk: usize,
    b: *const L::E,
    ldb: usize,
    c: *mut L::E,
    ldc: usize,
    n: usize,
) {
    for (j, vectors, cut) in column_tiles::<L>(n) {
        let (b, c) = (b.add(j), c.add(j));
        let last = cut.map_or(L::all(), |lanes| L::mask(lanes));
        match (vectors, cut.is_some()) {
            (3, false) => product_tile::<L, R, 3, false>(a, lda, kk, b, ldb, c, ldc, last),
            (3, true) => product_tile::<L, R, 3, true>(a, lda, kk, b, ldb, c, ldc, last),
            (2, false) => product_tile::<L, R, 2, false>(a, lda, kk, b, ldb, c, ldc, last),
            (2, true) => product_tile::<L, R, 2, true>(a, lda, kk, b, ldb, c, ldc, last),
            (_, false) => product_tile::<L, R, 1, false>(a, lda, kk, b, ldb, c, ldc, last),
            (_, true) => product_tile::<L, R, 1, true>(a, lda, kk, b, ldb, c, ldc, last),
        }
    }
}

/// `c = a * b`: `a` is `m` x `kk` with row stride `lda`, `b` is `kk` x `n` with row stride
/// `ldb`, and `c` is `m` x `n` with row stride `ldc`.
///
/// # Safety
/// `L`'s instruction set must be available; `m`, `kk`, `n` > 0, `lda >= kk`, `ldc >= n`,
/// `ldb` is a multiple of 4 with `ldb >= n`; `a.len() >= (m - 1) * lda + kk`, `c.len() >= (m
/// - 1) * ldc + n` and `b.len() >= (kk - 1) * ldb + n4`, with `n4` the multiple of 4 at or
/// above `n`. Then every read of `a` is at `(i + r) * lda + l` with `i + r < m` and `l < kk`;
/// every read of `b` is at `l * ldb + j` with `l < kk` and `j < n4` (a tile's vectors start
/// below `n`, and the one that would cross it reads at most to `n4`); every write to `c` is
/// at `(i + r) * ldc + j` with `j < n` (the vector that would cross `n` is masked).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) unsafe fn product<L: Lanes>(
    a: &[L::E],
    lda: usize,
    m: usize,
    kk: usize,
    b: &[L::E],
    ldb: usize,
    c: &mut [L::E],
    ldc: usize,
    n: usize,
) {
    debug_assert!(m > 0 && kk > 0 && n > 0 && lda >= kk && ldc >= n);
    debug_assert!(a.len() >= (m - 1) * lda + kk && c.len() >= (m - 1) * ldc + n);
    debug_assert!(ldb.is_multiple_of(4) && ldb >= n);
    debug_assert!(b.len() >= (kk - 1) * ldb + n.next_multiple_of(4));
    let (a, b, c) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    let mut i = 0;
    while L::TALL && i + 8 <= m - last_block(m) {
        product_rows::<L, 8>(a.add(i * lda), lda, kk, b, ldb, c.add(i * ldc), ldc, n);
        i += 8;
    }
    while i + 4 <= m - last_block(m) {
        product_rows::<L, 4>(a.add(i * lda), lda, kk, b, ldb, c.add(i * ldc), ldc, n);
        i += 4;
    }
    let (a, c) = (a.add(i * lda), c.add(i * ldc));
    match m - i {
        6 => product_rows::<L, 6>(a, lda, kk, b, ldb, c, ldc, n),
        5 => product_rows::<L, 5>(a, lda, kk, b, ldb, c, ldc, n),
        3 => product_rows::<L, 3>(a, lda, kk, b, ldb, c, ldc, n),
        2 => product_rows::<L, 2>(a, lda, kk, b, ldb, c, ldc, n),
        1 => product_rows::<L, 1>(a, lda, kk, b, ldb, c, ldc, n),
        _ => {}
    }
}

/// `c += a^T w` over `nr` rows, for `R` columns of `a` and `V` vectors of `w`'s columns (the
/// last vector's lanes in `last` only, when `P`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn sum_tile<L: Lanes, const R: usize, const V: usize, const P: bool>(
    a: *const L::E,
    lda: usize,
    w: *const L::E,
    ldw: usize,
    nr: usize,
    c: *mut L::E,
    ldc: usize,
    last: L::M,
) {
    let load = |p: *const L::E, v: usize| {
        if P && v == V - 1 {
            L::load_masked(p, last)
        } else {
            L::load(p)
        }
    };
    let mut acc = [[L::zero(); V]; R];
    for (r, row) in acc.iter_mut().enumerate() {
        for (v, o) in row.iter_mut().enumerate() {
            *o = load(c.add(r * ldc + L::N * v), v);
        }
    }
    for l in 0..nr {
        let mut wv = [L::zero(); V];
        for (v, x) in wv.iter_mut().enumerate() {
            *x = load(w.add(l * ldw + L::N * v), v);
        }
        for (r, row) in acc.iter_mut().enumerate() {
            let x = L::splat(a.add(l * lda + r));
            for (o, y) in row.iter_mut().zip(&wv) {
                *o = L::fmadd(x, *y, *o);
            }
        }
    }
    store_tile::<L, R, V, P>(&acc, c, ldc, last);
}

/// `R` rows of the output of `add_at_b` over `nr` rows of the operands: every column tile.
#[inline(always)]
unsafe fn sum_rows<L: Lanes, const R: usize>(
    a: *const L::E,
    m: usize,
    w: *const L::E,
    n: usize,
    nr: usize,
    c: *mut L::E,
) {
    for (j, vectors, cut) in column_tiles::<L>(n) {
        let (w, c) = (w.add(j), c.add(j));
        let last = cut.map_or(L::all(), |lanes| L::mask(lanes));
        match (vectors, cut.is_some()) {
            (3, false) => sum_tile::<L, R, 3, false>(a, m, w, n, nr, c, n, last),
            (3, true) => sum_tile::<L, R, 3, true>(a, m, w, n, nr, c, n, last),
            (2, false) => sum_tile::<L, R, 2, false>(a, m, w, n, nr, c, n, last),
            (2, true) => sum_tile::<L, R, 2, true>(a, m, w, n, nr, c, n, last),
            (_, false) => sum_tile::<L, R, 1, false>(a, m, w, n, nr, c, n, last),
            (_, true) => sum_tile::<L, R, 1, true>(a, m, w, n, nr, c, n, last),
        }
    }
}

/// `c += a^T w`: `a` is `rows` x `m` and `w` is `rows` x `n`, both row-major, and `c` is `m` x
/// `n` row-major. Each entry of `c` adds the rows' products in row order.
///
/// # Safety
/// `L`'s instruction set must be available; `a.len() >= rows * m`, `w.len() >= rows * n` and
/// `c.len() >= m * n`. Then every read of `a` is at `l * m + i + r` with `l < rows` and `i + r
/// < m`; every vector read of `w` and access of `c` starts at a column `j < n` and is masked
/// to lanes below `n` when it would cross it.
#[inline(always)]
pub(super) unsafe fn add_at_b<L: Lanes>(
    a: &[L::E],
    w: &[L::E],
    rows: usize,
    m: usize,
    n: usize,
    c: &mut [L::E],
) {
    debug_assert!(a.len() >= rows * m && w.len() >= rows * n && c.len() >= m * n);
    let (a, w, c) = (a.as_ptr(), w.as_ptr(), c.as_mut_ptr());
    let mut start = 0;
    while start < rows {
        let nr = BLOCK.min(rows - start);
        let (a, w) = (a.add(start * m), w.add(start * n));
        let mut i = 0;
        while L::TALL && i + 8 <= m - last_block(m) {
            sum_rows::<L, 8>(a.add(i), m, w, n, nr, c.add(i * n));
            i += 8;
        }
        while i + 4 <= m - last_block(m) {
            sum_rows::<L, 4>(a.add(i), m, w, n, nr, c.add(i * n));
            i += 4;
        }
        let (a, c) = (a.add(i), c.add(i * n));
        match m - i {
            6 => sum_rows::<L, 6>(a, m, w, n, nr, c),
            5 => sum_rows::<L, 5>(a, m, w, n, nr, c),
            3 => sum_rows::<L, 3>(a, m, w, n, nr, c),
            2 => sum_rows::<L, 2>(a, m, w, n, nr, c),
            1 => sum_rows::<L, 1>(a, m, w, n, nr, c),
            _ => {}
        }
        start += nr;
    }
}

/// The two kernels of one `Lanes` as functions compiled for its instruction set
/// (`$features`) over elements `$e`, named `$product` and `$add_at_b`: the tiles above are inlined into them, so
/// their intrinsics run with those features enabled.
macro_rules! entry_points {
    ($features:literal, $isa:literal, $lanes:ty, $e:ty, $product:ident, $add_at_b:ident) => {
        /// `tiles::product` under
        #[doc = $isa]
        ///
        /// # Safety
        /// The instruction set must be available, and the arguments meet `tiles::product`'s
        /// requirements.
        #[allow(clippy::too_many_arguments)]
        #[target_feature(enable = $features)]
        pub unsafe fn $product(
            a: &[$e],
            lda: usize,
            m: usize,
            kk: usize,
            b: &[$e],
            ldb: usize,
            c: &mut [$e],
            ldc: usize,
            n: usize,
        ) {
            super::tiles::product::<$lanes>(a, lda, m, kk, b, ldb, c, ldc, n)
        }

        /// `tiles::add_at_b` under
        #[doc = $isa]
        ///
        /// # Safety
        /// The instruction set must be available, and the arguments meet `tiles::add_at_b`'s
        /// requirements.
        #[target_feature(enable = $features)]
        pub unsafe fn $add_at_b(
            a: &[$e],
            w: &[$e],
            rows: usize,
            m: usize,
            n: usize,
            c: &mut [$e],
        ) {
            super::tiles::add_at_b::<$lanes>(a, w, rows, m, n, c)
        }
    };
}
pub(super) use entry_points;
