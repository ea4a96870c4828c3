//! The E-step over a data file read a block at a time (`--stream`): the chain kernel's tables
//! and products are interned in a pass over the whole file when the kernel is built; each
//! E-step reads the file again, compiles a block of lines at a time against them, and counts
//! its units into one total in the order the in-memory kernel counts the same units.

use std::sync::Mutex;

mod read;
pub use read::{refuse, scan_domains, Blocks};

use super::ordered::map_merge_in_order;
use super::{build_shard, chain, shards, zero, ZeroPolicy};
use crate::data::{Dataset, Instance};
use crate::error::Error;
use crate::infer::{CountStore, Engine, InferError};
use crate::params::Params;
use crate::program::Program;
use crate::stream::{StreamError, TextSource};

pub struct StreamKernel {
    source: Mutex<Box<dyn TextSource>>,
    /// The interned tables and products, and the block being counted.
    chain: Mutex<chain::Builder>,
    block_lines: usize,
    /// Products the whole file interns: a later pass that finds others read another file.
    products: (usize, usize),
    lines: usize,
}

impl StreamKernel {
    pub fn set_precision(&mut self, precision: chain::Precision) {
        self.chain
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .set_precision(precision);
    }

    /// Whether the blocks' batches run in single precision.
    pub fn single(&self) -> bool {
        let chain = self.chain.lock().unwrap_or_else(|e| e.into_inner());
        chain.kernel().single()
    }

    /// Reads the whole file once, block by block, to intern every table and product its lines
    /// score with. Refuses a program the chain kernel does not run.
    pub fn build(
        program: &Program,
        mut source: Box<dyn TextSource>,
        pool: &rayon::ThreadPool,
        block_lines: usize,
    ) -> Result<StreamKernel, Error> {
        if !matches!(program.plan.engine, Engine::Chain | Engine::Enumerate) {
            return Err(refuse(
                format!("this model's plan ({:?})", program.plan.engine),
                "train it without --stream",
            ));
        }
        if !program.layout.sparse_families().is_empty() {
            return Err(refuse(
                "sparse families (their supports come from the whole data)",
                "train it without --stream",
            ));
        }
        let block_lines = block_lines.max(1);
        let mut builder = chain::Builder::new(block_lines);
        let mut blocks = Blocks::new(&mut *source)?;
        let mut weight = 0.0;
        while let Some(mut instances) =
            pool.install(|| blocks.next(&program.model, &program.domains, block_lines))?
        {
            check_block(program, &mut instances, &mut weight)?;
            absorb_block(program, &instances, pool, &mut builder)?;
            builder.clear_tokens();
        }
        if blocks.lines() == 0 {
            return Err(Error::Data(vec![crate::data::DataError {
                kind: crate::data::DataErrorKind::Empty,
                span: None,
                hint: Some("one instance per line".into()),
            }]));
        }
        if weight == 0.0 {
            return Err(Error::Infer(InferError::NoWeight));
        }
        builder.whole_data_read();
        let products = builder.products();
        let lines = blocks.lines();
        Ok(StreamKernel {
            lines,
            source: Mutex::new(source),
            chain: Mutex::new(builder),
            block_lines,
            products,
        })
    }

    /// Lines of the file.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Expected counts and log-likelihood at `params`: one more pass over the file.
    pub fn e_step(
        &self,
        program: &Program,
        params: &Params,
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
    ) -> Result<CountStore, Error> {
        let mut source = self.source.lock().unwrap_or_else(|e| e.into_inner());
        let mut chain = self.chain.lock().unwrap_or_else(|e| e.into_inner());
        // A block left over by a pass that failed is not counted in this one.
        chain.clear_tokens();
        let theta = &params.theta;
        let mut count = chain.start_count(theta, program.layout.total);
        let mut blocks = Blocks::new(&mut **source)?;
        while let Some(instances) =
            pool.install(|| blocks.next(&program.model, &program.domains, self.block_lines))?
        {
            absorb_block(program, &instances, pool, &mut chain)?;
            if chain.products() != self.products {
                chain.clear_tokens();
                return Err(Error::Stream(StreamError::Changed {
                    line: instances.first().map_or(0, |i| i.line),
                }));
            }
            (chain.count_block(&mut count, theta, pool, on_zero == ZeroPolicy::Skip))
                .map_err(zero)?;
        }
        Ok(chain.finish_count(count))
    }
}

/// What `infer::check_numbers` checks of the whole data, a block at a time: the running sum
/// of the weights is `weight`.
fn check_block(
    program: &Program,
    instances: &mut Vec<Instance>,
    weight: &mut f64,
) -> Result<(), Error> {
    for inst in instances.iter() {
        *weight += inst.weight;
        if *weight > crate::infer::MAX_TOTAL_WEIGHT {
            return Err(Error::Infer(InferError::WeightOverflow {
                line: inst.line,
                total: *weight,
                limit: crate::infer::MAX_TOTAL_WEIGHT,
            }));
        }
    }
    // Lent to a dataset and taken back, not copied: a block is most of the memory.
    let block = Dataset {
        instances: std::mem::take(instances),
        domains: program.domains.clone(),
    };
    let checked = crate::infer::check_values(&block);
    *instances = block.instances;
    Ok(checked?)
}

/// Compiles a block's instances in parallel shards, absorbed in data order into `builder`:
/// the shards the in-memory kernel cuts the same block into.
fn absorb_block(
    program: &Program,
    instances: &[Instance],
    pool: &rayon::ThreadPool,
    builder: &mut chain::Builder,
) -> Result<(), Error> {
    let shards = shards(instances.len(), usize::MAX);
    let mut fits = true;
    map_merge_in_order(
        pool,
        shards.len(),
        || (),
        |i, _, _| build_shard(program, &instances[shards[i].clone()], false),
        |shard| {
            fits = fits && shard.chain.is_some_and(|part| builder.absorb(part).is_ok());
            None
        },
    )?;
    if !fits {
        builder.clear_tokens();
        return Err(refuse(
            "this model: its lines do not all compile to the chain kernel (one state space \
             per position, factors over one position or two neighbours)",
            "train it without --stream",
        ));
    }
    Ok(())
}
