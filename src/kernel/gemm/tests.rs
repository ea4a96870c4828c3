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

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs().max(1.0))
}

/// Shapes around the small kernel's tiles: rows and columns on either side of multiples
/// of 4 and 8, one row, one column.
const SHAPES: [(usize, usize, usize); 10] = [
    (1, 1, 1),
    (1, 5, 3),
    (3, 4, 4),
    (4, 8, 8),
    (5, 7, 9),
    (7, 12, 13),
    (9, 45, 45),
    (130, 45, 45),
    (17, 3, 46),
    (6, 47, 11),
];

/// Shapes that reach the widest and tallest tiles: three vectors of columns (24 doubles or
/// 48 floats under AVX-512, with and without a cut-short last vector), eight rows and more,
/// and tables past 128 states.
const WIDE_SHAPES: [(usize, usize, usize); 5] = [
    (16, 24, 24),
    (24, 48, 48),
    (130, 49, 47),
    (19, 21, 70),
    (40, 200, 200),
];

fn every_shape() -> impl Iterator<Item = (usize, usize, usize)> {
    SHAPES.into_iter().chain(WIDE_SHAPES)
}

#[test]
fn packed_products_match_the_definition_on_every_path() {
    for (m, k, n) in every_shape() {
        let a: Vec<f64> = (0..m * k).map(|x| (x as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x as f64 * 0.91).cos()).collect();
        let expected = naive(&a, &b, m, k, n);
        let packed = Packed::new(View::new(&b, k, n));
        let mut c = vec![f64::NAN; m * n];
        gemm_packed(View::new(&a, m, k), &packed, &mut c);
        assert!(close(&c, &expected), "{m}x{k}x{n}");
        let mut portable = vec![f64::NAN; m * n];
        product_fallback(View::new(&a, m, k), &packed, &mut portable);
        assert!(close(&portable, &expected), "{m}x{k}x{n} (portable)");
        // A packed transpose reads the stored matrix the other way round.
        let bt = transpose(&b, k, n);
        let mut c2 = vec![f64::NAN; m * n];
        gemm_packed(
            View::new(&a, m, k),
            &Packed::new(View::new(&bt, n, k).t()),
            &mut c2,
        );
        assert!(close(&c2, &expected), "{m}x{k}x{n} (transposed)");
    }
}

#[test]
fn sums_of_outer_products_match_the_definition_on_every_path() {
    for (rows, m, n) in every_shape().map(|(a, b, c)| (a * 13, b, c)) {
        let a: Vec<f64> = (0..rows * m).map(|x| (x as f64 * 0.37).sin()).collect();
        let w: Vec<f64> = (0..rows * n).map(|x| (x as f64 * 0.91).cos()).collect();
        let mut expected = naive(&transpose(&a, rows, m), &w, m, rows, n);
        expected.iter_mut().for_each(|x| *x += 0.5);
        let mut c = vec![0.5; m * n];
        gemm_at_b_add(View::new(&a, rows, m), View::new(&w, rows, n), &mut c);
        assert!(close(&c, &expected), "{rows}x{m}x{n}");
        let mut portable = vec![0.5; m * n];
        gemm(
            View::new(&a, rows, m).t(),
            View::new(&w, rows, n),
            1.0,
            &mut portable,
        );
        assert!(close(&portable, &expected), "{rows}x{m}x{n} (portable)");
    }
}

/// The small kernel sums each entry in the inner index's order with fused multiply-adds,
/// as matrixmultiply does below its block size: the same bits on either path.
#[test]
fn the_small_kernel_gives_matrixmultiplys_bits() {
    for (m, k, n) in [(128, 45, 45), (128, 200, 200)] {
        let a: Vec<f64> = (0..m * k).map(|x| (x as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x as f64 * 0.91).cos()).collect();
        let packed = Packed::new(View::new(&b, k, n));
        let mut c = vec![0.0; m * n];
        gemm_packed(View::new(&a, m, k), &packed, &mut c);
        let mut portable = vec![0.0; m * n];
        product_fallback(View::new(&a, m, k), &packed, &mut portable);
        assert_eq!(c, portable, "{m}x{k}x{n}");
    }
}

