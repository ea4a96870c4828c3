//! A run over several processes (`emc::train::Distributed`, what `mpirun -np N emc run`
//! uses), with the processes simulated by threads that exchange their bytes through shared
//! memory: every process ends with one process's parameters, bit for bit, for every kernel
//! and for EM, the direct algorithm and variational Bayes; a Ctrl-C heard by one process
//! stops all after the same iteration; the algorithms whose E-step is not shared are
//! refused. `scripts/cluster/mpi-check.sh` checks the same over real MPI.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Barrier, Mutex};

use emc::kernel::Precision;
use emc::model::Algorithm;
use emc::train::{Config, Distributed, Exchange, Outcome};

/// `size` processes in one address space: each puts its bytes in its slot, waits for the
/// others, copies every slot, and waits again before any slot is reused.
struct Shared {
    slots: Mutex<Vec<Vec<u8>>>,
    barrier: Barrier,
}

struct Thread {
    rank: usize,
    size: usize,
    shared: Arc<Shared>,
}

impl Exchange for Thread {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn all_gather(&self, mine: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        self.shared.slots.lock().unwrap()[self.rank] = mine.to_vec();
        self.shared.barrier.wait();
        let all = self.shared.slots.lock().unwrap().clone();
        self.shared.barrier.wait();
        Ok(all)
    }
}

/// Trains the zoo model NAME on `size` simulated processes; `set` adjusts the config (the
/// same on every process) and `interrupt_rank` is a process whose Ctrl-C came before the
/// run. Returns every process's outcome.
fn train_on(
    name: &str,
    size: usize,
    set: &(dyn Fn(&mut Config) + Sync),
    interrupt_rank: Option<usize>,
) -> Vec<Result<Outcome, String>> {
    train_with(name, size, set, interrupt_rank, &|_| Precision::Auto)
}

