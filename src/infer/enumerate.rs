//! Independent hidden variables (mixtures, IBM Model 1): every factor touches at most one
//! variable, so each variable's posterior is its own normalised product of factors.

use super::{argmax, softmax, Posterior};
use crate::graph::InstanceGraph;

pub fn applies(g: &InstanceGraph) -> bool {
    g.factors.iter().all(|f| f.scope.len() <= 1)
}

/// Per variable, the log of the product of its factors; plus the log of the constant factors.
fn potentials(g: &InstanceGraph, theta: &[f64]) -> (Vec<Vec<f64>>, f64) {
    let mut pots: Vec<Vec<f64>> = g.vars.iter().map(|v| vec![0.0; v.card as usize]).collect();
    let mut constant = 0.0;
    for f in &g.factors {
        let values = g.log_values(f, theta);
        match f.scope.first() {
            Some(v) => pots[*v as usize]
                .iter_mut()
                .zip(&values)
                .for_each(|(p, x)| *p += x),
            None => constant += values[0],
        }
    }
    (pots, constant)
}

pub fn posterior(g: &InstanceGraph, theta: &[f64]) -> Posterior {
    let (pots, constant) = potentials(g, theta);
    let mut log_z = constant;
    let marginals: Vec<Vec<f64>> = pots
        .iter()
        .map(|p| {
            let (marginal, lz) = softmax(p);
            log_z += lz;
            marginal
        })
        .collect();
    let beliefs = g
        .factors
        .iter()
        .map(|f| match f.scope.first() {
            Some(v) => marginals[*v as usize].clone(),
            None => vec![1.0],
        })
        .collect();
    Posterior { log_z, beliefs }
}

pub fn map(g: &InstanceGraph, theta: &[f64]) -> (Vec<u32>, f64) {
    let (pots, constant) = potentials(g, theta);
    let mut score = constant;
    let assign = pots
        .iter()
        .map(|p| {
            let best = argmax(p);
            score += p[best];
            best as u32
        })
        .collect();
    (assign, score)
}
