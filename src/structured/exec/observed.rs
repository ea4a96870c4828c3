//! The generative contract on every derivation: each data value the story draws is drawn
//! exactly once. A line's hypergraph shares calls between derivations, so the check is on
//! calls: every branch of a call must draw the same data values (else some derivation
//! through it draws a value twice or never), a branch's own draws and its callees' must not
//! overlap, and the model block's must be all of them. The values a call draws are a few
//! ranges of value numbers (`Exec::observed`), one for a call over a span.

use super::{Exec, Val};
use crate::data::{FieldValue, Instance};
use crate::graph::{UnrollError, UnrollErrorKind};
use crate::model::{Expr, ExprKind, FieldKind, Model};
use crate::structured::{Edge, Key};
use crate::syntax::ast::Span;

/// By field the story draws: the number of its first value among the line's drawn values,
/// and how many it has (a scalar one, a sequence its length).
pub(super) fn bases(model: &Model, inst: &Instance) -> Vec<Option<(u32, u32)>> {
    let mut next = 0u32;
    model
        .fields
        .iter()
        .zip(&inst.values)
        .map(|(f, v)| {
            let len = match v {
                FieldValue::Sequence(s) => s.len(),
                FieldValue::RealSequence(s) => s.len(),
                _ => 1,
            };
            // A line is at most `EMC_MAX_LINE_BYTES` long, far below 2^32 values.
            let len = u32::try_from(len).unwrap_or(u32::MAX);
            f.generated.then(|| {
                let base = next;
                next = next.saturating_add(len);
                (base, len)
            })
        })
        .collect()
}

impl Exec<'_> {
    /// Every data value the story draws on this line, as ranges of value numbers.
    pub(super) fn all_observed(&self) -> Vec<(u32, u32)> {
        self.bases
            .iter()
            .flatten()
            .filter(|(_, len)| *len > 0)
            .map(|(base, len)| (*base, base + len))
            .collect()
    }

    /// The data value numbered `at` as written (`words[3]`), with its field's declaration.
    pub(super) fn value_name(&self, at: u32) -> (String, Span) {
        for (f, b) in self.bases.iter().enumerate() {
            if let Some((base, len)) = *b {
                if (base..base + len).contains(&at) {
                    let field = &self.model.fields[f];
                    let name = match field.kind {
                        FieldKind::Sequence => format!("{}[{}]", field.name, at - base),
                        _ => field.name.clone(),
                    };
                    return (name, field.span);
                }
            }
        }
        (format!("value {at}"), Span::default())
    }

    /// The data values a draw's target generates, as a range of value numbers: an element,
    /// a span's elements, or a scalar field. `None` for a hidden value, or one out of range
    /// (which the draw itself reports).
    pub(super) fn observed(
        &self,
        target: &Expr,
        env: &[Option<Val>],
    ) -> Result<Option<(u32, u32)>, UnrollError> {
        let (f, lo, hi) = match &target.kind {
            ExprKind::Field(f) => (*f, 0, i64::MAX),
            ExprKind::Index(seq, i) => match seq.kind {
                ExprKind::Field(f) => {
                    let i = self.int(i, env)?;
                    (f, i, i.saturating_add(1))
                }
                _ => return Ok(None),
            },
            ExprKind::Slice(seq, lo, hi) => match seq.kind {
                ExprKind::Field(f) => (f, self.int(lo, env)?, self.int(hi, env)?),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let Some((base, len)) = self.bases[f] else {
            return Ok(None);
        };
        let hi = hi.min(i64::from(len));
        if lo < 0 || lo >= hi {
            return Ok(None);
        }
        Ok(Some((base + lo as u32, base + hi as u32)))
    }
}

/// Sorted, disjoint, non-adjacent half-open ranges of value numbers.
#[derive(Clone, Debug, Default, PartialEq)]
struct Ranges(Vec<(u32, u32)>);

impl Ranges {
    /// The union of `self` and `other` (sorted and disjoint) into `out`, or the first value
    /// both hold. A buffer rather than a new value: the check runs once per hyperedge tail.
    fn union_into(&self, other: &[(u32, u32)], out: &mut Ranges) -> Result<(), u32> {
        let (a, b) = (&self.0, other);
        let out = &mut out.0;
        out.clear();
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let next = if j == b.len() || (i < a.len() && a[i].0 <= b[j].0) {
                i += 1;
                a[i - 1]
            } else {
                j += 1;
                b[j - 1]
            };
            match out.last_mut() {
                // Ranges come in order of their starts, so an overlap starts at `next`.
                Some(last) if next.0 < last.1 => return Err(next.0),
                Some(last) if next.0 == last.1 => last.1 = next.1,
                _ => out.push(next),
            }
        }
        Ok(())
    }

    #[cfg(test)]
    fn union(&self, other: &[(u32, u32)]) -> Result<Ranges, u32> {
        let mut out = Ranges::default();
        self.union_into(other, &mut out).map(|()| out)
    }

    /// The first value one holds and the other does not (the two differ).
    fn first_difference(&self, other: &Ranges) -> u32 {
        let ends = |r: &Ranges| {
            r.0.iter()
                .flat_map(|(lo, hi)| [*lo, *hi])
                .collect::<Vec<_>>()
        };
        let (a, b) = (ends(self), ends(other));
        // The first boundary where they part is the first value in one only.
        a.iter()
            .zip(&b)
            .find(|(x, y)| x != y)
            .map(|(x, y)| *x.min(y))
            .unwrap_or_else(|| *a.get(b.len()).or(b.get(a.len())).unwrap_or(&0))
    }
}

