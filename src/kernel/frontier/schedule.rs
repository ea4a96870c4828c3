//! One instance as a schedule of steps over a frontier of hidden variables. The variables
//! enter in the order the story draws them; each factor is multiplied in when its last
//! variable enters, and a variable leaves (is summed out) once every factor over it is in.
//! For the models the junction-tree plan serves on chains (trigram HMMs, mixtures of HMMs,
//! factorial HMMs) the frontier is the junction tree's separator, and the step that adds a
//! position is a contraction: `sum_u F[.., u, ..] T[s, u, v]`, a matrix product per value of
//! the shared variables `s`. The schedule depends on the instance's structure only, so every
//! instance of one length shares it.

use crate::graph::{Entry, InstanceGraph};
use crate::infer::MAX_CLIQUE_STATES;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    /// A new axis `v` appended: `out[x, v] = in[x]`.
    Broadcast,
    /// Axis `axis` (`u`) summed out against a table over (`s_axes`, u, v), with `v` appended.
    Contract,
    /// Axis `axis` summed out.
    SumOut,
}

/// A step, by structure alone: the same for every instance of the same shape. Unary factors
/// (those without the summed variable) multiply the step's output; the table factors of a
/// contraction form its table, which a batch shares.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct StepSpec {
    pub kind: Kind,
    /// The input frontier's variables' sizes, in axis order.
    pub in_cards: Vec<u32>,
    /// `Contract` and `SumOut`: the input axis summed out.
    pub axis: u32,
    /// `Contract` and `Broadcast`: the size of the variable appended as the last axis.
    pub v_card: u32,
    /// `Contract`: the input axes other than `axis` that the table reads, in axis order.
    pub s_axes: Vec<u32>,
    /// `Contract`: per table factor, the axis of the table (`s_axes`, then u, then v) of
    /// each variable of its scope.
    pub t_factors: Vec<Vec<u32>>,
    /// Per unary factor, the output axis of each variable of its scope.
    pub u_factors: Vec<Vec<u32>>,
    /// `Contract`: whether the table is one factor, the draw of `v` (a conditional
    /// distribution of `v`: every row's largest entry is at least `1 / v_card`).
    pub draws_v: bool,
}

impl StepSpec {
    pub fn out_cards(&self) -> Vec<u32> {
        let mut out = self.in_cards.clone();
        if self.kind != Kind::Broadcast {
            out.remove(self.axis as usize);
        }
        if self.kind != Kind::SumOut {
            out.push(self.v_card);
        }
        out
    }

    /// The table's dimensions: the shared axes' sizes, then u's, then v's.
    pub fn t_dims(&self) -> Vec<u32> {
        let mut dims: Vec<u32> = (self.s_axes.iter())
            .map(|a| self.in_cards[*a as usize])
            .collect();
        dims.extend([self.in_cards[self.axis as usize], self.v_card]);
        dims
    }
}

/// An instance compiled: its steps, and the factor tables they read.
pub struct Scheduled {
    pub steps: Vec<StepSpec>,
    /// Per step, its unary factors then its table factors (indices into the graph's
    /// factors), in the spec's order.
    pub factors: Vec<usize>,
    /// The entries of factors over no hidden variable.
    pub constants: Vec<Entry>,
}

/// Joint values a line's sweep may keep over all its steps: a batch of 4 such lines holds
/// 512 MiB. A longer line is left to the interpreted path, which holds one line at a time.
const MAX_TAPE: usize = 1 << 24;

/// Why an instance does not fit: a Gaussian density (its values are not a table), a
/// frontier larger than a junction tree's clique may be, or a sweep longer than `MAX_TAPE`.
#[derive(Debug)]
pub struct Unfit;

