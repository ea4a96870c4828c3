//! Helpers shared by the integration tests: load a zoo model with its data and train it
//! through the library, as `emc run` would.

#![allow(dead_code)]

use emc::data::Dataset;
use emc::pipeline::{front_end, program, Compiled};
use emc::program::Program;
use emc::train::{self, Config, Outcome};

pub fn load(name: &str) -> (Program, Dataset) {
    load_with(name, &[], usize::MAX)
}

/// The zoo model `models/NAME.em` on at most `max_lines` lines of `models/NAME.txt`.
pub fn load_with(name: &str, set: &[(&str, &str)], max_lines: usize) -> (Program, Dataset) {
    let (model, data) = read_zoo(name, set, max_lines);
    program(model, &data, None).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// The zoo model as `emc run` compiles it: program, data and E-step kernel.
pub fn compiled(name: &str, set: &[(&str, &str)], max_lines: usize, threads: usize) -> Compiled {
    let (model, data) = read_zoo(name, set, max_lines);
    emc::pipeline::compile(model, &data, None, threads).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// The checked model `models/NAME.em` and at most `max_lines` lines of `models/NAME.txt`.
fn read_zoo(name: &str, set: &[(&str, &str)], max_lines: usize) -> (emc::model::Model, String) {
    let root = env!("CARGO_MANIFEST_DIR");
    let src = std::fs::read_to_string(format!("{root}/models/{name}.em")).expect("model file");
    let data = std::fs::read_to_string(format!("{root}/models/{}", data_file(name, &src)))
        .expect("data file");
    let data: String = data
        .lines()
        .take(max_lines)
        .map(|l| format!("{l}\n"))
        .collect();
    let set: Vec<(String, String)> = set
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let model = front_end(&src, &set).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    (model, data)
}

/// A zoo model's data: `NAME.txt`, or the file a `# data: FILE` line of the model names (a
/// model that retells another on the same data, like `hmm_recursive.em`).
pub fn data_file(name: &str, src: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let own = format!("{name}.txt");
    if std::path::Path::new(&format!("{root}/models/{own}")).exists() {
        return own;
    }
    src.lines()
        .find_map(|l| l.strip_prefix("# data: "))
        .map_or(own, |f| f.trim().to_string())
}

pub fn config(program: &Program, iterations: usize, tolerance: f64) -> Config {
    let mut c = Config::from_model(program);
    c.iterations = iterations;
    c.tolerance = tolerance;
    c
}

pub fn train(program: &Program, data: &Dataset, config: &Config) -> Outcome {
    train::train(program, data, config, &mut |_| {}).expect("training runs")
}

/// The probability of `outcome` given `condition` (symbol names) in family `family`.
pub fn prob(
    program: &Program,
    theta: &[f64],
    family: &str,
    condition: &[&str],
    outcome: &str,
) -> f64 {
    let m = &program.model;
    let f = m.family_named(family).expect("family exists");
    let fam = &m.families[f];
    let slot = &program.layout.families[f];
    let mut row = 0;
    for (k, (d, s)) in fam.conditions.iter().zip(condition).enumerate() {
        row = row * slot.cond_sizes[k]
            + program.domains.lookup(*d, s).expect("condition symbol") as usize;
    }
    let o = program
        .domains
        .lookup(fam.outcome, outcome)
        .expect("outcome symbol") as usize;
    // A sparse family's entry that it does not store is zero after training.
    slot.index(row * slot.n_out + o).map_or(0.0, |k| theta[k])
}

pub fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol,
        "{what}: got {a}, expected {b} (tolerance {tol})"
    );
}

/// CPU time (user and system) of the waited-for children of this process, from
/// `/proc/self/stat`: the machine is shared, so wall time would measure the neighbours.
pub fn children_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // cutime and cstime are fields 16 and 17 of stat(5), 14 and 15 after the name.
    let ticks: u64 = fields[13].parse::<u64>().unwrap() + fields[14].parse::<u64>().unwrap();
    std::time::Duration::from_millis(ticks * 10)
}

/// A model whose tosses are heads for certain, and data in `dir` whose second line (a tail)
/// has probability zero: `(model, data)` paths.
pub fn zero_line_case(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let model = dir.join("m.em");
    std::fs::write(
        &model,
        "domain Face = {H, T}\ndata tosses : [Face]\nparam p : Categorical(Face) { fixed, init: [1.0, 0.0] }\n\
         param q : Categorical(Face)\nmodel {\n  for i in 0..len(tosses): tosses[i] ~ p\n}\n",
    )
    .unwrap();
    let data = dir.join("d.txt");
    std::fs::write(&data, "H H\nH T\nH\n").unwrap();
    (model, data)
}

