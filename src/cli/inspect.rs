//! `emc check` and `emc graph`: what the compiler made of a model, with or without data.

use emc::compile::{plan_for, validate_instances};
use emc::graph::{to_dot, unroll};
use emc::kernel::Kernel;
use emc::pipeline;
use emc::structured::dot::{line_dot, DotError, MAX_DRAWN};

use super::files::{print_lines, Failure, Files};
use super::InspectArgs;

pub fn check(args: InspectArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, args.data.as_deref())?;
    let model = files.front_end(&args.set)?;
    let text = match &files.data {
        Some(data) => {
            // Compiled as `emc run` compiles it, so that the kernel it names is the one a run
            // gets; compiling unrolls every line, except for the interpreted path's plans.
            let compiled = pipeline::compile(model, data, None, super::run::default_threads())
                .map_err(|e| files.render(&e))?;
            let (program, dataset) = (&compiled.program, &compiled.dataset);
            if matches!(compiled.kernel, Kernel::Generic) {
                validate_instances(program, dataset).map_err(|e| files.render(&e))?;
            }
            let mut text =
                emc::report::describe(&program.model, &program.plan, Some((program, dataset)));
            text.push_str(&format!("kernel       {}\n", compiled.kernel.summary()));
            text
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
    let (layout, domains, dataset) = match &files.data {
        Some(data) => pipeline::program(model.clone(), data, None)
            .map(|(program, dataset)| (program.layout, program.domains, dataset)),
        None => pipeline::probe(&model).map(|(layout, dataset)| {
            let domains = dataset.domains.clone();
            (layout, domains, dataset)
        }),
    }
    .map_err(|e| files.render(&e))?;
    let inst = match args.line {
        None => dataset.instances.first(),
        Some(n) => dataset.instances.iter().find(|i| i.line == n),
    };
    let Some(inst) = inst else {
        return Err(Failure::Usage(match args.line {
            Some(n) => format!(
                "error: the data has no line {n} with an instance (it has {} instances)\n",
                dataset.instances.len()
            ),
            None => "error: the data has no instances\n".into(),
        }));
    };
    if model.structured {
        let text = line_dot(&model, &domains, &layout, inst, MAX_DRAWN).map_err(|e| match e {
            DotError::Run(e) => files.render(&e),
            DotError::TooLarge { edges, nodes } => Failure::User(format!(
                "error: {} has {nodes} calls and {edges} hyperedges, more than `emc graph` draws ({MAX_DRAWN} hyperedges)\n  = hint: pick a shorter line with `--line N`; `emc check MODEL DATA` gives every line's size\n",
                if inst.line == 0 {
                    "the probe instance".to_string()
                } else {
                    format!("data line {}", inst.line)
                }
            )),
        })?;
        return print_text(&text);
    }
    let g = unroll(&model, &domains, &layout, inst).map_err(|e| files.render(&e.into()))?;
    print_text(&to_dot(&g))
}

/// Text on stdout, whose lines `print_lines` writes (a closed pipe is not an error).
fn print_text(text: &str) -> Result<(), Failure> {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    print_lines(&lines)
}
