//! `emc check` and `emc graph`: what the compiler made of a model, with or without data.

use emc::compile::{plan_for, validate_instances};
use emc::graph::{to_dot, unroll};
use emc::pipeline;

use super::files::{Failure, Files};
use super::InspectArgs;

pub fn check(args: InspectArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, args.data.as_deref())?;
    let model = files.front_end(&args.set)?;
    let text = match &files.data {
        Some(data) => {
            let (program, dataset) =
                pipeline::program(model, data, None).map_err(|e| files.render(&e))?;
            validate_instances(&program, &dataset).map_err(|e| files.render(&e))?;
            emc::report::describe(&program.model, &program.plan, Some((&program, &dataset)))
        }
        None => {
            let (plan, _) = plan_for(&model).map_err(|e| files.render(&e))?;
            emc::report::describe(&model, &plan, None)
        }
    };
    print!("{text}");
    Ok(())
}

pub fn graph(args: InspectArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, args.data.as_deref())?;
    let model = files.front_end(&args.set)?;
    if model.structured {
        let e = emc::error::Error::NotForStructured {
            command: "emc graph",
            span: emc::structured::story_span(&model),
        };
        return Err(files.render(&e));
    }
    let (layout, dataset) = match &files.data {
        Some(data) => pipeline::program(model.clone(), data, None)
            .map(|(program, dataset)| (program.layout, dataset)),
        None => pipeline::probe(&model),
    }
    .map_err(|e| files.render(&e))?;
    let first = dataset
        .instances
        .first()
        .ok_or_else(|| Failure::Io("the data has no instances".into()))?;
    let g =
        unroll(&model, &dataset.domains, &layout, first).map_err(|e| files.render(&e.into()))?;
    print!("{}", to_dot(&g));
    Ok(())
}
