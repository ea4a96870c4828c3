//! `emc run`: train through `emc::pipeline`, report progress on stderr, write the outputs and
//! the checkpoints that let an interrupted run continue.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use emc::checkpoint::{self, inputs_fingerprint};
use emc::data;
use emc::error::Error;
use emc::model::{setting_users, InitMode, Model, DEFAULT_ANNEAL_RATE};
use emc::params::{self, InitFile};
use emc::pipeline::{self, Compiled};
use emc::plot::Series;
use emc::program::Program;
use emc::train::{Anneal, Checkpoint, Config, Distributed, Event, Init, Outcome};

use super::files::{read_json, some_lines, usage, Failure, Files};
#[cfg(feature = "mpi")]
use super::mpi::Processes;
use super::outputs::{self, write_atomic, Staging};
use super::progress::Progress;
use super::stream::{self, FileSource};
use super::{InitModeArg, RunArgs, TrainArgs};

pub fn run(args: RunArgs) -> Result<(), Failure> {
    // Under `mpirun` every process trains; process 0 alone reports and writes.
    let processes = Processes::start();
    let writer = processes.rank == 0;
    let mut progress = Progress::new(args.train.quiet || !writer);
    progress.phase("reading the model and the data");
    // A streamed file is never read whole, so its size is no reason to refuse it.
    let mut files = Files::read(&args.model, (!args.stream).then_some(args.data.as_path()))?;
    let mut source = match args.stream {
        true => {
            files.data_path = args.data.display().to_string();
            Some(FileSource::open(&args.data)?)
        }
        false => None,
    };
    let model = files.front_end(&args.set)?;
    let init = match &args.init {
        Some(path) => {
            let text = read_json(path)?;
            let file =
                params::read_init(&model, &text).map_err(|e| files.render_with(&e.into(), path))?;
            Some((path.as_path(), file))
        }
        None => None,
    };
    // A parameter file's vocabularies are the ones its values index: they are the run's,
    // and the data's words fill only the domains the file lacks.
    let frozen = match &init {
        Some((path, file)) => Some(init_domains(file, &model, &files, source.as_mut(), path)?),
        None => None,
    };
    // The processes of one machine share its cores.
    let threads =
        (args.train.threads).unwrap_or_else(|| (default_threads() / processes.size).max(1));
    // The output directory is checked before the data is compiled and the model trained: an
    // unwritable one fails now, not after the whole run.
    let out = args.resume.clone().unwrap_or_else(|| args.out.clone());
    // Only the writing process touches the output directory: another's staging, dropped
    // unused, would remove a directory it created while process 0 writes into it.
    let staging = if writer {
        Some(Staging::begin(&out)?)
    } else {
        None
    };
    progress.phase("compiling the model and the data");
    let fingerprint = match &mut source {
        Some(s) => stream::fingerprint(&files.model, s, &args.set)?,
        None => inputs_fingerprint(&files.model, files.data_text(), &args.set),
    };
    let compiled = match source {
        Some(s) => pipeline::compile_stream(
            model,
            Box::new(s),
            frozen.as_ref(),
            threads,
            emc::kernel::BLOCK_LINES,
        ),
        None => {
            let text = files.take_data();
            pipeline::compile_owned(model, text, frozen.as_ref(), threads)
        }
    }
    .map_err(|e| files.render(&e))?;
    let mut compiled = compiled;
    if args.interpreted {
        compiled.kernel = emc::kernel::Kernel::Generic;
    }
    compiled.kernel.set_precision(args.train.precision.into());
    let program = &compiled.program;
    let mut config = configure(&compiled, &args.train)?;
    if let Some((path, file)) = &init {
        config.init = given_init(
            file,
            &compiled,
            &config.init,
            path,
            &files,
            args.train.quiet,
        )?;
    }
    config.decode = args.decode;
    if let Some(dir) = &args.resume {
        let path = dir.join(checkpoint::FILE_NAME);
        if !path.exists() {
            return Err(Failure::Io(format!(
                "cannot read {}: there is none (only an interrupted run leaves one, and a \
                 new run into {} removes it)",
                path.display(),
                dir.display()
            )));
        }
        let text = read_json(&path)?;
        let given = config.clone();
        let refused = |e: checkpoint::CheckpointError| {
            let text = e.to_diagnostic().render(&path.display().to_string(), "");
            if e.is_user() {
                Failure::User(text)
            } else {
                Failure::Usage(text)
            }
        };
        checkpoint::resume(&text, fingerprint, program, &mut config).map_err(refused)?;
        same_settings(&args, &given, &config).map_err(refused)?;
    }
    config.stop = Some(stop_on_interrupt());
    if let Some(exchange) = processes.exchange() {
        // Each process's Ctrl-C travels with its counts; training stops on the flag they
        // agree on, after the same iteration everywhere.
        let interrupt = config.stop.replace(Arc::new(AtomicBool::new(false)));
        config.distributed = Some(Distributed {
            exchange,
            interrupt,
        });
        if writer && !args.train.quiet {
            progress.say(&format!(
                "training over {} processes ({threads} thread(s) each)",
                processes.size
            ));
        }
    }
    let Some(staging) = staging else {
        let outcome = compiled
            .train(&config, &mut |_| {})
            .map_err(|e| files.render(&e))?;
        return match outcome.interrupted {
            true => Err(Failure::Interrupted),
            false => Ok(()),
        };
    };
    let outputs = Outputs {
        dir: &out,
        params: !args.no_params,
        quiet: args.train.quiet,
        fingerprint,
    };
    train_and_write(&compiled, &config, outputs, staging, &files, &mut progress)
}

