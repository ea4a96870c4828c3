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
use crate::kernel::{Counted, Kernel, UnitCounts};
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

    /// Process `root`'s bytes, on every process (`mine` is ignored on the others). A
    /// collective operation, as `all_gather`; by default built on it.
    fn broadcast(&self, root: usize, mine: &[u8]) -> Result<Vec<u8>, String> {
        let bytes = if self.rank() == root { mine } else { &[] };
        let mut all = self.all_gather(bytes)?;
        (all.get_mut(root).map(std::mem::take)).ok_or_else(|| format!("no process {root} answered"))
    }
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

/// What a process says after counting its units: whether it could, whether it heard a
/// Ctrl-C, and the fingerprint of the parameters it counted at.
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
        kernel: kernel.shard_kind(),
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
    let on_zero = config.on_zero;
    let mine = if kernel.folds() {
        let counted =
            kernel.count_for_relay(program, data, params, pool, on_zero, units, rank == 0);
        counted.map(Mine::Relay)
    } else {
        let counted = kernel.count_units(program, data, params, pool, on_zero, units);
        counted.map(Mine::Units)
    };
    // A Ctrl-C is heard by the processes at different moments: it travels with the counts,
    // and every process stops after the same iteration.
    let interrupted = d
        .interrupt
        .as_ref()
        .is_some_and(|i| i.load(Ordering::SeqCst));
    let mut status = vec![
        if mine.is_ok() { OK } else { FAILED },
        u8::from(interrupted),
    ];
    // Processes on hosts with and without AVX2 would pick other precisions under `auto`.
    status.push(u8::from(kernel.single()));
    status.extend(header.params.to_le_bytes());
    let all = d.exchange.all_gather(&status).map_err(Error::Distributed)?;
    if all.iter().any(|m| m.get(1) == Some(&1)) {
        if let Some(stop) = &config.stop {
            stop.store(true, Ordering::SeqCst);
        }
    }
    let mine = mine?;
    if let Some(failed) = all.iter().position(|m| m.first() != Some(&OK)) {
        return Err(Error::Distributed(format!(
            "process {failed} of {size} could not count its share of the data"
        )));
    }
    if let Some(other) = all.iter().position(|m| m.get(2) != status.get(2)) {
        let name = |single: bool| if single { "single" } else { "double" };
        return Err(Error::Distributed(format!(
            "process {other} of {size} holds the E-step's messages in {} precision, process \
             {rank} in {} precision: give every process the same `--precision` (auto picks \
             single only on processors with AVX2 and FMA)",
            name(!kernel.single()),
            name(kernel.single()),
        )));
    }
    if let Some(other) = all.iter().position(|m| m[2..] != status[2..]) {
        return Err(Error::Distributed(format!(
            "process {other} of {size} counted at other parameters than process {rank}: the \
             processes drifted apart"
        )));
    }
    match mine {
        Mine::Relay(counted) => scan(d, kernel, program, params, pool, &header, counted),
        Mine::Units(units) => gather(d, kernel, program, params, pool, &header, units),
    }
}

/// This process's units, counted for the merge its kernel takes.
enum Mine {
    Relay(Counted),
    Units(Vec<UnitCounts>),
}

/// The merge as a relay: process 0 folds its units and hands the running sum to every
/// process, process 1 folds its units onto it and hands that on, and so on; the last sum is
/// the whole E-step's. Each process sends one sum the size of the kernel's tables, where
/// sending every unit's counts cost W1 (16 units of 5 MiB) a third of its E-step.
fn scan(
    d: &Distributed,
    kernel: &Kernel,
    program: &Program,
    params: &Params,
    pool: &rayon::ThreadPool,
    header: &Header,
    mut mine: Counted,
) -> Result<CountStore, Error> {
    let rank = d.exchange.rank();
    let mut sum: Option<UnitCounts> = None;
    for root in 0..d.exchange.size() {
        let bytes = if root == rank {
            let folded = (kernel.fold_counted(program, sum.as_ref(), &mut mine))
                .ok_or_else(|| Error::Distributed("the counts do not fold".into()))?;
            accum::encode(&ShardFile {
                header: Header {
                    shard: root as u64,
                    units: 0..1,
                    total_units: 1,
                    ..header.clone()
                },
                units: vec![folded],
            })
        } else {
            Vec::new()
        };
        let bytes = d
            .exchange
            .broadcast(root, &bytes)
            .map_err(Error::Distributed)?;
        let name = format!("the sum through process {root}");
        let file = accum::decode(&name, &bytes).map_err(|e| Error::Distributed(e.to_string()))?;
        sum = file.units.into_iter().next();
    }
    let sum = sum.ok_or_else(|| Error::Distributed("no process sent the counts".into()))?;
    kernel.finish_counted(program, params, pool, &mine, sum)
}

/// The merge by every process of every process's unit counts, in unit order.
fn gather(
    d: &Distributed,
    kernel: &Kernel,
    program: &Program,
    params: &Params,
    pool: &rayon::ThreadPool,
    header: &Header,
    mine: Vec<UnitCounts>,
) -> Result<CountStore, Error> {
    let message = accum::encode(&ShardFile {
        header: header.clone(),
        units: mine,
    });
    let all = d
        .exchange
        .all_gather(&message)
        .map_err(Error::Distributed)?;
    let mut files = Vec::with_capacity(all.len());
    for (r, m) in all.iter().enumerate() {
        let name = format!("process {r}");
        let file = accum::decode(&name, m).map_err(|e| Error::Distributed(e.to_string()))?;
        files.push((name, file));
    }
    let units = accum::assemble(files, header).map_err(|e| Error::Distributed(e.to_string()))?;
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
