//! A catalogue of bad command lines and inputs the command line reads, and what `emc` says
//! for them, snapshot-tested.
//!
//! `tests/diagnostics/cli/*.args`: one argument per line, run from the crate root; a line
//! `env NAME=VALUE` sets an environment variable, a line starting with `#` is a comment. Each
//! snapshot shows the command, its exit code and its stderr. A case that exits 0, is killed
//! by a signal, or takes 5 s or more fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Case {
    env: Vec<(String, String)>,
    args: Vec<String>,
}

fn parse(text: &str) -> Case {
    let mut case = Case {
        env: Vec::new(),
        args: Vec::new(),
    };
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        match line.strip_prefix("env ").and_then(|e| e.split_once('=')) {
            Some((k, v)) => case.env.push((k.to_string(), v.to_string())),
            None => case.args.push(line.to_string()),
        }
    }
    case
}

fn run_case(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let case = parse(&std::fs::read_to_string(path).unwrap());
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(&case.args)
        .envs(case.env.iter().map(|(k, v)| (k, v)))
        .env_remove("EMC_TEST_FAIL_WRITE")
        .env_remove("EMC_TEST_WRITE_DELAY_MS")
        .current_dir(root())
        .output()
        .expect("the emc binary runs");
    let took = started.elapsed();
    let code = out.status.code();
    assert!(
        code.is_some(),
        "{name}: killed by a signal: {:?}",
        out.status
    );
    assert_ne!(code, Some(0), "{name}: a bad command line was accepted");
    assert!(took < Duration::from_secs(5), "{name}: took {took:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.trim().is_empty(),
        "{name}: refused without a message"
    );
    let env: String = case.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    format!(
        "{env}emc {}\n----- exit code {} -----\n{stderr}",
        case.args.join(" "),
        code.unwrap_or(-1)
    )
}

#[test]
fn bad_command_lines() {
    insta::glob!("diagnostics/cli/*.args", |path| {
        insta::assert_snapshot!(run_case(path));
    });
}
