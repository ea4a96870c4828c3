//! One training run over several processes (MPI ranks): each counts its shard of the
//! kernel's units of work, every process receives every shard's unit counts, merges them in
//! unit order and runs the same M-step. The units and their merge are those of accumulator
//! files (`accum`), so the parameters are `emc run`'s bits for any number of processes.
//!
//! The core knows no MPI: the transport is an [`Exchange`] the caller gives (the `emc`
//! binary's `mpi` feature), which only has to hand every process every process's bytes.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::accum::{self, Header, ShardFile};
use crate::error::Error;
use crate::infer::CountStore;
use crate::kernel::Kernel;
use crate::params::Params;
use crate::program::Program;

use super::Config;
use crate::data::Dataset;

/// The transport between the processes of one run.
pub trait Exchange: Send + Sync {
    /// This process's place, from 0 to `size() - 1`.
    fn rank(&self) -> usize;
    fn size(&self) -> usize;
    /// Every process's bytes, in rank order (this one's `mine` among them). Every process
    /// calls it at the same point of the run, as a collective operation; an `Err` (a
    /// message the transport cannot carry) must be every process's answer.
    fn all_gather(&self, mine: &[u8]) -> Result<Vec<Vec<u8>>, String>;
}

/// A run's processes: the transport, and this process's own interrupt (Ctrl-C), which only
/// takes effect once every process has heard of it (see [`e_step`]).
#[derive(Clone)]
pub struct Distributed {
    pub exchange: Arc<dyn Exchange>,
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl fmt::Debug for Distributed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Distributed(rank {} of {})",
            self.exchange.rank(),
            self.exchange.size()
        )
    }
}

/// The E-step of a run: the kernel's alone, or, in a distributed run, this process's units
/// counted and every process's merged in unit order.
pub(super) fn e_step(
    kernel: &Kernel,
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
    config: &Config,
) -> Result<CountStore, Error> {
    match &config.distributed {
        None => kernel.e_step(program, data, params, pool, config.on_zero),
        Some(d) => e_step_shared(d, kernel, program, data, params, pool, config),
    }
}

/// What a process sends after counting its units.
const OK: u8 = 0;
const FAILED: u8 = 1;

fn e_step_shared(
    d: &Distributed,
    kernel: &Kernel,
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
    config: &Config,
) -> Result<CountStore, Error> {
    let (rank, size) = (d.exchange.rank() as u64, d.exchange.size() as u64);
    let total_units = kernel.units(data) as u64;
    let header = Header {
        kernel: kernel.kind().into(),
        // The processes read the same files; the parameters, which each process computes
        // itself, are fingerprinted so that processes that drifted apart are caught.
        model: 0,
        data: 0,
        params: theta_fingerprint(&params.theta),
        shard: rank,
        shards: size,
        units: accum::shard_units(total_units, rank, size),
        total_units,
        coordinates: kernel.coordinates(program) as u64,
        parameters: program.layout.total as u64,
        lines: kernel.line_bound().map(|l| l as u64),
    };
    let units = header.units.start as usize..header.units.end as usize;
    let mine = kernel.count_units(program, data, params, pool, config.on_zero, units);
    // A Ctrl-C is heard by the processes at different moments: it travels with the counts,
    // and every process stops after the same iteration.
    let interrupted = d
        .interrupt
        .as_ref()
        .is_some_and(|i| i.load(Ordering::SeqCst));
    let mut message = vec![OK, u8::from(interrupted)];
    let failure = match mine {
        Ok(units) => {
            message.extend(accum::encode(&ShardFile {
                header: header.clone(),
                units,
            }));
            None
        }
        Err(e) => {
            message[0] = FAILED;
            Some(e)
        }
    };
    let all = d
        .exchange
        .all_gather(&message)
        .map_err(Error::Distributed)?;
    if all.iter().any(|m| m.get(1) == Some(&1)) {
        if let Some(stop) = &config.stop {
            stop.store(true, Ordering::SeqCst);
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(failed) = all.iter().position(|m| m.first() != Some(&OK)) {
        return Err(Error::Distributed(format!(
            "process {failed} of {size} could not count its share of the data"
        )));
    }
    let mut files = Vec::with_capacity(all.len());
    for (r, m) in all.iter().enumerate() {
        let name = format!("process {r}");
        let file = accum::decode(&name, &m[2..]).map_err(|e| Error::Distributed(e.to_string()))?;
        files.push((name, file));
    }
    let units = accum::assemble(files, &header).map_err(|e| Error::Distributed(e.to_string()))?;
    kernel.finish_units(program, params, pool, &units)
}

/// Of the exact bits of a parameter vector.
fn theta_fingerprint(theta: &[f64]) -> u64 {
    let bytes: Vec<u8> = theta
        .iter()
        .flat_map(|x| x.to_bits().to_le_bytes())
        .collect();
    accum::bytes_fingerprint(&bytes)
}
