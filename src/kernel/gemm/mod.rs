//! Dense matrix products for the batched kernels. matrixmultiply picks an AVX/FMA
//! micro-kernel at run time, which is what makes a batch of forward steps run near the
//! machine's arithmetic bound; this wrapper keeps its raw-pointer interface behind checked
//! slices.
//!
//! The chain kernel's products are small and of two fixed shapes: a batch of rows times one
//! K x K table (forward and backward steps), and the sum of outer products over a batch
//! (edge counts). For those, `gemm_packed` and `gemm_at_b_add` run a hand-written kernel
//! (`tiles`, under AVX-512 or else AVX2 and FMA, whichever the processor has) when the
//! matrices are small (no packing of the rows, the table packed once per iteration), and
//! matrixmultiply otherwise. Both instruction sets give the same bits.

#[cfg(target_arch = "x86_64")]
pub(super) mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod tiles;

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
    if a.transposed
        || b.rows > SMALL
        || b.cols > SMALL
        || !product_small(
            (a.rows, b.rows, b.cols),
            (a.data, a.cols),
            (&b.data, b.stride),
            (c, b.cols),
        )
    {
        product_fallback(a, b, c);
    }
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
    if a.cols <= SMALL && b.cols <= SMALL {
        // SAFETY: `View::new` gives `a.data.len() == a.rows * a.cols` and `b.data.len() ==
        // a.rows * b.cols`, and the assert gives `c.len() == a.cols * b.cols`, which is what
        // `tiles::add_at_b` requires; each call is made only where its features were found.
        match isa() {
            Some(Isa::Avx512) => {
                unsafe { avx512::add_at_b(a.data, b.data, a.rows, a.cols, b.cols, c) };
                return;
            }
            Some(Isa::Avx2) => {
                unsafe { avx2::add_at_b(a.data, b.data, a.rows, a.cols, b.cols, c) };
                return;
            }
            None => {}
        }
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

/// The instruction set of the hand-written kernels on this processor, the widest it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Avx2,
    Avx512,
}

/// Which hand-written kernel runs here, if any (detected at run time; the answer is cached by
/// the standard library, so this costs a load).
pub fn isa() -> Option<Isa> {
    #[cfg(target_arch = "x86_64")]
    {
        if avx512::available() {
            return Some(Isa::Avx512);
        }
        if avx2::available() {
            return Some(Isa::Avx2);
        }
    }
    None
}

/// `c = a * b` through the hand-written kernel, if this processor has one (else `false`,
/// touching nothing): `(m, kk, n)` the shape, `a` with row stride `lda`, `b` with row stride
/// `ldb` (a multiple of 4 at or above `n`, its rows readable to that multiple of 4), `c` with
/// row stride `ldc`.
pub(super) fn product_small(
    (m, kk, n): (usize, usize, usize),
    (a, lda): (&[f64], usize),
    (b, ldb): (&[f64], usize),
    (c, ldc): (&mut [f64], usize),
) -> bool {
    if m == 0 || n == 0 {
        return true;
    }
    let Some(isa) = isa().filter(|_| kk > 0) else {
        return false;
    };
    assert!(
        lda >= kk && ldc >= n && ldb >= n && ldb.is_multiple_of(4),
        "the operands' strides must cover their rows"
    );
    assert!(
        a.len() >= (m - 1) * lda + kk
            && c.len() >= (m - 1) * ldc + n
            && b.len() >= (kk - 1) * ldb + n.next_multiple_of(4),
        "the operands must stay inside their slices"
    );
    // SAFETY: the asserts are `tiles::product`'s requirements, and each call is made only
    // where `isa` found its features.
    #[cfg(target_arch = "x86_64")]
    match isa {
        Isa::Avx512 => unsafe { avx512::product(a, lda, m, kk, b, ldb, c, ldc, n) },
        Isa::Avx2 => unsafe { avx2::product(a, lda, m, kk, b, ldb, c, ldc, n) },
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (isa, a, b, c);
    true
}
