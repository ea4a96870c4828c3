//! Long flat chains need no brackets, so the bracket limit never sees them: `1+1+...+1`,
//! `s[0][0]...`, `[H] ++ [H] ++ ...`, `for ...:` heads, `else if`, `not`, `and`, and domains
//! extending domains. Each is generated here well past the size that once overflowed the
//! stack (a megabyte of `+1`, 50,000 of the others), and must come back as a located error in
//! under five seconds: in the library on a thread with a 2 MB stack (the size of a test
//! thread), and through the binary under a 1 GB address-space limit. Inputs just inside the limits must still be accepted on
//! that stack, through the whole front end and the probe instance's unroll.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use emc::compile::plan_for;
use emc::error::{Error, Named};
use emc::pipeline::front_end;
use emc::syntax::MAX_DEPTH;

const COINS: &str = "domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)
";

/// A coins model whose story is `body` (with `coin` drawn first).
fn coins(body: &str) -> String {
    format!("{COINS}model {{\n    hidden coin : Coin\n    coin ~ choice\n{body}\n}}\n")
}

fn sum_chain(n: usize) -> String {
    let mut s = String::from("domain Big = 0..1");
    s.push_str(&"+1".repeat(n));
    s.push('\n');
    s + &coins("    for i in 0..len(tosses): tosses[i] ~ toss(coin)")
}

fn index_chain(n: usize) -> String {
    coins(&format!(
        "    for i in 0..len(tosses): tosses[i]{} ~ toss(coin)",
        "[0]".repeat(n)
    ))
}

fn concat_chain(n: usize) -> String {
    coins(&format!(
        "    let s = [H]{}\n    for i in 0..len(tosses): tosses[i] ~ toss(coin)",
        " ++ [H]".repeat(n)
    ))
}

fn for_chain(n: usize) -> String {
    let mut body = String::from("    ");
    for k in 0..n {
        body.push_str(&format!("for i{k} in 0..1: "));
    }
    body.push_str("tosses[0] ~ toss(coin)");
    coins(&body)
}

/// A structured story (a procedure) whose condition or branches are `cond` / `n` arms.
fn structured(cond: &str, arms: usize) -> String {
    let mut body = format!("        if {cond} {{ tosses[i] ~ toss(A) }}");
    for _ in 0..arms {
        body.push_str(" else if i == 0 { tosses[i] ~ toss(A) }");
    }
    body.push_str(" else { tosses[i] ~ toss(B) }");
    format!(
        "{COINS}proc step(i) {{\n    if i < len(tosses) {{\n{body}\n        step(i + 1)\n    }}\n}}\nmodel {{\n    step(0)\n}}\n"
    )
}

fn not_chain(n: usize) -> String {
    structured(&format!("{}i == 0", "not ".repeat(n)), 0)
}

fn and_chain(n: usize) -> String {
    structured(&format!("i == 0{}", " and i == 0".repeat(n)), 0)
}

fn else_if_chain(n: usize) -> String {
    structured("i == 0", n)
}

fn domain_chain(n: usize) -> String {
    let mut s = String::from("domain D0 = {S0}\n");
    for k in 1..=n {
        s.push_str(&format!("domain D{k} = D{} + {{S{k}}}\n", k - 1));
    }
    s + &coins("    for i in 0..len(tosses): tosses[i] ~ toss(coin)")
}

type Maker = fn(usize) -> String;

/// Each class, with the size of its chain well past the old crash and at the limit.
const CLASSES: [(&str, Maker, usize); 8] = [
    ("sum", sum_chain, 500_000),
    ("index", index_chain, 50_000),
    ("concat", concat_chain, 50_000),
    ("for", for_chain, 50_000),
    ("else_if", else_if_chain, 50_000),
    ("not", not_chain, 50_000),
    ("and", and_chain, 50_000),
    ("domain", domain_chain, 50_000),
];

/// Front end and probe, rendered as the CLI renders, on a thread with a 2 MB stack.
fn run_small_stack(source: String) -> Result<(), String> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let render = |e: &Error| {
                let named = Named {
                    name: "deep.em",
                    text: &source,
                };
                e.render(named, named, "command line")
            };
            let m = front_end(&source, &[]).map_err(|e| render(&e))?;
            plan_for(&m).map(|_| ()).map_err(|e| render(&e))
        })
        .expect("a thread starts")
        .join()
        .expect("no panic, no overflow")
}

#[test]
fn flat_chains_past_the_old_crash_sizes_are_located_errors() {
    for (name, make, n) in CLASSES {
        let source = make(n);
        let start = Instant::now();
        let err = run_small_stack(source).expect_err(name);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(5), "{name}: {took:?}");
        assert!(err.contains("deep.em:"), "{name}: not located:\n{err}");
        assert!(
            err.contains(&format!("{MAX_DEPTH}")),
            "{name}: the limit is not named:\n{err}"
        );
        assert!(err.len() < 20_000, "{name}: {} bytes of message", err.len());
    }
}

