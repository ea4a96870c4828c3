//! Sparse tables in structured stories: a family stored sparse holds only the entries some
//! line's hypergraph draws (or divides by, for a restricted row), found by running the story
//! on every line before the kernel is built. Training, decoding and the restricted M-step
//! must give what the same model with every table dense gives: the same log-likelihood
//! trace and the same probability for every entry the sparse family stores, with every
//! entry it does not store at zero in the dense run.

mod common;

use common::{config, data_file};
use emc::model::InitMode;
use emc::pipeline::{compile, front_end, Compiled};
use emc::train::Init;

/// `models/NAME.em` with `storage: sparse` on each family in `sparse`, compiled on its data.
fn compiled(name: &str, sparse: &[&str], threads: usize) -> Compiled {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut src = std::fs::read_to_string(format!("{root}/models/{name}.em")).unwrap();
    let data = std::fs::read_to_string(format!("{root}/models/{}", data_file(name, &src))).unwrap();
    for family in sparse {
        let at = src
            .lines()
            .position(|l| l.starts_with(&format!("param {family} ")))
            .unwrap_or_else(|| panic!("{name} declares {family}"));
        let mut lines: Vec<String> = src.lines().map(String::from).collect();
        assert!(!lines[at].contains('{'), "{family} has no options yet");
        lines[at].push_str(" { storage: sparse }");
        src = lines.join("\n") + "\n";
    }
    let model = front_end(&src, &[]).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    compile(model, &data, None, threads).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// Trains `name` dense and with `sparse` stored sparse from uniform rows, and compares.
fn agrees(name: &str, sparse: &[&str], iterations: usize) {
    let dense = compiled(name, &[], 1);
    let thin = compiled(name, sparse, 2);
    for family in sparse {
        let f = thin.program.model.family_named(family).unwrap();
        let (d, s) = (
            &dense.program.layout.families[f],
            &thin.program.layout.families[f],
        );
        assert!(
            s.support.is_some() && d.support.is_none(),
            "{name}: {family}"
        );
        assert!(
            s.n_probs() <= d.n_probs(),
            "{name}: {family} stores more than dense"
        );
    }
    let run = |c: &Compiled| {
        let mut cfg = config(&c.program, iterations, 0.0);
        cfg.init = Init::Mode(InitMode::Uniform);
        cfg.decode = true;
        cfg.threads = c.pool.current_num_threads();
        c.train(&cfg, &mut |_| {}).expect("training runs")
    };
    let (a, b) = (run(&dense), run(&thin));
    assert_eq!(a.trace.len(), b.trace.len());
    for (x, y) in a.trace.iter().zip(&b.trace) {
        let (x, y) = (x.log_likelihood, y.log_likelihood);
        assert!(
            (x - y).abs() <= 1e-12 * x.abs(),
            "{name}: log-likelihood {y} sparse, {x} dense"
        );
    }
    assert_eq!(a.decoded, b.decoded, "{name}: decoded lines");
    // Every family, entry by entry: stored entries equal, unstored ones zero in the dense run.
    for (f, (d, s)) in (dense.program.layout.families.iter())
        .zip(&thin.program.layout.families)
        .enumerate()
    {
        for rel in 0..d.n_cond * d.n_out {
            let want = a.params.theta[d.index(rel).unwrap()];
            let got = s.index(rel).map_or(0.0, |k| b.params.theta[k]);
            assert!(
                (want - got).abs() <= 1e-12,
                "{name}: family {f} entry {rel}: {got} sparse, {want} dense"
            );
        }
    }
}

#[test]
fn the_aligner_with_sparse_translation_and_restricted_jump_rows() {
    // `jump` is drawn `from prev within 1 .. len(e) + 1`: the restricted M-step on sparse rows.
    agrees("hmm_aligner", &["t", "jump"], 10);
}

#[test]
fn segmentation_with_a_sparse_lexicon() {
    agrees("segmentation", &["word"], 10);
}

#[test]
fn the_dmv_with_sparse_attachments() {
    agrees("dmv", &["attach"], 5);
}

#[test]
fn a_semi_markov_model_with_sparse_emissions() {
    agrees("hsmm", &["emit"], 10);
}

/// The support is what the lines draw: a translation table stores, per English word, the
/// French words of the sentences it occurs in (and NULL every French word), nothing else.
#[test]
fn the_support_is_what_the_lines_reach() {
    let c = compiled("hmm_aligner", &["t"], 1);
    let p = &c.program;
    let f = p.model.family_named("t").unwrap();
    let slot = &p.layout.families[f];
    let (e_dom, f_dom) = (
        p.model.families[f].conditions[0],
        p.model.families[f].outcome,
    );
    let mut want = std::collections::BTreeSet::new();
    let null = p.domains.lookup(e_dom, "NULL").unwrap() as usize;
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/models/hmm_aligner.txt")).unwrap();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (fr, en) = line.split_once("|||").unwrap();
        for fw in fr.split_whitespace() {
            let o = p.domains.lookup(f_dom, fw).unwrap() as usize;
            want.insert(null * slot.n_out + o);
            for ew in en.split_whitespace() {
                let e = p.domains.lookup(e_dom, ew).unwrap() as usize;
                want.insert(e * slot.n_out + o);
            }
        }
    }
    let got: std::collections::BTreeSet<usize> = (0..slot.n_cond * slot.n_out)
        .filter(|rel| slot.index(*rel).is_some())
        .collect();
    assert_eq!(got, want);
}