/// The model's `train` block with the command line's settings over it, for training in
/// `compiled`'s pool.
pub(super) fn configure(compiled: &Compiled, args: &TrainArgs) -> Result<Config, Failure> {
    // Every command that trains configures once its data is compiled.
    crate::keep_freed_memory(&compiled.pool);
    let mut config = Config::from_model(&compiled.program);
    config.iterations = args.iterations.unwrap_or(config.iterations);
    config.tolerance = args.tolerance.unwrap_or(config.tolerance);
    config.restarts = args.restarts.unwrap_or(config.restarts).max(1);
    config.seed = args.seed.unwrap_or(config.seed);
    // The pool may be smaller than asked (the OS refused threads): train in that one.
    config.threads = compiled.pool.current_num_threads();
    config.on_zero = args.on_zero.into();
    if let Some(mode) = args.init_mode {
        config.init = Init::Mode(match mode {
            InitModeArg::Random => InitMode::Random,
            InitModeArg::Uniform => InitMode::Uniform,
        });
    }
    if let Some(algorithm) = args.algorithm {
        config.algorithm = algorithm.into();
    }
    config.batch = args.batch.unwrap_or(config.batch);
    config.alpha = args.alpha.unwrap_or(config.alpha);
    config.prior = args.prior.unwrap_or(config.prior);
    if let Some(start) = args.anneal {
        let rate = config.anneal.map_or(DEFAULT_ANNEAL_RATE, |a| a.rate);
        config.anneal = Some(Anneal { start, rate });
    }
    if let (Some(rate), Some(a)) = (args.anneal_rate, config.anneal.as_mut()) {
        a.rate = rate;
    }
    // A flag of another algorithm would be silently ignored.
    let given = [
        ("--batch", "batch", args.batch.is_some()),
        ("--alpha", "alpha", args.alpha.is_some()),
        ("--anneal", "anneal", args.anneal.is_some()),
        ("--anneal-rate", "anneal_rate", args.anneal_rate.is_some()),
        ("--prior", "prior", args.prior.is_some()),
    ];
    for (flag, key, present) in given {
        let users = setting_users(key).unwrap_or(&[]);
        if present && !users.contains(&config.algorithm) {
            let names: Vec<&str> = users.iter().map(|a| a.name()).collect();
            return Err(usage(
                format!(
                    "{flag} applies to --algorithm {}, and this run trains with {}",
                    names.join(" or "),
                    config.algorithm.name()
                ),
                &format!("remove {flag}, or choose that algorithm"),
            ));
        }
    }
    if args.anneal_rate.is_some() && config.anneal.is_none() {
        return Err(usage(
            "--anneal-rate without annealing".into(),
            "give --anneal too (the first inverse temperature, e.g. 0.1)",
        ));
    }
    Ok(config)
}