#[test]
fn chains_at_the_limit_are_accepted_on_a_small_stack() {
    // A chain's statement and the expression it sits in take a few levels of their own.
    let room = MAX_DEPTH - 8;
    for (name, make, _) in CLASSES {
        let source = make(room);
        if let Err(e) = run_small_stack(source) {
            // Chains that type-check badly at any length are still fine as long as the
            // error is not the depth limit and nothing overflowed.
            assert!(
                !e.contains("levels deep") && !e.contains("more than 256 domains"),
                "{name} at {room}: {e}"
            );
        }
    }
}

#[test]
fn deepest_accepted_story_runs_on_a_small_stack() {
    // Expressions at the limit inside loops nested to the limit: the worst case the depth
    // budget allows, through checking, constant folding and the probe's unroll.
    let loops = MAX_DEPTH / 2;
    let mut body = String::new();
    for k in 0..loops {
        body.push_str(&format!("for i{k} in 0..1: "));
    }
    let sum = format!("0{}", "+0".repeat(MAX_DEPTH - loops - 8));
    body.push_str(&format!("tosses[{sum}] ~ toss(coin)"));
    let source = coins(&format!(
        "    {body}\n    for i in 1..len(tosses): tosses[i] ~ toss(coin)"
    ));
    run_small_stack(source).expect("the deepest story is a good model");
}

fn emc_check(name: &str, source: &str) -> (std::process::Output, Duration) {
    let dir = common::tmp().join("emc-deep");
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("{name}.em"));
    std::fs::write(&path, source).unwrap();
    let before = common::children_cpu();
    // Under a 1 GB address-space limit (`ulimit -v` is in KiB; the shell `exec`s emc).
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" check \"$1\"")
        .arg(env!("CARGO_BIN_EXE_emc"))
        .arg(&path)
        .output()
        .expect("the emc binary runs");
    let took = common::children_cpu() - before;
    let _ = std::fs::remove_file(&path);
    (out, took)
}

#[test]
fn binary_refuses_flat_chains_with_a_located_error() {
    for (name, make, n) in CLASSES {
        let (out, took) = emc_check(name, &make(n));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(took < Duration::from_secs(5), "{name}: {took:?}");
        assert!(stderr.contains(&format!("{name}.em:")), "{name}: {stderr}");
        assert!(stderr.lines().all(|l| l.len() < 300), "{name}: {stderr}");
    }
}

#[test]
fn a_model_past_the_length_limit_is_refused_where_it_passes_it() {
    let source = sum_chain(emc::syntax::MAX_MODEL_BYTES);
    let start = Instant::now();
    let err = run_small_stack(source).expect_err("too long");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(err.contains("longer than 2 MiB"), "{err}");
    assert!(err.contains("deep.em:1:"), "{err}");
}

#[test]
fn a_megabyte_token_is_not_echoed_whole() {
    let token = "x".repeat(1 << 20);
    let source = coins(&format!("    {token} ~ toss(coin)"));
    let err = run_small_stack(source).expect_err("an unknown name");
    assert!(err.len() < 2_000, "{} bytes", err.len());
    assert!(err.lines().all(|l| l.chars().count() < 250), "{err}");
}

#[test]
fn brackets_at_the_limit_parse_on_a_small_stack() {
    let n = emc::syntax::MAX_NESTING - 8;
    let parens = format!("{}1{}", "(".repeat(n), ")".repeat(n));
    let init = format!("{}0.5{}", "[".repeat(n), "]".repeat(n));
    let blocks: String = (0..n).map(|k| format!("for i{k} in 0..1 {{ ")).collect();
    let cases = [
        // Parentheses make no level of the tree: the parser alone goes deep.
        format!("domain Big = 0..{parens}\n")
            + &coins("    for i in 0..len(tosses): tosses[i] ~ toss(coin)"),
        // A condition in parentheses is tried as a condition, then as an expression.
        structured(&format!("{}i == 0{}", "(".repeat(n), ")".repeat(n)), 0),
        // Here every level fails as a condition first, then reads as an expression.
        structured(&format!("{}i{} == 0", "(".repeat(n), ")".repeat(n)), 0),
        structured(
            &format!("{}i{} == 0 and i == 0", "(".repeat(n), ")".repeat(n)),
            0,
        ),
        coins(&format!(
            "    for i in 0..len(tosses): tosses[i] ~ toss(coin)\n    let x = {parens}"
        ))
        .replace(
            "param choice : Categorical(Coin)",
            &format!("param choice : Categorical(Coin) {{ init: {init} }}"),
        ),
        coins(&format!(
            "    {blocks}tosses[0] ~ toss(coin){}",
            " }".repeat(n)
        )),
    ];
    for source in cases {
        let start = Instant::now();
        if let Err(e) = run_small_stack(source) {
            assert!(
                !e.contains("levels deep") && !e.contains("nested more"),
                "{e}"
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
    }
}
