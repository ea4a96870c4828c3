//! The special functions variational Bayes needs: `ln Γ` and its derivative `ψ` (digamma),
//! for positive arguments, to about 1e-14 relative; and `exp` of the non-positive arguments
//! a softmax takes, in a form the compiler vectorises.

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

/// `e^x` for `x <= 0` (a score minus the row's largest), within 1 ulp of the library's
/// `exp` (tested), by the classic reduction `x = k ln 2 + r`, `|r| <= ln(2) / 2`, and a
/// rational approximation of `e^r` (Cody and Waite; the coefficients of fdlibm's `exp`).
/// Branch-free, so that a loop of it vectorises: the library's `exp` is a call per number,
/// which was about a tenth of a featurised M-step. Only additions, multiplications and one
/// division, never fused, so it gives the same bits under any instruction set. Below
/// `MIN_EXP`, where `e^x` is subnormal, it gives 0; NaN gives NaN.
#[inline(always)]
pub fn exp_nonpositive(x: f64) -> f64 {
    // Past 0 the scale's exponent field would be wrong from k = 1024 on.
    debug_assert!(x.is_nan() || x <= 0.0, "exp_nonpositive({x})");
    // fdlibm's constants, bit for bit: `LN2_HI` is ln 2 to 32 bits, `LN2_LO` the rest.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const INV_LN2: f64 = std::f64::consts::LOG2_E;
    const P1: f64 = f64::from_bits(0x3fc5_5555_5555_553e);
    const P2: f64 = f64::from_bits(0xbf66_c16c_16be_bd93);
    const P3: f64 = f64::from_bits(0x3f11_566a_af25_de2c);
    const P4: f64 = f64::from_bits(0xbebb_bd41_c5d2_6bf1);
    const P5: f64 = f64::from_bits(0x3e66_3769_72be_a4d0);
    // 1.5 * 2^52: adding it rounds to an integer in the low bits, with no call to `round`
    // (which the x86-64 baseline has no instruction for).
    const SHIFTER: f64 = 6_755_399_441_055_744.0;
    let clamped = x.max(MIN_EXP);
    let shifted = clamped * INV_LN2 + SHIFTER;
    let k = shifted - SHIFTER;
    // `k * LN2_HI` is exact: LN2_HI's low 32 bits are zero.
    let hi = clamped - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    // 2^k, k in -1022..=0: `shifted`'s low bits are 2^51 + k, so its bits plus the bias,
    // shifted up, are 2^k's exponent field (integer operations that vectorise, where a
    // conversion of `k` to an integer would not under AVX2).
    let scale = f64::from_bits(shifted.to_bits().wrapping_add(1023) << 52);
    let e = y * scale;
    if x >= MIN_EXP {
        e
    } else if x < MIN_EXP {
        0.0
    } else {
        x
    }
}

/// Below this `e^x` is subnormal (`2^-1022`'s log, rounded up): `exp_nonpositive` gives 0.
pub const MIN_EXP: f64 = -708.39;

#[cfg(test)]
mod tests {
    use super::*;

    /// Units in the last place between two positive doubles.
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn exp_of_non_positive_numbers_is_within_one_ulp_of_the_library() {
        let mut worst = 0;
        // A dense sweep of the whole range, and the neighbourhood of 0 and of the reduction's
        // cut points (odd multiples of ln(2) / 2).
        let n = 2_000_000;
        let sweep = (0..=n).map(|i| MIN_EXP * i as f64 / n as f64);
        let near_zero = (0..10_000).map(|i| -(i as f64) * 1e-12);
        let cuts = (1..1000).flat_map(|j| {
            let c = -(2 * j - 1) as f64 * std::f64::consts::LN_2 / 2.0;
            [
                c,
                f64::from_bits(c.to_bits() + 1),
                f64::from_bits(c.to_bits() - 1),
            ]
        });
        for x in sweep.chain(near_zero).chain(cuts).filter(|x| *x >= MIN_EXP) {
            let (got, want) = (exp_nonpositive(x), x.exp());
            assert!(got.is_normal(), "{x}: {got}");
            worst = worst.max(ulps(got, want));
        }
        assert!(worst <= 1, "{worst} ulps");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        assert_eq!(exp_nonpositive(MIN_EXP - 1e-9), 0.0);
        assert_eq!(exp_nonpositive(-1e300), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive(f64::NAN).is_nan());
    }

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
