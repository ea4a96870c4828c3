//! The pipelines the fuzz targets drive, shared with `tests/fuzz_regressions.rs` (which includes
//! this file with `#[path]`, so that a saved input runs exactly as the fuzzer ran it). It
//! depends on nothing but `emc`, `rand` (as `emc` uses it) and `std`.
//!
//! * [`model`]: bytes → model text → `front_end` → `plan_for`, every error rendered.
//! * [`data`]: one of the fixed [`MODELS`] plus bytes → data text → `compile` → `unroll` of
//!   every instance → `posterior` (and `map`) under uniform initial parameters, every error
//!   rendered; for a structured story, every line's hypergraph → inside-outside, its DOT
//!   picture, posteriors, Viterbi, and two sampled lines.
//!
//! Errors are expected; a panic (or a hang) is the bug.

use emc::compile::plan_for;
use emc::error::{Error, Named};
use emc::graph::unroll;
use emc::infer::{self, CountStore};
use emc::model::{InitMode, Model};
use emc::params::initial;
use emc::pipeline::{front_end, program};

/// Longest model text [`model`] looks at: past the sizes of the flat chains that once
/// overflowed the stack (15-190 KB) and the byte-level target's `-max_len` (256 KiB), so that a
/// generated or saved input of a megabyte still runs; longer inputs are ignored.
pub const MAX_MODEL_INPUT: usize = 1 << 20;

/// Longest data text [`data`] looks at; longer inputs are ignored so that every run is fast.
pub const MAX_DATA_INPUT: usize = 4096;

/// What the CLI calls diagnostics that point into no file.
const NO_FILE: &str = "command line";

/// The models of the `data` target, by name (the file stem under `models/`). The first byte of
/// a `data` fuzz input picks one (modulo the count); a regression input names it by its folder.
pub const MODELS: &[(&str, &str)] = &[
    ("two_coins", include_str!("../../models/two_coins.em")),
    ("abo", include_str!("../../models/abo.em")),
    ("ibm1_koehn", include_str!("../../models/ibm1_koehn.em")),
    ("icecream", include_str!("../../models/icecream.em")),
    (
        "factorial_hmm",
        include_str!("../../models/factorial_hmm.em"),
    ),
    ("latent_class", include_str!("../../models/latent_class.em")),
    // Structured stories: each line a hypergraph (procedures, `if`, `for some`, spans).
    ("segmentation", include_str!("../../models/segmentation.em")),
    (
        "hmm_recursive",
        include_str!("../../models/hmm_recursive.em"),
    ),
];

/// The model a `data` fuzz input's first byte selects.
pub fn model_for_byte(b: u8) -> usize {
    b as usize % MODELS.len()
}

/// The index in [`MODELS`] of a model name.
pub fn model_index(name: &str) -> Option<usize> {
    MODELS.iter().position(|(n, _)| *n == name)
}

fn render(e: &Error, model: &str, data: &str) -> String {
    e.render(
        Named {
            name: "model.em",
            text: model,
        },
        Named {
            name: "data.txt",
            text: data,
        },
        NO_FILE,
    )
}

/// Model text through the front end and the planner; returns the rendered diagnostics (empty
/// when the model is accepted).
pub fn model(bytes: &[u8]) -> String {
    if bytes.len() > MAX_MODEL_INPUT {
        return String::new();
    }
    // As the CLI reads files: a byte-order mark dropped, lone CRs as line breaks, the
    // first byte that is not UTF-8 located.
    let text = match emc::text::decode(bytes) {
        Ok(text) => text,
        Err(e) => return e.render("fuzz", bytes),
    };
    let text = text.as_str();
    let result = front_end(text, &[]).and_then(|model| {
        // A structured story's shape (`emc check`'s class and cost formulas) is read off
        // its procedures: it must not panic on any story the checker accepts.
        if model.structured {
            let _ = emc::check::shape::shape(&model);
        }
        plan_for(&model).map(|_| ())
    });
    match result {
        Ok(()) => String::new(),
        Err(e) => render(&e, text, ""),
    }
}

/// Data bytes for model `which` (an index into [`MODELS`]) through the whole front of `emc
/// run`: UTF-8 check, compile, and the E-step (plus a Viterbi/MAP pass) on every instance
/// under uniform initial parameters. Returns the rendered diagnostics.
pub fn data(which: usize, bytes: &[u8]) -> String {
    if bytes.len() > MAX_DATA_INPUT {
        return String::new();
    }
    let (_, model_text) = MODELS[which];
    let text = match emc::text::decode(bytes) {
        Ok(text) => text,
        Err(e) => return e.render("fuzz", bytes),
    };
    let text = text.as_str();
    match run_data(which, text) {
        Ok(()) => String::new(),
        Err(e) => render(&e, model_text, text),
    }
}

thread_local! {
    /// The checked [`MODELS`], parsed once per thread: parsing dominates a run otherwise.
    static CHECKED: Vec<Model> = MODELS
        .iter()
        .map(|(name, text)| {
            front_end(text, &[]).unwrap_or_else(|e| panic!("models/{name}.em does not compile: {e}"))
        })
        .collect();
}

fn run_data(which: usize, text: &str) -> Result<(), Error> {
    let model = CHECKED.with(|models| models[which].clone());
    let (program, dataset) = program(model, text, None)?;
    // Uniform initialisation draws nothing, but `initial` wants a generator.
    let mut rng = rand::rngs::mock::StepRng::new(0, 1);
    let params = initial(
        &program.model,
        &program.domains,
        &program.layout,
        InitMode::Uniform,
        &mut rng,
    )?;
    if program.model.structured {
        // Each line's hypergraph: inside-outside, Viterbi, posteriors and its picture.
        use emc::hypergraph::binary::{count_line, Binary, Workspace};
        let mut ws = Workspace::default();
        for inst in &dataset.instances {
            let lg = emc::structured::execute(
                &program.model,
                &program.domains,
                &program.layout,
                inst,
                emc::structured::Budget::default(),
                false,
            )?;
            // The E-step's form: the line's allowed sets become entries of value 1 / Z
            // after the parameters, then the entry of value 1.
            let n = params.theta.len() as u32;
            let mut table = params.theta.clone();
            table.extend(emc::hypergraph::inv_norms(&lg.sets, &params.theta));
            let one = table.len() as u32;
            table.push(1.0);
            let bin = Binary::new(&lg.graph, |k| k, |s| n + s, one);
            let mut expected = vec![0.0; table.len()];
            for log_space in [false, true] {
                count_line(&bin, &table, inst.weight, &mut ws, &mut expected, log_space);
            }
            let _ = emc::structured::dot::line_dot(
                &program.model,
                &program.domains,
                &program.layout,
                inst,
                emc::structured::dot::MAX_DRAWN,
            );
        }
        emc::structured::posterior::posteriors(&program, &dataset, &params)?;
        emc::structured::decode::viterbi(&program, &dataset, &params)?;
        // Top-down sampling over the lexicon this data made.
        emc::structured::sample::sample(&program, &params, 2, 8, 0)?;
        return Ok(());
    }
    let mut counts = CountStore::new(params.theta.len());
    for inst in &dataset.instances {
        let g = unroll(&program.model, &program.domains, &program.layout, inst)?;
        let p = infer::posterior(program.plan.engine, &g, &params.theta)?;
        infer::accumulate(&g, &p, &mut counts, &params.theta);
        let _ = infer::var_marginals(&g, &p);
        infer::map(program.plan.engine, &g, &params.theta)?;
    }
    Ok(())
}
