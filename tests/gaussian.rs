//! Gaussian families: parameters recovered from data sampled by `emc sample`, missing
//! coordinates marginalised, and degenerate data reported by component, never NaN.

mod common;

use emc::data::Dataset;
use emc::family::gaussian;
use emc::params::from_json;
use emc::pipeline::{front_end, program};
use emc::program::Program;
use emc::sample::sample;
use emc::train::{train, Config, Event};

fn load(model: &str, data: &str) -> (Program, Dataset) {
    let m = front_end(model, &[]).unwrap_or_else(|e| panic!("{e:?}"));
    program(m, data, None).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Trains and returns the parameters, the trace of objectives and every warning.
fn run(p: &Program, d: &Dataset, iterations: usize) -> (Vec<f64>, Vec<f64>, Vec<String>) {
    let mut c = Config::from_model(p);
    c.iterations = iterations;
    c.tolerance = 0.0;
    let mut warnings = Vec::new();
    let out = train(p, d, &c, &mut |e| {
        if let Event::Warning { message, .. } = e {
            warnings.push(message.to_string());
        }
    })
    .unwrap();
    let trace = out.trace.iter().map(|t| t.objective).collect();
    (out.params.theta, trace, warnings)
}

/// Means and standard deviations of a 1-D Gaussian family, by condition row.
fn components(p: &Program, theta: &[f64], family: &str) -> Vec<(f64, f64)> {
    let f = p.model.family_named(family).unwrap();
    let slot = &p.layout.families[f];
    theta[slot.offset..slot.offset + slot.n_cond * slot.n_out]
        .chunks(slot.n_out)
        .map(|r| {
            let row = gaussian::row(r, 1);
            (row.mean[0], row.chol[0])
        })
        .collect()
}

#[test]
fn car_weights_are_recovered_from_sampled_data() {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/car_weights.em")).unwrap();
    let truth = std::fs::read_to_string(format!("{root}/models/car_weights.truth.json")).unwrap();
    let model = front_end(&src, &[]).unwrap();
    let loaded = from_json(&model, &truth).unwrap();
    let (generator, _) = program(model.clone(), "1\n", Some(&loaded.domains)).unwrap();
    let params = loaded.params_for(&generator.layout);
    let n = 4000;
    let lines = sample(&generator, &params, n, 1, 11).unwrap();
    let (p, d) = program(model, &(lines.join("\n") + "\n"), None).unwrap();
    let (theta, trace, warnings) = run(&p, &d, 300);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(trace.windows(2).all(|w| w[1] >= w[0] - 1e-9 * w[0].abs()));
    let mut got = components(&p, &theta, "mass");
    got.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Truth: 30% around 1100 (sd 90), 70% around 1650 (sd 160); within about four standard
    // errors of n = 4000 draws.
    for ((mean, sd), (tm, ts, share)) in got.iter().zip([(1100.0, 90.0, 0.3), (1650.0, 160.0, 0.7)])
    {
        let count = share * n as f64;
        assert!(
            (mean - tm).abs() < 4.0 * ts / count.sqrt() + 2.0,
            "mean {mean} vs {tm}"
        );
        assert!(
            (sd - ts).abs() < 4.0 * ts / (2.0 * count).sqrt() + 2.0,
            "sd {sd} vs {ts}"
        );
    }
}

const GMM2: &str = "
domain Comp = 0..2
data x : Real[2]
param w : Categorical(Comp)
param g : Gaussian(Real[2] | Comp) { covariance: diagonal, reg_covar: 0,
    init_means: [[0, 5], [4, -1]], init_covariances: [[[1, 0], [0, 2]], [[2, 0], [0, 1]]] }
model { hidden c : Comp  c ~ w  x ~ g(c) }
";

const GMM1: &str = "
domain Comp = 0..2
data x : Real
param w : Categorical(Comp)
param g : Gaussian(Real | Comp) { covariance: diagonal, reg_covar: 0,
    init_means: [[0], [4]], init_covariances: [[[1]], [[2]]] }
model { hidden c : Comp  c ~ w  x ~ g(c) }
";

#[test]
fn a_missing_coordinate_is_marginalised() {
    // Every point lacks its second coordinate: the 2-D diagonal model sees exactly what the
    // 1-D model sees, and its second coordinate's parameters stay where they started.
    let xs = [-0.5, 0.3, 0.1, 3.9, 4.4, 5.0, 4.1, -1.2, 0.8, 3.3];
    let two: String = xs.iter().map(|x| format!("{x} ?\n")).collect();
    let one: String = xs.iter().map(|x| format!("{x}\n")).collect();
    let (p2, d2) = load(GMM2, &two);
    let (p1, d1) = load(GMM1, &one);
    let (theta2, trace2, _) = run(&p2, &d2, 10);
    let (_, trace1, _) = run(&p1, &d1, 10);
    for (a, b) in trace2.iter().zip(&trace1) {
        assert!((a - b).abs() < 1e-9 * b.abs(), "{a} vs {b}");
    }
    let f = p2.model.family_named("g").unwrap();
    let slot = &p2.layout.families[f];
    let row = gaussian::row(&theta2[slot.offset..slot.offset + slot.n_out], 2);
    assert!((row.mean[1] - 5.0).abs() < 1e-9);
    assert!((gaussian::covariance(&row)[3] - 2.0).abs() < 1e-9);
}

const DEGENERATE: &str = "
domain Comp = {left, right, spare}
data x : Real[2]
param w : Categorical(Comp) { init: [0.5, 0.5, 0.0] }
param g : Gaussian(Real[2] | Comp) { covariance: full,
    init_means: [[0, 0], [10, 10], [100, 100]],
    init_covariances: [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]]] }
