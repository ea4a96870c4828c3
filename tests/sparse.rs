//! Sparse Categorical tables against dense ones, and the kernel for independent variables of
//! unequal sizes (IBM Model 1) against the general per-instance path.

mod common;

use emc::data::Dataset;
use emc::kernel::Kernel;
use emc::model::InitMode;
use emc::params::{from_json, initial, to_json, Params};
use emc::pipeline::{front_end, program};
use emc::program::Program;
use emc::train::{thread_pool, ZeroPolicy};
use rand::SeedableRng;

/// The zoo's IBM Model 1 with its translation table stored as `storage` says.
fn ibm1(storage: &str, data: &str) -> (Program, Dataset) {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/ibm1_null.em")).unwrap();
    let src = src.replace(
        "param t : Categorical(F | E)",
        &format!("param t : Categorical(F | E) {{ storage: {storage} }}"),
    );
    program(front_end(&src, &[]).unwrap(), data, None).unwrap()
}

fn zoo_data() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{root}/models/ibm1_null.txt")).unwrap()
}

/// Pairs whose sentences differ in length, in two topics whose words never meet, so that
/// many (English, French) pairs are never reached.
fn pairs() -> String {
    let fr = [
        ["la", "le", "maison", "bleue"],
        ["fleur", "chat", "petit", "un"],
    ];
    let en = [["the", "house", "blue"], ["flower", "cat", "small"]];
    (0..120usize)
        .map(|i| {
            let (fr, en) = (fr[i % 2], en[i % 2]);
            let f: Vec<&str> = (0..1 + i % 5).map(|j| fr[(i * 3 + j * 5) % 4]).collect();
            let e: Vec<&str> = (0..1 + (i / 5) % 4).map(|j| en[(i + j * 2) % 3]).collect();
            format!("{} ||| {}\n", f.join(" "), e.join(" "))
        })
        .collect()
}

#[test]
fn a_sparse_table_trains_as_the_dense_one() {
    for data in [zoo_data(), pairs()] {
        let (dense, dd) = ibm1("dense", &data);
        let (sparse, sd) = ibm1("sparse", &data);
        let t = sparse.model.family_named("t").unwrap();
        let slot = &sparse.layout.families[t];
        assert!(slot.support.is_some());
        assert!(
            slot.n_probs() < slot.n_cond * slot.n_out,
            "some entries are not stored"
        );
        let a = common::train(&dense, &dd, &common::config(&dense, 6, 0.0));
        let b = common::train(&sparse, &sd, &common::config(&sparse, 6, 0.0));
        for (x, y) in a.trace.iter().zip(&b.trace) {
            common::close(
                y.log_likelihood,
                x.log_likelihood,
                1e-12 * x.log_likelihood.abs(),
                "log-likelihood",
            );
        }
        // Every dense entry: the stored ones equal, the others zero in both.
        let e_dom = sparse.model.families[t].conditions[0];
        let f_dom = sparse.model.families[t].outcome;
        for e in &sparse.domains.symbols[e_dom] {
            for f in &sparse.domains.symbols[f_dom] {
                let x = common::prob(&dense, &a.params.theta, "t", &[e], f);
                let y = common::prob(&sparse, &b.params.theta, "t", &[e], f);
                common::close(y, x, 1e-12, &format!("t({f} | {e})"));
            }
        }
    }
}

