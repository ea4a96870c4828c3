//! The outputs of `emc run` under faults (a full disk, a failing checkpoint, an unwritable
//! directory, a second Ctrl-C while writing), checkpoints of other runs, the input budgets,
//! and `emc sample` streaming. Faults are injected through `EMC_TEST_FAIL_WRITE` and
//! `EMC_TEST_WRITE_DELAY_MS`, which only builds with debug assertions (the test profile) read.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn emc_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("emc runs")
}

fn emc(args: &[&str]) -> Output {
    emc_env(args, &[])
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("outputs", name)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file of the directory, by name, with its bytes.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

fn names(dir: &Path) -> Vec<String> {
    contents(dir).into_iter().map(|(n, _)| n).collect()
}

fn hmm(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["run", "models/hmm.em", "models/hmm.txt", "--out"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(out.to_str().unwrap().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "faults are injected only into builds with debug assertions (`cargo test`)"
)]
fn a_full_disk_leaves_the_old_outputs_whole_and_no_temporary_files() {
    let dir = scratch("full-disk");
    let out = dir.join("out");
    let first = emc(&strs(&hmm(&out, &["--iterations", "3", "--quiet"])));
    assert!(first.status.success(), "{}", stderr(&first));
    let before = contents(&out);
    for failing in ["params.json", "params.tsv", "trace.tsv", "trace.svg"] {
        let o = emc_env(
            &strs(&hmm(&out, &["--iterations", "5", "--seed", "3", "--quiet"])),
            &[("EMC_TEST_FAIL_WRITE", failing)],
        );
        assert_eq!(o.status.code(), Some(2), "{failing}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("no space left on device"),
            "{}",
            stderr(&o)
        );
        assert_eq!(contents(&out), before, "{failing}: the outputs changed");
    }
}

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "faults are injected only into builds with debug assertions (`cargo test`)"
)]
fn a_failing_checkpoint_stops_the_run_at_once() {
    let dir = scratch("checkpoint-fails");
    let out = dir.join("out");
    let first = emc(&strs(&hmm(&out, &["--iterations", "3", "--quiet"])));
    assert!(first.status.success(), "{}", stderr(&first));
    let before = contents(&out);
    let o = emc_env(
        &strs(&hmm(&out, &["--iterations", "400", "--tolerance", "0"])),
        &[("EMC_TEST_FAIL_WRITE", "checkpoint")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("checkpoint.json"), "{err}");
    // The first checkpoint is written once it is due (a few ms into the run); the run stops
    // in the iteration its write failed in, not 400 iterations later.
    let said = err
        .lines()
        .position(|l| l.contains("the checkpoint could not be written"))
        .unwrap_or_else(|| panic!("not said at once: {err}"));
    let after = err
        .lines()
        .skip(said)
        .filter(|l| l.contains("log-likelihood"));
    assert!(after.count() <= 1, "the run went on: {err}");
    let iterations = err.lines().filter(|l| l.contains("log-likelihood")).count();
    assert!(
        iterations < 400,
        "the run went on for {iterations} iterations"
    );
    assert_eq!(contents(&out), before);
}

#[test]
fn an_unwritable_output_directory_fails_before_training() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let under_a_file = file.join("out");
    let o = emc(&strs(&hmm(&under_a_file, &["--iterations", "400"])));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("cannot create") && !err.contains("iteration"),
        "{err}"
    );
    // A read-only directory (which root may write anyway, so only checked when it holds).
    let ro = dir.join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&ro, perms).unwrap();
    if std::fs::write(ro.join("probe"), "").is_err() {
        let o = emc(&strs(&hmm(&ro, &["--iterations", "400"])));
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(
            err.contains("cannot write into") && !err.contains("iteration"),
            "{err}"
        );
    }
}

/// Sends SIGINT to `emc ARGS` once its stderr reaches iteration `at`, and again `then`
/// later if given; returns the exit code.
fn interrupt(
    args: &[&str],
    env: &[(&str, &str)],
    at: usize,
    then: Option<Duration>,
) -> Option<i32> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let kill = |pid: u32| {
        Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap()
    };
    let reader = std::io::BufReader::new(child.stderr.take().unwrap());
    let pid = child.id();
    let mut sent = false;
    let mut lines = reader.lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let reached = line
            .split_whitespace()
            .skip_while(|w| *w != "iteration")
            .nth(1)
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= at);
        if reached {
            kill(pid);
            sent = true;
            break;
        }
    }
    assert!(sent, "the run ended before iteration {at}");
    if let Some(then) = then {
        std::thread::sleep(then);
        kill(pid);
    }
    for _ in lines {}
    child.wait().unwrap().code()
}

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "faults are injected only into builds with debug assertions (`cargo test`)"
)]
fn a_second_ctrl_c_while_writing_leaves_all_old_or_all_new_outputs() {
    let dir = scratch("second-ctrl-c");
    let out = dir.join("out");
    let first = emc(&strs(&hmm(&out, &["--iterations", "3", "--quiet"])));
    assert!(first.status.success(), "{}", stderr(&first));
    let mut before = contents(&out);
    // Every write takes 300 ms: the second Ctrl-C lands while the outputs are written (on a
    // loaded host it may land after the last rename: then every file is the new run's).
    // Each run stops at a later iteration, so that its outputs differ from the last ones.
    for (k, delay) in [60, 150, 450].into_iter().enumerate() {
        let code = interrupt(
            &strs(&hmm(&out, &["--iterations", "400", "--tolerance", "0"])),
            &[("EMC_TEST_WRITE_DELAY_MS", "300")],
            2 + 2 * k,
            Some(Duration::from_millis(delay)),
        );
        assert_eq!(code, Some(130));
        let now = contents(&out);
        let old: Vec<_> = now
            .iter()
            .filter(|(n, _)| n != "checkpoint.json")
            .cloned()
            .collect();
        let all_new = old.len() == before.len()
            && (old.iter().zip(&before)).all(|(a, b)| a.0 == b.0 && a.1 != b.1);
        assert!(
            old == before || all_new,
            "after {delay} ms, a mix of old and new outputs: {:?}",
            names(&out)
        );
        before = old;
    }
}

