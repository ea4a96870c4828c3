//! The compiled kernel of junction-tree plans (`kernel::frontier`) against the interpreted
//! path and against brute-force enumeration of every joint value: same log-likelihood and
//! expected counts on trigram HMMs, mixtures of HMMs and factorial HMMs (lengths 1 and up,
//! weights, factors over no hidden variable, several emissions per position), bit-identical
//! for 1 and 2 threads and when counted in units and merged.

mod common;

use common::{assert_same_counts, counts, random_params};

use emc::data::Dataset;
use emc::graph::TableCache;
use emc::infer::{accumulate, posterior, CountStore, Engine};
use emc::kernel::Kernel;
use emc::params::Params;
use emc::pipeline::{front_end, program};
use emc::program::Program;
use emc::train::{thread_pool, ZeroPolicy};

const TRIGRAM: &str = "
const K = 3
domain S = 0..K
domain Word = vocabulary(words)
data words : [Word]
param start  : Categorical(S)
param trans1 : Categorical(S | S)
param trans  : Categorical(S | S, S)
param emit   : Categorical(Word | S)
model {
    hidden z : [S; len(words)]
    z[0] ~ start
    for i in 1..2: z[i] ~ trans1(z[i-1])
    for i in 2..len(words): z[i] ~ trans(z[i-2], z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}
";

const MIXTURE: &str = "
const M = 3
const K = 2
domain Comp = 0..M
domain S = 0..K
domain Word = vocabulary(words)
data words : [Word] ||| n : weight
param mix   : Categorical(Comp)
param start : Categorical(S | Comp)
param trans : Categorical(S | Comp, S)
param emit  : Categorical(Word | Comp, S)
model {
    hidden m : Comp
    hidden z : [S; len(words)]
    m ~ mix
    z[0] ~ start(m)
    for i in 1..len(words): z[i] ~ trans(m, z[i-1])
    for i in 0..len(words): words[i] ~ emit(m, z[i])
}
";

/// Two chains of different sizes, a second emission per position, and a draw over no
/// hidden variable.
const FACTORIAL: &str = "
domain A = 0..3
domain B = 0..2
domain Word = vocabulary(words)
domain Mark = {p, q}
data words : [Word] ||| marks : [Mark]
param start_a : Categorical(A)
param start_b : Categorical(B)
param trans_a : Categorical(A | A)
param trans_b : Categorical(B | B)
param emit    : Categorical(Word | A, B)
param mark    : Categorical(Mark | B)
param first   : Categorical(Mark)
model {
    hidden a : [A; len(words)]
    hidden b : [B; len(words)]
    a[0] ~ start_a
    b[0] ~ start_b
    marks[0] ~ first
    for i in 1..len(words) {
        a[i] ~ trans_a(a[i-1])
        b[i] ~ trans_b(b[i-1])
    }
    for i in 0..len(words): words[i] ~ emit(a[i], b[i])
    for i in 1..len(words): marks[i] ~ mark(b[i])
}
";

/// Every instance by enumeration of its joint values.
fn brute_force(p: &Program, d: &Dataset, params: &Params) -> CountStore {
    let mut store = CountStore::new(p.layout.total);
    let mut tables = TableCache::default();
    for inst in &d.instances {
        let g = p.unroll(inst, &mut tables).unwrap();
        let post = posterior(Engine::Reference, &g, &params.theta).unwrap();
        accumulate(&g, &post, &mut store, &params.theta);
    }
    store
}

fn data(lines: usize, min_len: usize, extra: impl Fn(usize, usize) -> String) -> String {
    let words = ["x", "y", "z", "w", "v"];
    let mut out = String::new();
    for i in 0..lines {
        let len = min_len + i % 7;
        let ws: Vec<&str> = (0..len).map(|t| words[(i * 7 + t * 3) % 5]).collect();
        out.push_str(&ws.join(" "));
        out.push_str(&extra(i, len));
        out.push('\n');
    }
    out
}

fn check(what: &str, model: &str, text: &str, brute: bool) {
    let (p, d) = program(front_end(model, &[]).unwrap(), text, None).unwrap();
    let kernel = Kernel::build(&p, &d, &thread_pool(2)).unwrap();
    assert_eq!(
        kernel.kind(),
        "frontier",
        "{what}: compiles to the frontier kernel"
    );
    let pool = thread_pool(2);
    for seed in 0..3 {
        let params = random_params(&p, seed);
        let fast = counts(&kernel, &p, &d, &params, 2);
        let slow = counts(&Kernel::Generic, &p, &d, &params, 1);
        assert_same_counts(&format!("{what} seed {seed}, interpreted"), &fast, &slow);
        if brute {
            let exact = brute_force(&p, &d, &params);
            assert_same_counts(&format!("{what} seed {seed}, brute force"), &fast, &exact);
        }
        assert_eq!(
            fast,
            counts(&kernel, &p, &d, &params, 1),
            "{what}: 1 vs 2 threads"
        );
        let n = kernel.units(&d);
        let units = kernel
            .count_units(&p, &d, &params, &pool, ZeroPolicy::Stop, 0..n)
            .unwrap();
        let merged = kernel.finish_units(&p, &params, &pool, &units).unwrap();
        assert_eq!(
            fast, merged,
            "{what}: units merged as the E-step merges them"
        );
    }
}

#[test]
fn trigram_hmms_count_what_the_interpreted_path_and_enumeration_count() {
    check(
        "trigram, short lines",
        TRIGRAM,
        &data(60, 2, |_, _| String::new()),
        true,
    );
    check(
        "trigram",
        TRIGRAM,
        &data(400, 2, |_, _| String::new()),
        false,
    );
}

#[test]
fn mixtures_of_hmms_count_what_the_interpreted_path_and_enumeration_count() {
    let weight = |i: usize, _| format!(" ||| {}", 1 + i % 3);
    check("mixture, short lines", MIXTURE, &data(60, 1, weight), true);
    check("mixture", MIXTURE, &data(300, 1, weight), false);
}

#[test]
fn factorial_hmms_count_what_the_interpreted_path_and_enumeration_count() {
    let marks = |i: usize, len: usize| {
        let m: Vec<&str> = (0..len).map(|t| ["p", "q"][(i + t) % 2]).collect();
        format!(" ||| {}", m.join(" "))
    };
    check(
        "factorial, short lines",
        FACTORIAL,
        &data(40, 1, marks),
        true,
    );
    check("factorial", FACTORIAL, &data(300, 1, marks), false);
}

#[test]
fn a_line_of_probability_zero_is_skipped_or_named() {
    // Lines of three shapes, so that the impossible ones (1, 3 and 4) are met out of order.
    let text = "x w ||| 1\ny ||| 2\nz z x w ||| 1\nw y ||| 3\nx y ||| 1\n";
    let (p, d) = program(front_end(MIXTURE, &[]).unwrap(), text, None).unwrap();
    let kernel = Kernel::build(&p, &d, &thread_pool(1)).unwrap();
    let mut params = random_params(&p, 4);
    // No component emits `w`.
    let emit = p.model.family_named("emit").unwrap();
    let slot = &p.layout.families[emit];
    let w = (0..p.domains.symbols.len())
        .find_map(|d| p.domains.symbols[d].iter().position(|s| s == "w"))
        .unwrap();
    for row in 0..slot.n_cond {
        params.theta[slot.offset + row * slot.n_out + w] = 0.0;
    }
    let pool = thread_pool(1);
    let err = kernel
        .e_step(&p, &d, &params, &pool, ZeroPolicy::Stop)
        .unwrap_err();
    assert!(err.to_string().contains("data line 1"), "{err}");
    let fast = kernel
        .e_step(&p, &d, &params, &pool, ZeroPolicy::Skip)
        .unwrap();
    let slow = Kernel::Generic
        .e_step(&p, &d, &params, &pool, ZeroPolicy::Skip)
        .unwrap();
    assert_eq!(fast.skipped, vec![1, 3, 4]);
    assert_eq!(slow.skipped, vec![1, 3, 4]);
    assert_same_counts("skip", &fast, &slow);
}

/// A line whose sweep would keep more than 2^24 values (a trigram HMM of 100 states over 20
/// words: 10^6 values a step) is left to the interpreted path rather than held for a batch.
#[test]
fn sweeps_too_long_to_hold_go_to_the_interpreted_path() {
    let model = front_end(TRIGRAM, &[("K".to_string(), "100".to_string())]).unwrap();
    let short = "x y z w v\n";
    let (p, d) = program(model.clone(), short, None).unwrap();
    assert_eq!(
        Kernel::build(&p, &d, &thread_pool(1)).unwrap().kind(),
        "frontier"
    );
    let long = format!("{short}{}\n", ["x y z w v"; 4].join(" "));
    let (p, d) = program(model, &long, None).unwrap();
    assert_eq!(
        Kernel::build(&p, &d, &thread_pool(1)).unwrap().kind(),
        "generic"
    );
}

/// Lines on which every other position multiplies the probability by about 1e-170: the
/// words alternate, chain `a` changes state with probability 1e-160 and emits the other
/// state's word with 1e-170. A step's output whose largest value is that far from 1 is
/// scaled at once: left for the next scaling step, whose values would be that times another
/// 1e-170, it would fall below the smallest normal double and lose its digits (checked:
/// the log-likelihood is then off by 6).
#[test]
fn positions_of_tiny_probability_keep_their_digits() {
    // The zoo's factorial HMM, with two states a chain.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/factorial_hmm.em");
    let source = std::fs::read_to_string(path).unwrap();
    let model = front_end(&source, &[("K".to_string(), "2".to_string())]).unwrap();
    let text = "x y x y x y x y\ny x y x\nx y x\nx\n".repeat(3);
    let (p, d) = program(model, &text, None).unwrap();
    let kernel = Kernel::build(&p, &d, &thread_pool(1)).unwrap();
    assert_eq!(kernel.kind(), "frontier");
    let mut params = random_params(&p, 1);
    let word = |w: &str| {
        (0..p.domains.symbols.len())
            .find_map(|d| p.domains.symbols[d].iter().position(|s| s == w))
            .unwrap()
    };
    let (x, y) = (word("x"), word("y"));
    let family = |name: &str| &p.layout.families[p.model.family_named(name).unwrap()];
    let trans = family("trans_a");
    for from in 0..2 {
        for to in 0..2 {
            let v = if from == to { 1.0 } else { 1e-160 };
            params.theta[trans.offset + from * trans.n_out + to] = v;
        }
    }
    let emit = family("emit");
    for row in 0..emit.n_cond {
        // Rows are (a, b), a outermost.
        let a = row / 2;
        let at = emit.offset + row * emit.n_out;
        params.theta[at + x] = if a == 0 { 1.0 } else { 1e-170 };
        params.theta[at + y] = if a == 1 { 1.0 } else { 1e-170 };
    }
    let fast = counts(&kernel, &p, &d, &params, 1);
    let slow = counts(&Kernel::Generic, &p, &d, &params, 1);
    assert!(
        fast.log_likelihood < -5_000.0,
        "the lines' probabilities are as tiny as meant: {}",
        fast.log_likelihood
    );
    assert_same_counts("tiny positions", &fast, &slow);
}
