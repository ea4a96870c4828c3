//! Figures on the corpora beside the repository (`../shared/data`, which a clone of the
//! repository alone does not have): run with `cargo test --features corpus --test corpus`
//! (`.ci/run` does). Each test names the data it reads and its reference.

mod common;

use common::{close, config};

/// The 50k Hansards pairs plus the 447 test pairs (accent-stripped ASCII like the training
/// text), lowercased, as `f ||| e` lines: the corpus of the reference figure in
/// `shared/data/hansards_en_fr/README.md`.
fn hansards() -> (String, String) {
    let dir = format!(
        "{}/../shared/data/hansards_en_fr",
        env!("CARGO_MANIFEST_DIR")
    );
    let read = |name: &str| {
        std::fs::read_to_string(format!("{dir}/{name}")).unwrap_or_else(|e| {
            panic!("{dir}/{name}: {e} (the shared data sits beside the repository)")
        })
    };
    let f = read("hansard36.50k.tok.f") + &read("test.ascii.f");
    let e = read("hansard36.50k.tok.e") + &read("test.ascii.e");
    let mut data = String::new();
    for (f, e) in f.lines().zip(e.lines()) {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        data.push_str(&format!("{} ||| {}\n", words(f), words(e)).to_lowercase());
    }
    (data, read("test.wa.nonullalign"))
}

#[test]
fn ibm_model_1_on_the_hansards_aligns_as_the_reference() {
    let (data, gold) = hansards();
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/ibm1_null.em")).unwrap();
    let model = emc::pipeline::front_end(&src, &[]).unwrap();
    let compiled = emc::pipeline::compile(model, &data, None, 2).unwrap();
    let p = &compiled.program;
    let t = p.model.family_named("t").unwrap();
    assert!(
        p.layout.families[t].support.is_some(),
        "the table is stored sparse"
    );
    let mut c = config(p, 5, 0.0);
    c.decode = true;
    c.threads = 2;
    let out = compiled.train(&c, &mut |_| {}).unwrap();
    assert!(out
        .trace
        .windows(2)
        .all(|w| w[1].log_likelihood > w[0].log_likelihood));
    let lines = out.decoded.unwrap();
    let test = lines[lines.len() - 447..].join("\n");
    let report = emc::eval::evaluate(emc::eval::Metric::Aer, &gold, &test).unwrap();
    // Reference: P = 0.591, R = 0.764, AER = 0.349 (five EM iterations, Viterbi alignments).
    close(report.value, 0.349, 0.002, "AER");
    close(report.details[0].1, 0.591, 0.002, "precision");
    close(report.details[1].1, 0.764, 0.002, "recall");
}
