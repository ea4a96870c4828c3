//! `emc estep` and `emc mstep`: one EM iteration split over processes through accumulator
//! files (`emc::accum`), for any job scheduler to run. Every shard compiles the whole data
//! (the units of work are the whole data's) and counts its own units; mstep compiles it
//! again, to merge the units as `emc run` merges them and to map them onto parameters.

use std::io::Read;
use std::path::Path;

use emc::accum::{self, AccumError};
use emc::diagnostic::Diagnostic;
use emc::model::{Algorithm, FamilyKind, Model};
use emc::params::{self, Params};
use emc::pipeline::{self, Compiled, Inputs};

use super::files::{read_json, some_lines, Failure, Files};
use super::outputs::{self, write_atomic, Staging};
use super::run::default_threads;
use super::{EstepArgs, MstepArgs};

pub fn estep(args: EstepArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, Some(&args.data))?;
    let model = files.front_end(&args.set)?;
    refuse_direct(&model, &files)?;
    let threads = args.threads.unwrap_or_else(default_threads);
    let (mut compiled, params, inputs) =
        compile_at(&files, model, &args.params, &args.set, threads)?;
    compiled.kernel.set_precision(args.precision.into());
    let on_zero = args.on_zero.into();
    let (shard, shards) = args.shard;
    let header = compiled.shard_header(inputs, shard, shards);
    let file = compiled
        .e_step_shard(&params, on_zero, header)
        .map_err(|e| files.render(&e))?;
    write_atomic(&args.out, accum::encode(&file))
}

pub fn mstep(args: MstepArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, Some(&args.data))?;
    let model = files.front_end(&args.set)?;
    refuse_direct(&model, &files)?;
    // Checked before the data is compiled, as `emc run` checks its own.
    let mut staging = Staging::begin(&args.out)?;
    // The files first: a damaged one fails before the data is compiled.
    let mut shards = Vec::with_capacity(args.counts.len());
    for path in &args.counts {
        let name = path.display().to_string();
        let bytes = read_accumulator(path, &name)?;
        let file = accum::decode(&name, &bytes).map_err(|e| refused(&e))?;
        shards.push((name, file));
    }
    let threads = args.threads.unwrap_or_else(default_threads);
    let (compiled, params, inputs) = compile_at(&files, model, &args.params, &args.set, threads)?;
    let expected = compiled.shard_header(inputs, 0, 1);
    let units = accum::assemble(shards, &expected).map_err(|e| refused(&e))?;
    let step = compiled
        .em_step(&params, &units)
        .map_err(|e| files.render(&e))?;
    if !step.objective.is_finite() {
        let d = Diagnostic::unlocated(format!(
            "the objective at the parameters of {} is {}, not a finite number",
            args.params.display(),
            step.objective
        ))
        .with_hint(
            "this is a bug in emc if the data is finite: please report it with the model and data",
        );
        return Err(Failure::User(d.render(&files.model_path, "")));
    }
    for message in &step.warnings {
        eprintln!("warning: {message}");
    }
    let wide = compiled
        .program
        .model
        .families
        .iter()
        .find(|f| match &f.kind {
            FamilyKind::Gaussian(g) => g.dim > 1,
            _ => false,
        });
    if let Some(f) = wide {
        eprintln!(
            "note: params.json holds `{}`'s covariances; the Cholesky factors read back from \
             them may differ from the M-step's in the last bit, so a loop through params.json \
             agrees with `emc run` to rounding, not bit for bit",
            f.name
        );
    }
    let wrote = outputs::stage_params(&mut staging, &compiled.program, &step.params)?;
    staging.commit()?;
    summary(&compiled, &step, &args.out, &wrote);
    Ok(())
}

/// estep and mstep split one iteration of EM: a model that trains by another algorithm (or
/// anneals) would be trained by plain EM without a word.
fn refuse_direct(model: &Model, files: &Files) -> Result<(), Failure> {
    let s = &model.settings;
    let why = match (s.algorithm, s.anneal) {
        (Algorithm::Em, None) => return Ok(()),
        (Algorithm::Em, Some(_)) => "the model anneals (`anneal` in its `train` block), and \
            estep counts at the untempered parameters"
            .to_string(),
        (Algorithm::Direct, _) => "the model trains with `algorithm: direct`, which estep and \
            mstep cannot split: its L-BFGS steps need the whole objective and gradient at \
            every trial point"
            .to_string(),
        (a, _) => format!(
            "the model trains with `algorithm: {}`, and estep and mstep split an iteration of \
             plain EM",
            a.name()
        ),
    };
    let span = s.span("algorithm").or(s.span("anneal"));
    let d = match span {
        Some(span) => Diagnostic::error(why, span).with_label("this setting"),
        None => Diagnostic::unlocated(why),
    }
    .with_hint(
        "train with EM (`algorithm: em` in the `train` block, their Algorithm 1, without \
         `anneal`), or run this algorithm with `emc run`",
    );
    Err(Failure::User(d.render(&files.model_path, &files.model)))
}

/// The program compiled for the data over the vocabularies of the parameter file at
/// `path`, as `emc run --init PATH` compiles it, with the file's values and the
/// fingerprints of the inputs.
fn compile_at(
    files: &Files,
    model: Model,
    path: &Path,
    set: &[(String, String)],
    threads: usize,
) -> Result<(Compiled, Params, Inputs), Failure> {
    let text = read_json(path)?;
    let loaded =
        params::from_json(&model, &text).map_err(|e| files.render_with(&e.into(), path))?;
    let inputs = Inputs {
        model: accum::model_fingerprint(&files.model, set),
        data: accum::text_fingerprint(files.data_text()),
        params: accum::text_fingerprint(&text),
    };
    let compiled = pipeline::compile(model, files.data_text(), Some(&loaded.domains), threads)
        .map_err(|e| files.render(&e))?;
    let params = loaded.params_for(&compiled.program.layout);
    // mstep's M-step reallocates its buffers as training does.
    crate::keep_freed_memory(&compiled.pool);
    Ok((compiled, params, inputs))
}

/// Reads an accumulator file. A file that does not start as one (`/dev/zero`, a data
/// file) is refused at its first bytes; one that does is read whole, however large, since
/// estep wrote it.
fn read_accumulator(path: &Path, name: &str) -> Result<Vec<u8>, Failure> {
    let io = |e: std::io::Error| Failure::Io(format!("cannot read {name}: {e}"));
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(accum::MAGIC.len() as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes != accum::MAGIC {
        return Err(refused(&AccumError::NotAccumulator { file: name.into() }));
    }
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

fn refused(e: &AccumError) -> Failure {
    let text = e
        .to_diagnostic()
        .render(e.file().unwrap_or("command line"), "");
    if e.is_user() {
        Failure::User(text)
    } else {
        Failure::Usage(text)
    }
}

/// What mstep did, on stdout: the objective at the parameters given (for a driver's
/// convergence test), and where the next ones went. Numbers are printed to round-trip.
fn summary(compiled: &Compiled, step: &pipeline::EmStep, out: &Path, wrote: &[&str]) {
    println!("log-lik      {:?}", step.counts.log_likelihood);
    println!("objective    {:?}", step.objective);
    println!("instances    {}", step.counts.instances);
    let skipped = &step.counts.skipped;
    if !skipped.is_empty() {
        println!(
            "skipped      {} line(s) with probability zero: {}",
            skipped.len(),
            some_lines(skipped.iter().copied())
        );
    }
    println!("plan         {}", compiled.program.plan.engine.name());
    println!("wrote        {}/{{{}}}", out.display(), wrote.join(", "));
}
