//! The compiled chain kernel against the general per-instance path: same log-likelihood and
//! same expected counts (and Gaussian statistics) for every parameter, on the zoo's chains and
//! mixtures and on a model that
//! exercises what HMMs do not (several unary factors per position, factors over no hidden
//! variable, instance weights, length-1 instances), with random parameters; and its single
//! precision against its double.

mod common;

use common::{assert_same_counts, counts, random_params};

use emc::data::Dataset;
use emc::kernel::{Isa, Kernel, Precision};
use emc::pipeline::{front_end, program};
use emc::program::Program;
use emc::train::{thread_pool, ZeroPolicy};

fn compare(what: &str, p: &Program, d: &Dataset) {
    let mut kernel = Kernel::build(p, d, &thread_pool(2)).unwrap();
    assert!(
        matches!(kernel, Kernel::Chain(_)),
        "{what}: a chain plan compiles to the chain kernel"
    );
    let mut single = Kernel::build(p, d, &thread_pool(2)).unwrap();
    kernel.set_precision(Precision::Double);
    single.set_precision(Precision::Single);
    for seed in 0..3 {
        let params = random_params(p, seed);
        let fast = counts(&kernel, p, d, &params, 2);
        let slow = counts(&Kernel::Generic, p, d, &params, 1);
        assert_same_counts(&format!("{what} seed {seed}"), &fast, &slow);
        // Bit-identical whatever the thread count.
        assert_eq!(
            fast,
            counts(&kernel, p, d, &params, 1),
            "{what}: 1 vs 2 threads"
        );
        // Single precision (where the processor has the kernels to run it; Gaussian draws
        // run in double): close, and bit-identical whatever the thread count. Forced on
        // these small models, whose tokens are likely (a small log-likelihood for the
        // tables' rounding to move), it keeps 1e-7; `auto` leaves them in double.
        let narrow = counts(&single, p, d, &params, 2);
        let tol = if single.single() && !auto(p, d) {
            1e-7
        } else {
            1e-9
        };
        assert_close_counts(&format!("{what} seed {seed} (single)"), &narrow, &slow, tol);
        assert_eq!(
            narrow,
            counts(&single, p, d, &params, 1),
            "{what}: 1 vs 2 threads (single)"
        );
    }
}

/// Whether the processor has the kernels single precision runs on (AVX2 and FMA).
fn has_single_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Whether `auto` runs this model in single precision.
fn auto(p: &Program, d: &Dataset) -> bool {
    Kernel::build(p, d, &thread_pool(1)).unwrap().single()
}

/// The per-token passes compiled for AVX-512, AVX2 and the x86-64 baseline give the same
/// bits, in either precision: the counts must not depend on the machine a run lands on.
/// (On a processor without one of them, the narrower builds are compared with each other.)
/// So do the passes compiled for the model's row width and those for any width (the zoo's
/// chains here have 2, 10, 13 and 49 states).
#[test]
fn the_chain_kernel_gives_the_same_bits_under_every_instruction_set() {
    for (name, sets) in [
        ("pos_hmm", &[][..]),
        ("hmm", &[][..]),
        ("gaussian_hmm", &[][..]),
        ("icecream", &[][..]),
        ("two_coins", &[][..]),
        ("pos_hmm", &[("K", "13")][..]),
    ] {
        let (p, d) = common::load_with(name, sets, 400);
        let params = random_params(&p, 7);
        for precision in [Precision::Double, Precision::Single] {
            let run = |isa, fixed| {
                let mut kernel = Kernel::build(&p, &d, &thread_pool(1)).unwrap();
                kernel.set_precision(precision);
                kernel.limit_isa(isa);
                kernel.set_fixed_widths(fixed);
                counts(&kernel, &p, &d, &params, 1)
            };
            let widest = run(Some(Isa::Avx512), true);
            for isa in [Some(Isa::Avx512), Some(Isa::Avx2), None] {
                // The passes compiled for the model's row width, and for any width.
                for fixed in [true, false] {
                    assert_eq!(
                        widest,
                        run(isa, fixed),
                        "{name} {sets:?} {precision:?}: widest against {isa:?}, fixed widths {fixed}"
                    );
                }
            }
        }
    }
}

