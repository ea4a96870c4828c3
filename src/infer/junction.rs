//! Junction-tree engine (Shafer-Shenoy): an upward pass from the first-eliminated cliques to
//! the roots gives log P; a downward pass gives every clique's posterior. Potentials start in
//! log space and every message is rescaled, so nothing underflows.

use super::table::projection;
use super::tree::{junction_tree, JunctionTree};
use super::{argmax, normalise, InferError, Posterior, MAX_CLIQUE_STATES};
use crate::graph::{InstanceGraph, VarId};

struct Prepared {
    jt: JunctionTree,
    cards: Vec<Vec<usize>>,
    /// Per clique, the log potential: its factors' log values summed.
    log_psi: Vec<Vec<f64>>,
    /// Per clique, the projection of its table onto its separator with the parent.
    to_sep: Vec<Vec<usize>>,
    /// Per clique and child, the projection of its table onto the child's separator.
    child_proj: Vec<Vec<Vec<usize>>>,
    constant: f64,
}

fn separator(jt: &JunctionTree, i: usize) -> Vec<VarId> {
    let c = &jt.cliques[i];
    c.vars.iter().copied().filter(|v| *v != c.owner).collect()
}

fn prepare(g: &InstanceGraph, theta: &[f64]) -> Result<Prepared, InferError> {
    let jt = junction_tree(g);
    if let Some(big) = jt.largest().filter(|c| c.states > MAX_CLIQUE_STATES) {
        return Err(InferError::CliqueTooLarge {
            line: g.line,
            vars: big
                .vars
                .iter()
                .map(|v| format!("`{}`", g.vars[*v as usize].name))
                .collect::<Vec<_>>()
                .join(", "),
            states: big.states.to_string(),
            limit: MAX_CLIQUE_STATES,
        });
    }
    let all_cards = g.cards();
    let cards: Vec<Vec<usize>> = jt
        .cliques
        .iter()
        .map(|c| c.vars.iter().map(|v| all_cards[*v as usize]).collect())
        .collect();
    let mut log_psi: Vec<Vec<f64>> = jt.cliques.iter().map(|c| vec![0.0; c.states]).collect();
    let mut constant = 0.0;
    for (f, clique) in g.factors.iter().zip(&jt.factor_clique) {
        let values = g.log_values(f, theta);
        match clique {
            None => constant += values[0],
            Some(i) => {
                let proj = projection(&jt.cliques[*i].vars, &cards[*i], &f.scope);
                log_psi[*i]
                    .iter_mut()
                    .zip(&proj)
                    .for_each(|(p, k)| *p += values[*k]);
            }
        }
    }
    let child_proj = (0..jt.cliques.len())
        .map(|i| {
            jt.cliques[i]
                .children
                .iter()
                .map(|c| projection(&jt.cliques[i].vars, &cards[i], &separator(&jt, *c)))
                .collect()
        })
        .collect();
    let to_sep = (0..jt.cliques.len())
        .map(|i| projection(&jt.cliques[i].vars, &cards[i], &separator(&jt, i)))
        .collect();
    Ok(Prepared {
        jt,
        cards,
        log_psi,
        to_sep,
        child_proj,
        constant,
    })
}

fn sep_size(p: &Prepared, i: usize) -> usize {
    p.to_sep[i].iter().max().map_or(1, |m| m + 1)
}

