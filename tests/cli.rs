//! The `emc` binary end to end: outputs, determinism across thread counts, atomic outputs,
//! and the other commands on zoo models.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::emc;

fn scratch(name: &str) -> PathBuf {
    common::scratch("cli", name)
}

/// `emc run` on the zoo model NAME with its data, writing into `out`.
fn train_zoo(name: &str, out: &Path, extra: &[&str]) -> Output {
    let model = format!("models/{name}.em");
    let data = format!("models/{name}.txt");
    let mut args = vec!["run", &model, &data, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    emc(&args)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn run_writes_outputs_identical_for_one_and_two_threads() {
    let dir = scratch("threads");
    let mut params = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(threads);
        let o = train_zoo(
            "hmm",
            &out,
            &[
                "--iterations",
                "5",
                "--tolerance",
                "0",
                "--threads",
                threads,
                "--quiet",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let trace = read(&out.join("trace.tsv"));
        assert!(trace.starts_with("iteration\tlog_likelihood\tseconds\n"));
        assert_eq!(trace.lines().count(), 1 + 6, "iterations 0..=5");
        assert!(read(&out.join("params.tsv")).starts_with("family\tcondition\toutcome\tvalue\n"));
        params.push(read(&out.join("params.json")));
    }
    assert_eq!(
        params[0], params[1],
        "params.json must not depend on the thread count"
    );
}

/// `--interpreted` trains on the reference engines: the same trace as the compiled kernel
/// (the factorial HMM's frontier sweep) to rounding, and refused with `--stream`.
#[test]
fn interpreted_runs_match_the_compiled_kernel() {
    let dir = scratch("interpreted");
    let mut traces = Vec::new();
    for (name, extra) in [("compiled", None), ("interpreted", Some("--interpreted"))] {
        let out = dir.join(name);
        let mut args = vec!["--iterations", "4", "--tolerance", "0", "--quiet"];
        args.extend(extra);
        let o = train_zoo("factorial_hmm", &out, &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let trace = read(&out.join("trace.tsv"));
        let lls: Vec<f64> = (trace.lines().skip(1))
            .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
            .collect();
        traces.push(lls);
    }
    assert_eq!(traces[0].len(), 5);
    for (a, b) in traces[0].iter().zip(&traces[1]) {
        assert!(
            (a - b).abs() <= 1e-10 * b.abs(),
            "compiled {a}, interpreted {b}"
        );
    }
    let o = train_zoo("hmm", &dir.join("stream"), &["--interpreted", "--stream"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn init_from_params_json_continues_training() {
    let dir = scratch("init");
    let first = dir.join("first");
    let o = train_zoo("two_coins", &first, &["--iterations", "3", "--quiet"]);
    assert!(o.status.success());
    let second = dir.join("second");
    let init = first.join("params.json");
    let o = train_zoo(
        "two_coins",
        &second,
        &[
            "--iterations",
            "0",
            "--init",
            init.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Zero iterations from the reloaded parameters reproduce them exactly.
    assert_eq!(
        read(&first.join("params.json")),
        read(&second.join("params.json"))
    );
    let last = |p: &Path| {
        read(&p.join("trace.tsv"))
            .lines()
            .last()
            .unwrap()
            .split('\t')
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(last(&first), last(&second));
}

#[test]
fn a_failed_run_leaves_earlier_outputs_intact() {
    let dir = scratch("atomic");
    let out = dir.join("out");
    let o = train_zoo("two_coins", &out, &["--quiet"]);
    assert!(o.status.success());
    let before = read(&out.join("params.json"));
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "H T X\n").unwrap();
    let o = emc(&[
        "run",
        "models/two_coins.em",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad.txt:1:5"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(read(&out.join("params.json")), before);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn check_names_the_plan_of_every_zoo_model() {
    let expected = [
        ("two_coins", "enumeration"),
        ("ibm1_koehn", "enumeration"),
        ("latent_class", "enumeration"),
        ("icecream", "forward-backward"),
        ("jm_icecream", "forward-backward"),
        ("hmm", "forward-backward"),
        ("pos_hmm", "forward-backward"),
        ("factorial_hmm", "junction tree"),
    ];
    for (name, plan) in expected {
        let o = emc(&["check", &format!("models/{name}.em")]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(&format!("plan         {plan}\n")),
            "{name}: {text}"
        );
    }
}

#[test]
fn decode_eval_and_sample() {
    let dir = scratch("decode");
    let out = dir.join("out");
    let o = train_zoo("jm_icecream", &out, &["--iterations", "0", "--quiet"]);
    assert!(o.status.success());
    let params = out.join("params.json");
    let o = emc(&[
        "decode",
        "models/jm_icecream.em",
        "models/jm_icecream.txt",
        "--params",
        params.to_str().unwrap(),
    ]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "H C H\n");
    let o = emc(&[
        "decode",
        "models/jm_icecream.em",
        "models/jm_icecream.txt",
        "--params",
        params.to_str().unwrap(),
        "--posterior",
    ]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
    let o = emc(&[
        "sample",
        "models/jm_icecream.em",
        "--params",
        params.to_str().unwrap(),
        "-n",
        "4",
        "--length",
        "6",
        "--seed",
        "7",
    ]);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(text.lines().count(), 4);
    assert!(text
        .lines()
        .all(|l| l.split(' ').count() == 6 && l.split(' ').all(|t| ["1", "2", "3"].contains(&t))));
    let again = emc(&[
        "sample",
        "models/jm_icecream.em",
        "--params",
        params.to_str().unwrap(),
        "-n",
        "4",
        "--length",
        "6",
        "--seed",
        "7",
    ]);
    assert_eq!(
        text,
        String::from_utf8_lossy(&again.stdout),
        "same seed, same sample"
    );
    let o = emc(&[
        "eval",
        "--gold",
        "models/latent_class.gold",
        "--pred",
        "models/latent_class.gold",
        "--metric",
        "one-to-one",
    ]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("one-to-one accuracy 1.0000"));
}

#[test]
fn eval_segmentation_and_attachment() {
    let dir = scratch("eval-structured");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("scratch file");
        path.to_str().unwrap().to_string()
    };
    let gold = write("seg.gold", "the dog\na cat sat\n");
    let pred = write("seg.pred", "th edog\nacat sat\n");
    let o = emc(&[
        "eval",
        "--gold",
        &gold,
        "--pred",
        &pred,
        "--metric",
        "segmentation",
    ]);
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("token F1 0.2222 (token precision 0.2500")
    );
    let bad = write("seg.bad", "th edog\nacat sit\n");
    let o = emc(&[
        "eval",
        "--gold",
        &gold,
        "--pred",
        &bad,
        "--metric",
        "segmentation",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error: line 2: gold and pred differ"));
    let gold = write("heads.gold", "2 0 2\n0\n");
    let pred = write("heads.pred", "0 1 2\n0\n");
    let o = emc(&[
        "eval",
        "--gold",
        &gold,
        "--pred",
        &pred,
        "--metric",
        "attachment",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "directed accuracy 0.5000 (undirected accuracy 0.7500, tokens 4)\n"
    );
    let short = write("heads.short", "0 1 2\n0 1\n");
    let o = emc(&[
        "eval",
        "--gold",
        &gold,
        "--pred",
        &short,
        "--metric",
        "attachment",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 2 of pred has 2 heads"));
}

#[test]
fn usage_and_io_errors_exit_with_2() {
    assert_eq!(
        emc(&["run", "no/such/model.em", "models/hmm.txt"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        emc(&["eval", "--gold", "a", "--pred", "b", "--metric", "f1"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(emc(&["frobnicate"]).status.code(), Some(2));
}

/// The checkpoint's `restart` and `iteration`, once the file exists and parses.
fn checkpoint_position(dir: &Path) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(dir.join("checkpoint.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((
        v["checkpoint"]["restart"].as_u64()?,
        v["checkpoint"]["iteration"].as_u64()?,
    ))
}

#[test]
fn killed_run_resumes_to_identical_parameters() {
    let dir = scratch("resume");
    let args = |out: &Path| -> Vec<String> {
        [
            "run",
            "models/hmm.em",
            "models/hmm.txt",
            // Long enough (about a second a restart) to be killed in the middle of the first.
            "--iterations",
            "400",
            "--tolerance",
            "0",
            "--restarts",
            "2",
            "--quiet",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.to_str().unwrap().to_string()])
        .collect()
    };
    let full = dir.join("full");
    let o = Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args(&full))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success());

    let killed = dir.join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args(&killed))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it hard somewhere in the middle of the first restart.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while checkpoint_position(&killed).is_none_or(|(r, i)| r == 0 && i < 4) {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint appeared"
        );
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let (restart, iteration) = checkpoint_position(&killed).expect("a checkpoint");
    assert!(
        restart < 2,
        "the run finished before it could be killed ({restart}, {iteration})"
    );

    let o = emc(&[
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--resume",
        killed.to_str().unwrap(),
        "--quiet",
        "--threads",
        "1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        read(&full.join("params.json")),
        read(&killed.join("params.json")),
        "resumed at ({restart}, {iteration})"
    );
}

/// Runs `emc ARGS` and sends it SIGINT (what Ctrl-C sends) once its progress on stderr has
/// reached iteration `at` of the first restart; returns its exit code and stderr.
fn interrupt_at(args: &[&str], at: usize) -> (Option<i32>, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    let mut sent = false;
    let reader = std::io::BufReader::new(child.stderr.take().unwrap());
    for line in reader.lines() {
        let line = line.unwrap();
        let reached = line
            .split_whitespace()
            .skip_while(|w| *w != "iteration")
            .nth(1)
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= at);
        if reached && !sent {
            let killed = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            sent = true;
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(sent, "the run ended before iteration {at}: {stderr}");
    (status.code(), stderr)
}

/// `emc run` on the zoo HMM long enough (400 iterations, 2 restarts) to be interrupted.
fn long_hmm_run(out: &Path) -> Vec<String> {
    [
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--iterations",
        "400",
        "--tolerance",
        "0",
        "--restarts",
        "2",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.to_str().unwrap().to_string()])
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn resume_refuses_other_data() {
    let dir = scratch("resume-other");
    let out = dir.join("out");
    let (code, _) = interrupt_at(&strs(&long_hmm_run(&out)), 2);
    assert_eq!(code, Some(130));
    let other = dir.join("other.txt");
    let data = read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models/hmm.txt")
            .as_path(),
    );
    std::fs::write(&other, data.lines().skip(1).collect::<Vec<_>>().join("\n")).unwrap();
    let o = emc(&[
        "run",
        "models/hmm.em",
        other.to_str().unwrap(),
        "--resume",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another model or data file"));
}

#[test]
fn a_finished_run_leaves_no_checkpoint() {
    let dir = scratch("finished");
    let out = dir.join("out");
    let o = train_zoo("two_coins", &out, &["--quiet"]);
    assert!(o.status.success());
    assert!(!out.join("checkpoint.json").exists());
    let o = emc(&[
        "run",
        "models/two_coins.em",
        "models/two_coins.txt",
        "--resume",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("only an interrupted run leaves one"), "{err}");
}

/// The last `iteration` and `log_likelihood` of a trace.tsv.
fn trace_end(dir: &Path) -> (String, String) {
    let trace = read(&dir.join("trace.tsv"));
    let last: Vec<&str> = trace.lines().last().unwrap().split('\t').collect();
    (last[0].to_string(), last[1].to_string())
}

#[test]
fn ctrl_c_writes_consistent_outputs_and_a_checkpoint_that_resumes_exactly() {
    let dir = scratch("ctrl-c");
    let full = dir.join("full");
    let o = emc(&strs(&long_hmm_run(&full)));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let stopped = dir.join("stopped");
    let (code, err) = interrupt_at(&strs(&long_hmm_run(&stopped)), 1);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("--resume"), "{err}");
    // The parameters written are the ones whose log-likelihood ends the trace: zero
    // iterations from them give that log-likelihood again.
    let (iteration, ll) = trace_end(&stopped);
    let again = dir.join("again");
    let params = stopped.join("params.json");
    let o = train_zoo(
        "hmm",
        &again,
        &[
            "--iterations",
            "0",
            "--init",
            params.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        trace_end(&again).1,
        ll,
        "params.json is not the parameters of iteration {iteration}"
    );

    let o = emc(&[
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--resume",
        stopped.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        read(&full.join("params.json")),
        read(&stopped.join("params.json"))
    );
    assert!(!stopped.join("checkpoint.json").exists());
}

#[test]
fn swapped_model_and_data_are_named() {
    let o = emc(&["run", "models/hmm.txt", "models/hmm.em"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("MODEL and DATA look swapped"), "{err}");
    assert!(err.contains("models/hmm.em models/hmm.txt"), "{err}");
    // Without telling extensions, the model is the one of the two that parses.
    let dir = scratch("swapped");
    let (model, data) = (dir.join("model"), dir.join("data"));
    std::fs::copy("models/two_coins.em", &model).unwrap();
    std::fs::copy("models/two_coins.txt", &data).unwrap();
    let o = emc(&[
        "run",
        data.to_str().unwrap(),
        model.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("look swapped"));
    let o = emc(&[
        "decode",
        "models/hmm.txt",
        "models/hmm.em",
        "--params",
        "x.json",
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("look swapped"));
}

#[test]
fn modes_are_checked_and_every_argument_has_help() {
    for (flag, value) in [
        ("--init-mode", "randm"),
        ("--on-zero", "skp"),
        ("--algorithm", "drect"),
    ] {
        let o = emc(&[
            "run",
            "models/two_coins.em",
            "models/two_coins.txt",
            flag,
            value,
        ]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("invalid value"));
    }
    let o = emc(&[
        "eval",
        "--gold",
        "a",
        "--pred",
        "b",
        "--metric",
        "v_measure",
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("possible values"));
    for command in ["run", "check", "graph", "decode", "sample", "eval"] {
        let o = emc(&[command, "-h"]);
        let help = String::from_utf8_lossy(&o.stdout).to_string();
        // clap lists an argument without help alone on its line.
        let bare: Vec<&str> = help
            .lines()
            .filter(|l| {
                let t = l.trim();
                (t.starts_with('-') || t.starts_with('<') || t.starts_with('['))
                    && !t.contains("  ")
            })
            .collect();
        assert!(
            bare.is_empty(),
            "`emc {command} -h` lacks help for {bare:?}"
        );
    }
}

#[test]
fn zero_probability_lines_stop_or_are_skipped() {
    let dir = scratch("zero");
    let (model, data) = common::zero_line_case(&dir);
    let out = dir.join("out");
    let run = |policy: &str| {
        emc(&[
            "run",
            model.to_str().unwrap(),
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--on-zero",
            policy,
            "--iterations",
            "3",
        ])
    };
    let stop = run("stop");
    assert_eq!(stop.status.code(), Some(1));
    let err = String::from_utf8_lossy(&stop.stderr);
    // The line is quoted, though `run` let the data's text go once it was compiled.
    assert!(
        err.contains("data line 2 has probability zero")
            && err.contains("d.txt:2:1")
            && err.contains("2 | H T"),
        "{err}"
    );
    let skip = run("skip");
    assert!(
        skip.status.success(),
        "{}",
        String::from_utf8_lossy(&skip.stderr)
    );
    assert!(String::from_utf8_lossy(&skip.stderr)
        .contains("skipped 1 line(s) with probability zero: 2"));
    let trace = read(&out.join("trace.tsv"));
    assert!(trace.lines().skip(1).all(|l| l
        .split('\t')
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        .is_finite()));
}

#[test]
fn a_ten_megabyte_line_is_reported_in_a_short_window() {
    let dir = scratch("long-line");
    let data = dir.join("long.txt");
    // 5 million tosses with one bad symbol in the middle: about 10 MB on one line.
    let mut line = "H ".repeat(2_500_000);
    line.push_str("X ");
    line.push_str(&"T ".repeat(2_500_000));
    std::fs::write(&data, format!("H T\n{line}\n")).unwrap();
    let o = emc(&["check", "models/two_coins.em", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`X` on line 2 is not a symbol of `Face`"),
        "{err}"
    );
    assert!(err.contains("long.txt:2:5000001"), "{err}");
    assert!(err.len() < 2_000, "the error is {} bytes long", err.len());
}

/// With data, `emc check` compiles as `emc run` does and names the kernel the E-step runs:
/// each compiled kernel on a zoo model it takes, and the interpreted path for a junction tree
/// with a Gaussian density, which the frontier kernel does not take.
#[test]
fn check_names_the_kernel_a_run_gets() {
    let expected = [
        ("hmm", "models/hmm.txt", "compiled: forward-backward"),
        (
            "ibm1_null",
            "models/ibm1_null.txt",
            "compiled: each variable's posterior",
        ),
        (
            "factorial_hmm",
            "models/factorial_hmm.txt",
            "compiled: sweeps over a frontier",
        ),
        (
            "segmentation",
            "models/segmentation.txt",
            "compiled: inside-outside",
        ),
    ];
    for (name, data, kernel) in expected {
        let o = emc(&["check", &format!("models/{name}.em"), data]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && text.contains(&format!("kernel       {kernel}")),
            "{name}: {text}"
        );
    }
    let dir = scratch("check-kernel");
    let model = dir.join("gaussian_factorial.em");
    std::fs::write(
        &model,
        "domain A = 0..2\ndomain B = 0..2\ndata obs : [Real[2]]\n\
         param start_a : Categorical(A)\nparam start_b : Categorical(B)\n\
         param trans_a : Categorical(A | A)\nparam trans_b : Categorical(B | B)\n\
         param emit : Gaussian(Real[2] | A, B)\nmodel {\n\
         hidden a : [A; len(obs)]\nhidden b : [B; len(obs)]\na[0] ~ start_a\nb[0] ~ start_b\n\
         for i in 1..len(obs) {\na[i] ~ trans_a(a[i-1])\nb[i] ~ trans_b(b[i-1])\n}\n\
         for i in 0..len(obs): obs[i] ~ emit(a[i], b[i])\n}\n",
    )
    .unwrap();
    let data = dir.join("obs.txt");
    std::fs::write(&data, "0.5,1.0 -0.2,0.3 1.1,0.9\n2.0,0.1 0.0,0.0\n").unwrap();
    let o = emc(&["check", model.to_str().unwrap(), data.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("kernel       interpreted:"),
        "{text}"
    );
    // Real vectors count as the sequence's tokens, as symbols do.
    assert!(text.contains("2 instances, 5 sequence tokens"), "{text}");
}

/// `emc check` in `dir` on a model and a data file of 3,000 lines, with `lines` (1-based
/// line number, text) in place of `fill`, on 1 and on 2 threads: the outputs.
fn check_threads(dir: &Path, model: &str, fill: &str, lines: &[(usize, &str)]) -> Vec<Output> {
    let (model_path, data) = (dir.join("model.em"), dir.join("data.txt"));
    std::fs::write(&model_path, model).unwrap();
    let mut rows = vec![fill; 3000];
    for (line, text) in lines {
        rows[line - 1] = text;
    }
    std::fs::write(&data, rows.join("\n") + "\n").unwrap();
    ["1", "2"]
        .iter()
        .map(|threads| {
            Command::new(env!("CARGO_BIN_EXE_emc"))
                .args([
                    "check",
                    model_path.to_str().unwrap(),
                    data.to_str().unwrap(),
                ])
                .env("RAYON_NUM_THREADS", threads)
                .output()
                .unwrap()
        })
        .collect()
}

/// The plan `emc check` reports follows the data: missing values that couple hidden
/// variables on some lines make the first line that needs the most general engine the one
/// reported, found in parallel shards for any thread count.
#[test]
fn check_reports_the_first_line_needing_the_most_general_engine() {
    let model = "data w : [W]\ndomain W = {a, b, c, d, e, f}\nparam p : Categorical(W)\n\
         param q : Categorical(W | W)\nparam r : Categorical(W | W, W)\n\
         model {\n    w[0] ~ p\n    w[1] ~ q(w[0])\n\
         for i in 2..len(w): w[i] ~ r(w[i-1], w[i-2])\n}\n";
    // Line 1200 makes a chain; lines 2500 and 2800 a junction tree.
    let missing = [
        (1200, "a b ? d e f"),
        (2500, "a b ? ? ? f"),
        (2800, "a ? ? ? e f"),
    ];
    let dir = scratch("check-plan-on-data");
    for o in check_threads(&dir, model, "a b c d e f", &missing) {
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("plan         junction tree\n"), "{text}");
        assert!(text.contains("on data line 2500 are hidden"), "{text}");
    }
}

/// `emc check` unrolls the data's lines in parallel shards; of two lines that fail, in
/// different shards, it names the first, whatever the thread count.
#[test]
fn check_names_the_first_failing_line_for_any_thread_count() {
    let model = "data w : [W]\ndomain W = vocabulary(w)\nparam p : Categorical(W)\n\
         model {\n    w[0] ~ p\n    w[1] ~ p\n    for i in 2..len(w) {\n        w[i] ~ p\n    }\n}\n";
    let dir = scratch("check-first-line");
    for o in check_threads(&dir, model, "a b c", &[(1500, "a"), (2900, "b")]) {
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("on data line 1500"), "{err}");
    }
}

/// Splits TSV text into records as RFC 4180 readers (pandas, R's `read.delim`) do.
fn read_tsv(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![vec![String::new()]];
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        let row = rows.last_mut().unwrap();
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                row.last_mut().unwrap().push('"');
            }
            '"' if quoted => quoted = false,
            '"' if row.last().unwrap().is_empty() => quoted = true,
            '\t' if !quoted => row.push(String::new()),
            '\n' if !quoted => rows.push(vec![String::new()]),
            c => row.last_mut().unwrap().push(c),
        }
    }
    rows.pop_if(|r| r.len() == 1 && r[0].is_empty());
    rows
}

#[test]
fn params_tsv_quotes_words_with_quotes() {
    let dir = scratch("tsv");
    let model = dir.join("m.em");
    std::fs::write(
        &model,
        "domain Word = vocabulary(words)\ndata words : [Word]\nparam w : Categorical(Word)\n\
         param next : Categorical(Word | Word)\n\
         model {\n  words[0] ~ w\n  for i in 1..len(words): words[i] ~ next(words[i-1])\n}\n",
    )
    .unwrap();
    let data = dir.join("d.txt");
    std::fs::write(&data, "\" say a\"b \"\nsay \" it\n").unwrap();
    let out = dir.join("out");
    let o = emc(&[
        "run",
        model.to_str().unwrap(),
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--iterations",
        "1",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = read_tsv(&read(&out.join("params.tsv")));
    assert!(rows.iter().all(|r| r.len() == 4), "{rows:?}");
    let words: Vec<&str> = rows
        .iter()
        .filter(|r| r[0] == "w")
        .map(|r| r[2].as_str())
        .collect();
    assert!(
        words.contains(&"\"") && words.contains(&"a\"b"),
        "{words:?}"
    );
    let n = words.len();
    assert_eq!(
        rows.len(),
        1 + n + n * n,
        "one record per row written: {rows:?}"
    );
    assert!(rows
        .iter()
        .any(|r| r[0] == "next" && r[1] == "\"" && r[2] == "a\"b"));
}

#[test]
fn init_takes_the_families_a_file_has_and_refuses_others() {
    let dir = scratch("init-partial");
    let first = dir.join("first");
    let o = train_zoo("two_coins", &first, &["--iterations", "3", "--quiet"]);
    assert!(o.status.success());
    let full: serde_json::Value = serde_json::from_str(&read(&first.join("params.json"))).unwrap();
    let with_families = |families: Vec<serde_json::Value>| {
        let mut v = full.clone();
        v["families"] = serde_json::Value::Array(families);
        v.to_string()
    };
    let toss = full["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "toss")
        .unwrap()
        .clone();
    let partial = dir.join("partial.json");
    std::fs::write(&partial, with_families(vec![toss.clone()])).unwrap();
    let out = dir.join("out");
    let o = train_zoo(
        "two_coins",
        &out,
        &["--iterations", "0", "--init", partial.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("init: `toss` from"), "{err}");
    assert!(err.contains("init: `choice` initialised as usual"), "{err}");
    let written: serde_json::Value = serde_json::from_str(&read(&out.join("params.json"))).unwrap();
    let values = |v: &serde_json::Value, name: &str| {
        v["families"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()["values"]
            .clone()
    };
    assert_eq!(values(&written, "toss"), values(&full, "toss"));

    let mut bogus = toss.clone();
    bogus["name"] = "bogus".into();
    std::fs::write(&partial, with_families(vec![bogus])).unwrap();
    let o = train_zoo("two_coins", &out, &["--init", partial.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("a family `bogus` that the model lacks"),
        "{err}"
    );

    let mut reshaped = toss;
    reshaped["conditions"] = serde_json::json!(["Face"]);
    std::fs::write(&partial, with_families(vec![reshaped])).unwrap();
    let o = train_zoo("two_coins", &out, &["--init", partial.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is Categorical(Face | Face) in the file but Categorical(Face | Coin)"),
        "{err}"
    );
}

#[test]
fn ctrl_c_before_the_first_checkpoint_is_due_can_be_resumed() {
    // A million parameters: the first checkpoint is not due for some seconds (writing one
    // takes a while), so the run is stopped before any was written.
    let dir = scratch("ctrl-c-early");
    let args = |out: &Path| -> Vec<String> {
        [
            "run",
            "models/hmm.em",
            "models/hmm.txt",
            "--set",
            "K=300",
            "--iterations",
            "3",
            "--tolerance",
            "0",
            "--no-params",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.to_str().unwrap().to_string()])
        .collect()
    };
    let stopped = dir.join("stopped");
    let (code, err) = interrupt_at(&strs(&args(&stopped)), 0);
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let o = emc(&[
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--set",
        "K=300",
        "--resume",
        stopped.to_str().unwrap(),
        "--quiet",
        "--no-params",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let full = dir.join("full");
    let o = emc(&strs(&args(&full)));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lls = |d: &Path| -> Vec<String> {
        read(&d.join("trace.tsv"))
            .lines()
            .map(|l| l.split('\t').nth(1).unwrap().to_string())
            .collect()
    };
    assert_eq!(lls(&stopped), lls(&full));
}

#[test]
fn init_from_a_file_without_some_domains_collects_them_from_the_data() {
    let dir = scratch("init-domains");
    let first = dir.join("first");
    let o = train_zoo("hmm", &first, &["--iterations", "2", "--quiet"]);
    assert!(o.status.success());
    let mut file: serde_json::Value =
        serde_json::from_str(&read(&first.join("params.json"))).unwrap();
    let keep = |list: &serde_json::Value, name: &str| {
        serde_json::Value::Array(
            list.as_array()
                .unwrap()
                .iter()
                .filter(|x| x["name"] == name)
                .cloned()
                .collect(),
        )
    };
    // Only the transitions and their domain: the words come from the data.
    file["families"] = keep(&file["families"], "trans");
    file["domains"] = keep(&file["domains"], "State");
    let partial = dir.join("trans.json");
    std::fs::write(&partial, file.to_string()).unwrap();
    let out = dir.join("out");
    let o = train_zoo(
        "hmm",
        &out,
        &["--iterations", "0", "--init", partial.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("init: `trans` from"), "{err}");
    assert!(
        err.contains("`start`, `emit` initialised as usual"),
        "{err}"
    );
    let written: serde_json::Value = serde_json::from_str(&read(&out.join("params.json"))).unwrap();
    assert_eq!(
        keep(&written["families"], "trans"),
        keep(&file["families"], "trans")
    );
}

/// Other tools (the cross-check against scikit-learn) write a one-dimensional Gaussian's
/// outcome as `Real[1]`; `--init` takes it as the model's `Real`.
#[test]
fn init_takes_a_one_dimensional_real_outcome_written_either_way() {
    let dir = scratch("init-real1");
    let truth = read(Path::new("models/car_weights.truth.json"));
    assert!(truth.contains("\"outcome\": \"Real\""));
    let init = dir.join("init.json");
    std::fs::write(
        &init,
        truth.replace("\"outcome\": \"Real\"", "\"outcome\": \"Real[1]\""),
    )
    .unwrap();
    let o = train_zoo(
        "car_weights",
        &dir.join("out"),
        &[
            "--iterations",
            "1",
            "--init",
            init.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The inspecting commands on a structured story (the segmentation zoo model): `check` gives
/// the structure and cost formula, `graph --line` a line's hypergraph, `decode --posterior`
/// each call's and expansion's posterior, `sample` lines of the asked length (the same for
/// the same seed), and the sampler's bound is an error, not a hang.
#[test]
fn structured_stories_check_graph_posterior_and_sample() {
    let dir = scratch("structured-inspect");
    let out = train_zoo("segmentation", &dir, &["--iterations", "5", "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let params = dir.join("params.json");
    let params = params.to_str().unwrap();

    let check = emc(&["check", "models/segmentation.em", "models/segmentation.txt"]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(text.contains("  structure  segmentation"), "{text}");
    assert!(
        text.contains("  measured   3608 nodes and 9689 hyperedges"),
        "{text}"
    );

    let graph = emc(&[
        "graph",
        "models/segmentation.em",
        "models/segmentation.txt",
        "--line",
        "2",
    ]);
    assert!(graph.status.success());
    let dot = String::from_utf8_lossy(&graph.stdout);
    assert!(dot.starts_with("digraph line2 {"), "{dot}");
    assert!(dot.contains("label=\"utterance(0)\""), "{dot}");
    assert!(dot.contains("xlabel=\"more(yes)\\nword(do)\""), "{dot}");
    let none = emc(&[
        "graph",
        "models/segmentation.em",
        "models/segmentation.txt",
        "--line",
        "401",
    ]);
    assert_eq!(none.status.code(), Some(2));

    let two = dir.join("two.txt");
    let data = read(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/segmentation.txt"
    )));
    std::fs::write(
        &two,
        data.lines().take(2).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let post = emc(&[
        "decode",
        "models/segmentation.em",
        two.to_str().unwrap(),
        "--params",
        params,
        "--posterior",
    ]);
    assert!(
        post.status.success(),
        "{}",
        String::from_utf8_lossy(&post.stderr)
    );
    let rows: Vec<Vec<String>> = String::from_utf8_lossy(&post.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    assert!(rows.iter().all(|r| r.len() == 4), "{rows:?}");
    // The expansions of a call share out its posterior: utterance(0) is used once.
    let first: f64 = rows
        .iter()
        .filter(|r| r[0] == "1" && r[1] == "choice" && r[2].starts_with("utterance(0):"))
        .map(|r| r[3].parse::<f64>().unwrap())
        .sum();
    assert!((first - 1.0).abs() < 1e-5, "{first}");
    assert!(rows
        .iter()
        .any(|r| r == &["2", "call", "utterance(0)", "1.000000"]));

    let sample = |seed: &str| {
        emc(&[
            "sample",
            "models/segmentation.em",
            "--params",
            params,
            "-n",
            "3",
            "--length",
            "12",
            "--seed",
            seed,
        ])
    };
    let a = sample("4");
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let lines = String::from_utf8_lossy(&a.stdout).to_string();
    assert_eq!(lines.lines().count(), 3);
    assert!(lines.lines().all(|l| l.split(' ').count() == 12), "{lines}");
    assert_eq!(sample("4").stdout, a.stdout);
    assert_ne!(sample("5").stdout, a.stdout);
    let deep = emc(&[
        "sample",
        "models/segmentation.em",
        "--params",
        params,
        "-n",
        "1",
        "--length",
        "5000000",
    ]);
    assert_eq!(deep.status.code(), Some(1));
    let err = String::from_utf8_lossy(&deep.stderr);
    assert!(
        err.contains("the derivation went past the sampler's bound"),
        "{err}"
    );
}