/// A setting given on the command line of `--resume` must be the checkpoint's: the run goes
/// on as it was started, and a different value means that the checkpoint is another run's.
fn same_settings(
    args: &RunArgs,
    given: &Config,
    resumed: &Config,
) -> Result<(), checkpoint::CheckpointError> {
    let differs = |name: &str, asked: String, had: String| {
        Err(checkpoint::CheckpointError::OtherSettings {
            setting: name.to_string(),
            asked,
            had,
        })
    };
    if args.train.iterations.is_some() && given.iterations != resumed.iterations {
        return differs(
            "--iterations",
            given.iterations.to_string(),
            resumed.iterations.to_string(),
        );
    }
    if args.train.tolerance.is_some() && given.tolerance.to_bits() != resumed.tolerance.to_bits() {
        return differs(
            "--tolerance",
            given.tolerance.to_string(),
            resumed.tolerance.to_string(),
        );
    }
    if args.train.restarts.is_some() && given.restarts != resumed.restarts {
        return differs(
            "--restarts",
            given.restarts.to_string(),
            resumed.restarts.to_string(),
        );
    }
    if args.train.algorithm.is_some() && given.algorithm != resumed.algorithm {
        return differs(
            "--algorithm",
            given.algorithm.name().into(),
            resumed.algorithm.name().into(),
        );
    }
    if args.train.seed.is_some() && given.seed != resumed.seed {
        return differs("--seed", given.seed.to_string(), resumed.seed.to_string());
    }
    let mode = |c: &Config| match &c.init {
        Init::Mode(m) | Init::Partial { mode: m, .. } => Some(*m),
        Init::Given(_) => None,
    };
    if args.train.init_mode.is_some() && mode(given) != mode(resumed) {
        let name = |m: Option<InitMode>| match m {
            Some(InitMode::Random) => "random".to_string(),
            Some(InitMode::Uniform) => "uniform".to_string(),
            None => "the given parameters".to_string(),
        };
        return differs("--init-mode", name(mode(given)), name(mode(resumed)));
    }
    if args.init.is_some() {
        let theta = |c: &Config| match &c.init {
            Init::Given(p) | Init::Partial { given: p, .. } => {
                Some(p.theta.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            }
            Init::Mode(_) => None,
        };
        if theta(given) != theta(resumed) {
            return differs(
                "--init",
                "these parameters".into(),
                "other initial parameters".into(),
            );
        }
    }
    Ok(())
}

/// The domains of a run started from `file`: the file's, and for the domains it lacks, the
/// data's (read once more for them).
fn init_domains(
    file: &InitFile,
    model: &Model,
    files: &Files,
    source: Option<&mut FileSource>,
    path: &Path,
) -> Result<data::Domains, Failure> {
    let collected = match (file.lacks_domains(model), source) {
        (false, _) => None,
        (true, Some(source)) => {
            Some(pipeline::scan_domains(model, source).map_err(|e| files.render(&e))?)
        }
        (true, None) => {
            let dataset = data::read(model, files.data_text(), None)
                .map_err(|e| files.render(&Error::Data(e)))?;
            Some(dataset.domains)
        }
    };
    file.domains(model, collected.as_ref())
        .map_err(|e| files.render_with(&e.into(), path))
}

/// How a run started from `file` starts: the file's families take its values, the others
/// start as `usual` says. Says on stderr which is which.
fn given_init(
    file: &InitFile,
    compiled: &Compiled,
    usual: &Init,
    path: &Path,
    files: &Files,
    quiet: bool,
) -> Result<Init, Failure> {
    let program = &compiled.program;
    let (given, families) = file
        .values(&program.model, &program.domains, &program.layout)
        .map_err(|e| files.render_with(&e.into(), path))?;
    let name = |f: &usize| format!("`{}`", program.model.families[*f].name);
    let from: Vec<String> = families.iter().map(name).collect();
    let rest: Vec<String> = (0..program.model.families.len())
        .filter(|f| !families.contains(f))
        .map(|f| name(&f))
        .collect();
    if !quiet {
        eprintln!("init: {} from {}", from.join(", "), path.display());
    }
    let mode = match usual {
        Init::Mode(mode) | Init::Partial { mode, .. } => *mode,
        Init::Given(_) => InitMode::Random,
    };
    if rest.is_empty() {
        return Ok(Init::Given(given));
    }
    if !quiet {
        let how = match mode {
            InitMode::Random => "random",
            InitMode::Uniform => "uniform",
        };
        eprintln!(
            "init: {} initialised as usual ({how}, or the model's values)",
            rest.join(", ")
        );
    }
    Ok(Init::Partial {
        mode,
        given,
        families,
    })
}

pub(super) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(emc::train::MAX_THREADS))
}