pub fn schedule(g: &InstanceGraph) -> Result<Scheduled, Unfit> {
    let fs = &g.factors;
    if fs
        .iter()
        .any(|f| f.entries.iter().any(|e| matches!(e, Entry::Density { .. })))
    {
        return Err(Unfit);
    }
    let n = g.vars.len();
    let cards: Vec<u32> = g.vars.iter().map(|v| v.card).collect();
    // A variable enters where the story draws it (or, if nothing draws it, at its first use).
    let mut key = vec![usize::MAX; n];
    for (i, f) in fs.iter().enumerate() {
        for v in &f.scope {
            key[*v as usize] = key[*v as usize].min(i);
        }
    }
    for (i, f) in fs.iter().enumerate() {
        if let Some(t) = f.target {
            key[t as usize] = i;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|v| (key[*v], *v));
    let mut rank = vec![0; n];
    for (r, v) in order.iter().enumerate() {
        rank[*v] = r;
    }
    let mut newly: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut remaining = vec![0usize; n];
    let mut constants = Vec::new();
    for (i, f) in fs.iter().enumerate() {
        match f.scope.iter().max_by_key(|v| rank[**v as usize]) {
            Some(last) => newly[*last as usize].push(i),
            None => constants.push(f.entries[0]),
        }
        for v in &f.scope {
            remaining[*v as usize] += 1;
        }
    }
    let mut frontier: Vec<usize> = Vec::new();
    let mut steps = Vec::new();
    let mut tape = 0usize;
    let mut factors = Vec::new();
    let axes_in = |vars: &[usize], scope: &[u32]| -> Vec<u32> {
        (scope.iter())
            .map(|w| vars.iter().position(|x| *x == *w as usize).unwrap() as u32)
            .collect()
    };
    for &v in &order {
        for f in &newly[v] {
            for w in &fs[*f].scope {
                remaining[*w as usize] -= 1;
            }
        }
        let in_cards: Vec<u32> = frontier.iter().map(|w| cards[*w]).collect();
        let done: Vec<usize> = (frontier.iter().copied())
            .filter(|w| remaining[*w] == 0)
            .collect();
        let size: usize = in_cards.iter().map(|c| *c as usize).product();
        let step = size.saturating_mul(cards[v] as usize);
        // The sweep keeps every step's output, for at least 4 lines at once.
        tape = tape.saturating_add(step);
        if step > MAX_CLIQUE_STATES || tape > MAX_TAPE {
            return Err(Unfit);
        }
        // Of the variables that may leave now, the contraction sums out the one whose table
        // takes the fewest of the new factors (the others multiply the output, lane by
        // lane), then the largest (the smallest output); the rest leave right after, summed
        // out. Taking the first instead summed out a mixture of HMMs' component at the last
        // position, whose table then held the last word's emission: lines were batched by
        // their last word, 12 lanes a batch instead of 64 (W7 twice as slow).
        let table_factors = |u: usize| {
            (newly[v].iter())
                .filter(|f| fs[**f].scope.contains(&(u as u32)))
                .count()
        };
        let leaving = (done.iter().enumerate())
            .min_by_key(|(i, w)| (table_factors(**w), std::cmp::Reverse(cards[**w]), *i))
            .map(|(_, w)| w);
        let spec = match leaving {
            Some(&u) => {
                let (t, un): (Vec<usize>, Vec<usize>) =
                    (newly[v].iter()).partition(|f| fs[**f].scope.contains(&(u as u32)));
                let s: Vec<usize> = (frontier.iter().copied())
                    .filter(|w| *w != u && t.iter().any(|f| fs[*f].scope.contains(&(*w as u32))))
                    .collect();
                let mut dims = s.clone();
                dims.extend([u, v]);
                let mut out = frontier.clone();
                out.retain(|w| *w != u);
                out.push(v);
                let spec = StepSpec {
                    draws_v: matches!(t[..], [f] if fs[f].target == Some(v as u32)),
                    kind: Kind::Contract,
                    axis: frontier.iter().position(|w| *w == u).unwrap() as u32,
                    v_card: cards[v],
                    s_axes: (s.iter())
                        .map(|w| frontier.iter().position(|x| x == w).unwrap() as u32)
                        .collect(),
                    t_factors: t.iter().map(|f| axes_in(&dims, &fs[*f].scope)).collect(),
                    u_factors: un.iter().map(|f| axes_in(&out, &fs[*f].scope)).collect(),
                    in_cards,
                };
                factors.extend(un.iter().chain(&t));
                frontier = out;
                spec
            }
            None => {
                frontier.push(v);
                factors.extend(&newly[v]);
                StepSpec {
                    draws_v: false,
                    kind: Kind::Broadcast,
                    axis: 0,
                    v_card: cards[v],
                    s_axes: Vec::new(),
                    t_factors: Vec::new(),
                    u_factors: (newly[v].iter())
                        .map(|f| axes_in(&frontier, &fs[*f].scope))
                        .collect(),
                    in_cards,
                }
            }
        };
        steps.push(spec);
        // Whatever else is complete now leaves, the last axes first.
        let mut i = frontier.len();
        while i > 0 {
            i -= 1;
            if remaining[frontier[i]] == 0 {
                steps.push(StepSpec {
                    draws_v: false,
                    kind: Kind::SumOut,
                    in_cards: frontier.iter().map(|w| cards[*w]).collect(),
                    axis: i as u32,
                    v_card: 0,
                    s_axes: Vec::new(),
                    t_factors: Vec::new(),
                    u_factors: Vec::new(),
                });
                frontier.remove(i);
            }
        }
    }
    debug_assert!(
        frontier.is_empty(),
        "every variable leaves once its factors are in"
    );
    Ok(Scheduled {
        steps,
        factors,
        constants,
    })
}

#[cfg(test)]
mod tests {
    use super::{schedule, Kind};
    use crate::graph::TableCache;

    /// A mixture of HMMs: every contraction's table is the transition alone, the same for
    /// every line, so that lines batch by their length only. The emissions, which differ
    /// line by line, multiply the steps' outputs.
    #[test]
    fn a_mixture_of_hmms_contracts_against_its_transitions_alone() {
        let source = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/hmm_mixture.em"),
        )
        .expect("the zoo model");
        let model = crate::pipeline::front_end(&source, &[]).expect("checks");
        let (program, data) =
            crate::pipeline::program(model, "a b c a\nb b\n", None).expect("compiles");
        for inst in &data.instances {
            let g = program
                .unroll(inst, &mut TableCache::default())
                .expect("unrolls");
            let s = schedule(&g).expect("fits");
            let contractions: Vec<_> = (s.steps.iter())
                .filter(|st| st.kind == Kind::Contract)
                .collect();
            assert_eq!(contractions.len(), inst_len(inst) - 1);
            for st in contractions {
                // trans(m, z[i-1], z[i]): the shared component, then u, then v.
                assert_eq!(st.t_factors, [vec![0, 1, 2]], "{st:?}");
                assert!(st.draws_v, "the table is z[i]'s draw alone: {st:?}");
                assert_eq!(st.u_factors.len(), 1, "the emission: {st:?}");
            }
        }
    }

    fn inst_len(inst: &crate::data::Instance) -> usize {
        match &inst.values[0] {
            crate::data::FieldValue::Sequence(s) => s.len(),
            _ => unreachable!("the mixture's one field is a sequence"),
        }
    }
}
