//! Numerical safety of whole training runs: a 100,000-token sequence trains without underflow.

mod common;

use emc::pipeline::{front_end, program};

#[test]
fn a_hundred_thousand_token_sequence_trains_without_underflow() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/jm_icecream.em"
    ))
    .unwrap();
    // A deterministic pseudo-random sequence of 1, 2, 3 (a linear congruential generator).
    let mut x: u64 = 12345;
    let line: Vec<&str> = (0..100_000)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ["1", "2", "3"][(x >> 33) as usize % 3]
        })
        .collect();
    let data = format!("{}\n", line.join(" "));
    let model = front_end(&src, &[]).unwrap();
    let (program, dataset) = program(model, &data, None).unwrap();
    let out = common::train(&program, &dataset, &common::config(&program, 3, 0.0));
    for p in &out.trace {
        // Far below what f64 can hold as a probability (about 1e-308), yet exact in log space.
        assert!(
            p.log_likelihood.is_finite() && p.log_likelihood < -50_000.0,
            "{p:?}"
        );
    }
    assert!(out.params.theta.iter().all(|t| t.is_finite() && *t >= 0.0));
    for pair in out.trace.windows(2) {
        assert!(pair[1].objective >= pair[0].objective - 1e-9 * pair[0].objective.abs());
    }
}

/// log(exp(a) + exp(b)) without leaving log space.
fn log_add(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// `n` tosses, heads where a fixed pseudo-random draw says so (about a third of them).
fn tosses(n: usize, seed: u64) -> (String, usize) {
    let mut x = seed;
    let mut heads = 0;
    let faces: Vec<&str> = (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (x >> 33).is_multiple_of(3) {
                heads += 1;
                "H"
            } else {
                "T"
            }
        })
        .collect();
    (faces.join(" "), heads)
}

/// The two-coins mixture on lines of 100,000 and 1,080 tosses, whose probabilities (about
/// 10^-30000 and 10^-320) are far below the smallest f64: the log-likelihood at the initial
/// parameters is the one computed here on paper, and EM runs on, through the compiled kernel
/// (`emc run`'s road) and the generic engines alike.
#[test]
fn a_hundred_thousand_token_mixture_line_has_the_exact_log_likelihood() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/two_coins.em"))
        .unwrap();
    let lines = [tosses(100_000, 7), tosses(1_080, 8)];
    let data: String = lines.iter().map(|(l, _)| format!("{l}\n")).collect();
    // The model's initial values: choice 1/2 each, coin A heads 0.6, coin B heads 0.5.
    let expected: f64 = lines
        .iter()
        .map(|(l, h)| {
            let n = l.split(' ').count() as f64;
            let h = *h as f64;
            let a = 0.5f64.ln() + h * 0.6f64.ln() + (n - h) * 0.4f64.ln();
            let b = 0.5f64.ln() + n * 0.5f64.ln();
            log_add(a, b)
        })
        .sum();
    let model = front_end(&src, &[]).unwrap();
    let compiled = emc::pipeline::compile(model, &data, None, 2).unwrap();
    let config = common::config(&compiled.program, 5, 0.0);
    let out = compiled.train(&config, &mut |_| {}).expect("no underflow");
    let first = out.trace[0].log_likelihood;
    assert!(
        (first - expected).abs() <= 1e-9 * expected.abs(),
        "{first} against {expected}"
    );
    for pair in out.trace.windows(2) {
        assert!(pair[1].objective >= pair[0].objective - 1e-9 * pair[0].objective.abs());
    }
    // The generic road (engines on unrolled instances) gives the same numbers.
    let (program, dataset) = program(front_end(&src, &[]).unwrap(), &data, None).unwrap();
    let generic = emc::train::e_step(&program, &dataset, &initial(&program), &rayon_pool())
        .expect("no underflow");
    assert!((generic.log_likelihood - expected).abs() <= 1e-9 * expected.abs());
}

/// A 300-word document in the zoo's latent class model (the second case).
#[test]
fn a_long_document_in_the_latent_class_model_trains() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/latent_class.em"
    ))
    .unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/latent_class.txt"
    ))
    .unwrap();
    let words: Vec<&str> = text.split_whitespace().cycle().take(3000).collect();
    let mut data: String = text.lines().take(50).map(|l| format!("{l}\n")).collect();
    data.push_str(&words.join(" "));
    data.push('\n');
    let model = front_end(&src, &[("K".into(), "3".into())]).unwrap();
    let compiled = emc::pipeline::compile(model, &data, None, 1).unwrap();
    let mut config = common::config(&compiled.program, 5, 0.0);
    config.restarts = 1;
    let out = compiled.train(&config, &mut |_| {}).expect("no underflow");
    assert!(out.trace.iter().all(|p| p.log_likelihood.is_finite()));
}

fn initial(program: &emc::program::Program) -> emc::params::Params {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    emc::params::initial(
        &program.model,
        &program.domains,
        &program.layout,
        emc::model::InitMode::Random,
        &mut rng,
    )
    .unwrap()
}

fn rayon_pool() -> rayon::ThreadPool {
    emc::train::thread_pool(1)
}

/// Far from every mean, a Gaussian mixture's log joint values pass 1e16 in magnitude, where
/// `ln 2` vanishes in rounding: each component once got posterior 1 (summing to 2 in `emc
/// decode --posterior`). Past the value limit decoding refuses the line, as training does.
#[test]
fn posteriors_far_from_every_mean_sum_to_one() {
    let compiled = common::compiled("old_faithful", &[], usize::MAX, 1);
    let mut config = common::config(&compiled.program, 20, 0.0);
    config.restarts = 1;
    let out = compiled.train(&config, &mut |_| {}).expect("trains");
    let data = "70\n1e20\n-1e40\n1e49\n";
    let (program, dataset) = program_of(&compiled.program, data);
    let lines = emc::decode::marginals(&program, &dataset, &out.params).unwrap();
    assert_eq!(lines.len(), 4);
    for l in &lines {
        let sum: f64 = l
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(_, p)| p.parse::<f64>().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-5, "{l}");
    }
    let (program, dataset) = program_of(&compiled.program, "70\n1e60\n");
    let err = emc::decode::marginals(&program, &dataset, &out.params).unwrap_err();
    assert!(format!("{err:?}").contains("ValueTooLarge"), "{err:?}");
    let err = emc::decode::viterbi(&program, &dataset, &out.params).unwrap_err();
    assert!(format!("{err:?}").contains("ValueTooLarge"), "{err:?}");
}

fn program_of(
    trained: &emc::program::Program,
    data: &str,
) -> (emc::program::Program, emc::data::Dataset) {
    program(trained.model.clone(), data, None).unwrap()
}