/// A flag that the first Ctrl-C sets (training stops after the current iteration and writes
/// its outputs); a second Ctrl-C ends the process at once.
fn stop_on_interrupt() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            outputs::quit_now();
        }
        eprintln!("interrupted: stopping after this iteration (Ctrl-C again to quit now)");
    });
    flag
}

/// Where `emc run` writes, and what.
struct Outputs<'a> {
    dir: &'a Path,
    /// params.json and params.tsv.
    params: bool,
    /// No progress lines.
    quiet: bool,
    /// Of the inputs, for the checkpoints.
    fingerprint: u64,
}

/// Checkpoints take at most one part in this many of a run's time.
const CHECKPOINT_SPACING: u32 = 20;

/// What writing a checkpoint of this many parameters will take, about: some 25 bytes of
/// JSON per number, formatted and synced at about 100 MB/s. A million-parameter model's
/// run of a few seconds then writes none; a small model's first offer is taken at once.
fn first_checkpoint_cost(c: &Checkpoint) -> Duration {
    let numbers = c.theta.len() + c.best.as_ref().map_or(0, |b| b.theta.len());
    Duration::from_secs_f64(numbers as f64 * 25.0 / 100e6)
}

fn train_and_write(
    compiled: &Compiled,
    config: &Config,
    outputs: Outputs,
    mut staging: Staging,
    files: &Files,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let out = outputs.dir;
    let checkpoint_path = out.join(checkpoint::FILE_NAME);
    let started = Instant::now();
    // The checkpoint of an earlier run into this directory is not this run's: were this one
    // killed before its first checkpoint, `--resume` would continue the other.
    if config.resume.is_none() {
        outputs::remove_if_there(&checkpoint_path)?;
    }
    let stop = config.stop.clone();
    let mut write_error: Option<Failure> = None;
    // Every line left out of some iteration, reported even with --quiet.
    let mut skipped = std::collections::BTreeSet::new();
    // When the last checkpoint was written and how long writing it took.
    let mut last_write: Option<(Instant, Duration)> = None;
    // Each warning once: a component that lost its mass would say so every iteration.
    let mut warned = HashSet::new();
    // Every restart's trace, for the picture (the best one's whole trace is the outcome's).
    let mut traces: BTreeMap<usize, Vec<(f64, f64)>> = BTreeMap::new();
    progress.training(config.iterations, config.restarts);
    let mut on_event = |e: &Event| match e {
        Event::Checkpoint(c) => {
            // A large model's checkpoint takes a while to write: skip offers until writing
            // would cost at most 1/CHECKPOINT_SPACING of the time, so resuming loses a few
            // iterations at worst and is still exact. A killed run resumes from the last
            // one written; an interrupted one writes where it stopped (below).
            let due = match last_write {
                Some((end, cost)) => end.elapsed() >= cost * CHECKPOINT_SPACING,
                None => started.elapsed() >= first_checkpoint_cost(c) * CHECKPOINT_SPACING,
            };
            if write_error.is_none() && due {
                let begin = Instant::now();
                let text = checkpoint::to_text(config, outputs.fingerprint, c);
                write_error = write_atomic(&checkpoint_path, &text).err();
                last_write = Some((Instant::now(), begin.elapsed()));
                // A checkpoint that cannot be written (a full disk) stops the run now: the
                // outputs would not be written either, and a run that goes on unprotected
                // for hours would fail only at its end.
                if write_error.is_some() {
                    progress
                        .say("the checkpoint could not be written: stopping after this iteration");
                    if let Some(s) = &stop {
                        s.store(true, Ordering::SeqCst);
                    }
                }
            }
        }
        Event::Warning { iteration, message } => {
            if warned.insert(message.to_string()) {
                progress.say(&format!("warning: after iteration {iteration}, {message}"));
            }
        }
        Event::Iteration {
            restart,
            point,
            change,
        } => {
            traces
                .entry(*restart)
                .or_default()
                .push((point.iteration as f64, point.log_likelihood));
            progress.iteration(*restart, point, *change);
        }
        Event::Skipped { lines, .. } if outputs.quiet => skipped.extend(lines.iter().copied()),
        _ if outputs.quiet => {}
        Event::Skipped { iteration, lines } => {
            skipped.extend(lines.iter().copied());
            progress.say(&format!(
                "warning: iteration {iteration} skipped {} line(s) with probability zero: {}",
                lines.len(),
                some_lines(lines.iter().copied())
            ));
        }
        Event::Restart { restart, objective } => {
            if config.restarts > 1 {
                progress.say(&format!(
                    "restart {}/{} finished: objective {objective:.6}",
                    restart + 1,
                    config.restarts
                ));
            }
        }
    };
    let outcome = compiled.train(config, &mut on_event);
    progress.finish();
    let outcome = outcome.map_err(|e| files.render(&e))?;
    if let Some(e) = write_error {
        return Err(e);
    }
    let picture = Picture {
        title: format!("{}: {}", files.model_path, outcome.algorithm.name()),
        restarts: traces,
    };
    let wrote = write_outputs(
        &compiled.program,
        &outcome,
        outputs.params,
        &picture,
        &mut staging,
    )?;
    // The checkpoint is where an interrupted run continues: written where it stopped, even
    // when no offer was due yet, with the outputs; a finished run has nothing to continue,
    // and the commit removes the last one.
    if let Some(c) = &outcome.resume {
        let text = checkpoint::to_text(config, outputs.fingerprint, c);
        staging.write(checkpoint::FILE_NAME, &text)?;
    }
    staging.commit()?;
    summary(compiled, config, &outcome, files, out, &wrote, started);
    if !skipped.is_empty() {
        println!(
            "skipped      {} line(s) with probability zero in some iteration: {}",
            skipped.len(),
            some_lines(skipped.iter().copied())
        );
    }
    if outcome.interrupted {
        match &outcome.resume {
            Some(_) => eprintln!(
                "interrupted: outputs written; continue with `emc run {} {} --resume {}`",
                files.model_path,
                files.data_path,
                out.display()
            ),
            None => eprintln!(
                "interrupted: outputs written; the direct algorithm cannot be resumed, run it again"
            ),
        }
        return Err(Failure::Interrupted);
    }
    Ok(())
}

