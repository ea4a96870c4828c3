//! Tagging metrics: induced cluster ids against gold tags, token by token.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use super::{sentence_lines, EvalError, Metric, Report, COMPLETENESS, HOMOGENEITY, TOKENS};

/// Token counts keyed by one label, then the other.
type Table<'a> = BTreeMap<&'a str, BTreeMap<&'a str, u64>>;

/// Co-occurrence counts of predicted and gold labels over aligned tokens.
///
/// Both orientations are kept so each conditional entropy is a plain walk
/// over one map. `BTreeMap`s make label order lexicographic, which gives the
/// many-to-one tie-break and reproducible results.
pub(super) struct Contingency<'a> {
    /// `by_pred[pred][gold]`: tokens labelled `gold` in gold and `pred` in pred.
    by_pred: Table<'a>,
    /// `by_gold[gold][pred]`: the same counts, transposed.
    by_gold: Table<'a>,
    total: u64,
}

impl<'a> Contingency<'a> {
    /// Builds the table, checking that lines and tokens correspond 1:1.
    pub(super) fn from_text(gold: &'a str, pred: &'a str) -> Result<Self, EvalError> {
        let gold_lines = sentence_lines(gold);
        let pred_lines = sentence_lines(pred);
        if gold_lines.len() != pred_lines.len() {
            return Err(EvalError::LineCountMismatch {
                gold: gold_lines.len(),
                pred: pred_lines.len(),
            });
        }
        let mut table = Contingency {
            by_pred: BTreeMap::new(),
            by_gold: BTreeMap::new(),
            total: 0,
        };
        for (index, (gold_line, pred_line)) in gold_lines.iter().zip(&pred_lines).enumerate() {
            let gold_tags: Vec<&str> = gold_line.split_whitespace().collect();
            let pred_tags: Vec<&str> = pred_line.split_whitespace().collect();
            if gold_tags.len() != pred_tags.len() {
                return Err(EvalError::TokenCountMismatch {
                    line: index + 1,
                    gold: gold_tags.len(),
                    pred: pred_tags.len(),
                });
            }
            for (gold_tag, pred_tag) in gold_tags.into_iter().zip(pred_tags) {
                table.add(gold_tag, pred_tag);
            }
        }
        if table.total == 0 {
            return Err(EvalError::EmptyInput("gold and pred contain no tokens"));
        }
        Ok(table)
    }

    fn add(&mut self, gold: &'a str, pred: &'a str) {
        *self
            .by_pred
            .entry(pred)
            .or_default()
            .entry(gold)
            .or_default() += 1;
        *self
            .by_gold
            .entry(gold)
            .or_default()
            .entry(pred)
            .or_default() += 1;
        self.total += 1;
    }

    fn accuracy_report(&self, metric: Metric, matched: u64) -> Report {
        let total = self.total as f64;
        Report::new(metric, matched as f64 / total, &[(TOKENS, total)])
    }

    /// Most frequent gold label (and its count) for each predicted label.
    /// Ties go to the lexicographically smallest gold label so the mapping
    /// is deterministic.
    pub(super) fn many_to_one_mapping(&self) -> BTreeMap<&'a str, (&'a str, u64)> {
        self.by_pred
            .iter()
            .filter_map(|(&pred, row)| {
                // `min_by_key` keeps the first of equal keys, i.e. the smallest label.
                let (&gold, &count) = row.iter().min_by_key(|&(_, &count)| Reverse(count))?;
                Some((pred, (gold, count)))
            })
            .collect()
    }

    pub(super) fn many_to_one(&self) -> Report {
        let matched = self
            .many_to_one_mapping()
            .values()
            .map(|&(_, count)| count)
            .sum();
        self.accuracy_report(Metric::ManyToOne, matched)
    }

    pub(super) fn one_to_one(&self) -> Report {
        let weights: Vec<Vec<u64>> = self
            .by_pred
            .values()
            .map(|row| {
                self.by_gold
                    .keys()
                    .map(|gold| row.get(gold).copied().unwrap_or(0))
                    .collect()
            })
            .collect();
        self.accuracy_report(Metric::OneToOne, max_weight_matching(&weights))
    }

    /// V-measure with C = gold classes and K = predicted clusters. Entropies
    /// are in nats; the base cancels in every ratio.
    pub(super) fn v_measure(&self) -> Report {
        let total = self.total as f64;
        let homogeneity = normalised_information(
            conditional_entropy(&self.by_pred, total),
            marginal_entropy(&self.by_gold, total),
        );
        let completeness = normalised_information(
            conditional_entropy(&self.by_gold, total),
            marginal_entropy(&self.by_pred, total),
        );
        let sum = homogeneity + completeness;
        let v = if sum > 0.0 {
            2.0 * homogeneity * completeness / sum
        } else {
            0.0
        };
        Report::new(
            Metric::VMeasure,
            v,
            &[
                (HOMOGENEITY, homogeneity),
                (COMPLETENESS, completeness),
                (TOKENS, total),
            ],
        )
    }
}

