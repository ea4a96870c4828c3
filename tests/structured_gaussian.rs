//! Gaussian families in structured stories: a real value drawn in a procedure is a density
//! entry of its hyperedge, re-weighted every iteration and divided per value by its largest
//! density (every derivation draws each value once), with the posterior mass on it added to
//! its row's sufficient statistics. The mixed HMM told recursively
//! (`models/gaussian_hmm_recursive.em`) must give the chain kernel's numbers
//! (`models/gaussian_hmm.em`): log-likelihood traces, parameters and decodings.

mod common;

use emc::kernel::Kernel;
use emc::model::InitMode;
use emc::params::initial;
use emc::pipeline::{compile, front_end, Compiled};
use emc::train::{Init, Outcome};
use rand::SeedableRng;

fn compiled(model: &str, data: &str, threads: usize) -> Compiled {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/{model}.em")).unwrap();
    let m = front_end(&src, &[]).unwrap_or_else(|e| panic!("{model}: {e:?}"));
    compile(m, data, None, threads).unwrap_or_else(|e| panic!("{model}: {e:?}"))
}

fn data() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{root}/models/gaussian_hmm.txt")).unwrap()
}

fn agree(a: &Outcome, b: &Outcome) {
    assert_eq!(a.trace.len(), b.trace.len());
    for (x, y) in a.trace.iter().zip(&b.trace) {
        let what = format!("log-likelihood at iteration {}", x.iteration);
        common::close(y.objective, x.objective, 1e-9 * x.objective.abs(), &what);
    }
    for (k, (x, y)) in a.params.theta.iter().zip(&b.params.theta).enumerate() {
        common::close(*y, *x, 1e-9 * x.abs().max(1.0), &format!("parameter {k}"));
    }
}

/// From the model's own start (k-means++ seeding of the Gaussian rows from the data, which
/// must see the same points in the same order) and from random given parameters.
#[test]
fn the_recursive_mixed_hmm_gives_the_chain_kernels_numbers() {
    let data = data();
    let chain = compiled("gaussian_hmm", &data, 2);
    let rec = compiled("gaussian_hmm_recursive", &data, 2);
    assert!(matches!(chain.kernel, Kernel::Chain(_)));
    assert!(matches!(rec.kernel, Kernel::Hypergraph(_)));
    assert_eq!(chain.program.layout, rec.program.layout);
    let mut config = common::config(&chain.program, 30, 0.0);
    config.decode = true;
    let (a, b) = (
        chain.train(&config, &mut |_| {}),
        rec.train(&config, &mut |_| {}),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    agree(&a, &b);
    assert_eq!(a.decoded, b.decoded);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let p = &chain.program;
    let start = initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng).unwrap();
    config.init = Init::Given(start);
    config.iterations = 8;
    agree(
        &chain.train(&config, &mut |_| {}).unwrap(),
        &rec.train(&config, &mut |_| {}).unwrap(),
    );
}

/// Lines of 300 positions, whose densities multiply far past the range of f64 (each line's
/// log-likelihood is about -1,500): the per-value scaling keeps the inside pass in range, a
/// missing coordinate (`?`) is integrated out as the chain kernel does, and 1 and 2 threads
/// give the same bits.
#[test]
fn long_lines_and_missing_coordinates() {
    let tokens: Vec<(String, String)> = data()
        .lines()
        .flat_map(|l| {
            let (obs, sym) = l.split_once("|||").unwrap();
            let obs: Vec<String> = obs.split_whitespace().map(String::from).collect();
            let sym: Vec<String> = sym.split_whitespace().map(String::from).collect();
            obs.into_iter().zip(sym).collect::<Vec<_>>()
        })
        .collect();
    let mut long = String::new();
    for (n, line) in tokens.chunks(300).enumerate() {
        let (mut obs, sym): (Vec<String>, Vec<String>) = line.iter().cloned().unzip();
        if n == 1 {
            let y = obs[7].split_once(',').unwrap().1.to_string();
            obs[7] = format!("?,{y}");
        }
        long += &format!("{} ||| {}\n", obs.join(" "), sym.join(" "));
    }
    let chain = compiled("gaussian_hmm", &long, 2);
    let rec = compiled("gaussian_hmm_recursive", &long, 2);
    let rec1 = compiled("gaussian_hmm_recursive", &long, 1);
    let config = common::config(&chain.program, 10, 0.0);
    let a = chain.train(&config, &mut |_| {}).unwrap();
    let b = rec.train(&config, &mut |_| {}).unwrap();
    assert!(
        a.trace[0].objective < -1000.0 * 5.0,
        "lines far out of the range of f64"
    );
    agree(&a, &b);
    let b1 = rec1.train(&config, &mut |_| {}).unwrap();
    assert_eq!(b.params.theta, b1.params.theta, "1 and 2 threads");
    let objectives = |o: &Outcome| {
        o.trace
            .iter()
            .map(|t| t.objective.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(objectives(&b), objectives(&b1), "1 and 2 threads");
}

/// `emc sample` draws the real values of a structured story from their Gaussian rows: lines
/// sampled from the true parameters train back to them (means within 0.05, covariances
/// within 0.05), with the data written in the format the data reader takes.
#[test]
fn sampled_real_values_train_back_to_the_truth() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = common::scratch("structured-gaussian", "sampled");
    let emc = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_emc"))
            .current_dir(root)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let model = "models/gaussian_hmm_recursive.em";
    let truth = "models/gaussian_hmm.truth.json";
    let lines = emc(&[
        "sample", model, "--params", truth, "-n", "400", "--length", "25", "--seed", "5",
    ]);
    let data = dir.join("data.txt");
    std::fs::write(&data, &lines).unwrap();
    let out = dir.join("out");
    emc(&[
        "run",
        model,
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let got = std::fs::read_to_string(out.join("params.json")).unwrap();
    let got: serde_json::Value = serde_json::from_str(&got).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{root}/{truth}")).unwrap()).unwrap();
    let emit = |v: &serde_json::Value| {
        v["families"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "emit_obs")
            .unwrap()
            .clone()
    };
    let (g, w) = (emit(&got), emit(&want));
    for key in ["means", "covariances"] {
        for (a, b) in numbers(&g[key]).iter().zip(numbers(&w[key])) {
            assert!((a - b).abs() < 0.05, "{key}: {a} against the truth's {b}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every number of a JSON value, depth first.
fn numbers(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(numbers).collect(),
        v => vec![v.as_f64().unwrap()],
    }
}
