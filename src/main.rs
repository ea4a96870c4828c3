//! The `emc` command: file I/O, progress on stderr, results on stdout. Exit codes: 0 ok,
//! 1 a problem in the model or the data, 2 a usage or I/O problem.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};

use emc::compile::{find_supports, plan_for};
use emc::data::{self, Dataset};
use emc::diagnostic::Diagnostic;
use emc::error::{Error, Named};
use emc::graph::{probe_dataset, to_dot, unroll};
use emc::model::{Algorithm, InitMode, Model};
use emc::output::{CheckpointFile, CHECKPOINT_FORMAT};
use emc::params::{self, Layout, Params};
use emc::pipeline::{self, front_end};
use emc::program::Program;
use emc::train::{self, Checkpoint, Config, Event, Init, ZeroPolicy};

#[derive(Parser)]
#[command(
    name = "emc",
    version,
    about = "EM model compiler: exact EM for declarative models with hidden variables"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Unrolling a corpus makes and drops millions of small tables, and compiling it a few large
/// arrays: mimalloc keeps both cheaper than the system allocator (IBM Model 1 on the Hansards:
/// fewer page faults and a fifth less time per run).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Train a model on data with EM and write params.json, params.tsv and trace.tsv.
    Run {
        model: PathBuf,
        data: PathBuf,
        /// Output directory.
        #[arg(long, default_value = "emc-out")]
        out: PathBuf,
        /// Maximum EM iterations (default: the model's `train` block, else 100).
        #[arg(long)]
        iterations: Option<usize>,
        /// Stop when the relative change of the objective is below this (0: run all iterations).
        #[arg(long)]
        tolerance: Option<f64>,
        /// Random restarts; the best final objective wins.
        #[arg(long)]
        restarts: Option<usize>,
        #[arg(long)]
        seed: Option<u64>,
        /// Initialisation of families without given values: random or uniform.
        #[arg(long, value_parser = ["random", "uniform"])]
        init_mode: Option<String>,
        /// Start from a params.json written by an earlier run.
        #[arg(long)]
        init: Option<PathBuf>,
        /// Override a constant: NAME=VALUE (repeatable).
        #[arg(long = "set", value_parser = parse_set)]
        set: Vec<(String, String)>,
        /// Threads for the E-step (default: all cores). Results are identical for any count.
        #[arg(long)]
        threads: Option<usize>,
        /// No per-iteration progress on stderr.
        #[arg(long, short)]
        quiet: bool,
        /// A line with probability zero under the current parameters: stop with an error
        /// naming it, or skip it in that iteration's counts and report it.
        #[arg(long, value_parser = ["stop", "skip"], default_value = "stop")]
        on_zero: String,
        /// em: EM, Logistic families fitted by L-BFGS in each M-step (Berg-Kirkpatrick et al.
        /// 2010, Algorithm 1). direct: L-BFGS on the marginal log-likelihood over all weights
        /// (their Algorithm 2). Default: the model's `train { algorithm: ... }`, else em.
        #[arg(long, value_parser = ["em", "direct"])]
        algorithm: Option<String>,
        /// Continue the interrupted run whose outputs are in DIR (its checkpoint.json); the
        /// settings come from the checkpoint.
        #[arg(long, value_name = "DIR", conflicts_with = "out")]
        resume: Option<PathBuf>,
        /// Also write the Viterbi decoding of every data line under the final parameters to
        /// OUT/decode.txt, as `emc decode` prints it (without reading the parameters back)
        #[arg(long)]
        decode: bool,
        /// Write no params.json and params.tsv: for a run whose product is its decodings or
        /// its trace (a sparse table of millions of entries takes a while to write)
        #[arg(long)]
        no_params: bool,
    },
    /// Check a model (and optionally data) and print the compiled plan.
    Check {
        model: PathBuf,
        data: Option<PathBuf>,
        #[arg(long = "set", value_parser = parse_set)]
        set: Vec<(String, String)>,
    },
    /// Print the factor graph of one instance (the first data line, or a probe) as Graphviz DOT.
    Graph {
        model: PathBuf,
        data: Option<PathBuf>,
        #[arg(long = "set", value_parser = parse_set)]
        set: Vec<(String, String)>,
    },
    /// Print the most probable hidden values per data line (Viterbi / MAP), or marginals.
    Decode {
        model: PathBuf,
        data: PathBuf,
        #[arg(long)]
        params: PathBuf,
        /// Print posterior marginals instead: `line  variable  value=p ...`.
        #[arg(long)]
        posterior: bool,
        #[arg(long = "set", value_parser = parse_set)]
        set: Vec<(String, String)>,
    },
    /// Sample synthetic data lines from a model and its parameters.
    Sample {
        model: PathBuf,
        #[arg(long)]
        params: PathBuf,
        #[arg(short = 'n', long, default_value_t = 10)]
        count: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Length of every sequence field.
        #[arg(long, default_value_t = 10)]
        length: usize,
        #[arg(long = "set", value_parser = parse_set)]
        set: Vec<(String, String)>,
    },
    /// Score predicted tags or alignments against gold ones.
    Eval {
        #[arg(long)]
        gold: PathBuf,
        #[arg(long)]
        pred: PathBuf,
        /// many-to-one, one-to-one, v-measure or aer.
        #[arg(long)]
        metric: String,
    },
}

