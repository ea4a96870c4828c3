//! The best derivation of each line, as text. A story with `output` statements prints what
//! they record: a bracketed tree of its constituents (`output (x words[i..k])`), and each
//! array it sets (`output head[m] = h + 1`: CoNLL-style heads), tree first, arrays in order
//! of first use, joined by ` ||| `. Without them the convention is the hidden values a
//! derivation draws, space-separated, in story order (a call's values before a call it
//! makes come before that call's values, the ones after it after them); a story that draws
//! spans (`chars[i..j] ~ word`) prints only its spans, which is the segmented line.

use super::{execute_line, Label, Printed};
use crate::data::{Dataset, FieldValue, Instance};
use crate::error::Error;
use crate::hypergraph::inside::viterbi as best;
use crate::hypergraph::Hypergraph;
use crate::infer::InferError;
use crate::model::{Model, Stmt};
use crate::params::Params;
use crate::program::Program;

/// One line per data line: its best derivation's values.
pub fn viterbi(program: &Program, data: &Dataset, params: &Params) -> Result<Vec<String>, Error> {
    let outputs = has_output(&program.model);
    data.instances
        .iter()
        .map(|inst| {
            let lg = execute_line(program, inst, true)?;
            let g = &lg.graph;
            let (_, order) = best(g, &lg.log_weights(&params.theta))
                .ok_or(InferError::ZeroProbability { line: inst.line })?;
            let labels = lg.labels.unwrap_or_default();
            let mut drawn = walk(g, &order, &labels);
            if outputs {
                return Ok(printed(program, inst, &drawn));
            }
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

/// Whether any statement of the story or its procedures is an `output`.
fn has_output(model: &Model) -> bool {
    let mut stack: Vec<&Stmt> = model.story.iter().collect();
    stack.extend(model.procs.iter().flat_map(|p| p.body.iter()));
    while let Some(s) = stack.pop() {
        match s {
            Stmt::Output { .. } => return true,
            Stmt::For { body, .. } | Stmt::Some { body, .. } => stack.extend(body),
            Stmt::If {
                then, otherwise, ..
            } => stack.extend(then.iter().chain(otherwise)),
            _ => {}
        }
    }
    false
}

/// What a derivation's `output` statements recorded, as one line.
pub(super) fn printed(program: &Program, inst: &Instance, labels: &[Label]) -> String {
    let mut parts = Vec::new();
    let brackets: Vec<(&str, usize, i64, i64)> = labels
        .iter()
        .filter_map(|l| match &l.output {
            Some(Printed::Bracket {
                label,
                field,
                lo,
                hi,
            }) => Some((label.as_str(), *field, *lo, *hi)),
            _ => None,
        })
        .collect();
    if let Some(&(_, field, _, _)) = brackets.first() {
        let words = field_words(program, inst, field);
        let mine: Vec<(&str, i64, i64)> = brackets
            .iter()
            .filter(|b| b.1 == field)
            .map(|b| (b.0, b.2, b.3))
            .collect();
        parts.push(tree(&words, &mine));
    }
    let mut arrays: Vec<(&str, Vec<Option<&str>>)> = Vec::new();
    for l in labels {
        let Some(Printed::At { name, index, value }) = &l.output else {
            continue;
        };
        let Ok(i) = usize::try_from(*index) else {
            continue;
        };
        let k = match arrays.iter().position(|(n, _)| n == name) {
            Some(k) => k,
            None => {
                arrays.push((name.as_str(), Vec::new()));
                arrays.len() - 1
            }
        };
        let a = &mut arrays[k].1;
        if a.len() <= i {
            a.resize(i + 1, None);
        }
        a[i] = Some(value.as_str());
    }
    for (_, a) in arrays {
        let cells: Vec<&str> = a.iter().map(|v| v.unwrap_or("_")).collect();
        parts.push(cells.join(" "));
    }
    parts.join(" ||| ")
}

/// The symbols of a sequence field on a line (`?` where it is missing).
fn field_words(program: &Program, inst: &Instance, field: usize) -> Vec<String> {
    let d = program.model.fields[field].domain;
    match &inst.values[field] {
        FieldValue::Sequence(s) => s
            .iter()
            .map(|x| x.map_or_else(|| "?".to_string(), |x| program.domains.name(d, x).into()))
            .collect(),
        _ => Vec::new(),
    }
}

/// `words` with the constituents `(label, lo, hi)` as a bracketed tree: `(S (A a) (B b))`.
/// Constituents open in order of start, the longer first, and close where they end; words
/// outside every constituent stand bare.
pub(super) fn tree(words: &[String], brackets: &[(&str, i64, i64)]) -> String {
    let mut sorted: Vec<(usize, &(&str, i64, i64))> = brackets
        .iter()
        .enumerate()
        .filter(|(_, b)| b.1 < b.2)
        .collect();
    sorted.sort_by_key(|(k, b)| (b.1, std::cmp::Reverse(b.2), *k));
    let mut pieces: Vec<String> = Vec::new();
    let mut open: Vec<i64> = Vec::new();
    let mut next = sorted.iter().peekable();
    for (p, w) in words.iter().enumerate() {
        let p = p as i64;
        while let Some((_, b)) = next.next_if(|(_, b)| b.1 <= p) {
            pieces.push(format!("({}", b.0));
            open.push(b.2);
        }
        pieces.push(w.clone());
        while open.last().is_some_and(|hi| *hi <= p + 1) {
            open.pop();
            if let Some(last) = pieces.last_mut() {
                last.push(')');
            }
        }
    }
    // Constituents past the line's end (none in a derivation over the words) still close.
    for _ in open {
        if let Some(last) = pieces.last_mut() {
            last.push(')');
        }
    }
    pieces.join(" ")
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

#[cfg(test)]
mod tests {
    use super::tree;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn brackets_nest_by_span() {
        let w = words("a b c");
        let t = tree(
            &w,
            &[
                ("B", 1, 3),
                ("S", 0, 3),
                ("A", 0, 1),
                ("C", 1, 2),
                ("D", 2, 3),
            ],
        );
        assert_eq!(t, "(S (A a) (B (C b) (D c)))");
        // Unary chains open outermost first (the order given breaks the tie).
        assert_eq!(tree(&words("a"), &[("S", 0, 1), ("A", 0, 1)]), "(S (A a))");
        // Words outside every constituent stand bare; empty spans are ignored.
        assert_eq!(tree(&w, &[("X", 1, 2), ("E", 2, 2)]), "a (X b) c");
    }
}