/// The single-precision kernels: close to the definition (worked out in double from the
/// same floats), and the same bits under both instruction sets.
#[test]
fn single_precision_products_match_the_definition_on_every_path() {
    let close32 = |c: &[f32], want: &[f64], scale: f64| {
        c.iter()
            .zip(want)
            .all(|(x, y)| (f64::from(*x) - y).abs() <= 1e-5 * scale)
    };
    for (m, k, n) in every_shape().chain([(128, 45, 45)]) {
        let a: Vec<f32> = (0..m * k).map(|x| (x as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|x| (x as f32 * 0.91).cos()).collect();
        let wide = |v: &[f32]| v.iter().map(|x| f64::from(*x)).collect::<Vec<f64>>();
        let expected = naive(&wide(&a), &wide(&b), m, k, n);
        let packed = Packed::new(View::new(&b, k, n));
        let mut c = vec![f32::NAN; m * n];
        gemm_packed(View::new(&a, m, k), &packed, &mut c);
        assert!(close32(&c, &expected, k as f64), "{m}x{k}x{n}");
        let rows = m * 3;
        let x: Vec<f32> = (0..rows * k).map(|x| (x as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..rows * n).map(|x| (x as f32 * 0.91).cos()).collect();
        let mut sums = naive(&transpose(&wide(&x), rows, k), &wide(&w), k, rows, n);
        sums.iter_mut().for_each(|s| *s += 0.5);
        let mut c = vec![0.5f32; k * n];
        gemm_at_b_add(View::new(&x, rows, k), View::new(&w, rows, n), &mut c);
        assert!(close32(&c, &sums, rows as f64), "{rows}x{k}x{n} (sums)");
        #[cfg(target_arch = "x86_64")]
        if avx2::available() && avx512::available() {
            let mut wide = vec![f32::NAN; m * n];
            let mut narrow = vec![f32::NAN; m * n];
            // SAFETY: both instruction sets were found; `Packed` pads its rows to a
            // multiple of 4 and the slices have the products' shapes.
            unsafe {
                avx512::product_f32(&a, k, m, k, &packed.data, packed.stride, &mut wide, n, n);
                avx2::product_f32(&a, k, m, k, &packed.data, packed.stride, &mut narrow, n, n);
            }
            assert_eq!(wide, narrow, "{m}x{k}x{n} (instruction sets)");
            let mut wide = vec![0.25f32; k * n];
            let mut narrow = wide.clone();
            // SAFETY: as above; `x` is rows x k, `w` rows x n and the outputs k x n.
            unsafe {
                avx512::add_at_b_f32(&x, &w, rows, k, n, &mut wide);
                avx2::add_at_b_f32(&x, &w, rows, k, n, &mut narrow);
            }
            assert_eq!(wide, narrow, "{rows}x{k}x{n} (sums, instruction sets)");
        }
    }
}
/// Under AVX-512 and under AVX2 every output entry is the same chain of multiply-adds, so
/// a result does not depend on which processor computed it.
#[cfg(target_arch = "x86_64")]
#[test]
fn both_instruction_sets_give_the_same_bits() {
    if !(avx2::available() && avx512::available()) {
        eprintln!("skipped: this processor lacks AVX-512 or AVX2");
        return;
    }
    let shapes = every_shape().chain([(128, 45, 45), (64, 128, 127), (33, 10, 10)]);
    for (m, k, n) in shapes {
        let a: Vec<f64> = (0..m * k).map(|x| (x as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|x| (x as f64 * 0.91).cos()).collect();
        let packed = Packed::new(View::new(&b, k, n));
        let mut wide = vec![f64::NAN; m * n];
        let mut narrow = vec![f64::NAN; m * n];
        // SAFETY: both instruction sets were found above; `Packed` pads its rows to a
        // multiple of 4 and the slices have the products' shapes.
        unsafe {
            avx512::product(&a, k, m, k, &packed.data, packed.stride, &mut wide, n, n);
            avx2::product(&a, k, m, k, &packed.data, packed.stride, &mut narrow, n, n);
        }
        assert_eq!(wide, narrow, "{m}x{k}x{n}");
        let rows = m * 3;
        let x: Vec<f64> = (0..rows * k).map(|x| (x as f64 * 0.37).sin()).collect();
        let w: Vec<f64> = (0..rows * n).map(|x| (x as f64 * 0.91).cos()).collect();
        let mut wide = vec![0.25; k * n];
        let mut narrow = wide.clone();
        // SAFETY: as above; `x` is rows x k, `w` rows x n and the outputs k x n.
        unsafe {
            avx512::add_at_b(&x, &w, rows, k, n, &mut wide);
            avx2::add_at_b(&x, &w, rows, k, n, &mut narrow);
        }
        assert_eq!(wide, narrow, "{rows}x{k}x{n} (sums of outer products)");
    }
}
