//! Inputs found by (or kept from) the fuzz targets in `fuzz/`, replayed on stable Rust.
//!
//! * `tests/fuzz_regressions/model/*`: raw bytes of a model file, run like the `model` fuzz
//!   target (front end, plan, every error rendered).
//! * `tests/fuzz_regressions/data/MODEL/*`: raw bytes of a data file for the zoo model
//!   `models/MODEL.em` (one of `emc_fuzz::MODELS`), run like the `data` fuzz target (compile,
//!   unroll, E-step and MAP on every instance, every error rendered). A fuzzer artifact for
//!   the `data` target starts with the byte that picks the model: drop that byte when saving it
//!   here.
//!
//! * `tests/fuzz_regressions/cli/*.json`: a command line and the files it reads, as the
//!   `cli` fuzz target dumps them (`{"args": [...], "files": {NAME: TEXT}}`), run by the real
//!   `emc` binary in a fresh directory holding those files.
//!
//! The pipelines are `fuzz/src/pipeline.rs` itself, included below, so an input runs here exactly
//! as the fuzzer ran it. Errors are fine; a panic, or a run longer than `TIME_LIMIT`, fails
//! the test with the file's name. A command line fails if the binary is killed by a signal
//! (an abort, a stack overflow), panics (exit 101) or exits with a code `emc` never uses.
//!
//! `tests/fuzz_regressions/pending/` holds inputs in the same layout that still crash the
//! code they were found on; they are not run until their fix is merged and they are moved up.

#[path = "../fuzz/src/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Stack size of the thread that runs an input.
const STACK: usize = 8 << 20;

/// A run longer than this is reported as a hang.
const TIME_LIMIT: Duration = Duration::from_secs(20);

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions")
}

/// The files of a folder, sorted by name (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("readable folder").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Runs `f` on its own thread; `Err` with what went wrong if it panicked or took too long.
fn guarded(f: impl FnOnce() -> String + Send + 'static) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    // The stack of a main thread (where the CLI and libFuzzer run the pipeline), not the 2 MiB
    // of a spawned one: deeply nested expressions recurse in the parser.
    let thread = std::thread::Builder::new().stack_size(STACK);
    thread
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic with no message".to_string())
            });
            let _ = tx.send(result);
        })
        .expect("a thread");
    match rx.recv_timeout(TIME_LIMIT) {
        Ok(Ok(_rendered)) => Ok(()),
        Ok(Err(message)) => Err(format!("panicked: {message}")),
        Err(_) => Err(format!("still running after {TIME_LIMIT:?} (a hang)")),
    }
}

/// Every case with the name shown for it and how to run it.
type Case = (String, Box<dyn FnOnce() -> String + Send>);

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for path in files(&dir().join("model")) {
        let bytes = std::fs::read(&path).expect("readable file");
        cases.push((relative(&path), Box::new(move || pipeline::model(&bytes))));
    }
    let Ok(models) = std::fs::read_dir(dir().join("data")) else {
        return cases;
    };
    let mut models: Vec<PathBuf> = models
        .map(|e| e.expect("readable folder").path())
        .filter(|p| p.is_dir())
        .collect();
    models.sort();
    for model_dir in models {
        let name = model_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let which = pipeline::model_index(&name).unwrap_or_else(|| {
            panic!(
                "{}: no fuzzed model is called `{name}` (known: {:?})",
                relative(&model_dir),
                pipeline::MODELS.iter().map(|(n, _)| *n).collect::<Vec<_>>()
            )
        });
        for path in files(&model_dir) {
            let bytes = std::fs::read(&path).expect("readable file");
            cases.push((
                relative(&path),
                Box::new(move || pipeline::data(which, &bytes)),
            ));
        }
    }
    cases
}

/// Runs a saved command line with the `emc` binary in a fresh directory; `Err` says what
/// went wrong.
fn run_cli_case(name: &str, json: &str) -> Result<(), String> {
    use std::process::{Command, Stdio};
    use std::time::Instant;

    let case: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("not a case: {e}"))?;
    let args: Vec<String> = case["args"]
        .as_array()
        .ok_or("no `args` array")?
        .iter()
        .map(|a| {
            a.as_str()
                .map(str::to_string)
                .ok_or("an argument is not a string")
        })
        .collect::<Result<_, _>>()?;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "emc-fuzz-regression-{}",
        name.replace(['/', '.'], "_")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if let Some(files) = case["files"].as_object() {
        for (file, text) in files {
            let text = text.as_str().ok_or("a file is not a string")?;
            std::fs::write(dir.join(file), text).map_err(|e| e.to_string())?;
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(&args)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start emc: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&dir);
            return Err(format!("still running after {TIME_LIMIT:?} (a hang)"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
    match status.code() {
        Some(0 | 1 | 2 | 130) => Ok(()),
        Some(code) => Err(format!("exit code {code}: {}", tail(&stderr))),
        None => Err(format!("killed by a signal ({status}): {}", tail(&stderr))),
    }
}

/// The end of a long message.
fn tail(text: &str) -> &str {
    let mut at = text.len().saturating_sub(2000);
    while !text.is_char_boundary(at) {
        at += 1;
    }
    &text[at..]
}

#[test]
fn fuzz_regressions_of_the_command_line_do_not_crash_or_hang() {
    let cases = files(&dir().join("cli"));
    assert!(
        !cases.is_empty(),
        "no inputs under {}/cli",
        relative(&dir())
    );
    let mut failures = Vec::new();
    for path in &cases {
        let name = relative(path);
        let json = std::fs::read_to_string(path).expect("readable file");
        if let Err(why) = run_cli_case(&name, &json) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} command-line regression inputs failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn fuzz_regressions_do_not_panic_or_hang() {
    let cases = cases();
    assert!(!cases.is_empty(), "no inputs under {}", relative(&dir()));
    let count = cases.len();
    let mut failures = Vec::new();
    for (name, run) in cases {
        if let Err(why) = guarded(run) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} fuzz regression inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
