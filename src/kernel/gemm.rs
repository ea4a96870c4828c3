//! Dense matrix products for the batched kernels. matrixmultiply picks an AVX/FMA
//! micro-kernel at run time, which is what makes a batch of forward steps run near the
//! machine's arithmetic bound; this wrapper keeps its raw-pointer interface behind checked
//! slices.

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
}
