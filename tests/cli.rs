//! The `emc` binary end to end: outputs, determinism across thread counts, atomic outputs,
//! and the other commands on zoo models.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn emc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("emc runs")
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("emc-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
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
        let o = emc(&[
            "run",
            "models/hmm.em",
            "models/hmm.txt",
            "--out",
            out.to_str().unwrap(),
            "--iterations",
            "5",
            "--tolerance",
            "0",
            "--threads",
            threads,
            "--quiet",
        ]);
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

#[test]
fn init_from_params_json_continues_training() {
    let dir = scratch("init");
    let first = dir.join("first");
    let o = emc(&[
        "run",
        "models/two_coins.em",
        "models/two_coins.txt",
        "--out",
        first.to_str().unwrap(),
        "--iterations",
        "3",
        "--quiet",
    ]);
    assert!(o.status.success());
    let second = dir.join("second");
    let init = first.join("params.json");
    let o = emc(&[
        "run",
        "models/two_coins.em",
        "models/two_coins.txt",
        "--out",
        second.to_str().unwrap(),
        "--iterations",
        "0",
        "--init",
        init.to_str().unwrap(),
        "--quiet",
    ]);
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
    let o = emc(&[
        "run",
        "models/two_coins.em",
        "models/two_coins.txt",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
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
    let o = emc(&[
        "run",
        "models/jm_icecream.em",
        "models/jm_icecream.txt",
        "--out",
        out.to_str().unwrap(),
        "--iterations",
        "0",
        "--quiet",
    ]);
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
