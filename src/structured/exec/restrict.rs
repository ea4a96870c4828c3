//! Draws whose row is normalised over the outcomes the line allows (`from`, `within`): the
//! branch draws entry `row + (v - from - start)` for a value `v` of the target's range, and
//! divides by the sum of the entries every allowed value reaches (an allowed set, numbered
//! per line; the kernel interns them for the run). A set that is the whole row needs no
//! normaliser: a row sums to one.

use super::{Branch, Exec, Val};
use crate::graph::{UnrollError, UnrollErrorKind};
use crate::model::*;
use crate::syntax::ast::Span;

impl Exec<'_> {
    pub(super) fn draw_restricted(
        &mut self,
        target: &Expr,
        dist: &Dist,
        r: &Restriction,
        span: Span,
        b: Branch,
        out: &mut Vec<Branch>,
    ) -> Result<(), UnrollError> {
        let hidden = self.hidden_target(target, &b.env, span)?;
        let (t_lo, t_hi) = range_of(self.model, r.domain);
        // `uniform within`: the target's own values, no row.
        let (row, (o_lo, o_hi), n_out) = match dist {
            Dist::Family(f, args) => (
                Some(self.row(*f, args, &b.env)?),
                range_of(self.model, self.model.families[*f].outcome),
                self.layout.families[*f].n_out,
            ),
            _ => (None, (t_lo, t_hi), 0),
        };
        let from = match &r.from {
            Some(e) => self.position(e, &b.env)?,
            None => 0,
        };
        // The values the draw may take: the target's integers, those a width of the family
        // reaches from `from`, and those `within` allows.
        let (mut lo, mut hi) = (
            t_lo.max(from.saturating_add(o_lo)),
            t_hi.min(from.saturating_add(o_hi)),
        );
        if let Some((a, z)) = &r.within {
            let (wa, wz) = (self.position(a, &b.env)?, self.position(z, &b.env)?);
            // A line whose positions pass the domain (a sentence longer than it) would be
            // normalised over fewer positions than it has: refuse it, naming the bound.
            for (v, e) in [(wa, a), (wz - 1, z)] {
                if wa < wz && (v < t_lo || v >= t_hi) {
                    return Err(self.error(
                        UnrollErrorKind::Domain {
                            value: v,
                            domain: self.model.domains[r.domain].name.clone(),
                            values: format!("{t_lo}..{t_hi}"),
                        },
                        e.span,
                    ));
                }
            }
            lo = lo.max(wa);
            hi = hi.min(wz);
        }
        if lo >= hi {
            // Nothing allowed: the branch has probability zero.
            return Ok(());
        }
        let uniform = row.is_none();
        // Per allowed value, its entry (`None` under `uniform`, or for an entry a sparse
        // family does not store, which has probability zero).
        let entries: Vec<Option<u32>> = (lo..hi)
            .map(|v| row.and_then(|r| self.entry(r, (v - from - o_lo) as usize)))
            .collect();
        let entry = |v: i64| entries[(v - lo) as usize];
        let log_const = if uniform {
            -((hi - lo) as f64).ln()
        } else {
            0.0
        };
        let norm = if uniform || (hi - lo) as usize == n_out {
            None
        } else {
            Some(self.intern((lo..hi).filter_map(entry).collect()))
        };
        let values: Vec<i64> = match hidden {
            Some(_) => {
                self.grow(out.len().saturating_add((hi - lo) as usize), span)?;
                (lo..hi).collect()
            }
            None => {
                let v = self.position(target, &b.env)?;
                if v < lo || v >= hi {
                    return Ok(());
                }
                vec![v]
            }
        };
        for v in values {
            if !uniform && entry(v).is_none() {
                continue;
            }
            let mut c = self.drawn(&b, hidden, v - t_lo, r.domain, entry(v), log_const);
            c.norms.extend(norm);
            if hidden.is_some() {
                if let Some(l) = c.labels.last_mut() {
                    l.position = true;
                }
            }
            out.push(c);
        }
        Ok(())
    }

    /// An integer, or a range domain's value as the integer it stands for.
    fn position(&self, e: &Expr, env: &[Option<Val>]) -> Result<i64, UnrollError> {
        Ok(self.int(e, env)? + self.offset(&e.ty))
    }

    fn intern(&mut self, set: Vec<u32>) -> u32 {
        if let Some(id) = self.set_ids.get(&set) {
            return *id;
        }
        let id = self.sets.len() as u32;
        self.sets.push(set.clone());
        self.set_ids.insert(set, id);
        id
    }
}

/// The integers of a range domain, or of the range an extension starts with: `lo..hi`.
fn range_of(model: &Model, d: DomainId) -> (i64, i64) {
    match model.domains[d].base {
        DomainBase::Range(lo, hi) => (lo, hi),
        DomainBase::Extends(b) => range_of(model, b),
        _ => unreachable!("the checker restricts draws over ranges only"),
    }
}
