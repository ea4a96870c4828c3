//! A catalogue of bad inputs and the messages `emc` gives for them, snapshot-tested.
//!
//! * `tests/diagnostics/models/*.em`: bad model files. Each runs through the front end (parse
//!   and check) and, if that accepts it, through `plan_for` (the probe instance, as
//!   `emc check` does without data).
//! * `tests/diagnostics/data/MODEL__CASE.txt`: bad data files, each read with the good model
//!   `tests/diagnostics/data/MODEL.em`: UTF-8 check, front end, `compile` (as `emc check
//!   model data` does) and, if that accepts it, the start of training (as `emc run` does:
//!   initial parameters and EM on every line). A case whose name contains `frozen` is read with
//!   the domains collected from `MODEL.train`, as `emc decode --params` reads new data.
//!
//! Every diagnostic is rendered exactly as the CLI renders it, and each snapshot shows the
//! input followed by the messages. A bad input that is accepted, or a panic, fails the test.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use emc::compile::plan_for;
use emc::data::Domains;
use emc::error::{Error, Named};
use emc::pipeline::{front_end, program};
use emc::train::{self, Config};

/// How much of a data file the snapshot shows.
const SHOWN_BYTES: usize = 400;

/// What the CLI calls diagnostics that point into no file (`Files::render` in `src/main.rs`).
const NO_FILE: &str = "command line";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The path as a user would type it from the crate root, e.g. `tests/diagnostics/models/x.em`.
fn relative(path: &Path) -> String {
    let rel = path.strip_prefix(root()).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The texts diagnostics point into, with the names the CLI shows for them.
struct Files<'a> {
    model_name: &'a str,
    model: &'a str,
    data_name: &'a str,
    data: &'a str,
}

impl Files<'_> {
    /// As the CLI renders.
    fn render(&self, e: &Error) -> String {
        let model = Named {
            name: self.model_name,
            text: self.model,
        };
        let data = Named {
            name: self.data_name,
            text: self.data,
        };
        e.render(model, data, NO_FILE)
    }
}

/// Which stage refused the input, and what it said.
struct Refusal {
    stage: &'static str,
    rendered: String,
}

fn run_guarded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".into());
            panic!("emc panicked on {what} instead of reporting a diagnostic: {msg}");
        }
    }
}

fn model_pipeline(name: &str, source: &str) -> Option<Refusal> {
    let files = Files {
        model_name: name,
        model: source,
        data_name: "",
        data: "",
    };
    let m = match front_end(source, &[]) {
        Ok(m) => m,
        Err(e) => {
            return Some(Refusal {
                stage: "front end (parse and check)",
                rendered: files.render(&e),
            })
        }
    };
    match plan_for(&m) {
        Ok(_) => None,
        Err(e) => Some(Refusal {
            stage: "plan (probe instance, sequences of length 4)",
            rendered: files.render(&e),
        }),
    }
}

fn data_pipeline(model_path: &Path, data_path: &Path, bytes: &[u8]) -> Option<Refusal> {
    let model_name = relative(model_path);
    let data_name = relative(data_path);
    let model_text = std::fs::read_to_string(model_path).expect("the data case's model exists");
    // As the CLI reads a file: bytes that are not UTF-8 are reported before anything else.
    let text = match emc::text::decode(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Some(Refusal {
                stage: "decode (UTF-8)",
                rendered: e.render(&data_name, bytes),
            })
        }
    };
    let text = text.as_str();
    let files = Files {
        model_name: &model_name,
        model: &model_text,
        data_name: &data_name,
        data: text,
    };
    let m = front_end(&model_text, &[]).unwrap_or_else(|e| {
        panic!(
            "the helper model {model_name} should be good, but:\n{}",
            files.render(&e)
        )
    });
    let frozen: Option<Domains> = data_path
        .file_stem()
        .is_some_and(|s| s.to_string_lossy().contains("frozen"))
        .then(|| {
            let train_path = model_path.with_extension("train");
            let train_text = std::fs::read_to_string(&train_path).expect("MODEL.train exists");
            program(m.clone(), &train_text, None)
                .unwrap_or_else(|e| panic!("{} should compile: {e}", relative(&train_path)))
                .0
                .domains
        });
    let (program, dataset) = match program(m, text, frozen.as_ref()) {
        Ok(p) => p,
        Err(e) => {
            return Some(Refusal {
                stage: "compile (read the data)",
                rendered: files.render(&e),
            })
        }
    };
    let config = Config::from_model(&program);
    match train::train(&program, &dataset, &config, &mut |_| {}) {
        Ok(_) => None,
        Err(e) => Some(Refusal {
            stage: "training (initial parameters and EM)",
            rendered: files.render(&e),
        }),
    }
}