#[test]
fn a_sparse_table_round_trips_through_params_json() {
    let (p, d) = ibm1("sparse", &pairs());
    let out = common::train(&p, &d, &common::config(&p, 3, 0.0));
    let text = to_json(&p.model, &p.domains, &p.layout, &out.params);
    let loaded = from_json(&p.model, &text).unwrap();
    assert_eq!(loaded.layout, p.layout);
    assert_eq!(loaded.params_for(&p.layout), out.params);
    // On other data the table maps onto that data's support: pairs seen in training keep
    // their values, pairs never seen are zero.
    let (q, _) = program(
        p.model.clone(),
        "la maison ||| the house\nun chat ||| the flower\n",
        Some(&loaded.domains),
    )
    .unwrap();
    let mapped = loaded.params_for(&q.layout);
    for (e, f) in [("the", "la"), ("house", "maison"), ("flower", "chat")] {
        common::close(
            common::prob(&q, &mapped.theta, "t", &[e], f),
            common::prob(&p, &out.params.theta, "t", &[e], f),
            0.0,
            &format!("t({f} | {e})"),
        );
    }
    assert_eq!(common::prob(&q, &mapped.theta, "t", &["the"], "chat"), 0.0);
}

#[test]
fn sparse_rows_start_as_dense_rows_would() {
    let (p, _) = ibm1("sparse", &pairs());
    let t = p.model.family_named("t").unwrap();
    let slot = &p.layout.families[t];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let uniform = initial(&p.model, &p.domains, &p.layout, InitMode::Uniform, &mut rng).unwrap();
    let random = initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap();
    for r in 0..slot.n_cond {
        let entries = slot.row_entries(r);
        for (_, k) in &entries {
            assert_eq!(uniform.theta[*k], 1.0 / slot.n_out as f64);
        }
        let mass: f64 = entries.iter().map(|(_, k)| random.theta[*k]).sum();
        let unstored = (slot.n_out - entries.len()) as f64;
        // Noise in [0.5, 1.5) over a normaliser that counts the unstored entries at 1.
        assert!(mass < 1.0 || unstored == 0.0);
        assert!(entries.iter().all(|(_, k)| random.theta[*k] > 0.0));
    }
}

fn counts(
    kernel: &Kernel,
    p: &Program,
    d: &Dataset,
    params: &Params,
    threads: usize,
) -> emc::infer::CountStore {
    kernel
        .e_step(p, d, params, &thread_pool(threads), ZeroPolicy::Stop)
        .unwrap()
}

#[test]
fn the_independent_kernel_counts_and_decodes_what_the_general_path_does() {
    for (what, (p, d)) in [
        ("ibm1_null", common::load("ibm1_null")),
        ("pairs, sparse", ibm1("sparse", &pairs())),
        ("pairs, dense", ibm1("dense", &pairs())),
    ] {
        let kernel = Kernel::build(&p, &d, &thread_pool(2)).unwrap();
        assert!(matches!(kernel, Kernel::Independent(_)), "{what}");
        for seed in 0..3 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let params =
                initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap();
            let fast = counts(&kernel, &p, &d, &params, 2);
            let slow = counts(&Kernel::Generic, &p, &d, &params, 1);
            let tol = 1e-10 * slow.log_likelihood.abs();
            assert!(
                (fast.log_likelihood - slow.log_likelihood).abs() <= tol,
                "{what}"
            );
            assert_eq!(fast.instances, slow.instances);
            for (k, (a, b)) in fast.expected.iter().zip(&slow.expected).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{what}: count {k}: {a} vs {b}"
                );
            }
            assert_eq!(
                fast,
                counts(&kernel, &p, &d, &params, 1),
                "{what}: 1 vs 2 threads"
            );
            let compiled =
                emc::decode::viterbi_compiled(&p, &d, &params, &kernel, &thread_pool(2)).unwrap();
            assert_eq!(
                compiled,
                emc::decode::viterbi(&p, &d, &params).unwrap(),
                "{what}"
            );
        }
    }
}

/// Each alignment explains two words, so its variable has two tables: the kernel writes
/// posteriors per entry rather than per variable.
const TWO_SIDES: &str = "
data f : [F] ||| g : [F] ||| e : [E]
domain F = vocabulary(f, g)
domain E = vocabulary(e) + {NULL}
param t : Categorical(F | E) { storage: sparse }
param u : Categorical(F | E)
model {
    let src = [NULL] ++ e
    hidden a : [0..len(src); len(f)]
    for j in 0..len(f) {
        a[j] ~ uniform
        f[j] ~ t(src[a[j]])
        g[j] ~ u(src[a[j]])
    }
}
";