/// What `trace.svg` draws besides the outcome's trace: its title, and every restart's
/// points as the run reported them.
pub(super) struct Picture {
    pub title: String,
    pub restarts: BTreeMap<usize, Vec<(f64, f64)>>,
}

impl Picture {
    /// One line per restart; the best restart's is the outcome's trace, which also holds the
    /// iterations of the run a resumed run continues.
    fn series(&self, outcome: &Outcome) -> Vec<Series> {
        let best: Vec<(f64, f64)> = outcome
            .trace
            .iter()
            .map(|p| (p.iteration as f64, p.log_likelihood))
            .collect();
        if self.restarts.len() <= 1 {
            return vec![Series {
                label: "log-likelihood".to_string(),
                points: best,
            }];
        }
        self.restarts
            .iter()
            .map(|(&restart, points)| {
                if restart == outcome.best_restart {
                    Series {
                        label: format!("restart {} (best)", restart + 1),
                        points: best.clone(),
                    }
                } else {
                    Series {
                        label: format!("restart {}", restart + 1),
                        points: points.clone(),
                    }
                }
            })
            .collect()
    }
}

/// Writes params.json and params.tsv (when `params`), trace.tsv, trace.svg and decode.txt
/// (when the outcome has decodings); returns their names.
pub(super) fn write_outputs(
    program: &Program,
    outcome: &Outcome,
    params: bool,
    picture: &Picture,
    staging: &mut Staging,
) -> Result<Vec<&'static str>, Failure> {
    let mut wrote = Vec::new();
    if params {
        wrote.extend(outputs::stage_params(staging, program, &outcome.params)?);
    }
    let trace = emc::output::trace_tsv(&outcome.trace, outcome.algorithm);
    staging.write("trace.tsv", &trace)?;
    wrote.push("trace.tsv");
    let svg = emc::plot::trace_svg(&picture.title, &picture.series(outcome));
    staging.write("trace.svg", &svg)?;
    wrote.push("trace.svg");
    if let Some(lines) = &outcome.decoded {
        // Line by line through the staging buffer: joined, the lines were held twice.
        staging.write_with("decode.txt", |w| {
            lines.iter().try_for_each(|l| writeln!(w, "{l}"))
        })?;
        wrote.push("decode.txt");
    }
    Ok(wrote)
}