/// Single precision against `slow`, the reference: the log-likelihood to `relative` and the
/// counts to 1e-5.
fn assert_close_counts(
    what: &str,
    fast: &emc::infer::CountStore,
    slow: &emc::infer::CountStore,
    relative: f64,
) {
    common::assert_counts_within(what, fast, slow, relative, 1e-5);
}

/// `auto` picks single precision from 9 states and 2^15 tokens (where the processor has the
/// kernels): the zoo's 10-state HMM stays in double on its 11,595 tokens and goes to single
/// on three copies of them (34,785), where 8 states stay in double.
#[test]
fn auto_picks_single_precision_from_nine_states_and_2_15_tokens() {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/hmm.em")).unwrap();
    let data = std::fs::read_to_string(format!("{root}/models/hmm.txt")).unwrap();
    let auto_at = |k: &str, copies: usize| {
        let model = front_end(&src, &[("K".to_string(), k.to_string())]).unwrap();
        let (p, d) = program(model, &data.repeat(copies), None).unwrap();
        auto(&p, &d)
    };
    assert!(!auto_at("10", 1));
    assert_eq!(auto_at("10", 3), has_single_kernels());
    assert!(!auto_at("8", 3));
}

/// EM in single precision follows EM in double: the log-likelihood trace of the 49-state
/// tagger within 1e-10 relative an iteration so far (the parameters drift apart by single
/// precision's rounding of the counts: 1.0e-9 at the twelfth iteration, under 2e-10 up to the
/// tenth), and that forcing single precision runs it where the processor has the kernels
/// (auto leaves these 400 lines in double: `AUTO_TOKENS`). The E-step at the same
/// parameters is held to 1e-9 by
/// `single_precision_log_likelihood_is_corrected_for_the_rounded_tables`.
#[test]
fn single_precision_em_follows_double_on_the_tagger() {
    let (p, d) = common::load_with("pos_hmm", &[], 400);
    let pool = thread_pool(2);
    let mut config = emc::train::Config::from_model(&p);
    config.iterations = 12;
    config.tolerance = 0.0;
    let trace = |precision| {
        let mut kernel = Kernel::build(&p, &d, &pool).unwrap();
        kernel.set_precision(precision);
        assert_eq!(
            kernel.single(),
            precision == Precision::Single && has_single_kernels()
        );
        let outcome =
            emc::train::train_compiled(&p, &d, &kernel, &pool, &config, &mut |_| {}).unwrap();
        (outcome.trace.iter())
            .map(|t| t.log_likelihood)
            .collect::<Vec<f64>>()
    };
    let (double, single) = (trace(Precision::Double), trace(Precision::Single));
    assert_eq!(double.len(), 13);
    for (t, (a, b)) in double.iter().zip(&single).enumerate() {
        assert!(
            (a - b).abs() <= 1e-10 * (t + 1) as f64 * a.abs(),
            "iteration {t}: {b} (single) vs {a} (double)"
        );
    }
}

const DNA_HMM: &str = "
const K = 16
domain S = 0..K
domain Base = {a, c, g, t}
data bases : [Base]
param start : Categorical(S)
param trans : Categorical(S | S)
param emit  : Categorical(Base | S)
model {
    hidden z : [S; len(bases)]
    z[0] ~ start
    for i in 1..len(bases): z[i] ~ trans(z[i-1])
    for i in 0..len(bases): bases[i] ~ emit(z[i])
}
";

