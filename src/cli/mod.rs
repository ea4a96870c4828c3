//! The command line: clap types for every command and option, and the dispatch to the
//! commands, each in its own file. The commands get their work done by `emc::pipeline`.

mod files;
mod inspect;
#[cfg(feature = "mpi")]
mod mpi;
mod outputs;
mod plot;
mod progress;
mod run;
mod score;
mod shard;
mod stream;
mod use_params;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use files::Failure;

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

// Parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Train a model on data with EM and write params.json, params.tsv, trace.tsv and
    /// trace.svg.
    Run(RunArgs),
    /// Check a model (and optionally data) and print the compiled plan.
    Check(InspectArgs),
    /// Print the factor graph of one instance (the first data line, `--line N`, or a probe) as
    /// Graphviz DOT; for a structured story, that line's hypergraph of calls.
    Graph(InspectArgs),
    /// Print the most probable hidden values per data line (Viterbi / MAP), or marginals.
    Decode(DecodeArgs),
    /// Sample synthetic data lines from a model and its parameters.
    Sample(SampleArgs),
    /// Score predicted tags or alignments against gold ones.
    Eval(EvalArgs),
    /// Draw the log-likelihood traces of runs (their trace.tsv files) over each other, as an
    /// SVG picture.
    Plot(PlotArgs),
    /// Count one shard of the data's expected counts into an accumulator file: one part of
    /// an EM iteration, for a cluster (`emc mstep` sums the shards).
    Estep(EstepArgs),
    /// Sum the accumulator files of every shard and run the M-step: the parameters of the
    /// next iteration, bit for bit those of `emc run`.
    Mstep(MstepArgs),
    /// The log-likelihood of data under trained parameters: the total (as trace.tsv and
    /// hmmlearn's `score` report it) and the mean per sample (as scikit-learn's `score`),
    /// per line with `--per-line`, and BIC / AIC.
    Score(ScoreArgs),
    /// Train the model once per setting of its constants (`--set K=2,3,4`) and pick one by
    /// held-out log-likelihood, BIC or AIC.
    Select(SelectArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// The model file (`*.em`).
    pub model: PathBuf,
    /// The data file: one instance per line, in the format the model's `data` line declares.
    pub data: PathBuf,
    /// Output directory.
    #[arg(long, default_value = "emc-out")]
    pub out: PathBuf,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Start from a params.json written by an earlier run: the families it has take its
    /// values (and its vocabularies); the others start as usual.
    #[arg(long, value_name = "PARAMS.json")]
    pub init: Option<PathBuf>,
    /// Override a constant of the model: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Continue the interrupted run whose outputs are in DIR (its checkpoint.json); the
    /// settings come from the checkpoint.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// Also write the Viterbi decoding of every data line under the final parameters to
    /// OUT/decode.txt, as `emc decode` prints it (without reading the parameters back).
    #[arg(long)]
    pub decode: bool,
    /// Write no params.json and params.tsv: for a run whose product is its decodings or
    /// its trace (a sparse table of millions of entries takes a while to write).
    #[arg(long)]
    pub no_params: bool,
    /// Read the data file a block of lines at a time on every iteration instead of holding
    /// it: for data larger than memory. The same results as without; EM or VB on models the
    /// chain kernel runs (HMMs, mixtures); no --decode.
    #[arg(long)]
    pub stream: bool,
    /// Run every E-step on the interpreted path, each line unrolled and inferred anew each
    /// iteration, instead of a compiled kernel: the reference the kernels are tested against,
    /// and far slower. Not with --stream.
    #[arg(long, conflicts_with = "stream")]
    pub interpreted: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// Single precision where it pays and is checked (9 states or more, 2^15 tokens or
    /// more, a processor with AVX2 and FMA); a unit of work that fails the checks runs
    /// again in double.
    Auto,
    /// Double precision everywhere.
    F64,
    /// Single precision wherever the chain kernel can, whatever the number of states.
    F32,
}

impl From<PrecisionArg> for emc::kernel::Precision {
    fn from(arg: PrecisionArg) -> Self {
        match arg {
            PrecisionArg::Auto => emc::kernel::Precision::Auto,
            PrecisionArg::F64 => emc::kernel::Precision::Double,
            PrecisionArg::F32 => emc::kernel::Precision::Single,
        }
    }
}

