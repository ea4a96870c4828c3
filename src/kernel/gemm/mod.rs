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
pub(super) mod avx512;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod tiles;

/// What the products are over: `f64`, or `f32` for the single-precision chain kernel.
pub trait Element: Copy + Default + Send + Sync + 'static {
    /// matrixmultiply's product for this element: `c = a b + beta c` through raw strides.
    ///
    /// # Safety
    /// As `matrixmultiply::dgemm`: every index the strides reach lies inside its operand, and
    /// `c` aliases neither input.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_raw(
        shape: (usize, usize, usize),
        a: (*const Self, isize, isize),
        b: (*const Self, isize, isize),
        beta: Self,
        c: (*mut Self, isize, isize),
    );
    const ONE: Self;

    /// This element's hand-written kernels under `isa`.
    #[cfg(target_arch = "x86_64")]
    fn kernels(isa: Isa) -> Kernels<Self>;
}

/// `Element` for `$e`, with matrixmultiply's `$gemm` and the kernels `$product` and
/// `$add_at_b` of each instruction set's module.
macro_rules! element {
    ($e:ty, $gemm:ident, $product:ident, $add_at_b:ident) => {
        impl Element for $e {
            const ONE: $e = 1.0;
            unsafe fn gemm_raw(
                (m, k, n): (usize, usize, usize),
                a: (*const $e, isize, isize),
                b: (*const $e, isize, isize),
                beta: $e,
                c: (*mut $e, isize, isize),
            ) {
                matrixmultiply::$gemm(m, k, n, 1.0, a.0, a.1, a.2, b.0, b.1, b.2, beta, c.0, c.1, c.2)
            }
            #[cfg(target_arch = "x86_64")]
            fn kernels(isa: Isa) -> Kernels<$e> {
                match isa {
                    Isa::Avx512 => Kernels {
                        product: avx512::$product,
                        add_at_b: avx512::$add_at_b,
                    },
                    Isa::Avx2 => Kernels {
                        product: avx2::$product,
                        add_at_b: avx2::$add_at_b,
                    },
                }
            }
        }
    };
}

element!(f64, dgemm, product, add_at_b);
element!(f32, sgemm, product_f32, add_at_b_f32);

/// One element's hand-written kernels under one instruction set (`tiles::product` and
/// `tiles::add_at_b`, compiled for it): calling them is safe only where it is present.
#[cfg(target_arch = "x86_64")]
pub struct Kernels<T> {
    /// `(a, lda, m, kk, b, ldb, c, ldc, n)`.
    product: Product<T>,
    /// `(a, w, rows, m, n, c)`.
    add_at_b: AddAtB<T>,
}

#[cfg(target_arch = "x86_64")]
type Product<T> = unsafe fn(&[T], usize, usize, usize, &[T], usize, &mut [T], usize, usize);
#[cfg(target_arch = "x86_64")]
type AddAtB<T> = unsafe fn(&[T], &[T], usize, usize, usize, &mut [T]);

/// A row-major matrix, or the transpose of one, read from a slice.
#[derive(Clone, Copy)]
pub struct View<'a, T = f64> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl<'a, T: Element> View<'a, T> {
    /// `data` holds a `rows` x `cols` row-major matrix.
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> View<'a, T> {
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
    pub fn t(self) -> View<'a, T> {
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

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Rows `range` of a plain view.
    pub fn rows_range(self, range: std::ops::Range<usize>) -> View<'a, T> {
        assert!(!self.transposed, "rows of a plain view");
        let data = &self.data[range.start * self.cols..range.end * self.cols];
        View::new(data, range.len(), self.cols)
    }

    fn raw(&self) -> (*const T, isize, isize) {
        let (rs, cs) = self.strides();
        (self.data.as_ptr(), rs, cs)
    }
}

/// Tables wider or longer than this go through matrixmultiply even with the small kernel
/// available: its blocking keeps large tables in cache, which the small kernel does not try.
/// Up to its block of 256 both sum each entry in the same order (the same bits); at 200
/// states (W2) the tiles of eight rows by three vectors ran an iteration in 2.68-2.74 s
/// against matrixmultiply's 2.96-3.02.
const SMALL: usize = 256;

/// The right-hand side of `gemm_packed`: a matrix copied row-major with every row padded
/// with zeros to a multiple of four columns, so that the small kernel reads whole vectors.
pub struct Packed<T = f64> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
    stride: usize,
}