#[test]
fn resume_refuses_a_checkpoint_of_another_run() {
    let dir = scratch("stale");
    let out = dir.join("out");
    // Run A (60 iterations) is interrupted: it leaves its checkpoint.
    let code = interrupt(
        &strs(&hmm(&out, &["--iterations", "60", "--tolerance", "0"])),
        &[],
        2,
        None,
    );
    assert_eq!(code, Some(130));
    assert!(out.join("checkpoint.json").exists());
    // Settings that differ from the checkpoint's are refused.
    let o = emc(&[
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--resume",
        out.to_str().unwrap(),
        "--iterations",
        "200",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("belongs to a run with --iterations 60, not 200"),
        "{}",
        stderr(&o)
    );
    // Run B into the same directory, killed before it wrote a checkpoint of its own, leaves
    // none of A's behind to be resumed in its place.
    let mut child = Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(hmm(&out, &["--iterations", "200", "--tolerance", "0"]))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("EMC_TEST_WRITE_DELAY_MS", "2000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while out.join("checkpoint.json").exists() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let o = emc(&[
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--resume",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_ne!(o.status.code(), Some(0), "resumed run A in place of run B");
}

#[test]
fn input_budgets_fail_early_naming_the_file_and_line() {
    let dir = scratch("budgets");
    let data = dir.join("long.txt");
    let mut text = String::from("H T\n");
    text.push_str(&"H ".repeat(1000));
    text.push('\n');
    std::fs::write(&data, &text).unwrap();
    let o = emc_env(
        &["check", "models/two_coins.em", data.to_str().unwrap()],
        &[("EMC_MAX_LINE_BYTES", "1K")],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("line 2 of") && err.contains("longer than 1024 bytes"),
        "{err}"
    );
    assert!(err.contains("long.txt:2"), "{err}");
    let o = emc_env(
        &["check", "models/two_coins.em", data.to_str().unwrap()],
        &[("EMC_MAX_INPUT_BYTES", "1000")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("larger than 1000 bytes"),
        "{}",
        stderr(&o)
    );
    // The default line budget stops an endless line at once.
    for args in [
        &["check", "/dev/zero"][..],
        &["check", "models/two_coins.em", "/dev/zero"][..],
    ] {
        let started = Instant::now();
        let o = emc(args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(stderr(&o).contains("/dev/zero:1"), "{}", stderr(&o));
    }
}

#[test]
fn sample_streams_its_lines() {
    let dir = scratch("sample");
    let out = dir.join("out");
    let o = emc(&[
        "run",
        "models/two_coins.em",
        "models/two_coins.txt",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let params = out.join("params.json");
    // 2^32 lines (the most one run draws; 10^15 is refused): the first ones come at once,
    // and a closed pipe ends the command.
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(["sample", "models/two_coins.em", "--params"])
        .arg(&params)
        .args(["-n", "4294967296"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    for _ in 0..3 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line.split_whitespace().count(), 10, "{line:?}");
    }
    drop(reader);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The same lines as a bounded run prints.
    let some = emc(&[
        "sample",
        "models/two_coins.em",
        "--params",
        params.to_str().unwrap(),
        "-n",
        "3",
    ]);
    assert!(some.status.success());
    assert_eq!(String::from_utf8_lossy(&some.stdout).lines().count(), 3);
}

#[test]
fn skipped_lines_are_reported_even_when_quiet() {
    let dir = scratch("skip-quiet");
    let (model, data) = common::zero_line_case(&dir);
    let o = emc(&[
        "run",
        model.to_str().unwrap(),
        data.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
        "--on-zero",
        "skip",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("skipped      1 line(s) with probability zero in some iteration: 2"),
        "{stdout}"
    );
}

/// An HMM's unobserved word spans the whole vocabulary at every position: a long sampled line
/// is refused from its measured cost before it is unrolled, not after it filled the memory.
#[test]
fn a_sampled_line_too_costly_to_unroll_is_refused_at_once() {
    let dir = scratch("sample-long");
    let out = dir.join("out");
    let o = emc(&strs(&hmm(&out, &["--iterations", "1", "--quiet"])));
    assert!(o.status.success(), "{}", stderr(&o));
    let params = out.join("params.json");
    let started = Instant::now();
    let o = emc(&[
        "sample",
        "models/hmm.em",
        "--params",
        params.to_str().unwrap(),
        "--length",
        "4000000",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("table entries, more than the limit"),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let o = emc(&[
        "sample",
        "models/hmm.em",
        "--params",
        params.to_str().unwrap(),
        "--length",
        "100",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}