/// The training settings `emc run` and `emc select` share; each overrides the model's
/// `train` block.
#[derive(Args)]
pub struct TrainArgs {
    /// Maximum EM iterations (default: the model's `train` block, else 100).
    #[arg(long)]
    pub iterations: Option<usize>,
    /// Stop when the relative change of the objective is below this (0: run all iterations).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_tolerance)]
    pub tolerance: Option<f64>,
    /// Random restarts (1 to 10000); the best final objective wins.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_restarts)]
    pub restarts: Option<usize>,
    /// Seed of the random initialisation (default: the model's `train` block, else 0). Same
    /// seed, same bits, for any thread count.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Initialisation of families without given values.
    #[arg(long, value_enum)]
    pub init_mode: Option<InitModeArg>,
    /// Threads for the E-step (default: all cores; at most 256). Results are identical for
    /// any count.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// No per-iteration progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// What a data line with probability zero under the current parameters does.
    #[arg(long, value_enum, default_value_t = OnZeroArg::Stop)]
    pub on_zero: OnZeroArg,
    /// Precision of the forward-backward messages of HMMs and mixtures: auto holds them in
    /// single precision from 9 states and 2^15 tokens on (sums and counts stay in double; the
    /// log-likelihood moves by about 1e-10 relative), f64 in double everywhere.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    pub precision: PrecisionArg,
    /// Training algorithm (default: the model's `train { algorithm: ... }`, else em).
    #[arg(long, value_enum)]
    pub algorithm: Option<AlgorithmArg>,
    /// Lines per mini-batch (stepwise) or per block (incremental); default 1000.
    #[arg(long, value_parser = parse_batch)]
    pub batch: Option<usize>,
    /// Stepwise EM's step-size exponent, in (0.5, 1]: the step after k updates is
    /// (k + 2)^-alpha; default 0.7.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_alpha)]
    pub alpha: Option<f64>,
    /// Deterministic annealing (em, hard): the first inverse temperature, in (0, 1].
    #[arg(long, allow_negative_numbers = true, value_parser = parse_anneal)]
    pub anneal: Option<f64>,
    /// Each annealing stage's inverse temperature is the last one's times this (> 1);
    /// default 1.5.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_anneal_rate)]
    pub anneal_rate: Option<f64>,
    /// Variational Bayes's symmetric Dirichlet concentration (> 0; below 1 favours sparse
    /// rows); default 1.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_prior)]
    pub prior: Option<f64>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitModeArg {
    /// Each row uniform noise, normalised (no event starts at zero).
    Random,
    /// Each row uniform.
    Uniform,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnZeroArg {
    /// Stop with an error naming the line.
    Stop,
    /// Leave the line out of that iteration's counts and report it.
    Skip,
}

impl From<OnZeroArg> for emc::train::ZeroPolicy {
    fn from(arg: OnZeroArg) -> Self {
        match arg {
            OnZeroArg::Stop => emc::train::ZeroPolicy::Stop,
            OnZeroArg::Skip => emc::train::ZeroPolicy::Skip,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// EM; Logistic families fitted by L-BFGS in each M-step (Berg-Kirkpatrick et al. 2010,
    /// Algorithm 1).
    Em,
    /// L-BFGS on the marginal log-likelihood over all weights (their Algorithm 2).
    Direct,
    /// Stepwise (online) EM, Liang & Klein (2009): an M-step after each mini-batch.
    Stepwise,
    /// Incremental EM, Neal & Hinton (1998): each block's statistics kept, an M-step after
    /// each block.
    Incremental,
    /// Hard (Viterbi) EM: counts of each line's most probable derivation.
    Hard,
    /// Mean-field variational Bayes with Dirichlet priors over Categorical families.
    Vb,
}

impl From<AlgorithmArg> for emc::model::Algorithm {
    fn from(arg: AlgorithmArg) -> Self {
        use emc::model::Algorithm;
        match arg {
            AlgorithmArg::Em => Algorithm::Em,
            AlgorithmArg::Direct => Algorithm::Direct,
            AlgorithmArg::Stepwise => Algorithm::Stepwise,
            AlgorithmArg::Incremental => Algorithm::Incremental,
            AlgorithmArg::Hard => Algorithm::Hard,
            AlgorithmArg::Vb => Algorithm::Vb,
        }
    }
}

#[derive(Args)]
pub struct InspectArgs {
    /// The model file (`*.em`).
    pub model: PathBuf,
    /// A data file: check every line against the model / draw the first line's graph.
    pub data: Option<PathBuf>,
    /// Override a constant of the model: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// `emc graph`: the data line to draw (1-based; default the first).
    #[arg(long, value_name = "N")]
    pub line: Option<usize>,
}

#[derive(Args)]
pub struct DecodeArgs {
    /// The model file (`*.em`).
    pub model: PathBuf,
    /// The data file to decode, one instance per line.
    pub data: PathBuf,
    /// The params.json of a run of this model.
    #[arg(long, value_name = "PARAMS.json")]
    pub params: PathBuf,
    /// Print posterior marginals instead: `line  variable  value=p ...`.
    #[arg(long)]
    pub posterior: bool,
    /// Override a constant of the model: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
}

#[derive(Args)]
pub struct SampleArgs {
    /// The model file (`*.em`); every data field must be generated by its story.
    pub model: PathBuf,
    /// The params.json of a run of this model.
    #[arg(long, value_name = "PARAMS.json")]
    pub params: PathBuf,
    /// Number of lines to sample, printed as they are drawn (at most 4294967296).
    #[arg(short = 'n', long, default_value_t = 10, value_parser = parse_count)]
    pub count: usize,
    /// Seed of the sampler: the same seed gives the same lines.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Length of every sequence field (at most 8388608).
    #[arg(long, default_value_t = 10, value_parser = parse_length)]
    pub length: usize,
    /// Override a constant of the model: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
}

#[derive(Args)]
pub struct EstepArgs {
    /// The model file (`*.em`).
    pub model: PathBuf,
    /// The whole data file (every shard reads it: the units of work are the whole data's).
    pub data: PathBuf,
    /// The params.json of the parameters to count at (`emc run --iterations 0` writes the
    /// initial ones, `emc mstep` the next).
    #[arg(long, value_name = "PARAMS.json")]
    pub params: PathBuf,
    /// Which shard to count, `i/N` (i from 0 to N-1): the i-th of N runs of the data's
    /// units of work.
    #[arg(long, value_name = "i/N", value_parser = parse_shard)]
    pub shard: (u64, u64),
    /// The accumulator file to write (atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Override a constant of the model: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Threads (default: all cores; at most 256). Results are identical for any count.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// What a data line with probability zero under the parameters does.
    #[arg(long, value_enum, default_value_t = OnZeroArg::Stop)]
    pub on_zero: OnZeroArg,
    /// Precision of the messages, as `emc run --precision` (give the one of the run the loop
    /// stands for): every shard of one E-step must be counted in the same, and `emc mstep`
    /// refuses a mix.
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    pub precision: PrecisionArg,
}

#[derive(Args)]
pub struct MstepArgs {
    /// The model file (`*.em`).
    pub model: PathBuf,
    /// The data file the shards were counted on (its units of work say how the counts sum).
    pub data: PathBuf,
    /// The accumulator files of every shard, `emc estep`'s outputs, in any order.
    #[arg(required = true, value_name = "COUNTS")]
    pub counts: Vec<PathBuf>,
    /// The params.json the shards were counted at.
    #[arg(long, value_name = "PARAMS.json")]
    pub params: PathBuf,
    /// Output directory for params.json and params.tsv of the next iteration.
    #[arg(long)]
    pub out: PathBuf,
    /// Override a constant of the model: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Threads (default: all cores; at most 256). Results are identical for any count.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
}

#[derive(Args)]
pub struct ScoreArgs {
    /// The model file (`*.em`).
    pub model: PathBuf,
    /// The data to score, one instance per line (training or held-out data). Its words must
    /// be in the vocabularies of the parameter file, or become the vocabulary's `unknown`
    /// word where the model declares one.
    pub data: PathBuf,
    /// The params.json of a run of this model.
    #[arg(long, value_name = "PARAMS.json")]
    pub params: PathBuf,
    /// Print each line's log-likelihood on stdout as TSV (`line  log_likelihood`, the line
    /// counted once, its weight aside); the summary then goes to stderr.
    #[arg(long)]
    pub per_line: bool,
    /// Also print BIC = -2 log L + k ln n (n: samples, the lines' weights summed).
    #[arg(long)]
    pub bic: bool,
    /// Also print AIC = -2 log L + 2 k.
    #[arg(long)]
    pub aic: bool,
    /// Override a constant of the model: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Threads for the E-step (default: all cores; at most 256). Results are identical for
    /// any count.
    #[arg(long, allow_negative_numbers = true, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Precision of the messages, as `emc run --precision` (the log-likelihood moves by
    /// about 1e-10 relative between them).
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    pub precision: PrecisionArg,
}

#[derive(Args)]
pub struct SelectArgs {
    /// The model file (`*.em`).
    pub model: PathBuf,
    /// The training data.
    pub data: PathBuf,
    /// The settings to try: a constant and its values, NAME=V1,V2,... (repeatable: every
    /// combination is tried, at most 1000).
    #[arg(long = "set", value_name = "NAME=V1,V2,...", required = true, value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    /// Held-out data, scored under each setting's trained parameters.
    #[arg(long, value_name = "FILE")]
    pub held_out: Option<PathBuf>,
    /// How the setting is picked (default: held-out log-likelihood with `--held-out`, else
    /// BIC).
    #[arg(long, value_enum)]
    pub by: Option<ByArg>,
    /// Write the picked setting's params.json, params.tsv and trace.tsv, and the table as
    /// select.tsv, into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub train: TrainArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ByArg {
    /// The highest log-likelihood of the held-out data (needs `--held-out`).
    Heldout,
    /// The lowest BIC on the training data.
    Bic,
    /// The lowest AIC on the training data.
    Aic,
}

#[derive(Args)]
pub struct EvalArgs {
    /// Gold tags (one line per instance), alignments (WPT-2003 `sent e f S|P`), segmentations
    /// (words separated by spaces) or heads (one line per sentence, or CoNLL-U).
    #[arg(long)]
    pub gold: PathBuf,
    /// Predicted tags, alignments, segmentations or heads, as `emc decode` prints them.
    #[arg(long)]
    pub pred: PathBuf,
    /// The metric.
    #[arg(long, value_enum)]
    pub metric: MetricArg,
}

#[derive(Args)]
pub struct PlotArgs {
    /// trace.tsv files that `emc run` wrote, one line each in the picture.
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,
    /// A name for each trace in the legend, in order (default: the directory of each run).
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Draw iterations from this one on: the first iterations' large gains otherwise set
    /// the scale, and the later ones look flat.
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// The picture's title.
    #[arg(long, default_value = "log-likelihood by iteration")]
    pub title: String,
    /// Where to write the picture (SVG).
    #[arg(long, default_value = "trace.svg")]
    pub out: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricArg {
    /// Each predicted tag mapped to the gold tag it co-occurs with most; token accuracy.
    ManyToOne,
    /// The one-to-one mapping of predicted to gold tags matching the most tokens (Hungarian).
    OneToOne,
    /// Harmonic mean of homogeneity and completeness.
    VMeasure,
    /// Alignment error rate (Och & Ney 2003); lower is better.
    Aer,
    /// Word segmentation (space-separated words per line): token, boundary, lexicon P/R/F1.
    Segmentation,
    /// Dependency heads (1-based, 0 = root; gold may be CoNLL-U): directed/undirected accuracy.
    Attachment,
}

/// The training settings follow the rules of the `train` block (`emc::train::valid_*`), so
/// that a value refused there is refused here, with the same words.
fn parse_tolerance(s: &str) -> Result<f64, String> {
    let t: f64 = s
        .trim()
        .parse()
        .map_err(|_| "a finite number >= 0".to_string())?;
    emc::train::valid_tolerance(t)
}

fn parse_batch(s: &str) -> Result<usize, String> {
    let n: usize = (s.trim().parse()).map_err(|_| emc::model::valid_batch(0).unwrap_err())?;
    emc::model::valid_batch(n)
}

/// A number checked by `rule`, whose error also says what a valid one is.
fn parse_real(s: &str, rule: fn(f64) -> Result<f64, String>) -> Result<f64, String> {
    let x: f64 = s.trim().parse().map_err(|_| rule(f64::NAN).unwrap_err())?;
    rule(x)
}

fn parse_alpha(s: &str) -> Result<f64, String> {
    parse_real(s, emc::model::valid_alpha)
}

fn parse_anneal(s: &str) -> Result<f64, String> {
    parse_real(s, emc::model::valid_anneal)
}

fn parse_anneal_rate(s: &str) -> Result<f64, String> {
    parse_real(s, emc::model::valid_anneal_rate)
}

fn parse_prior(s: &str) -> Result<f64, String> {
    parse_real(s, emc::model::valid_prior)
}

fn parse_restarts(s: &str) -> Result<usize, String> {
    let rule = || emc::train::valid_restarts(0).unwrap_err();
    let n: usize = s.trim().parse().map_err(|_| rule())?;
    emc::train::valid_restarts(n)
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let rule = || emc::train::valid_threads(0).unwrap_err();
    let n: usize = s.trim().parse().map_err(|_| rule())?;
    emc::train::valid_threads(n)
}

/// Longest sequence `emc sample` draws: a line is built whole before it is printed (and the
/// flat sampler's numbers per line are bounded by `use_params::MAX_SAMPLE_CELLS` too).
pub const MAX_SAMPLE_LENGTH: usize = 1 << 23;

fn parse_length(s: &str) -> Result<usize, String> {
    let rule = || format!("a whole number from 0 to {MAX_SAMPLE_LENGTH}");
    let n: usize = s.trim().parse().map_err(|_| rule())?;
    if n <= MAX_SAMPLE_LENGTH {
        Ok(n)
    } else {
        Err(rule())
    }
}

/// Most lines one `emc sample` draws. Lines stream, so memory is no reason for a bound; a
/// count past any run one would wait for (10^15 lines) is a typo, refused rather than left
/// to run for ever.
pub const MAX_SAMPLE_COUNT: usize = 1 << 32;

fn parse_count(s: &str) -> Result<usize, String> {
    let rule = || format!("a whole number from 0 to {MAX_SAMPLE_COUNT}");
    let n: usize = s.trim().parse().map_err(|_| rule())?;
    if n <= MAX_SAMPLE_COUNT {
        Ok(n)
    } else {
        Err(rule())
    }
}

/// Most shards of one E-step: far more than any cluster runs at once, and few enough that
/// naming the missing ones stays cheap.
pub const MAX_SHARDS: u64 = 1 << 20;

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let rule = || format!("`i/N` with N from 1 to {MAX_SHARDS} and i from 0 to N-1, e.g. `0/4`");
    let (i, n) = s.split_once('/').ok_or_else(rule)?;
    let (i, n): (u64, u64) = match (i.trim().parse(), n.trim().parse()) {
        (Ok(i), Ok(n)) => (i, n),
        _ => return Err(rule()),
    };
    if (1..=MAX_SHARDS).contains(&n) && i < n {
        Ok((i, n))
    } else {
        Err(rule())
    }
}

fn parse_set(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .ok_or_else(|| format!("expected NAME=VALUE, found `{s}`"))
}

pub fn main() -> ExitCode {
    try_main(std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// Parses `args` (the program name first) and runs the command, without exiting the process:
/// `Err` is clap's usage error (or `--help` text), not printed yet. The `cli` fuzz target
/// (`fuzz/`) drives the command line through this.
pub fn try_main<I, T>(args: I) -> Result<ExitCode, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => inspect::check(args),
        Command::Graph(args) => inspect::graph(args),
        Command::Decode(args) => use_params::decode(args),
        Command::Sample(args) => use_params::sample(args),
        Command::Eval(args) => use_params::eval(args),
        Command::Plot(args) => plot::plot(args),
        Command::Estep(args) => shard::estep(args),
        Command::Mstep(args) => shard::mstep(args),
        Command::Score(args) => score::score(args),
        Command::Select(args) => score::select(args),
    };
    Ok(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::User(text)) => {
            eprint!("{text}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(text)) => {
            eprint!("{text}");
            ExitCode::from(2)
        }
        Err(Failure::Io(text)) => {
            eprintln!("error: {text}");
            ExitCode::from(2)
        }
        Err(Failure::Interrupted) => ExitCode::from(130),
    })
}
