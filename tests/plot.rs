//! Pictures and progress: `emc run`'s trace.svg, `emc plot` over several runs' traces and its
//! errors, and the plain progress lines a pipe (a log, CI) gets instead of a bar.

mod common;

use std::path::Path;
use std::process::Output;

use common::emc;

fn scratch(name: &str) -> std::path::PathBuf {
    common::scratch("plot", name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Trains the zoo's HMM into `out` for `iterations` iterations.
fn train(out: &Path, iterations: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "models/hmm.em",
        "models/hmm.txt",
        "--iterations",
        iterations,
        "--tolerance",
        "0",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = emc(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    output
}

/// The `points` attribute of each `<polyline>` of an SVG document, as numbers.
fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .map(|rest| {
            let points = rest
                .split("points=\"")
                .nth(1)
                .expect("points")
                .split('"')
                .next();
            points
                .unwrap()
                .split_whitespace()
                .map(|xy| {
                    let (x, y) = xy.split_once(',').expect("x,y");
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

/// The trimmed text of each `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|rest| {
            let inner = rest.split_once('>')?.1.split("</text>").next()?;
            Some(inner.trim().to_string())
        })
        .collect()
}

fn has_text(svg: &str, wanted: &str) -> bool {
    texts(svg).iter().any(|t| t == wanted)
}

#[test]
fn a_run_draws_each_restart_and_marks_the_best() {
    let dir = scratch("restarts");
    let out = train(&dir, "6", &["--restarts", "3"]);
    let svg = read(&dir.join("trace.svg"));
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    let summary = text(&out.stdout);
    assert!(summary.contains("trace.svg"), "{summary}");
    let best = summary
        .lines()
        .find_map(|l| l.strip_prefix("restart      "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the summary names the best restart");
    for r in ["1", "2", "3"] {
        let label = if r == best {
            format!("restart {r} (best)")
        } else {
            format!("restart {r}")
        };
        assert!(
            has_text(&svg, &label),
            "{label} in the legend: {:?}",
            texts(&svg)
        );
    }
    // Three lines of seven points (iterations 0..=6).
    let lines = polylines(&svg);
    assert_eq!(lines.iter().filter(|l| l.len() == 7).count(), 3);
    // Rising lines: SVG's y grows downwards, and EM's log-likelihood never falls.
    for line in lines.iter().filter(|l| l.len() == 7) {
        assert!(
            line.windows(2).all(|w| w[1].0 > w[0].0 && w[1].1 <= w[0].1),
            "{line:?}"
        );
    }
    // The restarts' lines go out with the run's other files, and stderr counts from 1.
    let log = text(&out.stderr);
    assert!(log.contains("restart 3/3 iteration    6"), "{log}");
    assert!(log.contains("restart 1/3 finished: objective"), "{log}");
}

#[test]
fn piped_progress_is_one_plain_line_per_iteration() {
    let dir = scratch("plain");
    let out = train(&dir, "3", &[]);
    let log = text(&out.stderr);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 4, "{log}");
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!("iteration {i:>4}  log-likelihood ")),
            "{line}"
        );
    }
    // No terminal control sequences or spinner frames reach a log.
    assert!(!log.contains('\u{1b}') && !log.contains('\r'), "{log:?}");
    let quiet = train(&scratch("quiet"), "3", &["--quiet"]);
    assert_eq!(text(&quiet.stderr), "");
}

#[test]
fn plot_overlays_runs_and_names_them() {
    let dir = scratch("overlay");
    let (em, hard) = (dir.join("em"), dir.join("hard"));
    train(&em, "8", &[]);
    train(&hard, "8", &["--algorithm", "hard"]);
    let picture = dir.join("both.svg");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "plot".to_string(),
            em.join("trace.tsv").display().to_string(),
            hard.join("trace.tsv").display().to_string(),
            "--out".to_string(),
            picture.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let out = emc(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{}", text(&out.stderr));
        read(&picture)
    };
    let svg = run(&[]);
    assert!(
        has_text(&svg, "em") && has_text(&svg, "hard"),
        "directory names label the runs"
    );
    assert_eq!(polylines(&svg).iter().filter(|l| l.len() == 9).count(), 2);
    let svg = run(&[
        "--from", "3", "--label", "EM", "--label", "hard EM", "--title", "HMM",
    ]);
    assert!(has_text(&svg, "EM") && has_text(&svg, "hard EM") && has_text(&svg, "HMM"));
    assert_eq!(polylines(&svg).iter().filter(|l| l.len() == 6).count(), 2);
}

#[test]
fn plot_refuses_what_is_not_a_trace() {
    let dir = scratch("bad");
    let bad = dir.join("trace.tsv");
    std::fs::write(
        &bad,
        "iteration\tlog_likelihood\tseconds\n0\t-12.5\t0.1\n1\t-1O.5\t0.2\n",
    )
    .unwrap();
    let out_svg = dir.join("p.svg");
    let out = emc(&[
        "plot",
        bad.to_str().unwrap(),
        "--out",
        out_svg.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("`-1O.5` is not a number"), "{err}");
    assert!(
        err.contains(&format!("{}:3:3", bad.display())),
        "located: {err}"
    );
    assert!(
        err.contains("hint: give a trace.tsv that `emc run` wrote"),
        "{err}"
    );
    assert!(!out_svg.exists(), "nothing written");

    std::fs::write(&bad, "iteration,log_likelihood\n0,-1\n").unwrap();
    let out = emc(&[
        "plot",
        bad.to_str().unwrap(),
        "--out",
        out_svg.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("this is not a trace.tsv"));

    let out = emc(&[
        "plot",
        bad.to_str().unwrap(),
        "--label",
        "a",
        "--label",
        "b",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("2 --label given for 1 traces"));
    let missing = dir.join("none.tsv");
    let out = emc(&["plot", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}