impl<T: Element> Packed<T> {
    pub fn new(b: View<T>) -> Packed<T> {
        Packed::converted(b.data, b.rows, b.cols, b.strides(), |x| x)
    }

    /// `b`, a matrix of doubles read through strides `(rs, cs)`, with every entry converted.
    fn converted<S: Copy>(
        data: &[S],
        rows: usize,
        cols: usize,
        (rs, cs): (isize, isize),
        convert: impl Fn(S) -> T,
    ) -> Packed<T> {
        let stride = cols.next_multiple_of(4);
        let mut out = vec![T::default(); rows * stride];
        for (i, row) in out.chunks_exact_mut(stride).enumerate() {
            for (j, x) in row[..cols].iter_mut().enumerate() {
                *x = convert(data[i * rs as usize + j * cs as usize]);
            }
        }
        Packed {
            data: out,
            rows,
            cols,
            stride,
        }
    }
}

impl Packed<f32> {
    /// A matrix of doubles packed as floats (each rounded to the nearest).
    pub fn rounded(b: View<f64>) -> Packed<f32> {
        Packed::converted(b.data, b.rows, b.cols, b.strides(), |x| x as f32)
    }
}

/// `c = a * b`, with `a` a plain (untransposed) view and `c` row-major (`a.rows` x `b.cols`).
pub fn gemm_packed<T: Element>(a: View<T>, b: &Packed<T>, c: &mut [T]) {
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
fn product_fallback<T: Element>(a: View<T>, b: &Packed<T>, c: &mut [T]) {
    // SAFETY: as in `gemm`: the asserts of the caller and `View::new` keep every index the
    // strides reach inside `a.data` and `c`; `b.data` holds `b.rows` rows of `b.stride`, of
    // which the first `b.cols` are read; `c` is borrowed mutably and aliases neither input.
    unsafe {
        T::gemm_raw(
            (a.rows, a.cols, b.cols),
            a.raw(),
            (b.data.as_ptr(), b.stride as isize, 1),
            T::default(),
            (c.as_mut_ptr(), b.cols as isize, 1),
        );
    }
}

/// `c += a^T b` for plain views with the same number of rows (`c` row-major, `a.cols` x
/// `b.cols`): the sum of the rows' outer products.
pub fn gemm_at_b_add<T: Element>(a: View<T>, b: View<T>, c: &mut [T]) {
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
    if let Some(isa) = isa().filter(|_| a.cols <= SMALL && b.cols <= SMALL) {
        // SAFETY: `View::new` gives `a.data.len() == a.rows * a.cols` and `b.data.len() ==
        // a.rows * b.cols`, and the assert gives `c.len() == a.cols * b.cols`, which is what
        // `tiles::add_at_b` requires; `isa` found its features.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            (T::kernels(isa).add_at_b)(a.data, b.data, a.rows, a.cols, b.cols, c)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = isa;
        return;
    }
    gemm(a.t(), b, T::ONE, c);
}

/// `c = a * b + beta * c`, with `c` row-major (`a.rows` x `b.cols`).
pub fn gemm<T: Element>(a: View<T>, b: View<T>, beta: T, c: &mut [T]) {
    assert_eq!(a.cols, b.rows, "inner dimensions must agree");
    assert_eq!(
        c.len(),
        a.rows * b.cols,
        "the output must be a.rows x b.cols"
    );
    if c.is_empty() {
        return;
    }
    // SAFETY: the asserts above and in `View::new` make every index the strides reach lie
    // inside the slices; `c` is borrowed mutably, so it aliases neither input.
    unsafe {
        T::gemm_raw(
            (a.rows, a.cols, b.cols),
            a.raw(),
            b.raw(),
            beta,
            (c.as_mut_ptr(), b.cols as isize, 1),
        );
    }
}

/// The instruction set of the hand-written kernels on this processor, the widest it has
/// (ordered by width; `None`, the x86-64 baseline, is narrower than either).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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
pub(super) fn product_small<T: Element>(
    (m, kk, n): (usize, usize, usize),
    (a, lda): (&[T], usize),
    (b, ldb): (&[T], usize),
    (c, ldc): (&mut [T], usize),
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
    // SAFETY: the asserts are `tiles::product`'s requirements, and `isa` found its features.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        (T::kernels(isa).product)(a, lda, m, kk, b, ldb, c, ldc, n)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = isa;
    true
}
