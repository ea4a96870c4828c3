//! The run-side sizes of issue 16 at ten times (or more) the size that crashed, ran away or
//! underflowed, through the binary under a 1 GB address-space limit: each must end in a
//! located error (or the right result) within five seconds of CPU. The model-side chains are
//! in `tests/deep_inputs.rs`, the data-side mistakes in the catalogue (`tests/diagnostics/`).

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// `ulimit -v` is in KiB.
const ONE_GB_KIB: u64 = 1 << 20;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Writes a child's standard input, from its own thread.
type Feed = Box<dyn FnOnce(&mut dyn Write) + Send>;

fn scratch(name: &str) -> PathBuf {
    common::scratch("limits", name)
}

/// `emc ARGS` under `ulimit -v 1 GB` (the shell `exec`s emc, so the limit and the CPU time
/// are emc's own), with `stdin` fed from a thread when given. Checks the CPU budget and that
/// no signal ended it.
fn limited(what: &str, args: &[&str], stdin: Option<Feed>) -> Output {
    let before = common::children_cpu();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {ONE_GB_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let writer = stdin.map(|feed| {
        let mut pipe = child.stdin.take().unwrap();
        // emc stops reading once the line is past its budget; the broken pipe ends the feed.
        std::thread::spawn(move || feed(&mut pipe))
    });
    let out = child.wait_with_output().expect("emc runs");
    if let Some(w) = writer {
        w.join().unwrap();
    }
    let took = common::children_cpu() - before;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some(),
        "{what}: killed by a signal\n{stderr}"
    );
    assert_ne!(out.status.code(), Some(101), "{what}: panicked\n{stderr}");
    assert!(took < Duration::from_secs(5), "{what}: {took:?} of CPU");
    assert!(
        stderr.len() < 4_000,
        "{what}: {} bytes of messages",
        stderr.len()
    );
    out
}

fn refused(what: &str, args: &[&str], code: i32, expect: &[&str]) {
    let out = limited(what, args, None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: {stderr}");
    for e in expect {
        assert!(stderr.contains(e), "{what}: no `{e}` in\n{stderr}");
    }
}

#[test]
fn sizes_ten_times_past_the_runaways_are_refused_at_once() {
    let out = scratch("sizes");
    let out = out.to_str().unwrap();
    let coins = ["models/two_coins.em", "models/two_coins.txt"];
    // 10^12 once asked for 8 TB; 10^15 buffered every sample.
    refused(
        "sample --length 10^13",
        &["sample", coins[0], "--length", "10000000000000"],
        2,
        &["--length", "from 0 to"],
    );
    refused(
        "sample -n 10^16",
        &["sample", coins[0], "-n", "10000000000000000"],
        2,
        &["--count", "from 0 to"],
    );
    // 10^12 restarts ran forever; 1,000 threads panicked building the pool now and then.
    refused(
        "--restarts 10^13",
        &[
            "run",
            coins[0],
            coins[1],
            "--out",
            out,
            "--restarts",
            "10000000000000",
        ],
        2,
        &["--restarts", "from 1 to"],
    );
    refused(
        "--threads 10^6",
        &[
            "run",
            coins[0],
            coins[1],
            "--out",
            out,
            "--threads",
            "1000000",
        ],
        2,
        &["--threads", "from 1 to"],
    );
    let dir = scratch("train-block");
    let model = dir.join("coins.em");
    let src = std::fs::read_to_string(root().join(coins[0]))
        .unwrap()
        .replace(
            "train { iterations: 10, tolerance: 0 }",
            "train { iterations: 10, tolerance: 0, restarts: 10000000000000 }",
        );
    std::fs::write(&model, src).unwrap();
    refused(
        "restarts: 10^13 in a train block",
        &["run", model.to_str().unwrap(), coins[1], "--out", out],
        1,
        &["coins.em:15:", "restarts", "from 1 to 10000"],
    );
}

#[test]
fn endless_files_stop_at_their_budget() {
    let out = scratch("endless");
    let out = out.to_str().unwrap();
    // Reading /dev/zero grew to gigabytes before failing.
    refused(
        "/dev/zero as a model",
        &["check", "/dev/zero"],
        1,
        &["/dev/zero:1", "EMC_MAX_LINE_BYTES"],
    );
    refused(
        "/dev/zero as data",
        &["run", "models/two_coins.em", "/dev/zero", "--out", out],
        1,
        &["/dev/zero:1", "EMC_MAX_LINE_BYTES"],
    );
    // One 50 MB line was read whole (1.5 GB) before a limit refused it; this one is 500 MB,
    // streamed through a pipe so that nothing of it is stored.
    let feed: Feed = Box::new(|w: &mut dyn Write| {
        let chunk = "H ".repeat(1 << 19);
        for _ in 0..500 {
            if w.write_all(chunk.as_bytes()).is_err() {
                return;
            }
        }
    });
    let o = limited(
        "a 500 MB line",
        &["run", "models/two_coins.em", "/dev/stdin", "--out", out],
        Some(feed),
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 1 of /dev/stdin is longer than"),
        "{stderr}"
    );
}

/// A line of `n` tosses of a coin with heads probability 0.6.
fn tosses(n: usize) -> String {
    let mut x: u64 = 7;
    let mut line: Vec<&str> = (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (x >> 33) % 10 < 6 {
                "H"
            } else {
                "T"
            }
        })
        .collect();
    line.push("\n");
    line.join(" ")
}

#[test]
fn lines_ten_times_past_the_underflow_train() {
    // 1,080 tosses on a line once failed with "probability zero".
    let dir = scratch("underflow");
    let data = dir.join("long.txt");
    let mut text = std::fs::read_to_string(root().join("models/two_coins.txt")).unwrap();
    text.push_str(&tosses(10_800));
    std::fs::write(&data, text).unwrap();
    let out = dir.join("out");
    let o = limited(
        "a line of 10,800 tosses",
        &[
            "run",
            "models/two_coins.em",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let trace = std::fs::read_to_string(out.join("trace.tsv")).unwrap();
    let lls: Vec<f64> = trace
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
        .collect();
    // About 10,800 * ln(0.5) at the start: finite, and EM never goes down.
    assert!(
        lls.iter().all(|ll| ll.is_finite() && *ll < -7000.0),
        "{lls:?}"
    );
    assert!(lls.windows(2).all(|w| w[1] >= w[0] - 1e-9), "{lls:?}");
}

#[test]
fn reals_ten_times_past_the_gaussian_underflow_are_located() {
    // Values near 1e154 were reported as "probability zero"; their squares overflow.
    let dir = scratch("reals");
    let data = dir.join("big.txt");
    std::fs::write(&data, "5.5e155\n8.1e155\n6.0e155\n").unwrap();
    let out = dir.join("out");
    refused(
        "values near 1e155",
        &[
            "run",
            "models/old_faithful.em",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        1,
        &["big.txt:1:1", "rescale"],
    );
}

#[test]
fn a_bad_token_ten_times_the_old_size_is_not_echoed_whole() {
    // A 64 KiB bad token was echoed whole into a 65 KB message.
    let dir = scratch("token");
    let data = dir.join("token.txt");
    std::fs::write(&data, format!("H T {}\n", "x".repeat(640 << 10))).unwrap();
    let out = dir.join("out");
    refused(
        "a 640 KiB bad token",
        &[
            "run",
            "models/two_coins.em",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        1,
        &["token.txt:1:5"],
    );
}
