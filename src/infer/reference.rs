//! The reference engine: sums over every joint value of the hidden variables. Exponential,
//! simple, and the yardstick for the fast engines.

use super::table::{projection, unravel};
use super::{argmax, softmax, InferError, Posterior, MAX_CLIQUE_STATES};
use crate::graph::{InstanceGraph, VarId};

/// Log joint probability of every joint value, with each factor's projection.
fn joint(g: &InstanceGraph, theta: &[f64]) -> Result<(Vec<f64>, Vec<Vec<usize>>), InferError> {
    let cards = g.cards();
    let size = cards
        .iter()
        .try_fold(1usize, |a, c| a.checked_mul(*c))
        .filter(|s| *s <= MAX_CLIQUE_STATES);
    let Some(size) = size else {
        return Err(InferError::CliqueTooLarge {
            line: g.line,
            vars: format!("all {} hidden variables", g.vars.len()),
            states: "too many".into(),
            limit: MAX_CLIQUE_STATES,
        });
    };
    let all: Vec<VarId> = (0..g.vars.len() as VarId).collect();
    let mut logp = vec![0.0; size];
    let mut projections = Vec::with_capacity(g.factors.len());
    for f in &g.factors {
        let proj = projection(&all, &cards, &f.scope);
        let values = g.log_values(f, theta);
        for (lp, i) in logp.iter_mut().zip(&proj) {
            *lp += values[*i];
        }
        projections.push(proj);
    }
    Ok((logp, projections))
}

pub fn posterior(g: &InstanceGraph, theta: &[f64]) -> Result<Posterior, InferError> {
    let (logp, projections) = joint(g, theta)?;
    let (p, log_z) = softmax(&logp);
    let beliefs = g
        .factors
        .iter()
        .zip(&projections)
        .map(|(f, proj)| {
            let mut b = vec![0.0; f.entries.len()];
            for (pj, i) in p.iter().zip(proj) {
                b[*i] += pj;
            }
            b
        })
        .collect();
    Ok(Posterior { log_z, beliefs })
}

pub fn map(g: &InstanceGraph, theta: &[f64]) -> Result<(Vec<u32>, f64), InferError> {
    let (logp, _) = joint(g, theta)?;
    let best = argmax(&logp);
    let assign = unravel(best, &g.cards())
        .into_iter()
        .map(|v| v as u32)
        .collect();
    Ok((assign, logp[best]))
}
