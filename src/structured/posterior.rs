//! `emc decode --posterior` for a structured story: the posterior of each call and each of
//! its expansions, per line, by inside-outside on the line's hypergraph.
//!
//! The format (tab-separated, one row per item whose posterior is at least `SHOWN`, calls
//! from the goal down, each call followed by its expansions):
//!
//! ```text
//! LINE  call    CALL                      P   the expected number of times a derivation
//!                                             uses CALL (a span's constituent: span(NP, 0, 2))
//! LINE  choice  CALL: DRAWN -> CALLS      P   that CALL expands this way: the hidden values
//!                                             (`NN`) and spans (`"bado"`) it draws, the
//!                                             calls it makes
//! ```
//!
//! The goal (the `model` block) has posterior 1 and is not listed as a call.

use super::execute_line;
use crate::data::Dataset;
use crate::error::Error;
use crate::hypergraph::inside::{edge_posteriors, inside};
use crate::infer::InferError;
use crate::params::Params;
use crate::program::Program;

/// Items with a smaller posterior are not printed.
pub const SHOWN: f64 = 1e-6;

pub fn posteriors(
    program: &Program,
    data: &Dataset,
    params: &Params,
) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for inst in &data.instances {
        let lg = execute_line(program, inst, true)?;
        let g = &lg.graph;
        // Restricted rows (`within`, `from`) divide by their allowed sets: the weights the
        // E-step uses, not the bare entries.
        let ins = inside(g, &lg.log_weights(&params.theta));
        if !ins.log_z().is_finite() {
            return Err(InferError::ZeroProbability { line: inst.line }.into());
        }
        let edge = edge_posteriors(g, &ins);
        let mut node = vec![0.0; g.nodes()];
        for (e, p) in edge.iter().enumerate() {
            for t in g.tails(e) {
                node[*t as usize] += p;
            }
        }
        let names = lg.calls.unwrap_or_default();
        let labels = lg.labels.unwrap_or_default();
        let name = |v: u32| {
            names
                .get(v as usize)
                .map_or("?", String::as_str)
                .to_string()
        };
        for v in (0..g.nodes() as u32).rev() {
            if v != g.goal() {
                if node[v as usize] < SHOWN {
                    continue;
                }
                out.push(format!(
                    "{}\tcall\t{}\t{:.6}",
                    inst.line,
                    name(v),
                    node[v as usize]
                ));
            }
            for e in g.edges_into(v) {
                if edge[e] < SHOWN {
                    continue;
                }
                let drawn: Vec<String> = labels
                    .get(e)
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        if l.span {
                            format!("\"{}\"", l.text)
                        } else {
                            l.text.clone()
                        }
                    })
                    .collect();
                let calls: Vec<String> = g.tails(e).iter().map(|t| name(*t)).collect();
                let mut item = format!("{}:", name(v));
                if !drawn.is_empty() {
                    item.push(' ');
                    item.push_str(&drawn.join(" "));
                }
                if !calls.is_empty() {
                    item.push_str(" -> ");
                    item.push_str(&calls.join(" "));
                }
                out.push(format!("{}\tchoice\t{item}\t{:.6}", inst.line, edge[e]));
            }
        }
    }
    Ok(out)
}