/// Entropy H(X) of the label keying `table`'s outer map.
fn marginal_entropy(table: &Table<'_>, total: f64) -> f64 {
    table
        .values()
        .map(|group| {
            let n = group.values().sum::<u64>() as f64;
            n / total * (total / n).ln()
        })
        .sum()
}

/// Conditional entropy H(Y|X) for `table[x][y]`: each group is one value of
/// the condition X. A pure group contributes exactly 0 (ln 1).
fn conditional_entropy(table: &Table<'_>, total: f64) -> f64 {
    table
        .values()
        .map(|group| {
            let group_total = group.values().sum::<u64>() as f64;
            group
                .values()
                .map(|&count| {
                    let count = count as f64;
                    count / total * (group_total / count).ln()
                })
                .sum::<f64>()
        })
        .sum()
}

/// `1 - H(·|·)/H(·)`, defined as 1 when the marginal entropy is 0 (a single
/// class or cluster leaves nothing to explain), per Rosenberg & Hirschberg.
fn normalised_information(conditional: f64, marginal: f64) -> f64 {
    if marginal > 0.0 {
        1.0 - conditional / marginal
    } else {
        1.0
    }
}

/// The largest total weight of a matching that pairs each row with at most
/// one column and vice versa. The rectangular matrix is padded with zero
/// weights to a square one, so padded pairs mean "unmatched".
pub(super) fn max_weight_matching(weights: &[Vec<u64>]) -> u64 {
    let columns = weights.iter().map(Vec::len).max().unwrap_or(0);
    let size = weights.len().max(columns);
    let weight = |row: usize, column: usize| {
        weights
            .get(row)
            .and_then(|r| r.get(column))
            .copied()
            .unwrap_or(0)
    };
    // Maximising weight is minimising its negation. Counts come from a
    // `&str`, so they are far below i64::MAX.
    let cost: Vec<Vec<i64>> = (0..size)
        .map(|row| {
            (0..size)
                .map(|column| -(weight(row, column) as i64))
                .collect()
        })
        .collect();
    min_cost_assignment(&cost)
        .into_iter()
        .enumerate()
        .map(|(row, column)| weight(row, column))
        .sum()
}

/// Hungarian algorithm (Kuhn–Munkres with potentials), O(n³) for an n×n
/// `cost` matrix. Returns, for each row, the column assigned to it in a
/// minimum-cost perfect assignment.
///
/// Rows and columns are 1-based internally; index 0 is a virtual column
/// holding the row currently being inserted.
pub(super) fn min_cost_assignment(cost: &[Vec<i64>]) -> Vec<usize> {
    const INFINITY: i64 = i64::MAX / 4;
    let n = cost.len();
    let mut row_potential = vec![0i64; n + 1];
    let mut column_potential = vec![0i64; n + 1];
    // `row_of[j]`: row assigned to column j (0 = none).
    let mut row_of = vec![0usize; n + 1];
    // `previous[j]`: column before j on the shortest augmenting path.
    let mut previous = vec![0usize; n + 1];
    for row in 1..=n {
        row_of[0] = row;
        let mut column = 0;
        let mut min_slack = vec![INFINITY; n + 1];
        let mut visited = vec![false; n + 1];
        // Grow a shortest-path tree until it reaches a free column.
        loop {
            visited[column] = true;
            let current_row = row_of[column];
            let mut delta = INFINITY;
            let mut next_column = 0;
            for j in 1..=n {
                if visited[j] {
                    continue;
                }
                let slack =
                    cost[current_row - 1][j - 1] - row_potential[current_row] - column_potential[j];
                if slack < min_slack[j] {
                    min_slack[j] = slack;
                    previous[j] = column;
                }
                if min_slack[j] < delta {
                    delta = min_slack[j];
                    next_column = j;
                }
            }
            for j in 0..=n {
                if visited[j] {
                    row_potential[row_of[j]] += delta;
                    column_potential[j] -= delta;
                } else {
                    min_slack[j] -= delta;
                }
            }
            column = next_column;
            if row_of[column] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to the virtual column.
        while column != 0 {
            let before = previous[column];
            row_of[column] = row_of[before];
            column = before;
        }
    }
    let mut column_of = vec![0usize; n];
    for column in 1..=n {
        column_of[row_of[column] - 1] = column - 1;
    }
    column_of
}