/// `train_on` with each process's messages in the precision `precision(rank)` gives it.
fn train_with(
    name: &str,
    size: usize,
    set: &(dyn Fn(&mut Config) + Sync),
    interrupt_rank: Option<usize>,
    precision: &(dyn Fn(usize) -> Precision + Sync),
) -> Vec<Result<Outcome, String>> {
    let shared = Arc::new(Shared {
        slots: Mutex::new(vec![Vec::new(); size]),
        barrier: Barrier::new(size),
    });
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..size)
            .map(|rank| {
                let shared = shared.clone();
                scope.spawn(move || {
                    let mut compiled = compiled(name);
                    compiled.kernel.set_precision(precision(rank));
                    let mut config = Config::from_model(&compiled.program);
                    set(&mut config);
                    config.stop = Some(Arc::new(AtomicBool::new(false)));
                    config.distributed = Some(Distributed {
                        exchange: Arc::new(Thread { rank, size, shared }),
                        interrupt: Some(Arc::new(AtomicBool::new(interrupt_rank == Some(rank)))),
                    });
                    compiled
                        .train(&config, &mut |_| {})
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// The featurised HMM's L-BFGS M-steps are slow beside the E-step: a part of its data says
/// as much.
fn lines(name: &str) -> usize {
    if name == "pos_fhmm" {
        300
    } else {
        usize::MAX
    }
}

/// A zoo model with its data, or `long_hmm`: an HMM over a generated corpus of five of the
/// chain kernel's units (65,536 tokens each), so that the processes hand a running sum of
/// several units on from one to the next.
fn compiled(name: &str) -> emc::pipeline::Compiled {
    if name != "long_hmm" {
        return common::compiled(name, &[], lines(name), 1);
    }
    let src = "domain S = 0..3\ndomain W = vocabulary(words)\ndata words : [W]\n\
               param start : Categorical(S)\nparam trans : Categorical(S | S)\n\
               param emit : Categorical(W | S)\ntrain { seed: 1 }\nmodel {\n\
               hidden z : [S; len(words)]\nz[0] ~ start\n\
               for i in 1..len(words): z[i] ~ trans(z[i-1])\n\
               for i in 0..len(words): words[i] ~ emit(z[i])\n}\n";
    let mut x: u64 = 7;
    let mut data = String::new();
    for line in 0..40_000 {
        for t in 0..8 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let w = (x >> 33) % (20 + (line % 3) as u64 * (t as u64 + 1));
            data.push_str(&format!("{}w{w}", if t > 0 { " " } else { "" }));
        }
        data.push('\n');
    }
    let model = emc::pipeline::front_end(src, &[]).expect("the model checks");
    let compiled = emc::pipeline::compile(model, &data, None, 1).expect("the data compiles");
    let units = compiled.kernel.units(&compiled.dataset);
    assert!(
        compiled.kernel.kind() == "chain" && units >= 4,
        "{units} units"
    );
    compiled
}

fn one_process(name: &str, set: &dyn Fn(&mut Config)) -> Outcome {
    let compiled = compiled(name);
    let mut config = Config::from_model(&compiled.program);
    set(&mut config);
    compiled.train(&config, &mut |_| {}).expect("trains")
}

fn bits(o: &Outcome) -> (Vec<u64>, Vec<u64>) {
    (
        o.params.theta.iter().map(|x| x.to_bits()).collect(),
        o.trace.iter().map(|p| p.log_likelihood.to_bits()).collect(),
    )
}

fn same_bits(name: &str, set: &(dyn Fn(&mut Config) + Sync)) {
    let want = bits(&one_process(name, set));
    for size in [2, 3] {
        for (rank, got) in train_on(name, size, set, None).into_iter().enumerate() {
            let got = got.unwrap_or_else(|e| panic!("{name}, {size} processes: {e}"));
            assert!(
                bits(&got) == want,
                "{name}: process {rank} of {size} differs from one process"
            );
        }
    }
}

#[test]
fn every_kernel_gives_one_process_bits() {
    let iterations = |n: usize| move |c: &mut Config| c.iterations = n;
    // Chain (HMM, Gaussian HMM), enumeration (mixtures), independent variables (IBM Model 1),
    // hypergraphs (the DMV, segmentation), and the generic path (a factorial HMM).
    for name in [
        "hmm",
        "gaussian_hmm",
        "gmm_2d",
        "two_coins",
        "ibm1_null",
        "dmv",
    ] {
        same_bits(name, &iterations(6));
    }
    same_bits("segmentation", &iterations(4));
    same_bits("long_hmm", &iterations(3));
    same_bits("factorial_hmm", &iterations(3));
}

#[test]
fn featurised_em_direct_and_vb_give_one_process_bits() {
    same_bits("pos_fhmm", &|c: &mut Config| c.iterations = 3);
    same_bits("pos_fhmm", &|c: &mut Config| {
        c.algorithm = Algorithm::Direct;
        c.iterations = 6;
    });
    same_bits("hmm", &|c: &mut Config| {
        c.algorithm = Algorithm::Vb;
        c.iterations = 5;
    });
    // Annealing tempers the parameters each process counts at.
    same_bits("hmm", &|c: &mut Config| {
        c.iterations = 4;
        c.anneal = Some(emc::train::Anneal {
            start: 0.5,
            rate: 1.5,
        });
    });
}

#[test]
fn one_process_interrupted_stops_every_process_after_the_same_iteration() {
    let set = |c: &mut Config| {
        c.iterations = 50;
        c.tolerance = 0.0;
    };
    let outcomes: Vec<Outcome> = train_on("hmm", 3, &set, Some(2))
        .into_iter()
        .map(|o| o.expect("trains"))
        .collect();
    for o in &outcomes {
        assert!(o.interrupted, "every process stopped");
        assert!(o.trace.len() < 50);
        assert!(bits(o) == bits(&outcomes[0]), "at the same parameters");
    }
}

#[test]
fn algorithms_without_a_shared_e_step_are_refused() {
    for algorithm in [Algorithm::Hard, Algorithm::Stepwise, Algorithm::Incremental] {
        let set = move |c: &mut Config| c.algorithm = algorithm;
        for got in train_on("hmm", 2, &set, None) {
            let e = got.expect_err("refused");
            assert!(
                e.contains("a run over several processes trains with em, direct or vb"),
                "{e}"
            );
        }
    }
}

/// Processes whose messages are in other precisions (hosts with and without AVX2 under
/// `--precision auto`) would sum counts of two kinds: every process refuses, naming both.
#[test]
fn processes_in_other_precisions_are_refused() {
    let single = {
        let mut c = compiled("hmm");
        c.kernel.set_precision(Precision::Single);
        c.kernel.single()
    };
    if !single {
        // Without AVX2 and FMA every process runs in double: nothing to refuse.
        return;
    }
    let set = |c: &mut Config| c.iterations = 2;
    let by_rank = |rank: usize| match rank {
        0 => Precision::Single,
        _ => Precision::Double,
    };
    for got in train_with("hmm", 2, &set, None, &by_rank) {
        let e = got.expect_err("refused");
        assert!(
            e.contains("single precision") && e.contains("double") && e.contains("--precision"),
            "{e}"
        );
    }
}
