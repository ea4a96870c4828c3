//! The best derivation of each line, as text. The convention: the hidden values a
//! derivation draws, space-separated, in story order (a call's values before a call it
//! makes come before that call's values, the ones after it after them); a story that draws
//! spans (`chars[i..j] ~ word`) prints only its spans, which is the segmented line.

use super::{execute, Budget, Label};
use crate::data::Dataset;
use crate::error::Error;
use crate::hypergraph::inside::viterbi as best;
use crate::hypergraph::Hypergraph;
use crate::infer::InferError;
use crate::params::Params;
use crate::program::Program;

/// One line per data line: its best derivation's values.
pub fn viterbi(program: &Program, data: &Dataset, params: &Params) -> Result<Vec<String>, Error> {
    data.instances
        .iter()
        .map(|inst| {
            let lg = execute(
                &program.model,
                &program.domains,
                &program.layout,
                inst,
                Budget::default(),
                true,
            )?;
            let g = &lg.graph;
            let (_, order) = best(g, &lg.log_weights(&params.theta))
                .ok_or(InferError::ZeroProbability { line: inst.line })?;
            let labels = lg.labels.unwrap_or_default();
            let mut drawn = walk(g, &order, &labels);
            // A segmentation prints its words: the spans, without the hidden values.
            if drawn.iter().any(|l| l.span) {
                drawn.retain(|l| l.span);
            }
            // An alignment (every value a position drawn within the line, one per word of
            // the other side) prints `e-f` links: position p of the k-th word is `p-k`, both
            // 1-based; 0 is NULL and links nothing.
            if !drawn.is_empty() && drawn.iter().all(|l| l.position) {
                let links: Vec<String> = drawn
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| l.text != "0")
                    .map(|(k, l)| format!("{}-{}", l.text, k + 1))
                    .collect();
                return Ok(links.join(" "));
            }
            let words: Vec<String> = drawn.into_iter().map(|l| l.text).collect();
            Ok(words.join(" "))
        })
        .collect()
}

/// The labels of a derivation in story order. `order` is the derivation's hyperedges in
/// pre-order (each hyperedge, then its tails' derivations left to right), so walking it
/// with a stack of (hyperedge, tails visited) puts each label between the right tails.
pub(super) fn walk(g: &Hypergraph, order: &[usize], labels: &[Vec<Label>]) -> Vec<Label> {
    let mut out = Vec::new();
    let emit = |e: usize, after: usize, out: &mut Vec<Label>| {
        out.extend(labels[e].iter().filter(|l| l.after == after).cloned());
    };
    let Some(&root) = order.first() else {
        return out;
    };
    emit(root, 0, &mut out);
    let mut next = 1;
    let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
    while let Some(top) = stack.last_mut() {
        let (e, done) = *top;
        if done < g.tails(e).len() {
            top.1 += 1;
            let child = order[next];
            next += 1;
            emit(child, 0, &mut out);
            stack.push((child, 0));
        } else {
            stack.pop();
            if let Some(&(parent, done)) = stack.last() {
                emit(parent, done, &mut out);
            }
        }
    }
    out
}
