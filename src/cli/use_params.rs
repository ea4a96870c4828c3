//! The commands that use trained parameters (`decode`, `sample`) or score their products
//! (`eval`), and the reading of a parameter file they share with `score`.

use std::path::Path;

use emc::eval::Metric;
use emc::model::Model;
use emc::params::{self, Loaded};
use emc::pipeline;

use super::files::{print_lines, read_json, read_text, usage, Failure, Files, LinePrinter};
use super::{DecodeArgs, EvalArgs, MetricArg, SampleArgs};

pub fn decode(args: DecodeArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, Some(&args.data))?;
    let model = files.front_end(&args.set)?;
    let loaded = load_params(&files, &model, &args.params)?;
    // The file's vocabularies are the ones its values index.
    let (program, dataset) = pipeline::program(model, files.data_text(), Some(&loaded.domains))
        .map_err(|e| files.render(&e))?;
    let values = loaded.params_for(&program.layout);
    let lines = if args.posterior {
        emc::decode::marginals(&program, &dataset, &values)
    } else {
        emc::decode::viterbi(&program, &dataset, &values)
    }
    .map_err(|e| files.render(&e))?;
    print_lines(&lines)
}

pub fn sample(args: SampleArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, None)?;
    let model = files.front_end(&args.set)?;
    let loaded = load_params(&files, &model, &args.params)?;
    let (program, values) = pipeline::trained(model, loaded).map_err(|e| files.render(&e))?;
    let (n, length, seed) = (args.count, args.length, args.seed);
    if program.model.structured {
        // The structured sampler returns its lines at once: their number is bounded so that
        // they fit in memory.
        if n > MAX_BUFFERED_SAMPLES {
            return Err(usage(
                format!("`-n {n}`: a structured story samples at most {MAX_BUFFERED_SAMPLES} lines per run"),
                "sample in several runs with different `--seed`s",
            ));
        }
        let lines = emc::structured::sample::sample(&program, &values, n, length, seed)
            .map_err(|e| files.render(&e.into()))?;
        return print_lines(&lines);
    }
    // The line's template holds every sequence at full length (a `Real[D]` element is D
    // numbers) before the story runs: bounded before it is allocated.
    let width: usize = program
        .model
        .fields
        .iter()
        .filter(|f| f.kind == emc::model::FieldKind::Sequence)
        .map(|f| f.real.unwrap_or(1))
        .sum();
    if length.saturating_mul(width) > MAX_SAMPLE_CELLS {
        return Err(usage(
            format!(
                "`--length {length}`: a line of this model would hold {} values, more than {MAX_SAMPLE_CELLS}",
                length as u128 * width as u128
            ),
            "sample shorter lines",
        ));
    }
    let mut out = LinePrinter::new();
    emc::sample::sample_each(&program, &values, n, length, seed, &mut |l| out.line(&l))
        .map_err(|e| files.render(&e.into()))?;
    out.finish()
}

/// Reads the params.json at `path` for `model`. A file that is not there is a usage error
/// that says where one comes from; one of another model an error naming what differs.
pub(super) fn load_params(files: &Files, model: &Model, path: &Path) -> Result<Loaded, Failure> {
    if !path.exists() {
        return Err(usage(
            format!("cannot read {}: there is no such file", path.display()),
            "give the params.json that `emc run MODEL DATA --out DIR` wrote (DIR/params.json)",
        ));
    }
    let text = read_json(path)?;
    params::from_json(model, &text).map_err(|e| files.render_with(&e.into(), path))
}

/// Most values (sequence elements, numbers of a real vector) a sampled line holds.
const MAX_SAMPLE_CELLS: usize = 1 << 23;

/// Most lines a structured story's `emc sample` draws in one run (it holds them all).
const MAX_BUFFERED_SAMPLES: usize = 1 << 20;

pub fn eval(args: EvalArgs) -> Result<(), Failure> {
    let metric = match args.metric {
        MetricArg::ManyToOne => Metric::ManyToOne,
        MetricArg::OneToOne => Metric::OneToOne,
        MetricArg::VMeasure => Metric::VMeasure,
        MetricArg::Aer => Metric::Aer,
        MetricArg::Segmentation => Metric::Segmentation,
        MetricArg::Attachment => Metric::Attachment,
    };
    let gold = read_text(&args.gold)?;
    let pred = read_text(&args.pred)?;
    let report = emc::eval::evaluate(metric, &gold, &pred)
        .map_err(|e| Failure::User(format!("error: {e}\n")))?;
    println!("{report}");
    Ok(())
}
