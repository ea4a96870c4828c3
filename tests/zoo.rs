//! Every model of the zoo: its compiled plan, log-likelihood trace and learned parameters as
//! insta snapshots (rounded so they hold across machines), plus the invariants that hold for
//! any model: EM never decreases the objective, and the thread count does not change a bit.

mod common;

use emc::report::describe;
use emc::train::Outcome;

/// Zoo models are trained on at most this many lines and iterations here; the full runs are
/// the README's and the scripts' business.
const MAX_LINES: usize = 300;
const MAX_ITERATIONS: usize = 20;
/// Parameter tables larger than this are summarised (top outcomes per condition).
const FULL_TABLE: usize = 400;

#[test]
fn zoo() {
    insta::glob!("../models", "*.em", |path| {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("file name");
        // Through the pipeline that `emc run` uses: the product's path, end to end.
        let compiled = common::compiled(name, &[], MAX_LINES, 2);
        let (program, data) = (&compiled.program, &compiled.dataset);
        let iterations = program.model.settings.iterations.min(MAX_ITERATIONS);
        let mut config = common::config(program, iterations, program.model.settings.tolerance);
        config.restarts = program.model.settings.restarts.min(2);
        config.threads = 1;
        let one = compiled.train(&config, &mut |_| {}).expect("training runs");
        config.threads = 2;
        let two = compiled.train(&config, &mut |_| {}).expect("training runs");
        assert_eq!(
            one.params, two.params,
            "{name}: 1 and 2 threads must give identical parameters"
        );
        assert_monotone(name, &one);
        let text = format!(
            "{}\n-- trace (objective, 6 significant digits)\n{}\n-- parameters\n{}",
            describe(&program.model, &program.plan, Some((program, data))),
            trace(&one),
            parameters(program, &one)
        );
        insta::assert_snapshot!(text);
    });
}

fn assert_monotone(name: &str, outcome: &Outcome) {
    for pair in outcome.trace.windows(2) {
        let (a, b) = (pair[0].objective, pair[1].objective);
        assert!(
            b >= a - 1e-9 * a.abs().max(1.0),
            "{name}: objective fell from {a} to {b} at iteration {}",
            pair[1].iteration
        );
    }
}

fn trace(outcome: &Outcome) -> String {
    outcome
        .trace
        .iter()
        .map(|p| format!("{:>4} {:.6e}", p.iteration, p.objective))
        .collect::<Vec<_>>()
        .join("\n")
}

fn parameters(program: &emc::program::Program, outcome: &Outcome) -> String {
    let m = &program.model;
    let mut out = String::new();
    for (f, fam) in m.families.iter().enumerate() {
        let slot = &program.layout.families[f];
        let values = &outcome.params.theta[slot.offset..slot.offset + slot.n_cond * slot.n_out];
        let full = values.len() <= FULL_TABLE;
        let shown = if full { "all" } else { "top 3 per condition" };
        out.push_str(&format!("{} ({shown})\n", fam.name));
        for (r, row) in values.chunks(slot.n_out).enumerate() {
            let cond = program
                .layout
                .condition_symbols(m, &program.domains, f, r)
                .join(",");
            if let emc::model::FamilyKind::Gaussian(g) = &fam.kind {
                let r = emc::family::gaussian::row(row, g.dim);
                let show = |xs: &[f64]| {
                    xs.iter()
                        .map(|x| format!("{x:.4}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                out.push_str(&format!(
                    "  {:<8} mean [{}] cov [{}]\n",
                    if cond.is_empty() { "-" } else { &cond },
                    show(r.mean),
                    show(&emc::family::gaussian::covariance(&r))
                ));
                continue;
            }
            let mut order: Vec<usize> = (0..row.len()).collect();
            if !full {
                order.sort_by(|a, b| row[*b].total_cmp(&row[*a]).then(a.cmp(b)));
                order.truncate(3);
            }
            let cells: Vec<String> = order
                .iter()
                .map(|o| {
                    format!(
                        "{}={:.4}",
                        program.domains.name(fam.outcome, *o as u32),
                        row[*o]
                    )
                })
                .collect();
            out.push_str(&format!(
                "  {:<8} {}\n",
                if cond.is_empty() { "-" } else { &cond },
                cells.join(" ")
            ));
        }
    }
    out
}