/// Single precision's E-step against double's at the same parameters, within 1e-9 of the
/// log-likelihood, where rounding the tables to floats shows most: four symbols over 40,000
/// positions, so that each emission entry's rounding (fixed per symbol and state, up to 6e-8
/// of it) adds up over some 10,000 positions instead of averaging out. Without
/// `SingleTables::correction` single precision is 2.5e-9 to 6.0e-9 off here; with it,
/// under 6e-10 (what is left is the arithmetic's rounding).
#[test]
fn single_precision_log_likelihood_is_corrected_for_the_rounded_tables() {
    let mut next = numbers();
    let data: String = (0..800)
        .map(|_| {
            let line: Vec<&str> = (0..50)
                .map(|_| ["a", "c", "g", "t"][((next() + 3.5) / 7.0 * 4.0) as usize % 4])
                .collect();
            line.join(" ") + "\n"
        })
        .collect();
    let (p, d) = program(front_end(DNA_HMM, &[]).unwrap(), &data, None).unwrap();
    let pool = thread_pool(2);
    let kernel = |precision| {
        let mut kernel = Kernel::build(&p, &d, &pool).unwrap();
        kernel.set_precision(precision);
        kernel
    };
    let (double, single) = (kernel(Precision::Double), kernel(Precision::Single));
    // 16 states and 40,000 tokens: what `auto` runs in single precision.
    assert_eq!(auto(&p, &d), has_single_kernels());
    if !single.single() {
        return; // no kernels to run single precision on: nothing to compare
    }
    for seed in 0..3 {
        let params = random_params(&p, seed);
        let ll = |k: &Kernel| {
            (k.e_step(&p, &d, &params, &pool, ZeroPolicy::Stop).unwrap()).log_likelihood
        };
        let (a, b) = (ll(&double), ll(&single));
        assert!(
            (a - b).abs() <= 1e-9 * a.abs(),
            "seed {seed}: {b} (single) vs {a} (double)"
        );
    }
}

#[test]
fn the_chain_kernel_counts_what_the_general_path_counts_on_zoo_chains_and_mixtures() {
    for name in [
        "hmm",
        "pos_hmm",
        "icecream",
        "jm_icecream",
        "gaussian_hmm",
        "two_coins",
        "abo",
        "latent_class",
        "old_faithful",
        "gmm_2d",
        "car_weights",
    ] {
        let (p, d) = common::load_with(name, &[], 400);
        compare(name, &p, &d);
    }
}

const MIXED: &str = "
const K = 3
domain S = 0..K
domain Word = vocabulary(words)
domain Mark = {a, b}
data words : [Word] ||| marks : [Mark] ||| n : weight
param start : Categorical(S)
param trans : Categorical(S | S)
param emit  : Categorical(Word | S)
param mark  : Categorical(Mark | S)
param first : Categorical(Mark)
model {
    hidden z : [S; len(words)]
    z[0] ~ start
    marks[0] ~ first
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
    for i in 1..len(words): marks[i] ~ mark(z[i])
}
";

#[test]
fn the_chain_kernel_handles_weights_constants_and_several_emissions() {
    let mut data = String::new();
    let words = ["x", "y", "z", "w"];
    // Lengths 1..=6, several instances per length so that batches hold more than one.
    for i in 0..300usize {
        let len = 1 + i % 6;
        let ws: Vec<&str> = (0..len).map(|j| words[(i * 7 + j * 3) % 4]).collect();
        let ms: Vec<&str> = (0..len)
            .map(|j| if (i + j) % 3 == 0 { "a" } else { "b" })
            .collect();
        let weight = 0.5 + (i % 4) as f64;
        data.push_str(&format!(
            "{} ||| {} ||| {weight}\n",
            ws.join(" "),
            ms.join(" ")
        ));
    }
    let model = front_end(MIXED, &[]).unwrap();
    let (p, d) = program(model, &data, None).unwrap();
    compare("mixed", &p, &d);
}

