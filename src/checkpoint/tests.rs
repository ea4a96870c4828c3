use super::*;
use crate::model::Algorithm;
use crate::pipeline::{compile, front_end, Compiled};
use crate::train::{Event, Outcome};

fn zoo(name: &str, set: &[(&str, &str)], lines: usize) -> Compiled {
    let root = env!("CARGO_MANIFEST_DIR");
    let model = std::fs::read_to_string(format!("{root}/models/{name}.em")).unwrap();
    let data: String = std::fs::read_to_string(format!("{root}/models/{name}.txt"))
        .unwrap()
        .lines()
        .take(lines)
        .map(|l| format!("{l}\n"))
        .collect();
    let set: Vec<(String, String)> = set
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    compile(front_end(&model, &set).unwrap(), &data, None, 1).unwrap()
}

/// A run of `compiled` stopped after its first M-step, and its settings.
fn stopped(compiled: &Compiled) -> (Config, Outcome) {
    let mut config = Config::from_model(&compiled.program);
    config.iterations = 5;
    config.tolerance = 0.0;
    config.stop = Some(std::sync::Arc::new(true.into()));
    let outcome = compiled.train(&config, &mut |_: &Event| {}).unwrap();
    config.stop = None;
    (config, outcome)
}

/// The file a run with `config` writes for `c`, without the trip through JSON (which has no
/// NaN or infinity to carry a damaged number).
fn file_of(config: &Config, c: &Checkpoint) -> CheckpointFile {
    let mut file: CheckpointFile =
        serde_json::from_str(&to_text(config, 1, c)).unwrap_or_else(|_| {
            let empty = Checkpoint {
                theta: Vec::new(),
                ..c.clone()
            };
            serde_json::from_str(&to_text(config, 1, &empty)).unwrap()
        });
    file.checkpoint = c.clone();
    file
}

#[test]
fn round_trip_restores_settings_and_state() {
    let compiled = zoo("hmm", &[], 50);
    let (config, outcome) = stopped(&compiled);
    let c = outcome
        .resume
        .expect("a stopped run says where to continue");
    let text = to_text(&config, 42, &c);
    let mut other = Config::from_model(&compiled.program);
    other.iterations = 99;
    resume(&text, 42, &compiled.program, &mut other).unwrap();
    assert_eq!(other.iterations, 5);
    assert_eq!(other.tolerance, 0.0);
    assert_eq!(other.resume.as_ref(), Some(&c));
    assert!(matches!(other.init, Init::Mode(_)));
}

#[test]
fn other_inputs_format_and_garbage_are_refused() {
    let compiled = zoo("hmm", &[], 50);
    let (config, outcome) = stopped(&compiled);
    let text = to_text(&config, 42, &outcome.resume.unwrap());
    let mut c = config.clone();
    let program = &compiled.program;
    assert_eq!(
        resume(&text, 43, program, &mut c),
        Err(CheckpointError::OtherInputs)
    );
    let renamed = text.replace(FORMAT, "emc-checkpoint-0");
    assert!(matches!(
        resume(&renamed, 42, program, &mut c),
        Err(CheckpointError::Format(_))
    ));
    assert!(matches!(
        resume("{", 42, program, &mut c),
        Err(CheckpointError::NotJson(_))
    ));
}

#[test]
fn the_direct_algorithm_refuses_to_resume() {
    let compiled = zoo("hmm", &[], 50);
    let (mut config, outcome) = stopped(&compiled);
    let text = to_text(&config, 42, &outcome.resume.unwrap());
    config.algorithm = Algorithm::Direct;
    let e = resume(&text, 42, &compiled.program, &mut config).unwrap_err();
    assert_eq!(e, CheckpointError::Direct);
    assert!(e.is_user());
    assert!(e
        .to_diagnostic()
        .hint
        .unwrap()
        .contains("without `--resume`"));
}

