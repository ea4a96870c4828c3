//! `mpirun -np N emc run ...` (the `mpi` cargo feature): every process reads the same
//! model and data and runs the same training; the E-step's units of work are split over the
//! processes and every process receives all of their counts (`emc::train::Distributed`), so
//! each runs the same M-step on the same bits and the parameters are those of one process.
//! Process 0 alone prints progress and writes the outputs and checkpoints.

use mpi::collective::{CommunicatorCollectives, Root};
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::Threading;
use std::sync::Arc;

use emc::train::Exchange;

/// The processes of a run, with MPI started while the run lasts (finalised when dropped).
pub(super) struct Processes {
    _universe: Option<Universe>,
    pub rank: usize,
    pub size: usize,
}

impl Processes {
    /// Starts MPI when the process was launched by `mpirun` (Open MPI, MPICH or a PMIx
    /// launcher set these), so that a plain `emc run` of an MPI build stays a plain run.
    pub(super) fn start() -> Processes {
        let launched = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        // The E-step's collective is called from the thread that trains, which is the main
        // thread; the count threads never call MPI.
        let universe = launched
            .then(|| mpi::initialize_with_threading(Threading::Funneled))
            .flatten();
        let Some((universe, _)) = universe else {
            return Processes {
                _universe: None,
                rank: 0,
                size: 1,
            };
        };
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        Processes {
            _universe: Some(universe),
            rank,
            size,
        }
    }

    /// The transport, for a run of more than one process.
    pub(super) fn exchange(&self) -> Option<Arc<dyn Exchange>> {
        (self.size > 1).then(|| {
            Arc::new(WorldExchange {
                rank: self.rank,
                size: self.size,
            }) as Arc<dyn Exchange>
        })
    }
}

/// The exchange over MPI_COMM_WORLD.
struct WorldExchange {
    rank: usize,
    size: usize,
}

impl Exchange for WorldExchange {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_gather(&self, mine: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let world = SimpleCommunicator::world();
        // Lengths first, as u64: every process then knows whether the counts fit MPI's
        // 32-bit message sizes, and refuses together if they do not.
        let mut lengths = vec![0u64; self.size];
        world.all_gather_into(&(mine.len() as u64), &mut lengths[..]);
        let total: u64 = lengths.iter().sum();
        if total > i32::MAX as u64 {
            return Err(format!(
                "the processes' counts are {total} bytes, more than one MPI message carries \
                 ({} bytes)",
                i32::MAX
            ));
        }
        let counts: Vec<i32> = lengths.iter().map(|&l| l as i32).collect();
        let displs: Vec<i32> = counts
            .iter()
            .scan(0, |at, &c| {
                let here = *at;
                *at += c;
                Some(here)
            })
            .collect();
        let mut all = vec![0u8; total as usize];
        {
            let mut parts = PartitionMut::new(&mut all[..], counts, &displs[..]);
            world.all_gather_varcount_into(mine, &mut parts);
        }
        let mut at = 0;
        Ok(lengths
            .iter()
            .map(|&l| {
                let part = all[at..at + l as usize].to_vec();
                at += l as usize;
                part
            })
            .collect())
    }

    fn broadcast(&self, root: usize, mine: &[u8]) -> Result<Vec<u8>, String> {
        let world = SimpleCommunicator::world();
        let root = world.process_at_rank(root as i32);
        // The length first, as u64, so that every process refuses together a sum too
        // large for one MPI message.
        let mut len = mine.len() as u64;
        root.broadcast_into(&mut len);
        if len > i32::MAX as u64 {
            return Err(format!(
                "the processes' counts are {len} bytes, more than one MPI message carries ({} \
                 bytes)",
                i32::MAX
            ));
        }
        let mut bytes = if self.rank == root.rank() as usize {
            mine.to_vec()
        } else {
            vec![0u8; len as usize]
        };
        root.broadcast_into(&mut bytes[..]);
        Ok(bytes)
    }
}
