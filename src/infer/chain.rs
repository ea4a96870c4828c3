//! Chains (HMMs): factors over one variable or two consecutive ones. Forward-backward with
//! per-position scaling, so long sequences do not underflow; Viterbi in log space.

use std::collections::HashMap;
use std::rc::Rc;

use super::{argmax, normalise, Posterior};
use crate::graph::{Entry, InstanceGraph};

pub fn applies(g: &InstanceGraph) -> bool {
    g.factors.iter().all(|f| match f.scope.as_slice() {
        [] | [_] => true,
        [a, b] => *b == *a + 1,
        _ => false,
    })
}

/// Log potentials: per variable, and per edge `k-1 -> k` (row-major, `k-1` the row). Edge
/// potentials made of one shared factor table are computed once per instance.
struct Potentials {
    unary: Vec<Vec<f64>>,
    pair: Vec<Option<Rc<Vec<f64>>>>,
    constant: f64,
}

fn potentials(g: &InstanceGraph, theta: &[f64]) -> Potentials {
    let cards = g.cards();
    let mut p = Potentials {
        unary: cards.iter().map(|c| vec![0.0; *c]).collect(),
        pair: vec![None; cards.len()],
        constant: 0.0,
    };
    let mut shared: HashMap<*const Entry, Rc<Vec<f64>>> = HashMap::new();
    for f in &g.factors {
        match f.scope.as_slice() {
            [] => p.constant += g.log_values(f, theta)[0],
            [v] => add(&mut p.unary[*v as usize], &g.log_values(f, theta)),
            [_, b] => {
                let values = shared
                    .entry(f.entries.as_ptr())
                    .or_insert_with(|| Rc::new(g.log_values(f, theta)))
                    .clone();
                match &mut p.pair[*b as usize] {
                    Some(t) => add(Rc::make_mut(t).as_mut_slice(), &values),
                    slot => *slot = Some(values),
                }
            }
            _ => unreachable!("applies() admits at most two variables"),
        }
    }
    p
}

fn add(acc: &mut [f64], values: &[f64]) {
    acc.iter_mut().zip(values).for_each(|(a, v)| *a += v);
}

/// exp(x - max x), and max x.
fn linear(xs: &[f64]) -> (Vec<f64>, f64) {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return (vec![0.0; xs.len()], m);
    }
    (xs.iter().map(|x| (x - m).exp()).collect(), m)
}

