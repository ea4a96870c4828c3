use super::*;
use crate::model::Covariance::{Diagonal, Full, Spherical, Tied};
use crate::pipeline::{compile, front_end, Compiled};

const COINS: &str = "H T T H\nH H H T\nT T H H\n";

fn compiled(model: &str, data: &str) -> Compiled {
    let model = front_end(model, &[]).expect("the test model checks");
    compile(model, data, None, 1).expect("the test model compiles")
}

fn free(c: &Compiled) -> Vec<usize> {
    free_parameters(&c.program.model, &c.program.layout)
}

/// A coin model whose toss family is declared by `toss` and drawn twice per toss position
/// when `twice` (a tied family: one table, two draws).
fn coins(choice: &str, toss: &str, twice: bool) -> String {
    let (first, again) = if twice {
        ("tosses", "for i in 0..len(tosses): tosses[i] ~ toss(coin)")
    } else {
        ("_tosses", "")
    };
    format!(
        "domain Coin = {{A, B}}\ndomain Face = {{H, T}}\ndata {first} : [Face] ||| more : [Face]\n\
         param choice : Categorical(Coin) {choice}\nparam toss : {toss}\n\
         model {{\n hidden coin : Coin\n coin ~ choice\n\
         for i in 0..len(more): more[i] ~ toss(coin)\n {again}\n}}\n"
    )
}

fn coin_data() -> String {
    COINS.lines().map(|l| format!("{l} ||| {l}\n")).collect()
}

#[test]
fn a_categorical_row_of_n_outcomes_has_n_minus_one() {
    let m = coins("", "Categorical(Face | Coin)", true);
    // choice: 2 - 1; toss: 2 rows of 2 - 1.
    assert_eq!(free(&compiled(&m, &coin_data())), vec![1, 2]);
}

#[test]
fn fixed_families_count_nothing_and_tied_draws_count_once() {
    let fixed = coins(
        "{ fixed, init: [0.5, 0.5] }",
        "Categorical(Face | Coin)",
        false,
    );
    assert_eq!(free(&compiled(&fixed, &coin_data())), vec![0, 2]);
    let tied = coins(
        "{ fixed, init: [0.5, 0.5] }",
        "Categorical(Face | Coin)",
        true,
    );
    assert_eq!(free(&compiled(&tied, &coin_data())), vec![0, 2]);
}

#[test]
fn logistic_families_count_their_weights() {
    // `word` conjoined with the condition: a weight per (coin, face); `shared(word)`: per face.
    let own = coins("", "Logistic(Face | Coin) { features: [word] }", false);
    let c = compiled(&own, &coin_data());
    assert_eq!(free(&c), vec![1, 4]);
    assert_eq!(c.program.layout.families[1].n_weights, 4);
    let shared = coins(
        "",
        "Logistic(Face | Coin) { features: [shared(word)] }",
        false,
    );
    assert_eq!(free(&compiled(&shared, &coin_data())), vec![1, 2]);
}

#[test]
fn a_sparse_table_counts_its_stored_entries_less_one_per_row() {
    let model = "data f : [F] ||| e : [E]\ndomain F = vocabulary(f)\ndomain E = vocabulary(e)\n\
                 param t : Categorical(E | F) { storage: sparse }\n\
                 model {\n hidden a : [0..len(f); len(e)]\n for j in 0..len(e) {\n\
                 a[j] ~ uniform\n e[j] ~ t(f[a[j]])\n }\n}\n";
    let data = "das Haus ||| the house\ndas Buch ||| the book\nein Buch ||| a book\n";
    // Stored: das {the, house, book}, Haus {the, house}, Buch {the, book, a}, ein {a, book}:
    // 2 + 1 + 2 + 1; the dense table would have 4 rows of 3.
    let c = compiled(model, data);
    assert!(c.program.layout.families[0].support.is_some());
    assert_eq!(free(&c), vec![6]);
    let dense = model.replace("storage: sparse", "storage: dense");
    assert_eq!(free(&compiled(&dense, data)), vec![12]);
}

#[test]
fn gaussian_rows_count_as_scikit_learn_counts_them() {
    // GaussianMixture._n_parameters for K = 3 components in d = 2, less the K - 1 weights.
    assert_eq!(gaussian_free_parameters(2, Full, 3), 6 + 9);
    assert_eq!(gaussian_free_parameters(2, Diagonal, 3), 6 + 6);
    assert_eq!(gaussian_free_parameters(2, Spherical, 3), 6 + 3);
    assert_eq!(gaussian_free_parameters(2, Tied, 3), 6 + 3);
    assert_eq!(gaussian_free_parameters(1, Tied, 2), 2 + 1);
    let model = "domain Comp = 0..3\ndata x : Real[2]\nparam w : Categorical(Comp)\n\
                 param g : Gaussian(Real[2] | Comp) { covariance: diagonal }\n\
                 model {\n hidden c : Comp\n c ~ w\n x ~ g(c)\n}\n";
    let data = "0 1\n1 2\n2 0\n5 5\n";
    assert_eq!(free(&compiled(model, data)), vec![2, 12]);
}

#[test]
fn criteria_follow_their_formulas() {
    let c = Criteria {
        log_likelihood: -100.0,
        free_parameters: 5,
        samples: 50.0,
    };
    assert!((c.bic() - (200.0 + 5.0 * 50f64.ln())).abs() < 1e-12);
    assert!((c.aic() - 210.0).abs() < 1e-12);
}

#[test]
fn lines_sum_to_the_e_steps_total() {
    let m = coins("", "Categorical(Face | Coin)", true);
    let c = compiled(&m, &coin_data());
    let params = crate::params::initial(
        &c.program.model,
        &c.program.domains,
        &c.program.layout,
        crate::model::InitMode::Uniform,
        &mut rand::rngs::mock::StepRng::new(0, 1),
    )
    .expect("uniform parameters");
    let lines = line_log_likelihoods(&c.program, &c.dataset, &params, &c.pool).unwrap();
    assert_eq!(lines.iter().map(|l| l.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    // Uniform coins: every line is 8 tosses of probability 1/2.
    for (_, ll) in &lines {
        assert!((ll - 8.0 * 0.5f64.ln()).abs() < 1e-12, "{ll}");
    }
    let total: f64 = lines.iter().map(|l| l.1).sum();
    assert!((total - c.log_likelihood(&params).unwrap()).abs() < 1e-12);
    let size = Size::of(&c.program.model, &c.dataset);
    assert_eq!((size.lines, size.samples, size.tokens), (3, 3.0, 24.0));
}

#[test]
fn restricted_rows_count_like_whole_rows() {
    // IBM Model 2's a(i | j, l) is drawn `within` each sentence's positions: the restriction
    // divides a row, which is still one distribution of n - 1 free numbers.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = std::fs::read_to_string(root.join("models/ibm2.em")).unwrap();
    let data = std::fs::read_to_string(root.join("models/hmm_aligner.txt")).unwrap();
    let data: String = data.lines().take(20).map(|l| format!("{l}\n")).collect();
    let c = compiled(&model, &data);
    let align = c.program.model.family_named("align").unwrap();
    let slot = &c.program.layout.families[align];
    assert!(slot.support.is_none());
    assert_eq!(free(&c)[align], slot.n_cond * (slot.n_out - 1));
}