/// The start of a data file, lossily decoded, so the snapshot stays small and readable.
fn data_excerpt(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(SHOWN_BYTES)];
    let mut out = String::from_utf8_lossy(shown).into_owned();
    if bytes.len() > SHOWN_BYTES {
        out.push_str(&format!(
            "\n... ({} bytes in all, {} lines)",
            bytes.len(),
            bytes.iter().filter(|b| **b == b'\n').count()
        ));
    }
    if bytes.is_empty() {
        out.push_str("(empty file)");
    }
    out
}

fn snapshot_text(header: &str, input: &str, refusal: &Refusal) -> String {
    let input = input.trim_end_matches('\n');
    format!(
        "{header}\n----- input -----\n{input}\n----- refused by: {} -----\n{}",
        refusal.stage, refusal.rendered
    )
}

/// Runs every case, collecting failures so one bad case does not hide the others.
fn check_all(failures: &std::cell::RefCell<Vec<String>>) {
    let failures = failures.borrow();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn catch(failures: &std::cell::RefCell<Vec<String>>, f: impl FnOnce()) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(f)) {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(no message)".into());
        failures.borrow_mut().push(msg);
    }
}

#[test]
fn bad_models() {
    let failures = std::cell::RefCell::new(Vec::new());
    insta::glob!("diagnostics/models/*.em", |path| catch(&failures, || {
        let name = relative(path);
        let bytes = std::fs::read(path).unwrap();
        let source = String::from_utf8_lossy(&bytes).into_owned();
        let refusal = run_guarded(&name, || match emc::text::decode(&bytes) {
            Ok(text) => model_pipeline(&name, &text),
            Err(e) => Some(Refusal {
                stage: "decode (UTF-8)",
                rendered: e.render(&name, &bytes),
            }),
        });
        let Some(refusal) = refusal else {
            panic!("{name} is a bad model, but emc accepted it");
        };
        assert!(
            !refusal.rendered.trim().is_empty(),
            "{name} was refused with no diagnostic"
        );
        assert!(
            refusal.rendered.lines().all(|l| {
                let n = l.chars().count();
                // Quoted source lines are windowed; messages and hints are prose.
                n <= if l.contains(" | ") { 240 } else { 600 }
            }) && !refusal
                .rendered
                .contains(|c: char| c.is_control() && c != '\n'),
            "{name}: a rendered line is too long or holds a control character:\n{}",
            refusal.rendered
        );
        // The snapshot shows the input too: control characters escaped, long lines cut.
        let source: String = source
            .lines()
            .map(|l| {
                let l: String = l
                    .chars()
                    .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                    .collect();
                match l.char_indices().nth(200) {
                    Some((i, _)) => format!("{}... ({} characters)\n", &l[..i], l.chars().count()),
                    None => l + "\n",
                }
            })
            .collect();
        insta::assert_snapshot!(snapshot_text(&format!("model: {name}"), &source, &refusal));
    }));
    check_all(&failures);
}

#[test]
fn bad_data() {
    let failures = std::cell::RefCell::new(Vec::new());
    insta::glob!("diagnostics/data/*.txt", |path| catch(&failures, || {
        let data_name = relative(path);
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (model, _) = stem
            .split_once("__")
            .unwrap_or_else(|| panic!("{data_name} should be named MODEL__CASE.txt"));
        let model_path = path.with_file_name(format!("{model}.em"));
        let bytes = std::fs::read(path).unwrap();
        let refusal = run_guarded(&data_name, || data_pipeline(&model_path, path, &bytes));
        let Some(refusal) = refusal else {
            panic!("{data_name} is bad data, but emc accepted it");
        };
        assert!(
            !refusal.rendered.trim().is_empty(),
            "{data_name} was refused with no diagnostic"
        );
        // A 1 MB line must not come back as 1 MB of message.
        assert!(
            refusal.rendered.lines().all(|l| l.chars().count() <= 240),
            "{data_name}: a rendered line is too long:\n{}",
            &refusal.rendered[..refusal.rendered.len().min(2000)]
        );
        let header = format!("data: {data_name}\nmodel: {}", relative(&model_path));
        insta::assert_snapshot!(snapshot_text(&header, &data_excerpt(&bytes), &refusal));
    }));
    check_all(&failures);
}

/// The helper models of the data cases are good: they accept good data and train.
#[test]
fn data_case_models_are_good() {
    let good = [
        ("coins", "H T T H\nT T H H\n"),
        ("pheno", "aa 12\nab 30\nbb 8\n"),
        ("aligned", "le chat ||| the cat\nle chien ||| the dog\n"),
        ("tagger", "the dog runs\na cat sleeps\n"),
        ("fixed_index", "H T H T\nH T T T\n"),
        ("nulled", "le chat ||| the cat\nle chien ||| the dog\n"),
    ];
    for (model, text) in good {
        let path = root().join(format!("tests/diagnostics/data/{model}.em"));
        let source = std::fs::read_to_string(&path).unwrap();
        let m = front_end(&source, &[]).unwrap_or_else(|e| panic!("{model}: {e}"));
        let (program, dataset) = program(m, text, None).unwrap_or_else(|e| panic!("{model}: {e}"));
        let config = Config::from_model(&program);
        train::train(&program, &dataset, &config, &mut |_| {})
            .unwrap_or_else(|e| panic!("{model}: {e}"));
    }
}

