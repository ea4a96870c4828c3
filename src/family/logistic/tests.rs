//! The M-step by independent parts against the whole problem's.

use rand::{Rng, SeedableRng};

use super::*;
// The front end's own stages, not `pipeline` (which trains through this module).
use crate::{check::check, data, syntax::parse};

/// A featurised HMM over `features`, with `MIN_PARTS + 1` states.
fn emissions(features: &str) -> Logistic {
    let source = format!(
        "
const K = {}
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]
param trans : Categorical(State | State)
param emit  : Logistic(Word | State) {{ features: [{features}], l2: 0.3 }}
model {{
    hidden z : [State; len(words)]
    z[0] ~ trans(0)
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}}
",
        MIN_PARTS + 1
    );
    let text =
        "The cat sat on 2 mats\nA dog ran\nThe Dog sat\ncats ran on mats\nA well-known cat\n";
    let file = parse(&source).unwrap_or_else(|e| panic!("{e:?}"));
    let model = check(&file, &[]).unwrap_or_else(|e| panic!("{e:?}"));
    let domains = data::read(&model, text, None).unwrap().domains;
    let family = model.families.iter().find(|f| f.name == "emit").unwrap();
    let n_cond = family.conditions.iter().map(|d| domains.size(*d)).product();
    let features = FeatureIndex::new(&model, family, &domains).unwrap();
    Logistic::new(n_cond, Arc::new(features), 0.3, 0.0)
}

/// The family over `features`, its blocks and its parts.
fn split(features: &str) -> (Logistic, Vec<Block>, Vec<Part>) {
    let l = emissions(features);
    let blocks = l.features.blocks();
    let found = parts::parts(&l.features, &blocks, l.n_cond);
    (l, blocks, found)
}

/// Counts for every (state, word), some of them zero, as an E-step leaves them.
fn counts(l: &Logistic, seed: u64) -> Vec<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..l.n_probs())
        .map(|_| {
            if rng.gen_bool(0.3) {
                0.0
            } else {
                rng.gen_range(0.0..5.0)
            }
        })
        .collect()
}

/// The whole objective's value and gradient's largest entry at `w`.
fn whole(l: &Logistic, counts: &[f64], w: &[f64]) -> (f64, f64) {
    let mut g = vec![0.0; w.len()];
    let value = l.objective(
        counts,
        &[],
        w,
        &mut g,
        &l.features.blocks(),
        &mut l.workspace(),
    );
    (value, crate::optim::largest(&g))
}

#[test]
fn conjoined_features_split_by_state_and_shared_ones_do_not() {
    let split = emissions("word, suffix(2), capital, digit, hyphen");
    let blocks = split.features.blocks();
    let found = parts::parts(&split.features, &blocks, split.n_cond);
    assert_eq!(found.len(), split.n_cond);
    for (c, part) in found.iter().enumerate() {
        assert_eq!(part.rows, [c as u32]);
    }
    let joined = emissions("word, suffix(2), shared(capital)");
    let blocks = joined.features.blocks();
    assert_eq!(
        parts::parts(&joined.features, &blocks, joined.n_cond).len(),
        1
    );
}

/// A part's own layout of the weights scores every row as the family's layout does.
#[test]
fn a_part_scores_its_rows_as_the_whole_does() {
    let l = emissions("word, suffix(2), capital, digit, by(0, prefix(1))");
    let blocks = l.features.blocks();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let w: Vec<f64> = (0..l.features.n_weights)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let n_out = l.features.n_out();
    let t = l.features.templates();
    let found = parts::parts(&l.features, &blocks, l.n_cond);
    assert!(found.len() >= MIN_PARTS);
    let mut back = vec![0.0; w.len()];
    for part in &found {
        let x = parts::gather(part, &blocks, &w);
        assert_eq!(x.len(), part.len);
        for (i, c) in part.rows.iter().enumerate() {
            let (mut a, mut b) = (vec![0.0; n_out], vec![0.0; n_out]);
            l.features.scores(&w, *c as usize, &mut a);
            l.features
                .scores_at(&x, &part.bases[i * t..][..t], *c as usize, &mut b);
            assert_eq!(a, b, "row {c}");
        }
        parts::scatter(part, &blocks, &x, &mut back);
    }
    assert_eq!(back, w, "the parts cover every weight once");
}

/// The problem is strictly convex (l2 > 0): by parts or whole, the fit reaches the same
/// optimum, where the whole gradient vanishes; by parts with the block elimination as the
/// initial inverse Hessian and with the diagonal.
#[test]
fn fitting_by_parts_reaches_the_whole_problems_optimum() {
    let (l, blocks, _) = split("word, suffix(2), capital, digit");
    let diagonal = l.layout_with_diagonals();
    assert!(l.layout().shapes.iter().all(|s| s.is_some()));
    for (seed, layout) in [
        (0, l.layout()),
        (1, l.layout()),
        (2, &diagonal),
        (3, &diagonal),
    ] {
        let c = counts(&l, seed);
        let (mut a, mut b) = (
            vec![0.0; l.features.n_weights],
            vec![0.0; l.features.n_weights],
        );
        l.fit_whole(&c, &[], &blocks, &mut a, 0.0);
        l.fit_parts(&c, &[], layout, &mut b, 0.0);
        let (va, ga) = whole(&l, &c, &a);
        let (vb, gb) = whole(&l, &c, &b);
        assert!(
            gb <= 1e-6 * vb.abs(),
            "seed {seed}: largest gradient {gb} at {vb}"
        );
        assert!(
            (va - vb).abs() <= 1e-9 * va.abs(),
            "seed {seed}: {va} against {vb} ({ga})"
        );
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-5,
                "seed {seed}, weight {k}: {x} against {y}"
            );
        }
    }
}

