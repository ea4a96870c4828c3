//! E-step throughput of the compiled kernels (`cargo bench`): an HMM on a synthetic Zipfian
//! corpus at several K, and 1 vs 2 threads. Peers are compared by scripts/bench-peers.sh;
//! this harness tracks emc's own kernels between commits.
//!
//! With `EMC_BENCH_WORKLOAD=DIR` it times a workload written by scripts/bench/gen_hmm.py
//! instead (its model.em and data.txt, from random parameters). Each row gives the fastest
//! and the median of the repeats: on a shared machine the fastest is the steadiest figure.

use std::time::Instant;

use emc::kernel::Kernel;
use emc::model::InitMode;
use emc::params::initial;
use emc::pipeline::{front_end, program};
use emc::train::{thread_pool, ZeroPolicy};
use rand::{Rng, SeedableRng};

const SENTENCES: usize = 10_000;
const VOCAB: usize = 5_000;
const REPEATS: usize = 9;

fn corpus(rng: &mut impl Rng) -> String {
    let weights: Vec<f64> = (1..=VOCAB).map(|r| 1.0 / (r as f64).powf(1.1)).collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(VOCAB);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cumulative.push(acc);
    }
    let mut text = String::new();
    for _ in 0..SENTENCES {
        let len = rng.gen_range(5..35);
        let words: Vec<String> = (0..len)
            .map(|_| {
                let u: f64 = rng.gen();
                format!("w{}", cumulative.partition_point(|c| *c < u).min(VOCAB - 1))
            })
            .collect();
        text.push_str(&words.join(" "));
        text.push('\n');
    }
    text
}

fn main() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let workload = std::env::var("EMC_BENCH_WORKLOAD").ok();
    let (source, data, ks) = match &workload {
        Some(dir) => (
            std::fs::read_to_string(format!("{dir}/model.em")).expect("model.em"),
            std::fs::read_to_string(format!("{dir}/data.txt")).expect("data.txt"),
            vec![None],
        ),
        None => (
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/hmm.em"))
                .expect("models/hmm.em"),
            corpus(&mut rng),
            vec![Some(10), Some(45), Some(200)],
        ),
    };
    println!(
        "{:>5} {:>8} {:>9} {:>14} {:>14}",
        "K", "threads", "tokens", "s/it (min)", "s/it (median)"
    );
    for k in ks {
        let overrides: Vec<(String, String)> =
            k.iter().map(|k| ("K".into(), k.to_string())).collect();
        let model = front_end(&source, &overrides).expect("model");
        let (program, dataset) = program(model, &data, None).expect("data");
        let params = initial(
            &program.model,
            &program.domains,
            &program.layout,
            InitMode::Random,
            &mut rng,
        )
        .expect("params");
        for threads in [1, 2] {
            let pool = thread_pool(threads);
            let kernel = Kernel::build(&program, &dataset, &pool).expect("kernel");
            let tokens = match &kernel {
                Kernel::Chain(c) => c.tokens(),
                Kernel::Independent(i) => i.size().1,
                Kernel::Hypergraph(h) => h.size().1,
                Kernel::Stream(_) | Kernel::Frontier(_) | Kernel::Generic => 0,
            };
            let mut times: Vec<f64> = (0..REPEATS)
                .map(|_| {
                    let start = Instant::now();
                    kernel
                        .e_step(&program, &dataset, &params, &pool, ZeroPolicy::Stop)
                        .expect("e-step");
                    start.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            let (min, median) = (times[0], times[REPEATS / 2]);
            let k = k.map_or("-".to_string(), |k| k.to_string());
            println!("{k:>5} {threads:>8} {tokens:>9} {min:>14.4} {median:>14.4}");
        }
    }
}
