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