#[test]
fn the_independent_kernel_counts_variables_with_several_tables() {
    let data = common::two_sided(&pairs());
    let (p, d) = program(front_end(TWO_SIDES, &[]).unwrap(), &data, None).unwrap();
    let kernel = Kernel::build(&p, &d, &thread_pool(2)).unwrap();
    assert!(matches!(kernel, Kernel::Independent(_)));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let params = initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap();
    let fast = counts(&kernel, &p, &d, &params, 2);
    let slow = counts(&Kernel::Generic, &p, &d, &params, 1);
    common::close(
        fast.log_likelihood,
        slow.log_likelihood,
        1e-10 * slow.log_likelihood.abs(),
        "log-likelihood",
    );
    for (k, (a, b)) in fast.expected.iter().zip(&slow.expected).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            "count {k}: {a} vs {b}"
        );
    }
    assert_eq!(fast, counts(&kernel, &p, &d, &params, 1), "1 vs 2 threads");
}

#[test]
fn the_independent_kernel_skips_impossible_pairs_like_the_general_path() {
    let (p, d) = ibm1(
        "dense",
        "la ||| the\nmaison ||| the house\nla maison ||| house\n",
    );
    let mut params = initial(
        &p.model,
        &p.domains,
        &p.layout,
        InitMode::Uniform,
        &mut rand_chacha::ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap();
    // Nothing translates to `la`, so lines 1 and 3 are impossible.
    let t = p.model.family_named("t").unwrap();
    let slot = &p.layout.families[t];
    let la = p.domains.lookup(p.model.families[t].outcome, "la").unwrap() as usize;
    for r in 0..slot.n_cond {
        params.theta[slot.index(r * slot.n_out + la).unwrap()] = 0.0;
    }
    let kernel = Kernel::build(&p, &d, &thread_pool(1)).unwrap();
    let pool = thread_pool(1);
    let err = kernel
        .e_step(&p, &d, &params, &pool, ZeroPolicy::Stop)
        .unwrap_err();
    assert!(err.to_string().contains("data line 1"), "{err}");
    let fast = kernel
        .e_step(&p, &d, &params, &pool, ZeroPolicy::Skip)
        .unwrap();
    let slow = Kernel::Generic
        .e_step(&p, &d, &params, &pool, ZeroPolicy::Skip)
        .unwrap();
    assert_eq!(fast.skipped, vec![1, 3]);
    assert_eq!(slow.skipped, vec![1, 3]);
    common::close(
        fast.log_likelihood,
        slow.log_likelihood,
        1e-12,
        "log-likelihood",
    );
}

#[test]
fn the_direct_algorithm_optimises_a_sparse_table() {
    // Rows are softmaxes over the stored entries: L-BFGS must improve the likelihood and
    // end near EM's optimum.
    let (p, d) = ibm1("sparse", &pairs());
    let mut c = common::config(&p, 40, 0.0);
    c.algorithm = emc::model::Algorithm::Direct;
    let direct = common::train(&p, &d, &c);
    let trace: Vec<f64> = direct.trace.iter().map(|t| t.log_likelihood).collect();
    assert!(
        trace.windows(2).all(|w| w[1] >= w[0] - 1e-9 * w[0].abs()),
        "{trace:?}"
    );
    let em = common::train(&p, &d, &common::config(&p, 200, 0.0));
    let (best_em, best_direct) = (
        em.trace.last().unwrap().log_likelihood,
        *trace.last().unwrap(),
    );
    assert!(best_direct > trace[0]);
    assert!(
        (best_direct - best_em).abs() < 1e-3 * best_em.abs(),
        "direct {best_direct} vs EM {best_em}"
    );
}
