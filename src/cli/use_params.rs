//! The commands that use trained parameters (`decode`, `sample`) or score their products
//! (`eval`).

use emc::eval::Metric;
use emc::params;
use emc::pipeline;

use super::files::{print_lines, read_text, Failure, Files};
use super::{DecodeArgs, EvalArgs, MetricArg, SampleArgs};

pub fn decode(args: DecodeArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, Some(&args.data))?;
    let model = files.front_end(&args.set)?;
    let text = read_text(&args.params)?;
    let loaded =
        params::from_json(&model, &text).map_err(|e| files.render_with(&e.into(), &args.params))?;
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
    let text = read_text(&args.params)?;
    let loaded =
        params::from_json(&model, &text).map_err(|e| files.render_with(&e.into(), &args.params))?;
    let (program, values) = pipeline::trained(model, loaded).map_err(|e| files.render(&e))?;
    let lines = if program.model.structured {
        emc::structured::sample::sample(&program, &values, args.count, args.length, args.seed)
    } else {
        emc::sample::sample(&program, &values, args.count, args.length, args.seed)
    }
    .map_err(|e| files.render(&e.into()))?;
    print_lines(&lines)
}

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
