//! One line's hypergraph as Graphviz DOT, for `emc graph` on a structured story: each call
//! is a box named as the story writes it (`span(NP, 0, 2)`), each hyperedge a small point
//! with an arrow from every call it makes (its tails) and one into the call it expands, and
//! labelled with the parameter entries it draws (`emit(dog | NN)`, `word(ba)`) and the hidden
//! values it chooses (`= NN`).

use super::{execute, Budget};
use crate::data::{Domains, Instance};
use crate::error::Error;
use crate::model::{FamilyKind, FieldKind, Model};
use crate::params::Layout;

/// Hyperedges `emc graph` draws at most: a picture of more is unreadable.
pub const MAX_DRAWN: usize = 2000;

/// Why a line is not drawn.
pub enum DotError {
    Run(Error),
    /// The line's hypergraph has `edges` hyperedges, more than `limit`.
    TooLarge {
        edges: usize,
        nodes: usize,
    },
}

impl From<Error> for DotError {
    fn from(e: Error) -> DotError {
        DotError::Run(e)
    }
}

/// The DOT text of one line's hypergraph, or its size when it has more than `limit`
/// hyperedges (checked after building it, before any text is made).
pub fn line_dot(
    model: &Model,
    domains: &Domains,
    layout: &Layout,
    inst: &Instance,
    limit: usize,
) -> Result<String, DotError> {
    let lg = execute(model, domains, layout, inst, Budget::default(), true)
        .map_err(|e| DotError::Run(e.into()))?;
    let g = &lg.graph;
    if g.edges() > limit {
        return Err(DotError::TooLarge {
            edges: g.edges(),
            nodes: g.nodes(),
        });
    }
    let names = lg.calls.unwrap_or_default();
    let labels = lg.labels.unwrap_or_default();
    let mut out = format!(
        "digraph line{} {{\n  rankdir=BT;\n  node [fontname=\"Helvetica\"];\n",
        inst.line
    );
    for v in 0..g.nodes() {
        let name = names.get(v).map_or("?", String::as_str);
        let goal = if v == g.goal() as usize {
            ", style=bold"
        } else {
            ""
        };
        out.push_str(&format!(
            "  c{v} [shape=box{goal}, label=\"{}\"];\n",
            escape(name)
        ));
    }
    for v in 0..g.nodes() {
        for e in g.edges_into(v as u32) {
            let mut parts: Vec<String> = g
                .entries(e)
                .iter()
                .map(|k| {
                    // A density of the line's data: its Gaussian row, at the value it scores.
                    match (*k as usize).checked_sub(layout.total) {
                        Some(d) => {
                            let (row, obs) = lg.densities.densities[d];
                            let (field, i) = lg.densities.observations[obs as usize].0;
                            let field = &model.fields[field];
                            let at = match field.kind {
                                FieldKind::Sequence => format!("{}[{i}]", field.name),
                                _ => field.name.clone(),
                            };
                            let row = entry_name(model, domains, layout, row as usize);
                            format!("{row} at {at}")
                        }
                        None => entry_name(model, domains, layout, *k as usize),
                    }
                })
                .collect();
            // Spans are named by the entry that draws them; hidden values are not.
            parts.extend(
                labels
                    .get(e)
                    .into_iter()
                    .flatten()
                    .filter(|l| !l.span)
                    .map(|l| format!("= {}", l.text)),
            );
            let c = g.log_const(e);
            if c != 0.0 {
                parts.push(format!("x {:.4}", c.exp()));
            }
            out.push_str(&format!(
                "  e{e} [shape=point, width=0.08, xlabel=\"{}\"];\n",
                parts
                    .iter()
                    .map(|p| escape(p))
                    .collect::<Vec<_>>()
                    .join("\\n")
            ));
            for t in g.tails(e) {
                out.push_str(&format!("  c{t} -> e{e} [arrowhead=none];\n"));
            }
            out.push_str(&format!("  e{e} -> c{v};\n"));
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// A parameter entry as the story writes its draw: `family(outcome | conditions)`.
pub fn entry_name(model: &Model, domains: &Domains, layout: &Layout, k: usize) -> String {
    for (f, slot) in layout.families.iter().enumerate() {
        let Some((mut row, out)) = slot.locate(k).filter(|_| slot.n_out > 0) else {
            continue;
        };
        let fam = &model.families[f];
        let mut conds = vec![String::new(); fam.conditions.len()];
        for (i, d) in fam.conditions.iter().enumerate().rev() {
            let size = slot.cond_sizes[i].max(1);
            conds[i] = domains.name(*d, (row % size) as u32).to_string();
            row /= size;
        }
        // A Gaussian row's numbers are its mean and covariance, not outcomes: name the row.
        let outcome = match fam.kind {
            FamilyKind::Gaussian(_) => "x".to_string(),
            _ => domains.name(fam.outcome, out as u32).to_string(),
        };
        return if conds.is_empty() {
            format!("{}({outcome})", fam.name)
        } else {
            format!("{}({outcome} | {})", fam.name, conds.join(", "))
        };
    }
    format!("#{k}")
}

/// DOT's quoted strings: quotes and backslashes escaped.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