pub fn posterior(g: &InstanceGraph, theta: &[f64]) -> Posterior {
    let pots = potentials(g, theta);
    let cards = g.cards();
    let n = cards.len();
    let mut log_z = pots.constant;
    let mut unary = Vec::with_capacity(n);
    for u in &pots.unary {
        let (lin, m) = linear(u);
        log_z += m;
        unary.push(lin);
    }
    let mut pair: Vec<Option<Rc<Vec<f64>>>> = Vec::with_capacity(n);
    let mut linear_of: HashMap<*const f64, (Rc<Vec<f64>>, f64)> = HashMap::new();
    for p in &pots.pair {
        pair.push(p.as_ref().map(|p| {
            let (lin, m) = linear_of
                .entry(p.as_ptr())
                .or_insert_with(|| {
                    let (lin, m) = linear(p);
                    (Rc::new(lin), m)
                })
                .clone();
            log_z += m;
            lin
        }));
    }
    // Forward.
    let mut alpha: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut scale = vec![0.0; n];
    for k in 0..n {
        let mut a = unary[k].clone();
        if k > 0 {
            let prev = &alpha[k - 1];
            let mut msg = vec![0.0; cards[k]];
            match &pair[k] {
                Some(p) => {
                    for (i, pi) in prev.iter().enumerate() {
                        let row = &p[i * cards[k]..(i + 1) * cards[k]];
                        msg.iter_mut().zip(row).for_each(|(m, r)| *m += pi * r);
                    }
                }
                None => msg.fill(prev.iter().sum()),
            }
            a.iter_mut().zip(&msg).for_each(|(x, m)| *x *= m);
        }
        scale[k] = normalise(&mut a);
        log_z += scale[k].ln();
        alpha.push(a);
    }
    if !log_z.is_finite() {
        return zero(g, log_z);
    }
    // Backward.
    let mut beta: Vec<Vec<f64>> = vec![Vec::new(); n];
    if n > 0 {
        beta[n - 1] = vec![1.0; cards[n - 1]];
    }
    for k in (0..n.saturating_sub(1)).rev() {
        let next: Vec<f64> = unary[k + 1]
            .iter()
            .zip(&beta[k + 1])
            .map(|(u, b)| u * b / scale[k + 1])
            .collect();
        beta[k] = match &pair[k + 1] {
            Some(p) => (0..cards[k])
                .map(|i| {
                    let row = &p[i * cards[k + 1]..(i + 1) * cards[k + 1]];
                    row.iter().zip(&next).map(|(r, x)| r * x).sum()
                })
                .collect(),
            None => vec![next.iter().sum(); cards[k]],
        };
    }
    let beliefs = g
        .factors
        .iter()
        .map(|f| match f.scope.as_slice() {
            [] => vec![1.0],
            [v] => {
                let k = *v as usize;
                alpha[k].iter().zip(&beta[k]).map(|(a, b)| a * b).collect()
            }
            [_, b] => {
                let k = *b as usize;
                let p = pair[k]
                    .as_ref()
                    .expect("a pair factor makes a pair potential");
                // xi(i, j) = alpha[k-1](i) p(i, j) w(j), with w = u_k beta_k / scale_k.
                let w: Vec<f64> = unary[k]
                    .iter()
                    .zip(&beta[k])
                    .map(|(u, b)| u * b / scale[k])
                    .collect();
                let mut xi = vec![0.0; cards[k - 1] * cards[k]];
                for ((row_out, row_p), a) in xi
                    .chunks_exact_mut(cards[k])
                    .zip(p.chunks_exact(cards[k]))
                    .zip(&alpha[k - 1])
                {
                    for ((x, pij), wj) in row_out.iter_mut().zip(row_p).zip(&w) {
                        *x = a * pij * wj;
                    }
                }
                xi
            }
            _ => unreachable!("applies() admits at most two variables"),
        })
        .collect();
    Posterior { log_z, beliefs }
}

fn zero(g: &InstanceGraph, log_z: f64) -> Posterior {
    Posterior {
        log_z: if log_z.is_nan() {
            f64::NEG_INFINITY
        } else {
            log_z
        },
        beliefs: g
            .factors
            .iter()
            .map(|f| vec![0.0; f.entries.len()])
            .collect(),
    }
}

pub fn map(g: &InstanceGraph, theta: &[f64]) -> (Vec<u32>, f64) {
    let pots = potentials(g, theta);
    let cards = g.cards();
    let n = cards.len();
    if n == 0 {
        return (Vec::new(), pots.constant);
    }
    let mut delta = pots.unary[0].clone();
    let mut back: Vec<Vec<usize>> = vec![Vec::new(); n];
    for k in 1..n {
        let mut next = vec![f64::NEG_INFINITY; cards[k]];
        let mut bp = vec![0usize; cards[k]];
        for (j, nj) in next.iter_mut().enumerate() {
            for (i, di) in delta.iter().enumerate() {
                let edge = pots.pair[k].as_ref().map_or(0.0, |p| p[i * cards[k] + j]);
                let s = di + edge;
                if s > *nj {
                    *nj = s;
                    bp[j] = i;
                }
            }
            *nj += pots.unary[k][j];
        }
        delta = next;
        back[k] = bp;
    }
    let last = argmax(&delta);
    let score = delta[last] + pots.constant;
    let mut assign = vec![0u32; n];
    assign[n - 1] = last as u32;
    for k in (1..n).rev() {
        assign[k - 1] = back[k][assign[k] as usize] as u32;
    }
    (assign, score)
}