/// Checks the calls in `order` (tails first); `edges` and `calls` are by call number, the
/// model block is call 0.
pub(in crate::structured) fn check(
    edges: &[Vec<Edge>],
    order: &[usize],
    calls: &[(Key, Span)],
    ex: &Exec,
) -> Result<(), UnrollError> {
    // `None`: a call with no derivation, whose callers' branches have probability zero.
    let mut drawn: Vec<Option<Ranges>> = vec![None; calls.len()];
    let twice = |at: u32, span: Span| {
        let (name, _) = ex.value_name(at);
        ex.error(UnrollErrorKind::ObservedTwice(name), span)
    };
    let (mut acc, mut next) = (Ranges::default(), Ranges::default());
    for &c in order {
        let mut first: Option<Ranges> = None;
        'edges: for e in &edges[c] {
            acc.0.clear();
            for &(lo, hi, span) in &e.observed {
                acc.union_into(&[(lo, hi)], &mut next)
                    .map_err(|at| twice(at, span))?;
                std::mem::swap(&mut acc, &mut next);
            }
            for (t, span) in e.tails.iter().zip(&e.tail_spans) {
                let Some(theirs) = &drawn[*t as usize] else {
                    continue 'edges;
                };
                acc.union_into(&theirs.0, &mut next)
                    .map_err(|at| twice(at, *span))?;
                std::mem::swap(&mut acc, &mut next);
            }
            match &first {
                None => first = Some(acc.clone()),
                Some(f) if *f != acc => {
                    let at = f.first_difference(&acc);
                    let (value, _) = ex.value_name(at);
                    let call = ex.describe(&calls[c].0);
                    return Err(
                        ex.error(UnrollErrorKind::ObservedUneven { call, value }, calls[c].1)
                    );
                }
                Some(_) => {}
            }
        }
        drawn[c] = first;
    }
    let Some(root) = &drawn[0] else {
        return Ok(()); // no derivation at all: the builder says so
    };
    let mut all = Ranges::default();
    let _ = Ranges::default().union_into(&ex.all_observed(), &mut all);
    if *root != all {
        let (name, span) = ex.value_name(root.first_difference(&all));
        return Err(ex.error(UnrollErrorKind::ObservedNotDrawn(name), span));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Ranges;

    #[test]
    fn unions_join_adjacent_ranges_and_find_overlaps() {
        let a = Ranges(vec![(0, 3), (5, 6)]);
        assert_eq!(a.union(&[(3, 5)]), Ok(Ranges(vec![(0, 6)])));
        assert_eq!(a.union(&[(6, 9)]), Ok(Ranges(vec![(0, 3), (5, 9)])));
        assert_eq!(a.union(&[(2, 4)]), Err(2));
        assert_eq!(a.union(&[(4, 7)]), Err(5));
        assert_eq!(Ranges(vec![(3, 5)]).union(&[(0, 4)]), Err(3));
    }

    #[test]
    fn first_difference_is_the_first_value_in_one_only() {
        let d = |a: Vec<(u32, u32)>, b: Vec<(u32, u32)>| Ranges(a).first_difference(&Ranges(b));
        assert_eq!(d(vec![(0, 5)], vec![(0, 3)]), 3);
        assert_eq!(d(vec![(1, 5)], vec![(0, 5)]), 0);
        assert_eq!(d(vec![(0, 2), (4, 5)], vec![(0, 2)]), 4);
        assert_eq!(d(vec![(0, 2)], vec![(0, 2), (4, 5)]), 4);
        assert_eq!(d(vec![], vec![(7, 8)]), 7);
    }
}
