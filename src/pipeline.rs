//! The stages strung together, in the one order every caller uses: the `emc` binary, the
//! tests, the fuzz targets and the benches.
//!
//! ```text
//! text --front_end--> Model --compile(data)--> Compiled { Program, Dataset, Kernel } --train--> Outcome
//!                            \--program(data)--> (Program, Dataset)      (check, decode, sample)
//! ```
//!
//! No stage imports this module: it sits on top of them.

use crate::accum::{shard_units, Header, ShardFile};
use crate::check::check;
use crate::compile;
use crate::data::{Dataset, Domains};
use crate::error::Error;
use crate::family::Estimators;
use crate::infer::CountStore;
use crate::kernel::{Kernel, StreamKernel, UnitCounts, ZeroPolicy, BLOCK_LINES};
use crate::model::Model;
use crate::params::Params;
use crate::program::Program;
use crate::stream::TextSource;
use crate::syntax::parse;
use crate::train::{self, thread_pool, Config, Event, Outcome};

/// Parses and checks a model file; `overrides` are `--set NAME=VALUE` constants.
pub fn front_end(source: &str, overrides: &[(String, String)]) -> Result<Model, Error> {
    let file = parse(source)?;
    check(&file, overrides).map_err(Error::Check)
}

/// Reads the data and compiles the program, without an E-step kernel: for the commands that
/// read a model with its data but do not train (`check`, `decode`, `sample`, `graph`).
/// `frozen` domains come from a parameter file.
pub fn program(
    model: Model,
    data_text: &str,
    frozen: Option<&Domains>,
) -> Result<(Program, Dataset), Error> {
    compile::program(model, data_text, frozen)
}

/// A program compiled for its data, with the E-step kernel that training runs, and the
/// thread pool it was compiled in.
pub struct Compiled {
    pub program: Program,
    pub dataset: Dataset,
    pub kernel: Kernel,
    pub pool: rayon::ThreadPool,
}

/// Reads the data, compiles the program and its kernel in a pool of `threads` threads. For
/// an enumeration plan one pass over the data finds the sparse families' supports and
/// compiles the kernel; other plans find the supports first.
pub fn compile(
    model: Model,
    data_text: &str,
    frozen: Option<&Domains>,
    threads: usize,
) -> Result<Compiled, Error> {
    compile_blocks(model, data_text, frozen, threads, BLOCK_LINES)
}

/// `compile`, letting the data's text go once it is read into instances, before the kernel
/// is compiled: the text is as large again as the instances, and compiling is when a run
/// holds the most (the Hansards of IBM Model 1: 5.8 MB of text).
pub fn compile_owned(
    model: Model,
    data_text: String,
    frozen: Option<&Domains>,
    threads: usize,
) -> Result<Compiled, Error> {
    let pool = thread_pool(threads);
    let (program, dataset) =
        pool.install(|| compile::program_unplaced(model, &data_text, frozen))?;
    drop(data_text);
    compile_kernel(program, dataset, pool, BLOCK_LINES)
}

/// `compile` with the chain kernel's blocks of `block_lines` lines instead of `BLOCK_LINES`
/// (for tests: a small file over many blocks).
pub fn compile_blocks(
    model: Model,
    data_text: &str,
    frozen: Option<&Domains>,
    threads: usize,
    block_lines: usize,
) -> Result<Compiled, Error> {
    let pool = thread_pool(threads);
    let (program, dataset) =
        pool.install(|| compile::program_unplaced(model, data_text, frozen))?;
    compile_kernel(program, dataset, pool, block_lines)
}

/// The E-step kernel for a program and its data, found sparse supports and all.
fn compile_kernel(
    mut program: Program,
    dataset: Dataset,
    pool: rayon::ThreadPool,
    block_lines: usize,
) -> Result<Compiled, Error> {
    let (layout, kernel) = Kernel::build_placing(&program, &dataset, &pool, block_lines)?;
    program.layout = layout;
    Ok(Compiled {
        program,
        dataset,
        kernel,
        pool,
    })
}

/// The domains of a data file read a part at a time, in the order `compile` gives them: for
/// a parameter file that lacks some (`emc run --init --stream`).
pub fn scan_domains(model: &Model, source: &mut dyn TextSource) -> Result<Domains, Error> {
    crate::kernel::scan_domains(model, source)
}

/// `compile_blocks` over a data file read a part at a time (`emc run --stream`): a pass for
/// the domains (unless `frozen` gives them all), a pass to intern the tables, and one per
/// E-step, never holding more than a block of lines. Trains to the same bits as `compile`
/// with the same `block_lines`. Only the chain kernel's programs stream; training refuses
/// the settings that need the whole data at once.
pub fn compile_stream(
    model: Model,
    mut source: Box<dyn TextSource>,
    frozen: Option<&Domains>,
    threads: usize,
    block_lines: usize,
) -> Result<Compiled, Error> {
    let pool = thread_pool(threads);
    let (plan, _) = compile::plan_for(&model)?;
    let domains = match frozen {
        Some(d) => d.clone(),
        None => pool.install(|| crate::kernel::scan_domains(&model, &mut *source))?,
    };
    let program = compile::program_over(model, plan, domains.clone())?;
    let kernel = StreamKernel::build(&program, source, &pool, block_lines)?;
    Ok(Compiled {
        program,
        dataset: Dataset {
            instances: Vec::new(),
            domains,
        },
        kernel: Kernel::Stream(Box::new(kernel)),
        pool,
    })
}