#[test]
fn logistic_weights_may_be_negative_probabilities_may_not() {
    let compiled = zoo("pos_fhmm", &[("K", "3")], 40);
    let (config, outcome) = stopped(&compiled);
    let c = outcome.resume.unwrap();
    assert!(
        c.theta.iter().any(|x| *x < 0.0),
        "a fitted Logistic family has negative weights"
    );
    let program = &compiled.program;
    assert_eq!(validate(&file_of(&config, &c), program), Ok(()));

    let emit = program.model.family_named("emit").unwrap();
    let slot = &program.layout.families[emit];
    let mut bad = c.clone();
    bad.theta[slot.offset] = -0.25;
    let e = validate(&file_of(&config, &bad), program).unwrap_err();
    assert!(
        e.to_string().contains("of `emit` are not probabilities"),
        "{e}"
    );

    let mut bad = c.clone();
    bad.theta[slot.offset + slot.n_probs()] = f64::INFINITY;
    let e = validate(&file_of(&config, &bad), program).unwrap_err();
    assert!(e.to_string().contains("weight that is not finite"), "{e}");

    let mut bad = c;
    bad.theta.pop();
    assert!(matches!(
        validate(&file_of(&config, &bad), program),
        Err(CheckpointError::Damaged(_))
    ));
}

#[test]
fn gaussian_rows_may_be_negative_but_finite() {
    let compiled = zoo("gmm_2d", &[], 272);
    let (config, outcome) = stopped(&compiled);
    let c = outcome.resume.unwrap();
    let program = &compiled.program;
    let shape = program.model.family_named("shape").unwrap();
    let offset = program.layout.families[shape].offset;
    let mut moved = c.clone();
    // A mean below zero, a log determinant below zero: a valid row.
    moved.theta[offset] = -3.5;
    let width = program.layout.families[shape].n_out;
    moved.theta[offset + width - 1] = -2.0;
    assert_eq!(validate(&file_of(&config, &moved), program), Ok(()));
    moved.theta[offset] = f64::NAN;
    assert!(validate(&file_of(&config, &moved), program).is_err());
}

#[test]
fn a_trace_of_the_wrong_length_is_damage() {
    let compiled = zoo("hmm", &[], 50);
    let (config, outcome) = stopped(&compiled);
    let mut c = outcome.resume.unwrap();
    c.trace.clear();
    let e = validate(&file_of(&config, &c), &compiled.program).unwrap_err();
    assert!(
        e.to_string().contains("trace has 0 points for iteration 1"),
        "{e}"
    );
}

#[test]
fn given_values_for_some_families_survive_the_round_trip() {
    let compiled = zoo("hmm", &[], 50);
    let (mut config, outcome) = stopped(&compiled);
    let given = outcome.params.clone();
    config.init = Init::Partial {
        mode: InitMode::Uniform,
        given: given.clone(),
        families: vec![1],
    };
    let text = to_text(&config, 5, &outcome.resume.unwrap());
    let mut other = Config::from_model(&compiled.program);
    resume(&text, 5, &compiled.program, &mut other).unwrap();
    match other.init {
        Init::Partial {
            mode,
            given: g,
            families,
        } => {
            assert_eq!(mode, InitMode::Uniform);
            assert_eq!(g, given);
            assert_eq!(families, vec![1]);
        }
        other => panic!("{other:?}"),
    }
}

/// A run offers no checkpoint after its last restart, so one that says all restarts are done
/// is another run's leftover: resuming it would "finish" that run in place of the asked one.
#[test]
fn a_finished_run_is_refused_and_offers_no_checkpoint() {
    let compiled = zoo("two_coins", &[], 5);
    let mut config = Config::from_model(&compiled.program);
    config.iterations = 3;
    config.restarts = 2;
    let mut offered = Vec::new();
    compiled
        .train(&config, &mut |e: &Event| {
            if let Event::Checkpoint(c) = e {
                offered.push(c.restart);
            }
        })
        .unwrap();
    assert!(offered.iter().all(|r| *r < config.restarts), "{offered:?}");
    let finished = Checkpoint {
        restart: 2,
        iteration: 0,
        theta: Vec::new(),
        trace: Vec::new(),
        best: None,
        objectives: vec![-1.0, -2.0],
        state: None,
    };
    let text = to_text(&config, 42, &finished);
    let e = resume(&text, 42, &compiled.program, &mut config.clone()).unwrap_err();
    assert_eq!(e, CheckpointError::Finished { restarts: 2 });
    assert!(e.is_user());
}