fn parse_set(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .ok_or_else(|| format!("expected NAME=VALUE, found `{s}`"))
}

/// Why the command stopped.
enum Failure {
    /// Model or data problems, already rendered.
    User(String),
    /// Usage or I/O.
    Io(String),
    /// Stopped by Ctrl-C after writing the outputs.
    Interrupted,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::User(text)) => {
            eprint!("{text}");
            ExitCode::from(1)
        }
        Err(Failure::Io(text)) => {
            eprintln!("error: {text}");
            ExitCode::from(2)
        }
        Err(Failure::Interrupted) => ExitCode::from(130),
    }
}

fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run {
            model,
            data,
            out,
            iterations,
            tolerance,
            restarts,
            seed,
            init_mode,
            init,
            set,
            threads,
            quiet,
            on_zero,
            algorithm,
            resume,
            decode,
            no_params,
        } => {
            let files = Files::read(&model, Some(&data))?;
            let m = files.front_end(&set)?;
            // Given initial values fix the vocabularies, as a trained model's do for decoding.
            let given = match &init {
                Some(path) => Some(load_params(path, &m, &files)?),
                None => None,
            };
            let threads = threads.unwrap_or_else(default_threads);
            let compiled = pipeline::compile(
                m,
                files.data.as_deref().unwrap_or(""),
                given.as_ref().map(|l| &l.domains),
                threads,
            )
            .map_err(|e| files.render(&e))?;
            let program = &compiled.program;
            let mut config = Config::from_model(&program);
            config.iterations = iterations.unwrap_or(config.iterations);
            config.tolerance = tolerance.unwrap_or(config.tolerance);
            config.restarts = restarts.unwrap_or(config.restarts).max(1);
            config.seed = seed.unwrap_or(config.seed);
            config.threads = threads;
            config.on_zero = if on_zero == "skip" {
                ZeroPolicy::Skip
            } else {
                ZeroPolicy::Stop
            };
            if let Some(mode) = init_mode {
                config.init = Init::Mode(parse_mode(&mode));
            }
            match algorithm.as_deref() {
                Some("direct") => config.algorithm = Algorithm::Direct,
                Some(_) => config.algorithm = Algorithm::Em,
                None => {}
            }
            if resume.is_some() && config.algorithm == Algorithm::Direct {
                return Err(Failure::User(
                    Diagnostic::unlocated("`--resume` works with `--algorithm em` only")
                        .with_hint("the direct algorithm keeps no checkpoint: run it again")
                        .render("command line", ""),
                ));
            }
            if let Some(loaded) = given {
                config.init = Init::Given(loaded.params_for(&program.layout));
            }
            config.decode = decode;
            let out = match resume {
                Some(dir) => {
                    resume_from(&dir, &files, &set, program.layout.total, &mut config)?;
                    dir
                }
                None => out,
            };
            config.stop = Some(stop_on_interrupt());
            let outputs = Outputs {
                dir: &out,
                params: !no_params,
                quiet,
            };
            run(&compiled, &config, outputs, &files, &set)
        }
        Command::Check { model, data, set } => {
            let files = Files::read(&model, data.as_deref())?;
            let m = files.front_end(&set)?;
            let text = match &files.data {
                Some(_) => {
                    let (program, dataset) = files.compile(m, None)?;
                    emc::compile::validate_instances(&program, &dataset)
                        .map_err(|e| files.render(&e))?;
                    emc::report::describe(&program.model, &program.plan, Some((&program, &dataset)))
                }
                None => {
                    let (plan, _) = plan_for(&m).map_err(|e| files.render(&e))?;
                    emc::report::describe(&m, &plan, None)
                }
            };
            print!("{text}");
            Ok(())
        }
        Command::Graph { model, data, set } => {
            let files = Files::read(&model, data.as_deref())?;
            let m = files.front_end(&set)?;
            let (layout, dataset) = match &files.data {
                Some(_) => {
                    let (program, dataset) = files.compile(m.clone(), None)?;
                    (program.layout, dataset)
                }
                None => {
                    let probe = probe_dataset(&m);
                    let layout = Layout::new(&m, &probe.domains)
                        .map_err(|e| files.render(&e.into()))
                        .and_then(|l| find_supports(&m, &probe, l).map_err(|e| files.render(&e)))?;
                    (layout, probe)
                }
            };
            let first = dataset
                .instances
                .first()
                .ok_or_else(|| Failure::Io("the data has no instances".into()))?;
            let g = unroll(&m, &dataset.domains, &layout, first)
                .map_err(|e| files.render(&e.into()))?;
            print!("{}", to_dot(&g));
            Ok(())
        }
        Command::Decode {
            model,
            data,
            params,
            posterior,
            set,
        } => {
            let files = Files::read(&model, Some(&data))?;
            let m = files.front_end(&set)?;
            let text = read_text(&params)?;
            let loaded =
                params::from_json(&m, &text).map_err(|e| files.render_with(&e.into(), &params))?;
            let (program, dataset) = files.compile(m, Some(&loaded.domains))?;
            let values = loaded.params_for(&program.layout);
            let lines = if posterior {
                emc::decode::marginals(&program, &dataset, &values)
            } else {
                emc::decode::viterbi(&program, &dataset, &values)
            }
            .map_err(|e| files.render(&e))?;
            print_lines(&lines)
        }
        Command::Sample {
            model,
            params,
            count,
            seed,
            length,
            set,
        } => {
            let files = Files::read(&model, None)?;
            let m = files.front_end(&set)?;
            let text = read_text(&params)?;
            let loaded =
                params::from_json(&m, &text).map_err(|e| files.render_with(&e.into(), &params))?;
            let (plan, _) = plan_for(&m).map_err(|e| files.render(&e))?;
            let values = loaded.params;
            let program = Program {
                model: m,
                domains: loaded.domains,
                layout: loaded.layout,
                plan,
            };
            let lines = emc::sample::sample(&program, &values, count, length, seed)
                .map_err(|e| files.render(&e.into()))?;
            print_lines(&lines)
        }
        Command::Eval { gold, pred, metric } => {
            let metric: emc::eval::Metric = metric
                .parse()
                .map_err(|e: emc::eval::EvalError| Failure::Io(e.to_string()))?;
            let g = read_text(&gold)?;
            let p = read_text(&pred)?;
            let report = emc::eval::evaluate(metric, &g, &p)
                .map_err(|e| Failure::User(format!("error: {e}\n")))?;
            println!("{report}");
            Ok(())
        }
    }
}