#[test]
fn zero_probability_instances_are_reported_or_skipped_like_the_general_path() {
    let model = front_end(MIXED, &[]).unwrap();
    let data = "x y ||| a b ||| 1\nx ||| a ||| 1\ny x ||| b a ||| 2\n";
    let (p, d) = program(model, data, None).unwrap();
    let mut params = random_params(&p, 5);
    // `first` never emits `b`: line 3 is impossible.
    let f = p.model.family_named("first").unwrap();
    let off = p.layout.families[f].offset;
    params.theta[off] = 1.0;
    params.theta[off + 1] = 0.0;
    let pool = thread_pool(1);
    let slow = Kernel::Generic
        .e_step(&p, &d, &params, &pool, ZeroPolicy::Skip)
        .unwrap();
    assert_eq!(slow.skipped, vec![3]);
    // Single precision finds the dead line in double, as a batch it cannot trust.
    for precision in [Precision::Double, Precision::Single] {
        let mut kernel = Kernel::build(&p, &d, &thread_pool(1)).unwrap();
        kernel.set_precision(precision);
        let err = kernel
            .e_step(&p, &d, &params, &pool, ZeroPolicy::Stop)
            .unwrap_err();
        assert!(err.to_string().contains("data line 3"), "{err}");
        let fast = kernel
            .e_step(&p, &d, &params, &pool, ZeroPolicy::Skip)
            .unwrap();
        assert_eq!(fast.skipped, vec![3]);
        if precision == Precision::Double {
            assert_same_counts("skip", &fast, &slow);
        } else {
            assert_close_counts("skip (single)", &fast, &slow, 1e-7);
        }
    }
}

const RARE_STEP: &str = "
domain S = 0..2
domain Word = {a, b}
data words : [Word]
param start : Categorical(S)
param trans : Categorical(S | S)
param emit  : Categorical(Word | S)
model {
    hidden z : [S; len(words)]
    z[0] ~ start
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}
";

/// The E-step of `RARE_STEP` on `data` at the given start, transition and emission rows, in
/// double and in single precision.
fn rare_step_counts(
    data: &str,
    (start, trans, emit): ([f64; 2], [f64; 4], [f64; 4]),
) -> (emc::infer::CountStore, emc::infer::CountStore) {
    let model = front_end(RARE_STEP, &[]).unwrap();
    let (p, d) = program(model, data, None).unwrap();
    let mut params = random_params(&p, 1);
    let (m, layout) = (&p.model, &p.layout);
    let at = |name: &str| layout.families[m.family_named(name).unwrap()].offset;
    let theta = &mut params.theta;
    theta[at("start")..at("start") + 2].copy_from_slice(&start);
    theta[at("trans")..at("trans") + 4].copy_from_slice(&trans);
    theta[at("emit")..at("emit") + 4].copy_from_slice(&emit);
    let pool = thread_pool(1);
    let run = |precision| {
        let mut kernel = Kernel::build(&p, &d, &pool).unwrap();
        kernel.set_precision(precision);
        kernel
            .e_step(&p, &d, &params, &pool, ZeroPolicy::Stop)
            .unwrap()
    };
    (run(Precision::Double), run(Precision::Single))
}

/// A line whose forward pass sums to less than single precision's floor (2^-60) runs in
/// double: here every line steps from state 0 to state 1 with probability 1e-20, so every
/// batch does, and single precision gives double's bits.
#[test]
fn batches_single_precision_cannot_trust_run_in_double() {
    // start: state 0; trans(0): 1 - 1e-20, 1e-20; trans(1): even; emit(0) only a, emit(1)
    // only b.
    let rows = (
        [1.0, 0.0],
        [1.0 - 1e-20, 1e-20, 0.5, 0.5],
        [1.0, 0.0, 0.0, 1.0],
    );
    let (double, single) = rare_step_counts("a b\na b b\na a b\n", rows);
    assert!(double.log_likelihood < -40.0, "{}", double.log_likelihood);
    assert_eq!(single, double);
}

/// A backward message above single precision's ceiling (2^100) sends its batch to double:
/// state 1 starts at 1e-35 and only it emits `b` with certainty (state 0 with 0.1, and
/// neither state moves), so after 41 `b`s the first position's message for state 1 is about
/// 1e34, while every forward sum stays near 0.1 or 1, far above the floor.
#[test]
fn batches_whose_backward_messages_pass_the_ceiling_run_in_double() {
    let line = vec!["b"; 41].join(" ");
    let rows = (
        [1.0 - 1e-35, 1e-35],
        [1.0, 0.0, 0.0, 1.0],
        [0.9, 0.1, 0.0, 1.0],
    );
    let (double, single) = rare_step_counts(&format!("{line}\n{line}\n"), rows);
    assert!(double.log_likelihood.is_finite());
    assert_eq!(single, double);
}

