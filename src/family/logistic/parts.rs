//! The independent parts of a Logistic family's M-step. When the features are conjoined with
//! the condition (the featurised HMM's emissions: each state's weights are its own), rows in
//! different parts share no weight, and the objective is a sum of problems with nothing in
//! common. Each is minimised on its own: its L-BFGS vectors are one part's weights (a state's
//! 27k on EWT, near the caches, where the whole problem's 1.3M make every pass of the
//! two-loop recursion a trip to memory), its line search takes its own steps, and it stops
//! when it is done instead of taking the steps the slowest part needs.

use std::collections::HashMap;

use crate::features::{Block, FeatureIndex};

/// Fewer parts than this and the family is fitted whole: a few large parts would each run
/// their rows on one thread, where the whole problem scores its rows in parallel. A constant,
/// not the number of threads, so that the choice (and the bits) are the same on any pool.
pub(super) const MIN_PARTS: usize = 8;

/// Rows that share weights only among themselves, and those weights.
#[derive(Default)]
pub(super) struct Part {
    /// Condition rows, ascending.
    pub rows: Vec<u32>,
    /// The part's blocks in weight order: the part's vector is their weights end to end.
    pub blocks: Vec<PartBlock>,
    /// Per row (in `rows`' order) and template: where the row's weights of that template
    /// start in the part's vector (`FeatureIndex::scores_at`).
    pub bases: Vec<usize>,
    /// Weights in the part.
    pub len: usize,
}

pub(super) struct PartBlock {
    /// Index into the family's blocks.
    pub block: usize,
    /// Where the block starts in the part's vector.
    pub start: usize,
    /// The block's rows as indices into the part's `rows`.
    pub rows: Vec<u32>,
}

/// The parts of `n_cond` rows that `blocks` (the family's, in weight order) connect, in
/// order of their first row; blocks that no row reads (only the penalty holds them) make a
/// part of their own, last.
pub(super) fn parts(features: &FeatureIndex, blocks: &[Block], n_cond: usize) -> Vec<Part> {
    let mut parent: Vec<u32> = (0..n_cond as u32).collect();
    for block in blocks {
        if let Some((first, rest)) = block.rows.split_first() {
            for r in rest {
                union(&mut parent, *first, *r);
            }
        }
    }
    let mut index_of_root = HashMap::new();
    let mut parts: Vec<Part> = Vec::new();
    let mut part_of_row = vec![0u32; n_cond];
    for c in 0..n_cond as u32 {
        let root = find(&mut parent, c);
        let p = *index_of_root.entry(root).or_insert_with(|| {
            parts.push(Part::default());
            parts.len() - 1
        });
        part_of_row[c as usize] = p as u32;
        parts[p].rows.push(c);
    }
    let mut unread = None;
    for (b, block) in blocks.iter().enumerate() {
        let p = match block.rows.first() {
            Some(c) => part_of_row[*c as usize] as usize,
            None => *unread.get_or_insert_with(|| {
                parts.push(Part::default());
                parts.len() - 1
            }),
        };
        let part = &mut parts[p];
        // Rows and a part's `rows` are both ascending, so one merge finds their positions.
        let mut local = Vec::with_capacity(block.rows.len());
        let mut at = 0;
        for c in &block.rows {
            at += part.rows[at..].partition_point(|r| r < c);
            local.push(at as u32);
        }
        part.blocks.push(PartBlock {
            block: b,
            start: part.len,
            rows: local,
        });
        part.len += block.len;
    }
    let templates = features.templates();
    for part in &mut parts {
        let start_of: HashMap<usize, usize> = part
            .blocks
            .iter()
            .map(|pb| (blocks[pb.block].first, pb.start))
            .collect();
        part.bases = part
            .rows
            .iter()
            .flat_map(|c| (0..templates).map(move |t| (t, *c as usize)))
            .map(|(t, c)| start_of[&features.base(t, c)])
            .collect();
    }
    parts
}

/// Copies the part's weights out of the family's (`blocks` are the family's).
pub(super) fn gather(part: &Part, blocks: &[Block], w: &[f64]) -> Vec<f64> {
    let mut x = Vec::with_capacity(part.len);
    for pb in &part.blocks {
        let b = &blocks[pb.block];
        x.extend_from_slice(&w[b.first..b.first + b.len]);
    }
    x
}

/// Writes the part's weights `x` back into the family's.
pub(super) fn scatter(part: &Part, blocks: &[Block], x: &[f64], w: &mut [f64]) {
    for pb in &part.blocks {
        let b = &blocks[pb.block];
        w[b.first..b.first + b.len].copy_from_slice(&x[pb.start..pb.start + b.len]);
    }
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let up = parent[parent[x as usize] as usize];
        parent[x as usize] = up;
        x = up;
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (a, b) = (find(parent, a), find(parent, b));
    // The smaller root wins, so a part's root is its first row whatever the order of unions.
    let (lo, hi) = (a.min(b), a.max(b));
    parent[hi as usize] = lo;
}
