//! Fuzzer bytes become an `emc` command line and the files it names
//! (`emc_fuzz::cli_case`), run in-process through the binary's own `src/cli/` (clap parsing,
//! the settings of the command line and of `train` blocks, the commands on tiny inputs);
//! nothing may panic, hang or allocate without bound. Runs in a scratch directory under
//! `$EMC_FUZZ_DIR` (default `/dev/shm` or the temporary directory), emptied before each input.
//! `EMC_FUZZ_CLI_DUMP=FILE` writes each case as JSON to FILE, the format of
//! `tests/fuzz_regressions/cli/*.json`.
#![no_main]

#[path = "../../src/cli/mod.rs"]
#[allow(dead_code)]
mod cli;

/// What the binary's `src/main.rs` gives `cli`: its allocator's policy once the data is
/// compiled (on the calling thread and the pool's). The harness runs on the system
/// allocator, which has none.
fn keep_freed_memory<Pool>(_pool: &Pool) {}

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use emc_fuzz::cli_case::{self, Fixtures, TEMPLATES};
use libfuzzer_sys::fuzz_target;

static FIXTURES: OnceLock<Fixtures> = OnceLock::new();

/// The folder scratch directories live in.
fn base() -> PathBuf {
    std::env::var_os("EMC_FUZZ_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let shm = Path::new("/dev/shm");
            if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            }
        })
}

const PREFIX: &str = "emc-fuzz-cli-";

/// Removes the scratch directories of processes that have ended (`-fork` starts one per job).
fn remove_stale() {
    let Ok(entries) = std::fs::read_dir(base()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(PREFIX) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Empties the current directory (the scratch directory) of a previous input's files.
fn clear() {
    if let Ok(entries) = std::fs::read_dir(".") {
        for e in entries.flatten() {
            let p = e.path();
            let _ = if p.is_dir() && !p.is_symlink() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

fn emc(args: &[&str]) {
    let _ = cli::try_main(std::iter::once("emc").chain(args.iter().copied()));
}

/// The parameter file of a short run of each template.
fn fixtures() -> Fixtures {
    TEMPLATES
        .iter()
        .map(|t| {
            clear();
            std::fs::write("model.em", t.model).expect("scratch directory");
            std::fs::write("data.txt", t.data).expect("scratch directory");
            emc(&[
                "run",
                "model.em",
                "data.txt",
                "--out",
                "fixture",
                "-q",
                "--iterations",
                "2",
            ]);
            std::fs::read_to_string("fixture/params.json")
                .unwrap_or_else(|e| panic!("template {} did not train: {e}", t.name))
        })
        .collect()
}

fn init() {
    remove_stale();
    let dir = base().join(format!("{PREFIX}{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    std::env::set_current_dir(&dir).expect("scratch directory");
    FIXTURES.get_or_init(fixtures);
    emc_fuzz::init();
}

fuzz_target!(init: init(), |bytes: &[u8]| {
    let case = cli_case::case(bytes, FIXTURES.get().expect("init ran"));
    if let Some(path) = std::env::var_os("EMC_FUZZ_CLI_DUMP") {
        let _ = std::fs::write(path, case.to_json());
    }
    clear();
    for (name, text) in &case.files {
        let _ = std::fs::write(name, text);
    }
    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    emc_fuzz::known::run(|| emc(&args));
});