fn parse_mode(mode: &str) -> InitMode {
    if mode == "uniform" {
        InitMode::Uniform
    } else {
        InitMode::Random
    }
}

/// A flag that the first Ctrl-C sets (training stops after the current iteration and writes
/// its outputs); a second Ctrl-C ends the process at once.
fn stop_on_interrupt() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let _ = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("interrupted: stopping after this iteration (Ctrl-C again to quit now)");
    });
    flag
}

/// Whether a checkpoint's vectors fit a model with `params` parameters.
fn consistent(c: &Checkpoint, params: usize) -> bool {
    let fits =
        |theta: &[f64]| theta.len() == params && theta.iter().all(|t| t.is_finite() && *t >= 0.0);
    (c.theta.is_empty() || (fits(&c.theta) && c.trace.len() == c.iteration))
        && c.best.as_ref().is_none_or(|b| fits(&b.theta))
}

/// Loads `DIR/checkpoint.json` into `config`, refusing one written for other inputs.
fn resume_from(
    dir: &Path,
    files: &Files,
    set: &[(String, String)],
    params: usize,
    config: &mut Config,
) -> Result<(), Failure> {
    let path = dir.join("checkpoint.json");
    let text = read_text(&path)?;
    let file: CheckpointFile = serde_json::from_str(&text)
        .map_err(|e| Failure::Io(format!("{} is not a checkpoint: {e}", path.display())))?;
    if file.format != CHECKPOINT_FORMAT {
        return Err(Failure::Io(format!(
            "{}: unknown format `{}`",
            path.display(),
            file.format
        )));
    }
    if file.fingerprint != files.fingerprint(set) {
        let d = Diagnostic::unlocated("the checkpoint was written for another model or data file")
            .with_hint("resume with the same MODEL, DATA and --set values the run started with");
        return Err(Failure::User(d.render(&path.display().to_string(), "")));
    }
    if !consistent(&file.checkpoint, params) {
        return Err(Failure::Io(format!(
            "{} is damaged: its parameters do not fit the model",
            path.display()
        )));
    }
    config.iterations = file.iterations;
    config.tolerance = file.tolerance;
    config.restarts = file.restarts;
    config.seed = file.seed;
    config.init = match (file.init_mode, file.init_theta) {
        (_, Some(theta)) => Init::Given(Params { theta }),
        (mode, None) => Init::Mode(parse_mode(mode.as_deref().unwrap_or("random"))),
    };
    config.resume = Some(file.checkpoint);
    Ok(())
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The model text and, where given, the data text, with their paths for diagnostics.
struct Files {
    model_path: String,
    model: String,
    data_path: String,
    data: Option<String>,
}

impl Files {
    fn read(model: &Path, data: Option<&Path>) -> Result<Files, Failure> {
        let model_text = read_text(model)?;
        let data_text = match data {
            Some(p) => {
                let bytes = std::fs::read(p)
                    .map_err(|e| Failure::Io(format!("cannot read {}: {e}", p.display())))?;
                match data::utf8(&bytes) {
                    Ok(s) => Some(s.to_string()),
                    Err(e) => {
                        let lossy = String::from_utf8_lossy(&bytes);
                        let d = e.to_diagnostic();
                        return Err(Failure::User(d.render(&p.display().to_string(), &lossy)));
                    }
                }
            }
            None => None,
        };
        Ok(Files {
            model_path: model.display().to_string(),
            model: model_text,
            data_path: data.map(|p| p.display().to_string()).unwrap_or_default(),
            data: data_text,
        })
    }

    /// Of the inputs a checkpoint belongs to: model, data and constant overrides.
    fn fingerprint(&self, set: &[(String, String)]) -> u64 {
        let overrides: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut texts = vec![self.model.as_str(), self.data.as_deref().unwrap_or("")];
        texts.extend(overrides.iter().map(String::as_str));
        emc::output::fingerprint(&texts)
    }

    fn front_end(&self, set: &[(String, String)]) -> Result<Model, Failure> {
        front_end(&self.model, set).map_err(|e| self.render(&e))
    }

    fn compile(
        &self,
        model: Model,
        frozen: Option<&emc::data::Domains>,
    ) -> Result<(Program, Dataset), Failure> {
        pipeline::program(model, self.data.as_deref().unwrap_or(""), frozen)
            .map_err(|e| self.render(&e))
    }

    fn render(&self, e: &Error) -> Failure {
        self.render_with(e, Path::new("command line"))
    }

    /// Renders every diagnostic against the file it points into; `other` names the rest.
    fn render_with(&self, e: &Error, other: &Path) -> Failure {
        let model = Named {
            name: &self.model_path,
            text: &self.model,
        };
        let data = Named {
            name: &self.data_path,
            text: self.data.as_deref().unwrap_or(""),
        };
        Failure::User(e.render(model, data, &other.display().to_string()))
    }
}

fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))
}

