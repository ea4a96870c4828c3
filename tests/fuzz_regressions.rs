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
//! The pipelines are `fuzz/src/pipeline.rs` itself, included below, so an input runs here exactly
//! as the fuzzer ran it. Errors are fine; a panic, or a run longer than `TIME_LIMIT`, fails
//! the test with the file's name.

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
