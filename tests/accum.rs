//! Accumulator files (`emc estep`, `emc mstep`): the counts of shards of units, merged in
//! unit order, are the one-process E-step's bits for every kernel and any number of
//! shards; the loop of estep and mstep gives `emc run`'s params.json byte for byte; and a
//! set of files that is not one complete E-step of the inputs given is refused, naming
//! the file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use emc::accum::{self, ShardFile};
use emc::infer::CountStore;
use emc::kernel::ZeroPolicy;
use emc::params::Params;
use emc::pipeline::{self, Compiled, Inputs};
use emc::train::Config;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).expect("repository file")
}

/// A zoo data file repeated `times` times: enough lines for several units of work (a
/// chain unit is about 64k tokens, a hypergraph unit 64 lines, a generic one 256).
fn repeated(data: &str, times: usize) -> String {
    read(data).repeat(times)
}

/// IBM Model 1 with its translation table stored sparse (on the zoo's small data `auto`
/// keeps it dense).
fn ibm1_sparse() -> String {
    let model = read("models/ibm1_null.em");
    let sparse = model.replace(
        "param t : Categorical(F | E)\n",
        "param t : Categorical(F | E) { storage: sparse }\n",
    );
    assert_ne!(model, sparse, "ibm1_null.em declares t as expected");
    sparse
}

fn compile(model: &str, data: &str, threads: usize) -> Compiled {
    let model = pipeline::front_end(model, &[]).expect("model checks");
    pipeline::compile(model, data, None, threads).expect("compiles")
}

/// The parameters `emc run --iterations 0` writes: the initial ones.
fn initial(c: &Compiled) -> Params {
    let mut config = Config::from_model(&c.program);
    config.iterations = 0;
    config.threads = c.pool.current_num_threads();
    c.train(&config, &mut |_| {}).expect("trains").params
}

fn same_bits(a: &CountStore, b: &CountStore, what: &str) {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.expected), bits(&b.expected), "{what}: counts");
    assert_eq!(bits(&a.norm_uses), bits(&b.norm_uses), "{what}: set uses");
    assert_eq!(
        a.log_likelihood.to_bits(),
        b.log_likelihood.to_bits(),
        "{what}: log-likelihood"
    );
    assert_eq!(a.instances, b.instances, "{what}: instances");
    assert_eq!(a.skipped, b.skipped, "{what}: skipped");
}

/// Shards counted apart (through the bytes of their files, handed over out of order) and
/// merged equal the whole E-step, for 1, 3 and 4 shards and one or two threads.
fn shards_merge_to_the_whole(model: &str, data: &str, min_units: usize) {
    shards_merge_with(model, data, min_units, false)
}

/// `shards_merge_to_the_whole`, on the interpreted path if `interpreted`.
fn shards_merge_with(model: &str, data: &str, min_units: usize, interpreted: bool) {
    let compile = |threads| {
        let mut c = compile(model, data, threads);
        if interpreted {
            c.kernel = emc::kernel::Kernel::Generic;
        }
        c
    };
    let whole = compile(1);
    let units = whole.kernel.units(&whole.dataset);
    assert!(units >= min_units, "{model}: {units} units");
    let params = initial(&whole);
    let one = (whole.kernel)
        .e_step(
            &whole.program,
            &whole.dataset,
            &params,
            &whole.pool,
            ZeroPolicy::Stop,
        )
        .expect("counts");
    let inputs = Inputs {
        model: 1,
        data: 2,
        params: 3,
    };
    let two = compile(2);
    for shards in [1, 3, 4] {
        let files: Vec<(String, ShardFile)> = (0..shards)
            .rev()
            .map(|s| {
                let header = two.shard_header(inputs, s, shards);
                let file = two
                    .e_step_shard(&params, ZeroPolicy::Stop, header)
                    .expect("shard counts");
                let name = format!("counts.{s}");
                let back = accum::decode(&name, &accum::encode(&file)).expect("decodes");
                assert_eq!(back, file, "the file round-trips");
                (name, back)
            })
            .collect();
        let all = accum::assemble(files, &whole.shard_header(inputs, 0, 1)).expect("complete");
        assert_eq!(all.len(), units);
        let merged = (whole.kernel)
            .finish_units(&whole.program, &params, &whole.pool, &all)
            .expect("merges");
        same_bits(&merged, &one, &format!("{model}, {shards} shards"));
    }
}

