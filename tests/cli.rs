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

#[test]
fn resume_refuses_other_data() {
    let dir = scratch("resume-other");
    let out = dir.join("out");
    let o = train_zoo("two_coins", &out, &["--quiet"]);
    assert!(o.status.success());
    let other = dir.join("other.txt");
    std::fs::write(&other, "H H T\n").unwrap();
    let o = emc(&[
        "run",
        "models/two_coins.em",
        other.to_str().unwrap(),
        "--resume",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("another model or data file"));
}

#[test]
fn zero_probability_lines_stop_or_are_skipped() {
    let dir = scratch("zero");
    let model = dir.join("m.em");
    std::fs::write(
        &model,
        "domain Face = {H, T}\ndata tosses : [Face]\nparam p : Categorical(Face) { fixed, init: [1.0, 0.0] }\n\
         param q : Categorical(Face)\nmodel {\n  for i in 0..len(tosses): tosses[i] ~ p\n}\n",
    )
    .unwrap();
    let data = dir.join("d.txt");
    std::fs::write(&data, "H H\nH T\nH\n").unwrap();
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
    assert!(
        err.contains("data line 2 has probability zero") && err.contains("d.txt:2:1"),
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