/// `m_step_tolerance: r` is a test on the whole gradient: by parts, it holds for the whole.
#[test]
fn the_parts_stop_on_the_whole_problems_gradient_reduction() {
    let l = emissions("word, suffix(2), capital, digit");
    let c = counts(&l, 7);
    let mut w = vec![0.0; l.features.n_weights];
    let (v0, g0) = whole(&l, &c, &w);
    l.fit_parts(&c, &[], l.layout(), &mut w, 0.01);
    let (v, g) = whole(&l, &c, &w);
    assert!(v < v0, "{v} from {v0}");
    assert!(g <= 0.01 * g0, "largest gradient {g}, {g0} at the start");
}

/// With every shared weight in the block of `C` kept whole, the block elimination is the
/// inverse of the Hessian (drawing restrictions aside): applied to `H v` (central
/// differences of the gradient) it gives `v` back. And it is symmetric.
#[test]
fn the_block_elimination_inverts_the_hessian() {
    use crate::optim::Operator;
    use std::cell::RefCell;
    let l = emissions("word, suffix(2), capital, digit");
    let layout = l.layout();
    let c = counts(&l, 5);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let w: Vec<f64> = (0..l.features.n_weights)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    for (part, shape) in layout.parts.iter().zip(&layout.shapes) {
        let shape = shape
            .as_ref()
            .expect("the word identity is conjoined with the state");
        assert!(
            shape.keeps_whole(),
            "every shared weight in the factorised block"
        );
        let blocks = &layout.blocks;
        let x = parts::gather(part, blocks, &w);
        let gradient = |x: &[f64]| {
            let mut g = vec![0.0; x.len()];
            let mut ws = l.part_workspace(part);
            l.part_objective(part, &c, &[], blocks, x, &mut g, &mut ws);
            (g, ws)
        };
        let (_, ws) = gradient(&x);
        let state = RefCell::new((ws, 0usize, Vec::new()));
        let mut op = schur::Schur::new(shape, &l, part, &c, blocks, &state);
        op.refresh(&x);
        let random = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f64> {
            (0..x.len()).map(|_| rng.gen_range(-1.0..1.0)).collect()
        };
        for _ in 0..3 {
            let v = random(&mut rng);
            let eps = 1e-4;
            let at = |sign: f64| -> Vec<f64> {
                x.iter().zip(&v).map(|(x, v)| x + sign * eps * v).collect()
            };
            let (up, _) = gradient(&at(1.0));
            let (down, _) = gradient(&at(-1.0));
            let mut back: Vec<f64> = (up.iter().zip(&down))
                .map(|(a, b)| (a - b) / (2.0 * eps))
                .collect();
            op.apply(&mut back);
            let error = back
                .iter()
                .zip(&v)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                error < 1e-6,
                "part {:?}: H0 H v is {error} from v",
                part.rows
            );
        }
        let (a, b) = (random(&mut rng), random(&mut rng));
        let (mut ha, mut hb) = (a.clone(), b.clone());
        op.apply(&mut ha);
        op.apply(&mut hb);
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(x, y)| x * y).sum::<f64>();
        let (ab, ba) = (dot(&a, &hb), dot(&b, &ha));
        assert!(
            (ab - ba).abs() <= 1e-12 * ab.abs().max(1.0),
            "{ab} against {ba}"
        );
        assert!(dot(&a, &ha) > 0.0);
    }
}

/// The same bits on one thread and on two.
#[test]
fn fitting_by_parts_is_the_same_on_any_pool() {
    let l = emissions("word, suffix(2), capital, digit");
    let c = counts(&l, 2);
    let fit = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut w = vec![0.0; l.features.n_weights];
        pool.install(|| l.fit_parts(&c, &[], l.layout(), &mut w, 0.01));
        w
    };
    assert_eq!(fit(1), fit(2));
}

/// The softmax compiled for AVX-512, AVX2 and the x86-64 baseline gives the same bits (what
/// the processor lacks is left out), on rows of every length up to 70 (each remainder of the
/// vectors and of the four lanes), with scores far below the largest and minus infinity.
#[test]
fn the_softmax_gives_the_same_bits_under_every_instruction_set() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for n in 1..=70 {
        let mut row: Vec<f64> = (0..n).map(|_| rng.gen_range(-40.0..40.0)).collect();
        if n > 3 {
            row[1] = -1e4;
            row[2] = f64::NEG_INFINITY;
        }
        let run = |f: &dyn Fn(&mut [f64]) -> f64| {
            let mut p = row.clone();
            let lse = f(&mut p);
            (
                lse.to_bits(),
                p.iter().map(|x| x.to_bits()).collect::<Vec<u64>>(),
            )
        };
        let baseline = run(&|p| softmax_lanes(p));
        assert!(f64::from_bits(baseline.0).is_finite(), "{n}: log-sum-exp");
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2, just checked.
                assert_eq!(baseline, run(&|p| unsafe { softmax_avx2(p) }), "AVX2, {n}");
            }
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: the processor has AVX-512, just checked.
                assert_eq!(
                    baseline,
                    run(&|p| unsafe { softmax_avx512(p) }),
                    "AVX-512, {n}"
                );
            }
        }
    }
}