/// The summary on stdout. Its iteration and log-likelihood are those of the parameters
/// written, interrupted or not.
fn summary(
    compiled: &Compiled,
    config: &Config,
    outcome: &Outcome,
    files: &Files,
    out: &Path,
    wrote: &[&str],
    started: Instant,
) {
    let last = outcome.trace.last();
    println!("model        {}", files.model_path);
    println!(
        "data         {} ({} instances)",
        files.data_path,
        compiled.instances()
    );
    println!("plan         {}", compiled.program.plan.engine.name());
    if compiled.kernel.single() {
        println!("messages     single precision (--precision f64 for double)");
    }
    let state = if outcome.converged {
        " (converged)"
    } else if outcome.interrupted {
        " (interrupted)"
    } else {
        ""
    };
    println!("iterations   {}{state}", last.map_or(0, |p| p.iteration));
    println!(
        "log-lik      {:.6}",
        last.map_or(f64::NAN, |p| p.log_likelihood)
    );
    if config.restarts > 1 {
        println!(
            "restart      {} of {} was best",
            outcome.best_restart + 1,
            config.restarts
        );
    }
    println!("seconds      {:.2}", started.elapsed().as_secs_f64());
    println!("wrote        {}/{{{}}}", out.display(), wrote.join(", "));
}

/// One process: a build without the `mpi` feature.
#[cfg(not(feature = "mpi"))]
struct Processes {
    rank: usize,
    size: usize,
}

#[cfg(not(feature = "mpi"))]
impl Processes {
    fn start() -> Processes {
        Processes { rank: 0, size: 1 }
    }

    fn exchange(&self) -> Option<Arc<dyn emc::train::Exchange>> {
        None
    }
}
