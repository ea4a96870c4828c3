//! The stages strung together, in the one order every caller uses: the `emc` binary, the
//! tests, the fuzz targets and the benches.
//!
//! ```text
//! text --front_end--> Model --compile(data)--> Compiled { Program, Dataset, Kernel } --train--> Outcome
//!                            \--program(data)--> (Program, Dataset)      (check, decode, sample)
//! ```
//!
//! No stage imports this module: it sits on top of them.

use crate::check::check;
use crate::compile;
use crate::data::{Dataset, Domains};
use crate::error::Error;
use crate::kernel::Kernel;
use crate::model::Model;
use crate::program::Program;
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
    let pool = thread_pool(threads);
    let (mut program, dataset) =
        pool.install(|| compile::program_unplaced(model, data_text, frozen))?;
    let (layout, kernel) = Kernel::build_placing(&program, &dataset, &pool)?;
    program.layout = layout;
    Ok(Compiled {
        program,
        dataset,
        kernel,
        pool,
    })
}

impl Compiled {
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
