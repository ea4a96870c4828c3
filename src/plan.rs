//! The inference plan: which exact engine a model's instances need, why, and what it costs.
//! The structure is read off an unrolled instance (the probe instance when there is no data):
//! factors over single variables mean enumeration, factors over consecutive pairs a chain,
//! anything else a junction tree whose cliques come from a min-fill elimination order.

use crate::graph::InstanceGraph;
use crate::infer::{junction_tree, Clique, Engine, MAX_CLIQUE_STATES};

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

/// The least general engine whose structure fits `g`: what `choose` picks, before any cost.
pub fn structure(g: &InstanceGraph) -> Engine {
    let widest = g.factors.iter().map(|f| f.scope.len()).max().unwrap_or(0);
    if widest <= 1 {
        Engine::Enumerate
    } else if crate::infer::chain_applies(g) {
        Engine::Chain
    } else {
        Engine::JunctionTree
    }
}

/// Chooses the engine for instances shaped like `g`.
pub fn choose(g: &InstanceGraph) -> Result<Plan, IntractableError> {
    let cards = g.cards();
    let entries: usize = g.factors.iter().map(|f| f.entries.len()).sum();
    let engine = structure(g);
    if engine == Engine::Enumerate {
        let (name, card) = g
            .vars
            .iter()
            .map(|v| (v.name.to_string(), v.card as usize))
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
    if engine == Engine::Chain {
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
            largest_clique: widest_pair.0.iter().map(|v| g.vars[*v as usize].name.to_string()).collect(),
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
        .map(|v| g.vars[*v as usize].name.to_string())
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