model { hidden c : Comp  c ~ w  x ~ g(c) }
";

fn assert_finite(theta: &[f64], trace: &[f64]) {
    assert!(
        theta.iter().chain(trace).all(|v| v.is_finite()),
        "non-finite: {theta:?} {trace:?}"
    );
}

#[test]
fn degenerate_data_warns_by_component_and_stays_finite() {
    // `left` gets only a repeated point, `right` a constant second coordinate, and `spare`
    // no mass at all (its weight starts at 0).
    let mut data = String::new();
    for _ in 0..20 {
        data.push_str("0.5 0.5\n");
    }
    for k in 0..20 {
        data.push_str(&format!("{} 9\n", 9.0 + k as f64 * 0.1));
    }
    let (p, d) = load(DEGENERATE, &data);
    let (theta, trace, warnings) = run(&p, &d, 5);
    assert_finite(&theta, &trace);
    let said = |needle: &str| warnings.iter().any(|w| w.contains(needle));
    assert!(
        said("component `left` has no spread along coordinate 0"),
        "{warnings:?}"
    );
    assert!(
        said("component `right` has no spread along coordinate 1"),
        "{warnings:?}"
    );
    assert!(
        !said("component `right` has no spread along coordinate 0"),
        "{warnings:?}"
    );
    assert!(said("component `spare` has no mass"), "{warnings:?}");
    assert!(
        warnings.iter().all(|w| w.starts_with("`g`: ")),
        "{warnings:?}"
    );
}

#[test]
fn without_reg_covar_a_collapsed_component_keeps_its_parameters() {
    let model = DEGENERATE.replace("covariance: full,", "covariance: full, reg_covar: 0,");
    let data = "0.5 0.5\n0.5 0.5\n0.5 0.5\n9 9\n10 11\n11 9\n";
    let (p, d) = load(&model, data);
    let (theta, trace, warnings) = run(&p, &d, 5);
    assert_finite(&theta, &trace);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("component `left` has a singular covariance")),
        "{warnings:?}"
    );
}

#[test]
fn both_seedings_reach_the_old_faithful_optimum() {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/gmm_2d.em")).unwrap();
    let data = std::fs::read_to_string(format!("{root}/models/gmm_2d.txt")).unwrap();
    for seeding in ["kmeans", "random"] {
        let model = src.replace(
            "covariance: full }",
            &format!("covariance: full, seeding: {seeding} }}"),
        );
        let (p, d) = load(&model, &data);
        let (theta, trace, warnings) = run(&p, &d, 300);
        assert!(warnings.is_empty(), "{seeding}: {warnings:?}");
        assert_finite(&theta, &trace);
        let last = *trace.last().unwrap();
        assert!((last - -1130.264).abs() < 1e-3, "{seeding}: {last}");
        assert!(
            trace.windows(2).all(|w| w[1] >= w[0] - 1e-9 * w[0].abs()),
            "{seeding}"
        );
    }
}