/// A trace's log-likelihoods equal `want` to 1e-9 relative, point by point, and EM's
/// objective rises at every step.
pub fn assert_em_trace(trace: &[emc::train::TracePoint], want: &[f64]) {
    assert_em_trace_within(trace, want, 1e-9);
}

/// [`assert_em_trace`] to `relative` of each figure: for traces defined only to a stopping
/// rule's accuracy, such as Algorithm 1's, whose M-steps end at a gradient tolerance.
pub fn assert_em_trace_within(trace: &[emc::train::TracePoint], want: &[f64], relative: f64) {
    assert_eq!(trace.len(), want.len());
    for (p, want) in trace.iter().zip(want) {
        close(
            p.log_likelihood,
            *want,
            relative * want.abs(),
            &format!("log-likelihood after {} iterations", p.iteration),
        );
    }
    for w in trace.windows(2) {
        assert!(
            w[1].objective > w[0].objective,
            "EM increases the objective"
        );
    }
}

/// Cargo's directory for integration tests' files (`target/tmp`).
pub fn tmp() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
}

/// Runs the `emc` binary from the repository root.
pub fn emc(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("emc runs")
}

/// A fresh scratch directory for one test of the test file `suite`, under the target
/// directory's `tmp` (cargo's place for integration tests' files): the system's temporary
/// directory is not filled run after run, and a failed test's files stay to be looked at
/// until the next run.
pub fn scratch(suite: &str, name: &str) -> std::path::PathBuf {
    let dir = tmp().join(format!("emc-{suite}-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Parameters drawn at random (each row uniform noise, normalised) from `seed`.
pub fn random_params(p: &Program, seed: u64) -> emc::params::Params {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    emc::params::initial(
        &p.model,
        &p.domains,
        &p.layout,
        emc::model::InitMode::Random,
        &mut rng,
    )
    .unwrap()
}

/// One E-step of `kernel` on `threads` threads, stopping at a zero-probability line.
pub fn counts(
    kernel: &emc::kernel::Kernel,
    p: &Program,
    d: &Dataset,
    params: &emc::params::Params,
    threads: usize,
) -> emc::infer::CountStore {
    kernel
        .e_step(
            p,
            d,
            params,
            &train::thread_pool(threads),
            train::ZeroPolicy::Stop,
        )
        .unwrap()
}

/// Two E-steps' log-likelihoods to 1e-10 and every expected count to 1e-9 (relative, or
/// absolute below 1), and the same instances; `slow` is the reference.
pub fn assert_same_counts(
    what: &str,
    fast: &emc::infer::CountStore,
    slow: &emc::infer::CountStore,
) {
    assert_counts_within(what, fast, slow, 1e-10, 1e-9);
}

/// `assert_same_counts` to other tolerances: the log-likelihood to `log_likelihood` and each
/// count to `count` (relative, or absolute below 1).
pub fn assert_counts_within(
    what: &str,
    fast: &emc::infer::CountStore,
    slow: &emc::infer::CountStore,
    log_likelihood: f64,
    count: f64,
) {
    let tol = log_likelihood * slow.log_likelihood.abs().max(1.0);
    assert!(
        (fast.log_likelihood - slow.log_likelihood).abs() <= tol,
        "{what}: log-likelihood {} vs {}",
        fast.log_likelihood,
        slow.log_likelihood
    );
    assert_eq!(fast.instances, slow.instances, "{what}: instances");
    for (k, (a, b)) in fast.expected.iter().zip(&slow.expected).enumerate() {
        assert!(
            (a - b).abs() <= count * b.abs().max(1.0),
            "{what}: count {k} is {a}, the reference says {b}"
        );
    }
}

/// Pair lines `f ||| e` as `f ||| reversed f ||| e`: a second word per alignment, so that an
/// alignment variable has two tables (the independent kernel then writes per entry).
pub fn two_sided(pairs: &str) -> String {
    pairs
        .lines()
        .map(|l| {
            let (f, e) = l.split_once(" ||| ").unwrap();
            let g: Vec<&str> = f.split(' ').rev().collect();
            format!("{f} ||| {} ||| {e}\n", g.join(" "))
        })
        .collect()
}
