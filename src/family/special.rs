//! The special functions variational Bayes needs: `ln Γ` and its derivative `ψ` (digamma),
//! for positive arguments, to about 1e-14 relative.

/// `ln Γ(x)` for `x > 0`: the recurrence `Γ(x) = Γ(x + n) / (x (x+1) ... (x+n-1))` moves the
/// argument past 15, where Stirling's series with six terms is exact in f64.
pub fn ln_gamma(x: f64) -> f64 {
    debug_assert!(x > 0.0);
    let mut shift = 0.0;
    let mut x = x;
    while x < 15.0 {
        shift += x.ln();
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    let series = (1.0 / 12.0
        - z * (1.0 / 360.0 - z * (1.0 / 1260.0 - z * (1.0 / 1680.0 - z * (1.0 / 1188.0)))))
        / x;
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series - shift
}

/// `ψ(x) = d/dx ln Γ(x)` for `x > 0`, by `ψ(x) = ψ(x + 1) - 1/x` up to 15, then the
/// asymptotic series.
pub fn digamma(x: f64) -> f64 {
    debug_assert!(x > 0.0);
    let mut shift = 0.0;
    let mut x = x;
    while x < 15.0 {
        shift += 1.0 / x;
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    let series =
        z * (1.0 / 12.0 - z * (1.0 / 120.0 - z * (1.0 / 252.0 - z * (1.0 / 240.0 - z / 132.0))));
    x.ln() - 0.5 / x - series - shift
}

#[cfg(test)]
mod tests {
    use super::*;

    const EULER: f64 = 0.577_215_664_901_532_9;

    #[test]
    fn known_values() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * b.abs().max(1.0);
        assert!(close(digamma(1.0), -EULER));
        assert!(close(digamma(0.5), -EULER - 2.0 * 2f64.ln()));
        // ψ(n) = H(n-1) - γ
        let h: f64 = (1..10).map(|k| 1.0 / k as f64).sum();
        assert!(close(digamma(10.0), h - EULER));
        assert!(close(ln_gamma(0.5), std::f64::consts::PI.sqrt().ln()));
        assert!(close(ln_gamma(10.0), 362_880f64.ln()));
        assert!(close(ln_gamma(1.0), 0.0));
        assert!(close(ln_gamma(1e-3), 6.907_178_885_383_854));
        // The derivative of ln Γ by central differences.
        for x in [0.01, 0.3, 2.5, 40.0, 1e4] {
            let h = 1e-5 * x;
            let fd = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!(
                (fd - digamma(x)).abs() < 1e-6 * digamma(x).abs().max(1.0),
                "{x}"
            );
        }
    }
}