fn load_params(path: &Path, model: &Model, files: &Files) -> Result<params::Loaded, Failure> {
    let text = read_text(path)?;
    params::from_json(model, &text).map_err(|e| files.render_with(&e.into(), path))
}

fn print_lines(lines: &[String]) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for l in lines {
        if let Err(e) = writeln!(out, "{l}") {
            // A closed pipe (`emc decode ... | head`) is not an error.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(Failure::Io(e.to_string()));
        }
    }
    out.flush().or_else(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(Failure::Io(e.to_string()))
        }
    })
}

/// The data compiled for training.
/// Where `emc run` writes, and what.
struct Outputs<'a> {
    dir: &'a Path,
    /// params.json and params.tsv.
    params: bool,
    /// No progress lines.
    quiet: bool,
}

fn run(
    compiled: &pipeline::Compiled,
    config: &Config,
    outputs: Outputs,
    files: &Files,
    set: &[(String, String)],
) -> Result<(), Failure> {
    let pipeline::Compiled {
        program,
        dataset,
        kernel,
        pool,
    } = compiled;
    let (out, quiet) = (outputs.dir, outputs.quiet);
    let started = Instant::now();
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::Io(format!("cannot create {}: {e}", out.display())))?;
    let mut write_error: Option<Failure> = None;
    // When the last checkpoint was written and how long writing it took.
    let mut last_write: Option<(Instant, std::time::Duration)> = None;
    // Each warning once: a component that lost its mass would say so every iteration.
    let mut warned = std::collections::HashSet::new();
    let mut on_event = |e: &Event| match e {
        Event::Checkpoint(c) => {
            // A large model's checkpoint takes a while to write: skip offers until writing
            // would cost at most 1/CHECKPOINT_SPACING of the time, so resuming loses a few
            // iterations at worst and is still exact.
            // Before the first write its cost is estimated from the checkpoint's size.
            let due = match last_write {
                Some((end, cost)) => end.elapsed() >= cost * CHECKPOINT_SPACING,
                None => started.elapsed() >= first_checkpoint_cost(c) * CHECKPOINT_SPACING,
            };
            if write_error.is_none() && due {
                let begin = Instant::now();
                let text = checkpoint_text(config, files.fingerprint(set), c);
                write_error = write_atomic(&out.join("checkpoint.json"), &text).err();
                last_write = Some((Instant::now(), begin.elapsed()));
            }
        }
        Event::Warning { iteration, message } => {
            if warned.insert(message.to_string()) {
                eprintln!("warning: after iteration {iteration}, {message}");
            }
        }
        _ if quiet => {}
        Event::Iteration {
            restart,
            point,
            change,
        } => {
            let change = change.map_or("-".to_string(), |c| format!("{c:+.3e}"));
            let prefix = if config.restarts > 1 {
                format!("restart {restart} ")
            } else {
                String::new()
            };
            eprintln!(
                "{prefix}iteration {:>4}  log-likelihood {:>16.6}  change {change:>11}  {:>8.2}s",
                point.iteration, point.log_likelihood, point.seconds
            );
        }
        Event::Skipped { iteration, lines } => {
            let shown: Vec<String> = lines.iter().take(10).map(usize::to_string).collect();
            let more = if lines.len() > 10 {
                format!(" and {} more", lines.len() - 10)
            } else {
                String::new()
            };
            eprintln!(
                "warning: iteration {iteration} skipped {} line(s) with probability zero: {}{more}",
                lines.len(),
                shown.join(", ")
            );
        }
        Event::Restart { restart, objective } => {
            if config.restarts > 1 {
                eprintln!("restart {restart} finished: objective {objective:.6}");
            }
        }
    };
    let outcome = train::train_compiled(program, dataset, kernel, pool, config, &mut on_event)
        .map_err(|e| files.render(&e))?;
    if let Some(e) = write_error {
        return Err(e);
    }
    let m = &program.model;
    let mut wrote = vec!["trace.tsv"];
    if outputs.params {
        let json = params::to_json(m, &program.domains, &program.layout, &outcome.params);
        write_atomic(&out.join("params.json"), &json)?;
        let tsv = params::to_tsv(m, &program.domains, &program.layout, &outcome.params);
        write_atomic(&out.join("params.tsv"), &tsv)?;
        wrote.splice(0..0, ["params.json", "params.tsv"]);
    }
    let trace = emc::output::trace_tsv(&outcome.trace);
    write_atomic(&out.join("trace.tsv"), &trace)?;
    if let Some(lines) = &outcome.decoded {
        let mut text = lines.join("\n");
        text.push('\n');
        write_atomic(&out.join("decode.txt"), &text)?;
        wrote.push("decode.txt");
    }
    let last = outcome.trace.last();
    println!("model        {}", files.model_path);
    println!(
        "data         {} ({} instances)",
        files.data_path,
        dataset.instances.len()
    );
    println!("plan         {}", program.plan.engine.name());
    println!(
        "iterations   {}{}",
        last.map_or(0, |p| p.iteration),
        if outcome.converged {
            " (converged)"
        } else {
            ""
        }
    );
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
    if outcome.interrupted {
        eprintln!(
            "interrupted: outputs written; continue with `emc run {} {} --resume {}`",
            files.model_path,
            files.data_path,
            out.display()
        );
        return Err(Failure::Interrupted);
    }
    Ok(())
}

