//! Every zoo model's planned engine against the brute-force reference engine, on real unrolled
//! instances with random parameters: same log-likelihood, same posteriors, same expected
//! counts, same MAP score (to 1e-9).

mod common;

use emc::graph::unroll;
use emc::infer::{accumulate, map, posterior, CountStore, Engine};
use emc::model::InitMode;
use rand::SeedableRng;

/// Instances small enough for brute force: at most this many joint values.
const MAX_JOINT: f64 = 2e5;

#[test]
fn planned_engines_agree_with_brute_force_on_zoo_instances() {
    let mut compared = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/models")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "em") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        // HMMs with few states, so that whole sentences fit brute force (those with a `K`).
        let declares_k = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .any(|l| l.starts_with("const K "));
        let set: &[(&str, &str)] = if name.contains("hmm") && declares_k {
            &[("K", "3")]
        } else {
            &[]
        };
        let (p, d) = common::load_with(&name, set, 200);
        // Structured stories do not unroll into factor graphs: their hypergraphs are checked
        // against enumeration of derivations in `tests/structured.rs`.
        if p.model.structured {
            continue;
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let params =
            emc::params::initial(&p.model, &p.domains, &p.layout, InitMode::Random, &mut rng)
                .unwrap();
        for inst in &d.instances {
            let g = unroll(&p.model, &p.domains, &p.layout, inst).unwrap();
            let joint: f64 = g.vars.iter().map(|v| f64::from(v.card)).product();
            if joint > MAX_JOINT {
                continue;
            }
            let fast = posterior(p.plan.engine, &g, &params.theta).unwrap();
            let slow = posterior(Engine::Reference, &g, &params.theta).unwrap();
            let tol = 1e-9 * slow.log_z.abs().max(1.0);
            assert!(
                (fast.log_z - slow.log_z).abs() <= tol,
                "{name} line {}: log Z {} vs {}",
                inst.line,
                fast.log_z,
                slow.log_z
            );
            for (a, b) in fast
                .beliefs
                .iter()
                .flatten()
                .zip(slow.beliefs.iter().flatten())
            {
                assert!(
                    (a - b).abs() <= 1e-9,
                    "{name} line {}: belief {a} vs {b}",
                    inst.line
                );
            }
            let (mut cf, mut cs) = (
                CountStore::new(p.layout.total),
                CountStore::new(p.layout.total),
            );
            accumulate(&g, &fast, &mut cf, &params.theta);
            accumulate(&g, &slow, &mut cs, &params.theta);
            for (a, b) in cf.expected.iter().zip(&cs.expected) {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{name} line {}: count {a} vs {b}",
                    inst.line
                );
            }
            let (_, s1) = map(p.plan.engine, &g, &params.theta).unwrap();
            let (_, s2) = map(Engine::Reference, &g, &params.theta).unwrap();
            assert!(
                (s1 - s2).abs() <= tol,
                "{name} line {}: MAP {s1} vs {s2}",
                inst.line
            );
            compared += 1;
        }
    }
    assert!(
        compared > 100,
        "only {compared} instances were small enough to compare"
    );
}
