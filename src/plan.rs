//! The inference plan: which exact engine a model's instances need, why, and what it costs.
//! The structure is read off an unrolled instance (the probe instance when there is no data):
//! factors over single variables mean enumeration, factors over consecutive pairs a chain,
//! anything else a junction tree whose cliques come from a min-fill elimination order.

use std::collections::BTreeSet;

use crate::graph::{InstanceGraph, VarId};
use crate::infer::{Engine, MAX_CLIQUE_STATES};

/// A clique of the junction tree, made when its `owner` variable was eliminated.
#[derive(Clone, Debug, PartialEq)]
pub struct Clique {
    /// Sorted.
    pub vars: Vec<VarId>,
    pub owner: VarId,
    /// The clique of the first-eliminated variable among `vars` other than `owner`.
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub states: usize,
}

/// Cliques indexed by elimination step: children always come before their parents.
#[derive(Clone, Debug, PartialEq)]
pub struct JunctionTree {
    pub cliques: Vec<Clique>,
    /// For each factor, the clique it is multiplied into (`None` for constant factors).
    pub factor_clique: Vec<Option<usize>>,
}

impl JunctionTree {
    /// The clique with the most joint values.
    pub fn largest(&self) -> Option<&Clique> {
        self.cliques
            .iter()
            .max_by_key(|c| (c.states, std::cmp::Reverse(c.owner)))
    }
}

/// Builds the junction tree of an instance from a greedy min-fill elimination order (ties:
/// smaller clique, then smaller variable id, so the tree is the same on every run).
pub fn junction_tree(g: &InstanceGraph) -> JunctionTree {
    let n = g.vars.len();
    let cards = g.cards();
    let mut adj: Vec<BTreeSet<VarId>> = vec![BTreeSet::new(); n];
    for f in &g.factors {
        for a in &f.scope {
            for b in &f.scope {
                if a != b {
                    adj[*a as usize].insert(*b);
                }
            }
        }
    }
    let mut eliminated = vec![false; n];
    let mut step_of = vec![usize::MAX; n];
    let mut cliques: Vec<Clique> = Vec::with_capacity(n);
    for step in 0..n {
        let v = (0..n)
            .filter(|v| !eliminated[*v])
            .min_by_key(|v| (fill_in(&adj, *v), weight(&adj, &cards, *v), *v))
            .expect("a variable is left at every step");
        let neighbours: Vec<VarId> = adj[v].iter().copied().collect();
        for a in &neighbours {
            for b in &neighbours {
                if a != b {
                    adj[*a as usize].insert(*b);
                }
            }
            adj[*a as usize].remove(&(v as VarId));
        }
        let mut vars = neighbours;
        vars.push(v as VarId);
        vars.sort_unstable();
        let states = vars
            .iter()
            .try_fold(1usize, |a, x| a.checked_mul(cards[*x as usize]))
            .unwrap_or(usize::MAX);
        eliminated[v] = true;
        step_of[v] = step;
        cliques.push(Clique {
            vars,
            owner: v as VarId,
            parent: None,
            children: Vec::new(),
            states,
        });
    }
    for i in 0..cliques.len() {
        let owner = cliques[i].owner;
        let parent = cliques[i]
            .vars
            .iter()
            .filter(|v| **v != owner)
            .map(|v| step_of[*v as usize])
            .min();
        cliques[i].parent = parent;
        if let Some(p) = parent {
            cliques[p].children.push(i);
        }
    }
    let factor_clique = g
        .factors
        .iter()
        .map(|f| f.scope.iter().map(|v| step_of[*v as usize]).min())
        .collect();
    JunctionTree {
        cliques,
        factor_clique,
    }
}

fn fill_in(adj: &[BTreeSet<VarId>], v: usize) -> usize {
    let nb: Vec<&VarId> = adj[v].iter().collect();
    let mut fill = 0;
    for (i, a) in nb.iter().enumerate() {
        for b in &nb[i + 1..] {
            if !adj[**a as usize].contains(b) {
                fill += 1;
            }
        }
    }
    fill
}

fn weight(adj: &[BTreeSet<VarId>], cards: &[usize], v: usize) -> usize {
    adj[v]
        .iter()
        .fold(cards[v], |a, x| a.saturating_mul(cards[*x as usize]))
}

/// What the compiler chose for a model, and the figures `emc check` prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub engine: Engine,
    pub reason: String,
    /// Variables of the largest clique (names), and its joint values.
    pub largest_clique: Vec<String>,
    pub largest_states: usize,
    /// Multiply-adds of one E-step on the analysed instance, roughly.
    pub cost: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the model needs a clique over {vars} with {states} joint values, more than the limit of {limit}")]
pub struct IntractableError {
    pub vars: String,
    pub states: String,
    pub limit: usize,
}

/// Chooses the engine for instances shaped like `g`.
pub fn choose(g: &InstanceGraph) -> Result<Plan, IntractableError> {
    let cards = g.cards();
    let entries: usize = g.factors.iter().map(|f| f.entries.len()).sum();
    let widest = g.factors.iter().map(|f| f.scope.len()).max().unwrap_or(0);
    if widest <= 1 {
        let (name, card) = g
            .vars
            .iter()
            .map(|v| (v.name.clone(), v.card as usize))
            .max_by_key(|(_, c)| *c)
            .unwrap_or_default();
        return Ok(Plan {
            engine: Engine::Enumerate,
            reason: "every draw depends on at most one hidden variable, so each is summed out on its own".into(),
            largest_clique: if name.is_empty() { Vec::new() } else { vec![name] },
            largest_states: card.max(1),
            cost: entries,
        });
    }
    if crate::infer::chain_applies(g) {
        let widest_pair = g
            .factors
            .iter()
            .filter(|f| f.scope.len() == 2)
            .max_by_key(|f| f.entries.len())
            .map(|f| (f.scope.clone(), f.entries.len()))
            .unwrap_or_default();
        return Ok(Plan {
            engine: Engine::Chain,
            reason: "draws link only consecutive hidden variables of one chain, so forward-backward is exact".into(),
            largest_clique: widest_pair.0.iter().map(|v| g.vars[*v as usize].name.clone()).collect(),
            largest_states: widest_pair.1,
            cost: 2 * entries + cards.iter().sum::<usize>(),
        });
    }
    let jt = junction_tree(g);
    let largest = jt.largest().cloned().unwrap_or(Clique {
        vars: Vec::new(),
        owner: 0,
        parent: None,
        children: Vec::new(),
        states: 1,
    });
    let names: Vec<String> = largest
        .vars
        .iter()
        .map(|v| g.vars[*v as usize].name.clone())
        .collect();
    if largest.states > MAX_CLIQUE_STATES {
        return Err(IntractableError {
            vars: names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            states: if largest.states == usize::MAX {
                "more than 2^64".into()
            } else {
                largest.states.to_string()
            },
            limit: MAX_CLIQUE_STATES,
        });
    }
    let cost = jt
        .cliques
        .iter()
        .map(|c| c.states * (2 + c.children.len()))
        .sum::<usize>()
        + entries;
    Ok(Plan {
        engine: Engine::JunctionTree,
        reason: format!(
            "the draws form loops or couple more than two hidden variables; a min-fill elimination order gives {} cliques",
            jt.cliques.len()
        ),
        largest_clique: names,
        largest_states: largest.states,
        cost,
    })
}