/// Checkpoints take at most one part in this many of a run's time.
const CHECKPOINT_SPACING: u32 = 20;

/// What writing a checkpoint of this many parameters will take, about: some 25 bytes of
/// JSON per number, formatted and synced at about 100 MB/s. A million-parameter model's
/// run of a few seconds then writes none; a small model's first offer is taken at once.
fn first_checkpoint_cost(c: &Checkpoint) -> std::time::Duration {
    let numbers = c.theta.len() + c.best.as_ref().map_or(0, |b| b.theta.len());
    std::time::Duration::from_secs_f64(numbers as f64 * 25.0 / 100e6)
}

fn checkpoint_text(config: &Config, fingerprint: u64, c: &Checkpoint) -> String {
    let (init_mode, init_theta) = match &config.init {
        Init::Mode(InitMode::Uniform) => (Some("uniform".to_string()), None),
        Init::Mode(InitMode::Random) => (Some("random".to_string()), None),
        Init::Given(p) => (None, Some(p.theta.clone())),
    };
    let file = CheckpointFile {
        format: CHECKPOINT_FORMAT.into(),
        fingerprint,
        iterations: config.iterations,
        tolerance: config.tolerance,
        restarts: config.restarts,
        seed: config.seed,
        init_mode,
        init_theta,
        checkpoint: c.clone(),
    };
    serde_json::to_string(&file).unwrap_or_default()
}

/// Writes through a temporary file in the same directory and renames it into place, so a
/// failed run never leaves a half-written file where a good one was.
fn write_atomic(path: &Path, text: &str) -> Result<(), Failure> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let io = |e: std::io::Error| Failure::Io(format!("cannot write {}: {e}", path.display()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