/// The backward failure shows only once some of its batch is counted, so the whole unit is
/// counted afresh in double, its other batches too: with ordinary lines batched before the
/// line of `batches_whose_backward_messages_pass_the_ceiling_run_in_double`, single precision
/// still gives double's bits (it would not, had only the failing batch run again).
#[test]
fn a_unit_single_precision_spoils_is_counted_again_in_double() {
    let ceiling = vec!["b"; 41].join(" ");
    let ordinary: String = (0..300)
        .map(|i| ["a b a\n", "b a\n", "a a b b\n"][i % 3])
        .collect();
    let rows = (
        [1.0 - 1e-35, 1e-35],
        [1.0, 0.0, 0.0, 1.0],
        [0.9, 0.1, 0.0, 1.0],
    );
    let (double, single) = rare_step_counts(&format!("{ordinary}{ceiling}\n"), rows);
    assert!(double.log_likelihood.is_finite());
    assert_eq!(single, double);
    // The ordinary lines alone stay in single precision, which rounds differently.
    let (double, single) = rare_step_counts(&ordinary, rows);
    assert_ne!(single, double);
}

const MIXTURE_5D: &str = "
const K = 3
domain Comp = 0..K
data x : Real[5]
param w : Categorical(Comp)
param g : Gaussian(Real[5] | Comp) { covariance: full }
model {
    hidden c : Comp
    c ~ w
    x ~ g(c)
}
";

const HMM_5D: &str = "
const K = 3
domain State = 0..K
data x : [Real[5]]
param start : Categorical(State)
param trans : Categorical(State | State)
param g : Gaussian(Real[5] | State) { covariance: diagonal }
model {
    hidden z : [State; len(x)]
    z[0] ~ start
    for i in 1..len(x): z[i] ~ trans(z[i-1])
    for i in 0..len(x): x[i] ~ g(z[i])
}
";

/// Deterministic pseudo-random numbers in [-3.5, 3.5).
fn numbers() -> impl FnMut() -> f64 {
    let mut v = 0.37f64;
    move || {
        v = (v * 9301.0 + 49297.0) % 233280.0;
        v / 233280.0 * 7.0 - 3.5
    }
}

#[test]
fn batched_densities_count_what_the_general_path_counts() {
    // Five dimensions: the kernel scores and counts each batch by matrix products.
    let mut next = numbers();
    let mut point = |sep: &str| {
        (0..5)
            .map(|_| format!("{:.4}", next()))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let mixture: String = (0..600).map(|_| format!("{}\n", point(" "))).collect();
    let sequences: String = (0..300)
        .map(|i| {
            let xs: Vec<String> = (0..1 + i % 4).map(|_| point(",")).collect();
            format!("{}\n", xs.join(" "))
        })
        .collect();
    for (name, model, data) in [
        ("5-D mixture", MIXTURE_5D, mixture),
        ("5-D HMM", HMM_5D, sequences),
    ] {
        let (p, d) = program(front_end(model, &[]).unwrap(), &data, None).unwrap();
        // Parameters two EM iterations in, so that the components differ.
        let mut c = emc::train::Config::from_model(&p);
        c.iterations = 2;
        c.tolerance = 0.0;
        let params = emc::train::train(&p, &d, &c, &mut |_| {}).unwrap().params;
        let kernel = Kernel::build(&p, &d, &thread_pool(2)).unwrap();
        assert!(matches!(kernel, Kernel::Chain(_)), "{name}");
        let fast = counts(&kernel, &p, &d, &params, 2);
        let slow = counts(&Kernel::Generic, &p, &d, &params, 1);
        assert_same_counts(name, &fast, &slow);
    }
}
