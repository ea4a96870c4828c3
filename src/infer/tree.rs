//! The junction tree of an instance: cliques from a greedy min-fill elimination order. The
//! junction-tree engine runs on it, and the plan reads its largest clique to say what an
//! instance costs; it lives here, below the plan, so that the plan depends on the engines and
//! not the reverse.

use std::collections::BTreeSet;

use crate::graph::{InstanceGraph, VarId};

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