impl Compiled {
    /// Data lines compiled (a streamed file's as counted on its last pass).
    pub fn instances(&self) -> usize {
        match &self.kernel {
            Kernel::Stream(k) => k.lines(),
            _ => self.dataset.instances.len(),
        }
    }

    /// Trains with `config`, reporting iterations and checkpoints to `on_event`. The pool is
    /// the one compiled in unless `config.threads` asks for another size (the bits are the
    /// same for any thread count).
    pub fn train(
        &self,
        config: &Config,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Outcome, Error> {
        let other;
        let pool = if config.threads == self.pool.current_num_threads() {
            &self.pool
        } else {
            other = thread_pool(config.threads);
            &other
        };
        train::train_compiled(
            &self.program,
            &self.dataset,
            &self.kernel,
            pool,
            config,
            on_event,
        )
    }
}

impl Compiled {
    /// The log-likelihood of the compiled data at `params`: one E-step of the kernel training
    /// runs, so the number `trace.tsv` reports for these parameters and this data. A line of
    /// probability zero is an error naming it.
    pub fn log_likelihood(&self, params: &crate::params::Params) -> Result<f64, Error> {
        crate::infer::check_numbers(&self.dataset)?;
        let counts = self.kernel.e_step(
            &self.program,
            &self.dataset,
            params,
            &self.pool,
            train::ZeroPolicy::Stop,
        )?;
        Ok(counts.log_likelihood)
    }
}

/// Fingerprints of the texts an accumulator file was counted from (`accum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inputs {
    /// Of the model text with its `--set` values (`accum::model_fingerprint`).
    pub model: u64,
    pub data: u64,
    pub params: u64,
}

/// One EM step taken from the counts of every shard.
#[derive(Clone, Debug)]
pub struct EmStep {
    pub counts: CountStore,
    /// At the parameters the counts were taken at (`train::objective`).
    pub objective: f64,
    /// After the M-step.
    pub params: Params,
    pub warnings: Vec<String>,
}

/// The E-step split into shards of units of work, and the M-step on their sum: `emc
/// estep` and `emc mstep`. Summed in unit order, the shards' counts are `train`'s bits.
impl Compiled {
    /// The header of shard `shard` of `shards` (the whole set's, for `shard` 0 of 1).
    pub fn shard_header(&self, inputs: Inputs, shard: u64, shards: u64) -> Header {
        let total_units = self.kernel.units(&self.dataset) as u64;
        Header {
            kernel: self.kernel.shard_kind(),
            model: inputs.model,
            data: inputs.data,
            params: inputs.params,
            shard,
            shards,
            units: shard_units(total_units, shard, shards),
            total_units,
            coordinates: self.kernel.coordinates(&self.program) as u64,
            parameters: self.program.layout.total as u64,
            lines: self.kernel.line_bound().map(|l| l as u64),
        }
    }

    /// The counts of the units `header` names, at `params`.
    pub fn e_step_shard(
        &self,
        params: &Params,
        on_zero: ZeroPolicy,
        header: Header,
    ) -> Result<ShardFile, Error> {
        crate::infer::check_numbers(&self.dataset)?;
        let units = header.units.start as usize..header.units.end as usize;
        let units = self.kernel.count_units(
            &self.program,
            &self.dataset,
            params,
            &self.pool,
            on_zero,
            units,
        )?;
        Ok(ShardFile { header, units })
    }

    /// The EM step from `params` with the counts of every unit, in unit order.
    pub fn em_step(&self, params: &Params, units: &[UnitCounts]) -> Result<EmStep, Error> {
        let program = &self.program;
        let counts = self
            .kernel
            .finish_units(program, params, &self.pool, units)?;
        let estimators = Estimators::new(&program.model, &program.layout, &program.domains);
        let (next, warnings) = train::m_step(&estimators, &counts, params, &self.pool);
        Ok(EmStep {
            objective: train::objective(&estimators, &counts, params),
            counts,
            params: next,
            warnings,
        })
    }
}

/// A probe instance (sequences of length 4, two placeholder words per vocabulary) with the
/// parameter layout over its domains, for a model without data (`emc graph MODEL`). No plan
/// is chosen, so that the graph of a model too large for exact inference can be drawn.
pub fn probe(model: &Model) -> Result<(crate::params::Layout, Dataset), Error> {
    let probe = crate::graph::probe_dataset(model);
    let layout = crate::params::Layout::new(model, &probe.domains)?;
    let layout = compile::find_supports(model, &probe, layout)?;
    Ok((layout, probe))
}

/// A model's program over the domains and layout of a parameter file, without data: for
/// `emc sample`.
pub fn trained(
    model: Model,
    loaded: crate::params::Loaded,
) -> Result<(Program, crate::params::Params), Error> {
    let (plan, _) = compile::plan_for(&model)?;
    let program = Program {
        model,
        domains: loaded.domains,
        layout: loaded.layout,
        plan,
    };
    Ok((program, loaded.params))
}