#[test]
fn chain_shards_merge_to_the_whole() {
    shards_merge_to_the_whole(&read("models/hmm.em"), &repeated("models/hmm.txt", 12), 2);
}

#[test]
fn chain_with_densities_and_features_merge_to_the_whole() {
    let gaussian = read("models/gaussian_hmm.em");
    shards_merge_to_the_whole(&gaussian, &read("models/gaussian_hmm.txt"), 1);
    let gmm = read("models/gmm_2d.em");
    shards_merge_to_the_whole(&gmm, &repeated("models/gmm_2d.txt", 300), 2);
    let fhmm = read("models/pos_fhmm.em");
    shards_merge_to_the_whole(&fhmm, &read("models/pos_fhmm.txt"), 1);
}

#[test]
fn independent_shards_merge_to_the_whole() {
    let data = repeated("models/hmm_aligner.txt", 10);
    shards_merge_to_the_whole(&ibm1_sparse(), &data, 3);
    let mixture = read("models/latent_class.em");
    shards_merge_to_the_whole(&mixture, &repeated("models/latent_class.txt", 20), 1);
    // Each alignment explains two words, so the kernel writes its posteriors per entry.
    let two_sides = "data f : [F] ||| g : [F] ||| e : [E]\n\
        domain F = vocabulary(f, g)\ndomain E = vocabulary(e) + {NULL}\n\
        param t : Categorical(F | E) { storage: sparse }\nparam u : Categorical(F | E)\n\
        model {\n let src = [NULL] ++ e\n hidden a : [0..len(src); len(f)]\n\
        for j in 0..len(f) {\n a[j] ~ uniform\n f[j] ~ t(src[a[j]])\n g[j] ~ u(src[a[j]])\n }\n}\n";
    shards_merge_to_the_whole(two_sides, &common::two_sided(&data), 3);
}

#[test]
fn generic_shards_merge_to_the_whole() {
    let data = repeated("models/factorial_hmm.txt", 10);
    shards_merge_with(&read("models/factorial_hmm.em"), &data, 3, true);
}

#[test]
fn frontier_shards_merge_to_the_whole() {
    let data = repeated("models/factorial_hmm.txt", 400);
    shards_merge_to_the_whole(&read("models/factorial_hmm.em"), &data, 3);
}

#[test]
fn hypergraph_shards_merge_to_the_whole() {
    // Units are cut by hyperedges (thousands each), so the small zoo files are repeated
    // to make several.
    let data = repeated("models/segmentation.txt", 8);
    shards_merge_to_the_whole(&read("models/segmentation.em"), &data, 4);
    let aligner = read("models/hmm_aligner.em");
    shards_merge_to_the_whole(&aligner, &read("models/hmm_aligner.txt"), 4);
    // Gaussian draws in a structured story: their posterior masses become statistics as
    // the units merge.
    let recursive = read("models/gaussian_hmm_recursive.em");
    shards_merge_to_the_whole(&recursive, &repeated("models/gaussian_hmm.txt", 20), 4);
}

fn emc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("emc runs")
}