fn emc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_emc"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the emc binary runs")
}

/// The binary prints what the library renders, to stderr, with exit code 1.
#[test]
fn cli_reports_located_errors() {
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("emc-diagnostics");
    let out_dir = out_dir.to_string_lossy().into_owned();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["check", "tests/diagnostics/models/unknown_variable.em"],
            "tests/diagnostics/models/unknown_variable.em:11:47",
        ),
        // `emc run` refuses a row of initial values that does not sum to 1; `emc check` must too.
        (
            vec![
                "check",
                "tests/diagnostics/models/init_row_not_normalised.em",
            ],
            "tests/diagnostics/models/init_row_not_normalised.em:10:12",
        ),
        (
            vec![
                "check",
                "tests/diagnostics/models/syntax_missing_draw_rhs.em",
            ],
            "tests/diagnostics/models/syntax_missing_draw_rhs.em:11:5",
        ),
        (
            vec![
                "check",
                "tests/diagnostics/data/coins.em",
                "tests/diagnostics/data/coins__symbol_outside_domain.txt",
            ],
            "tests/diagnostics/data/coins__symbol_outside_domain.txt:2:5",
        ),
        (
            vec![
                "run",
                "tests/diagnostics/data/pheno.em",
                "tests/diagnostics/data/pheno__negative_weight.txt",
                "--out",
                &out_dir,
                "--quiet",
            ],
            "tests/diagnostics/data/pheno__negative_weight.txt:2:4",
        ),
    ];
    for (args, location) in cases {
        let out = emc(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "emc {args:?} should exit with 1; stderr:\n{stderr}"
        );
        assert!(
            stderr.contains(&format!("--> {location}")),
            "emc {args:?} should point at {location}; stderr:\n{stderr}"
        );
        assert!(
            out.stdout.is_empty(),
            "emc {args:?} should print nothing on stdout"
        );
        // The CLI and the library render the same text.
        let expected = if args.len() == 2 {
            let path = root().join(args[1]);
            model_pipeline(args[1], &std::fs::read_to_string(path).unwrap())
        } else {
            let (m, d) = (root().join(args[1]), root().join(args[2]));
            data_pipeline(&m, &d, &std::fs::read(&d).unwrap())
        };
        assert_eq!(stderr, expected.unwrap().rendered, "emc {args:?}");
    }
    assert!(
        !Path::new(&out_dir).exists(),
        "a failed run should not create its output directory"
    );
}

/// Constructs of other languages are named where they are written, with what to write instead,
/// not reported as the token pest stopped at (which was sometimes on the next line); calls and
/// slices, in the language now, are refused where they are wrong.
#[test]
fn unsupported_constructs_are_named_on_their_line() {
    let cases = [
        (
            "unsupported_domain_plus_domain.em",
            5,
            "not by another domain like `Face`",
        ),
        (
            "structured_unknown_procedure.em",
            11,
            "unknown procedure `observe`",
        ),
        (
            "structured_slice_outside_draw.em",
            11,
            "a slice of a sequence used as a value",
        ),
    ];
    for (file, line, words) in cases {
        let name = format!("tests/diagnostics/models/{file}");
        let source = std::fs::read_to_string(root().join(&name)).unwrap();
        let refusal = model_pipeline(&name, &source).expect("refused");
        let text = refusal.rendered;
        assert!(text.contains(words), "{name} should say {words:?}:\n{text}");
        assert!(
            text.contains(&format!("--> {name}:{line}:")),
            "{name} should point at line {line}:\n{text}"
        );
        assert!(
            text.contains("= hint: "),
            "{name} should give a hint:\n{text}"
        );
    }
}

#[test]
fn cli_invalid_utf8_is_a_data_problem() {
    let out = emc(&[
        "check",
        "tests/diagnostics/data/coins.em",
        "tests/diagnostics/data/coins__invalid_utf8.txt",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains("--> tests/diagnostics/data/coins__invalid_utf8.txt"),
        "{stderr}"
    );
}

#[test]
fn cli_missing_file_is_an_io_problem() {
    let out = emc(&[
        "run",
        "tests/diagnostics/no_such_model.em",
        "tests/diagnostics/no_such_data.txt",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(
        stderr.starts_with("error: cannot read tests/diagnostics/no_such_model.em"),
        "{stderr}"
    );
}