pub fn posterior(g: &InstanceGraph, theta: &[f64]) -> Result<Posterior, InferError> {
    let p = prepare(g, theta)?;
    let n = p.jt.cliques.len();
    let mut log_z = p.constant;
    let mut psi: Vec<Vec<f64>> = Vec::with_capacity(n);
    for lp in &p.log_psi {
        let m = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        log_z += m;
        psi.push(
            lp.iter()
                .map(|x| if m.is_finite() { (x - m).exp() } else { 0.0 })
                .collect(),
        );
    }
    let child_proj = &p.child_proj;
    // Upward: messages from each clique to its parent, children first.
    let mut up: Vec<Vec<f64>> = vec![Vec::new(); n];
    for i in 0..n {
        let mut b = psi[i].clone();
        for (k, c) in p.jt.cliques[i].children.iter().enumerate() {
            b.iter_mut()
                .zip(&child_proj[i][k])
                .for_each(|(x, s)| *x *= up[*c][*s]);
        }
        let mut msg = vec![0.0; sep_size(&p, i)];
        b.iter().zip(&p.to_sep[i]).for_each(|(x, s)| msg[*s] += x);
        log_z += normalise(&mut msg).ln();
        up[i] = msg;
    }
    if !log_z.is_finite() {
        return Ok(Posterior {
            log_z: f64::NEG_INFINITY,
            beliefs: g
                .factors
                .iter()
                .map(|f| vec![0.0; f.entries.len()])
                .collect(),
        });
    }
    // Downward: each clique's belief, and messages to its children.
    let mut down: Vec<Option<Vec<f64>>> = vec![None; n];
    let mut marginal: Vec<Vec<f64>> = vec![Vec::new(); n];
    for i in (0..n).rev() {
        let mut base = psi[i].clone();
        if let Some(d) = &down[i] {
            base.iter_mut()
                .zip(&p.to_sep[i])
                .for_each(|(x, s)| *x *= d[*s]);
        }
        let children = &p.jt.cliques[i].children;
        for (k, c) in children.iter().enumerate() {
            let mut t = base.clone();
            for (k2, c2) in children.iter().enumerate() {
                if k2 != k {
                    t.iter_mut()
                        .zip(&child_proj[i][k2])
                        .for_each(|(x, s)| *x *= up[*c2][*s]);
                }
            }
            let mut msg = vec![0.0; sep_size(&p, *c)];
            t.iter()
                .zip(&child_proj[i][k])
                .for_each(|(x, s)| msg[*s] += x);
            normalise(&mut msg);
            down[*c] = Some(msg);
        }
        for (k, c) in children.iter().enumerate() {
            base.iter_mut()
                .zip(&child_proj[i][k])
                .for_each(|(x, s)| *x *= up[*c][*s]);
        }
        normalise(&mut base);
        marginal[i] = base;
    }
    let beliefs = g
        .factors
        .iter()
        .zip(&p.jt.factor_clique)
        .map(|(f, clique)| match clique {
            None => vec![1.0],
            Some(i) => {
                let proj = projection(&p.jt.cliques[*i].vars, &p.cards[*i], &f.scope);
                let mut b = vec![0.0; f.entries.len()];
                marginal[*i].iter().zip(&proj).for_each(|(m, k)| b[*k] += m);
                b
            }
        })
        .collect();
    Ok(Posterior { log_z, beliefs })
}

pub fn map(g: &InstanceGraph, theta: &[f64]) -> Result<(Vec<u32>, f64), InferError> {
    let p = prepare(g, theta)?;
    let n = p.jt.cliques.len();
    let child_proj = &p.child_proj;
    // Upward max-product in log space, keeping each clique's table for the decoding pass.
    let mut up: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut tables: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut score = p.constant;
    for i in 0..n {
        let mut b = p.log_psi[i].clone();
        for (k, c) in p.jt.cliques[i].children.iter().enumerate() {
            b.iter_mut()
                .zip(&child_proj[i][k])
                .for_each(|(x, s)| *x += up[*c][*s]);
        }
        let mut msg = vec![f64::NEG_INFINITY; sep_size(&p, i)];
        b.iter()
            .zip(&p.to_sep[i])
            .for_each(|(x, s)| msg[*s] = msg[*s].max(*x));
        if p.jt.cliques[i].parent.is_none() {
            score += msg[0];
        }
        up[i] = msg;
        tables.push(b);
    }
    // Downward: each clique picks its owner's best value given the already decoded rest.
    let mut assign: Vec<Option<usize>> = vec![None; g.vars.len()];
    for i in (0..n).rev() {
        let clique = &p.jt.cliques[i];
        let owner_pos = clique
            .vars
            .iter()
            .position(|v| *v == clique.owner)
            .expect("owner in clique");
        let mut candidates = Vec::with_capacity(p.cards[i][owner_pos]);
        for value in 0..p.cards[i][owner_pos] {
            let mut idx = 0;
            for (pos, v) in clique.vars.iter().enumerate() {
                let x = if pos == owner_pos {
                    value
                } else {
                    assign[*v as usize].unwrap_or(0)
                };
                idx = idx * p.cards[i][pos] + x;
            }
            candidates.push(tables[i][idx]);
        }
        assign[clique.owner as usize] = Some(argmax(&candidates));
    }
    Ok((
        assign.into_iter().map(|a| a.unwrap_or(0) as u32).collect(),
        score,
    ))
}