fn ok(args: &[&str]) -> Output {
    let out = emc(args);
    assert!(
        out.status.success(),
        "emc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("accum", name)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Writes `text` into `dir/name` and returns the path.
fn put(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("scratch file");
    path
}

/// One iteration of the loop: every shard's estep at `params` (with `flags`), then mstep into
/// `out`. Returns the accumulator files.
fn iterate(
    model: &str,
    data: &str,
    params: &Path,
    shards: u64,
    out: &Path,
    flags: &[&str],
) -> Vec<PathBuf> {
    let dir = out.with_extension("counts");
    std::fs::create_dir_all(&dir).expect("counts directory");
    let files: Vec<PathBuf> = (0..shards)
        .map(|i| {
            let file = dir.join(format!("{i}.acc"));
            let shard = format!("{i}/{shards}");
            let mut args = vec![
                "estep",
                model,
                data,
                "--params",
                s(params),
                "--shard",
                &shard,
                "--out",
                s(&file),
                "--threads",
                "2",
            ];
            args.extend_from_slice(flags);
            ok(&args);
            file
        })
        .collect();
    let mut args = vec!["mstep", model, data, "--params", s(params), "--out", s(out)];
    args.extend(files.iter().map(|f| s(f)));
    ok(&args);
    files
}

/// `emc run --iterations 0`, then `iterations` rounds of the loop over `shards` shards,
/// give `emc run --iterations K --tolerance 0`'s params.json and params.tsv byte for byte;
/// `flags` go to that run and to every estep.
fn loop_equals_run(
    dir: &Path,
    model: &str,
    data: &str,
    iterations: usize,
    shards: &[u64],
    flags: &[&str],
) {
    let reference = dir.join("run");
    let k = iterations.to_string();
    let mut run = vec![
        "run",
        model,
        data,
        "--iterations",
        &k,
        "--tolerance",
        "0",
        "--out",
        s(&reference),
        "-q",
    ];
    run.extend_from_slice(flags);
    ok(&run);
    let start = dir.join("it0");
    ok(&[
        "run",
        model,
        data,
        "--iterations",
        "0",
        "--out",
        s(&start),
        "-q",
    ]);
    for n in shards {
        let mut params = start.join("params.json");
        let mut last = start.clone();
        for t in 1..=iterations {
            last = dir.join(format!("n{n}-it{t}"));
            iterate(model, data, &params, *n, &last, flags);
            params = last.join("params.json");
        }
        for name in ["params.json", "params.tsv"] {
            let got = std::fs::read(last.join(name)).expect("mstep output");
            let want = std::fs::read(reference.join(name)).expect("run output");
            assert!(
                got == want,
                "{model}, {n} shards: {name} differs from emc run's"
            );
        }
    }
}

#[test]
fn the_loop_equals_emc_run_for_an_hmm() {
    let dir = scratch("hmm");
    let data = put(&dir, "hmm12.txt", &repeated("models/hmm.txt", 12));
    loop_equals_run(&dir, "models/hmm.em", s(&data), 2, &[1, 3, 4], &[]);
}

/// Shards counted with `emc estep --precision f32` merge to `emc run --precision f32`'s
/// params.json, byte for byte; a shard counted in double among them is refused, naming the
/// files and both precisions (hosts with and without AVX2 pick differently under `auto`).
#[test]
fn shards_in_single_precision_follow_the_run_and_refuse_a_mix() {
    let dir = scratch("precision");
    let data = put(&dir, "hmm12.txt", &repeated("models/hmm.txt", 12));
    let (model, data) = ("models/hmm.em", s(&data));
    let single = ["--precision", "f32"];
    loop_equals_run(&dir, model, data, 1, &[2], &single);
    // Without AVX2 and FMA every kernel runs in double: there is no mix to refuse.
    let probe = dir.join("probe");
    let f32_run = [
        "run",
        model,
        data,
        "--iterations",
        "0",
        "--precision",
        "f32",
    ];
    let summary = ok(&[&f32_run[..], &["--out", s(&probe)]].concat());
    if !String::from_utf8_lossy(&summary.stdout).contains("single precision") {
        return;
    }
    let p0 = dir.join("it0").join("params.json");
    let out = dir.join("mixed");
    let f32s = iterate(model, data, &p0, 2, &out, &single);
    let f64s = iterate(
        model,
        data,
        &p0,
        2,
        &dir.join("double"),
        &["--precision", "f64"],
    );
    let (a, b) = (s(&f32s[0]), s(&f64s[1]));
    refused(
        &[
            "mstep",
            model,
            data,
            "--params",
            s(&p0),
            "--out",
            s(&out),
            a,
            b,
        ],
        2,
        // The files by their ends: a long path is shortened in its middle.
        &[
            "double.counts/1.acc",
            "double-precision",
            "single-precision",
            "mixed.counts/0.acc",
        ],
    );
}

#[test]
fn the_loop_equals_emc_run_for_ibm1_sparse_and_a_mixture_of_gaussians() {
    let dir = scratch("ibm1");
    let model = put(&dir, "ibm1_sparse.em", &ibm1_sparse());
    let data = put(&dir, "al10.txt", &repeated("models/hmm_aligner.txt", 10));
    loop_equals_run(&dir, s(&model), s(&data), 2, &[3, 4], &[]);
    // A one-dimensional mixture: params.json gives back its variances' square roots bit for
    // bit (of two or more dimensions, the Cholesky factor read back from the covariances
    // may differ in the last bit; README, "Running on a cluster").
    let gmm = scratch("gmm");
    loop_equals_run(
        &gmm,
        "models/old_faithful.em",
        "models/old_faithful.txt",
        3,
        &[2],
        &[],
    );
}

#[test]
fn the_loop_equals_emc_run_for_the_featurised_hmm_and_the_dmv() {
    // Prefixes of the zoo's data keep the processes short (each compiles the whole data).
    let first = |path: &str, n: usize| -> String {
        read(path)
            .lines()
            .take(n)
            .map(|l| format!("{l}\n"))
            .collect()
    };
    let dir = scratch("fhmm");
    let data = put(&dir, "pos300.txt", &first("models/pos_fhmm.txt", 300));
    loop_equals_run(&dir, "models/pos_fhmm.em", s(&data), 2, &[3], &[]);
    let dmv = scratch("dmv");
    let data = put(&dmv, "dmv1000.txt", &first("models/dmv.txt", 1000));
    loop_equals_run(&dmv, "models/dmv.em", s(&data), 2, &[4], &[]);
}

/// `emc run` of the zoo's HMM on `data` for two iterations, into `dir/run`.
fn two_hmm_iterations(data: &Path, dir: &Path) -> PathBuf {
    let reference = dir.join("run");
    ok(&[
        "run",
        "models/hmm.em",
        s(data),
        "--iterations",
        "2",
        "--tolerance",
        "0",
        "--out",
        s(&reference),
        "-q",
    ]);
    reference
}

/// The README's loop, `scripts/cluster/loop.sh`: 4 shards through `xargs -P 2`.
#[test]
fn the_cluster_script_equals_emc_run() {
    let dir = scratch("script");
    let data = put(&dir, "hmm12.txt", &repeated("models/hmm.txt", 12));
    let reference = two_hmm_iterations(&data, &dir);
    let work = dir.join("work");
    let out = Command::new("sh")
        .args([
            "scripts/cluster/loop.sh",
            "models/hmm.em",
            s(&data),
            "4",
            "2",
            s(&work),
        ])
        .env("EMC", env!("CARGO_BIN_EXE_emc"))
        .current_dir(root())
        .output()
        .expect("sh runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("done: "), "{err}");
    let got = std::fs::read(work.join("it2/params.json")).expect("the loop's parameters");
    let want = std::fs::read(reference.join("params.json")).expect("emc run's");
    assert!(
        got == want,
        "the script's params.json differs from emc run's"
    );
}

/// A shard whose estep fails (here, the first time shard 1 of each iteration runs) is run
/// again alone, and the loop still ends with `emc run`'s bits; one that keeps failing stops
/// the loop naming it.
#[test]
fn the_cluster_script_runs_a_failed_shard_again() {
    let dir = scratch("retry");
    let data = put(&dir, "hmm4.txt", &repeated("models/hmm.txt", 4));
    let reference = two_hmm_iterations(&data, &dir);
    // Fails shard 1's estep the first time it runs on a parameter file (every time with
    // ALWAYS set), as a lost node would: no file.
    let script = format!(
        "#!/bin/sh\n\
         case \"$*\" in *'--shard 1/3'*)\n\
           mark=\"{dir}/failed.$(echo \"$*\" | cksum | cut -d' ' -f1)\"\n\
           if [ -n \"$ALWAYS\" ] || [ ! -e \"$mark\" ]; then touch \"$mark\"; echo 'node lost' >&2; exit 137; fi;;\n\
         esac\n\
         exec {emc} \"$@\"\n",
        dir = dir.display(),
        emc = env!("CARGO_BIN_EXE_emc"),
    );
    // Written by a child process: a file this (threaded) process held open for writing
    // could still be open in a sibling test's child between fork and exec, and executing
    // it would fail with "text file busy".
    let flaky = dir.join("flaky.sh");
    let wrote = Command::new("sh")
        .args(["-c", "printf '%s' \"$1\" > \"$2\" && chmod +x \"$2\"", "sh"])
        .arg(&script)
        .arg(&flaky)
        .status()
        .expect("sh runs");
    assert!(wrote.success());
    let loop_with = |work: &Path, always: bool| {
        let mut command = Command::new("sh");
        command
            .args([
                "scripts/cluster/loop.sh",
                "models/hmm.em",
                s(&data),
                "3",
                "2",
                s(work),
            ])
            .env("EMC", &flaky)
            .current_dir(root());
        if always {
            command.env("ALWAYS", "1");
        }
        command.output().expect("sh runs")
    };
    let work = dir.join("work");
    let out = loop_with(&work, false);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        err.matches("shard 1/3 failed; running it again (1 of 2)")
            .count(),
        2,
        "{err}"
    );
    let got = std::fs::read(work.join("it2/params.json")).expect("the loop's parameters");
    let want = std::fs::read(reference.join("params.json")).expect("emc run's");
    assert!(
        got == want,
        "the script's params.json differs from emc run's"
    );

    let out = loop_with(&dir.join("doomed"), true);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("shard 1/3 failed 3 times; stopping"), "{err}");
}

/// `--on-zero skip` leaves the line out of its shard, mstep reports it, and the loop still
/// ends with `emc run --on-zero skip`'s parameters; without it the shard's estep names the
/// line and writes nothing.
#[test]
fn zero_probability_lines_are_skipped_or_stop_the_shard() {
    let dir = scratch("zero");
    let (model, data) = common::zero_line_case(&dir);
    let (model, data) = (s(&model), s(&data));
    let reference = dir.join("run");
    let skip = ["--on-zero", "skip", "-q"];
    let run = |iterations: &str, out: &Path| {
        let mut args = vec![
            "run",
            model,
            data,
            "--iterations",
            iterations,
            "--out",
            s(out),
        ];
        args.extend(skip);
        ok(&args);
    };
    run("1", &reference);
    let it0 = dir.join("it0");
    run("0", &it0);
    let p0 = it0.join("params.json");
    let counts = dir.join("0.acc");
    let estep = |extra: &[&str]| {
        let mut args = vec!["estep", model, data, "--params", s(&p0), "--shard", "0/1"];
        args.extend(["--out", s(&counts)]);
        args.extend(extra);
        emc(&args)
    };
    let stopped = estep(&[]);
    assert_eq!(stopped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("data line 2"));
    assert!(!counts.exists());
    assert!(estep(&["--on-zero", "skip"]).status.success());
    let it1 = dir.join("it1");
    let out = ok(&[
        "mstep",
        model,
        data,
        "--params",
        s(&p0),
        "--out",
        s(&it1),
        s(&counts),
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("skipped      1 line(s) with probability zero: 2"),
        "{said}"
    );
    let got = std::fs::read(it1.join("params.json")).expect("mstep output");
    let want = std::fs::read(reference.join("params.json")).expect("run output");
    assert!(
        got == want,
        "params.json differs from emc run --on-zero skip's"
    );
}

fn refused(args: &[&str], code: i32, says: &[&str]) {
    let out = emc(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "emc {args:?}: {err}");
    for s in says {
        assert!(err.contains(s), "emc {args:?} should say `{s}`:\n{err}");
    }
    assert!(err.contains("hint:"), "emc {args:?} gives a hint:\n{err}");
}

#[test]
fn sets_that_are_not_one_e_step_are_refused() {
    let dir = scratch("refused");
    let (model, data) = ("models/hmm.em", "models/hmm.txt");
    let it0 = dir.join("it0");
    ok(&[
        "run",
        model,
        data,
        "--iterations",
        "0",
        "--out",
        s(&it0),
        "-q",
    ]);
    let p0 = it0.join("params.json");
    let it1 = dir.join("it1");
    let files = iterate(model, data, &p0, 3, &it1, &[]);
    let p1 = it1.join("params.json");
    let out = dir.join("out");
    let mstep = |params: &Path, set: &[&str], files: &[&Path]| -> Vec<String> {
        let mut args: Vec<String> = ["mstep", model, data, "--params", s(params), "--out"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        args.push(s(&out).into());
        args.extend(set.iter().map(|a| a.to_string()));
        args.extend(files.iter().map(|f| s(f).to_string()));
        args
    };
    let run = |args: Vec<String>, code, says: &[&str]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, code, says)
    };
    let (f0, f1, f2) = (files[0].as_path(), files[1].as_path(), files[2].as_path());
    // Counts of the parameters of iteration 0 given with those of iteration 1.
    run(
        mstep(&p1, &[], &[f0, f1, f2]),
        1,
        &["0.acc", "parameter file"],
    );
    // Another model: a constant overridden.
    let other = dir.join("k5");
    ok(&[
        "run",
        model,
        data,
        "--set",
        "K=5",
        "--iterations",
        "0",
        "--out",
        s(&other),
        "-q",
    ]);
    run(
        mstep(&other.join("params.json"), &["--set", "K=5"], &[f0, f1, f2]),
        1,
        &["0.acc", "model"],
    );
    // Another data file.
    let shorter = put(&dir, "short.txt", &read(data)[..2000]);
    let mut args = mstep(&p0, &[], &[f0, f1, f2]);
    args[2] = s(&shorter).into();
    run(args, 1, &["0.acc", "data file"]);
    // A shard missing, a shard twice, shards of another split.
    run(
        mstep(&p0, &[], &[f0, f2]),
        2,
        &["shard(s) 1 of 3 are missing"],
    );
    run(
        mstep(&p0, &[], &[f0, f1, f1, f2]),
        2,
        &["1.acc", "both shard 1 of 3"],
    );
    let four = dir.join("four.acc");
    ok(&[
        "estep",
        model,
        data,
        "--params",
        s(&p0),
        "--shard",
        "3/4",
        "--out",
        s(&four),
    ]);
    run(
        mstep(&p0, &[], &[f0, f1, &four]),
        2,
        &["four.acc", "of 4", "of 3 shards"],
    );
    // Truncated, damaged, of another version, not an accumulator file at all.
    let bytes = std::fs::read(f1).expect("accumulator file");
    let cut = dir.join("cut.acc");
    std::fs::write(&cut, &bytes[..bytes.len() - 20]).expect("scratch file");
    run(
        mstep(&p0, &[], &[f0, &cut, f2]),
        2,
        &["cut.acc", "truncated"],
    );
    let mut flipped = bytes.clone();
    flipped[bytes.len() - 30] ^= 1;
    let bad = dir.join("bad.acc");
    std::fs::write(&bad, &flipped).expect("scratch file");
    run(
        mstep(&p0, &[], &[f0, &bad, f2]),
        2,
        &["bad.acc", "damaged", "checksum"],
    );
    let mut version = bytes.clone();
    version[8] = 99;
    let old = dir.join("old.acc");
    std::fs::write(&old, &version).expect("scratch file");
    run(
        mstep(&p0, &[], &[f0, &old, f2]),
        2,
        &["old.acc", "version 99"],
    );
    let run_file = Path::new(data);
    run(
        mstep(&p0, &[], &[f0, run_file, f2]),
        2,
        &["hmm.txt", "not an accumulator file"],
    );
    // Nothing was written by the refused runs.
    assert!(!out.join("params.json").exists());
}

#[test]
fn bad_shards_and_the_direct_algorithm_are_refused() {
    let dir = scratch("direct");
    let it0 = dir.join("it0");
    ok(&[
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--iterations",
        "0",
        "--out",
        s(&it0),
        "-q",
    ]);
    let p0 = it0.join("params.json");
    for shard in ["3/3", "0/0", "1", "a/b"] {
        let out = emc(&[
            "estep",
            "models/hmm.em",
            "models/hmm.txt",
            "--params",
            s(&p0),
            "--shard",
            shard,
            "--out",
            "x.acc",
        ]);
        assert_eq!(out.status.code(), Some(2), "--shard {shard}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("i/N"));
    }
    let direct = read("models/pos_fhmm.em").replace(
        "train { iterations: 30, tolerance: 0, seed: 0 }",
        "train { iterations: 30, tolerance: 0, seed: 0, algorithm: direct }",
    );
    let model = put(&dir, "direct.em", &direct);
    let out = dir.join("counts.acc");
    refused(
        &[
            "estep",
            s(&model),
            "models/pos_fhmm.txt",
            "--params",
            s(&p0),
            "--shard",
            "0/1",
            "--out",
            s(&out),
        ],
        1,
        &["algorithm: direct", "emc run"],
    );
    assert!(!out.exists());
}
