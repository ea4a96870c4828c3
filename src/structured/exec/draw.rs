//! Draws on one branch: a hidden local splits the branch by its values, a known outcome (a
//! data value, a span of a sequence, a computed integer) adds its entry.

use super::{Branch, Exec, Label, Row, Val};
use crate::graph::{UnrollError, UnrollErrorKind};
use crate::model::*;
use crate::syntax::ast::Span;

impl Exec<'_> {
    /// A draw on one branch: a hidden local not drawn yet splits the branch by its values;
    /// anything else is a known outcome.
    pub(super) fn draw(
        &mut self,
        target: &Expr,
        dist: &Dist,
        span: Span,
        b: Branch,
        out: &mut Vec<Branch>,
    ) -> Result<(), UnrollError> {
        let mut b = b;
        if let Some((lo, hi)) = self.observed(target, &b.env)? {
            b.observed.push((lo, hi, span));
        }
        if let Dist::Family(f, args) = dist {
            if matches!(self.model.families[*f].kind, FamilyKind::Gaussian(_)) {
                let entry = self.density(*f, args, target, &b.env)?;
                out.push(self.drawn(&b, None, 0, NO_DOMAIN, Some(entry), 0.0));
                return Ok(());
            }
        }
        let hidden = self.hidden_target(target, &b.env, span)?;
        let domain = match (dist, &target.ty) {
            (Dist::Family(f, _), _) => self.model.families[*f].outcome,
            (Dist::Table(t, _), _) => self.model.tables[*t].result,
            (Dist::Uniform, Ty::Sym(d)) => *d,
            (Dist::Uniform, _) => return Err(self.error(UnrollErrorKind::Uniform, span)),
        };
        let outcomes: Vec<i64> = match (&target.kind, hidden) {
            (ExprKind::Slice(seq, lo, hi), _) => {
                match self.span_symbol(seq, lo, hi, domain, &b.env)? {
                    Some((o, text)) => {
                        let mut b = b;
                        if self.record {
                            b.labels.push(Label {
                                after: b.tails.len(),
                                text,
                                span: true,
                                position: false,
                                output: None,
                            });
                        }
                        return self.draw_known(dist, domain, o, b, out);
                    }
                    // A span the domain lacks (longer than its `max_len`) cannot be drawn: the
                    // branch has probability zero.
                    None => return Ok(()),
                }
            }
            (_, Some(_)) => {
                let n = self.domains.size(domain);
                self.grow(out.len().saturating_add(n), span)?;
                (0..n as i64).collect()
            }
            (_, None) => {
                let v = self.int(target, &b.env)?;
                vec![self.symbol_index(v, target, domain)? as i64]
            }
        };
        // What the draw adds is the same for every outcome but the outcome's own index.
        let (row, weight) = match dist {
            Dist::Family(f, args) => (Some(self.row(*f, args, &b.env)?), 0.0),
            Dist::Uniform => (None, -(self.domains.size(domain) as f64).ln()),
            Dist::Table(t, args) => {
                let table = &self.model.tables[*t];
                let mut idx = 0usize;
                for (a, d) in args.iter().zip(&table.args) {
                    let v = self.int(a, &b.env)?;
                    idx = idx * self.domains.size(*d) + self.symbol_index(v, a, *d)?;
                }
                let result = i64::from(table.values[idx]);
                // A table's value is certain: one outcome, weight one; any other, zero.
                for o in outcomes {
                    if o == result {
                        out.push(self.drawn(&b, hidden, o, domain, None, 0.0));
                    }
                }
                return Ok(());
            }
        };
        for o in outcomes {
            let entry = match row {
                Some(r) => match self.entry(r, o as usize) {
                    Some(k) => Some(k),
                    None => continue,
                },
                None => None,
            };
            out.push(self.drawn(&b, hidden, o, domain, entry, weight));
        }
        Ok(())
    }

    /// The hidden local a draw binds (`None` for a known outcome); a local bound already has
    /// been drawn (the checker lets only hidden locals be drawn).
    pub(super) fn hidden_target(
        &self,
        target: &Expr,
        env: &[Option<Val>],
        span: Span,
    ) -> Result<Option<LocalId>, UnrollError> {
        match &target.kind {
            ExprKind::Local(l) if env[*l].is_none() => Ok(Some(*l)),
            ExprKind::Local(l) => {
                let name = self.model.locals[*l].clone();
                Err(self.error(UnrollErrorKind::DrawnTwice(name), span))
            }
            _ => Ok(None),
        }
    }

    /// Family `f`'s row for conditions `args`.
    pub(super) fn row(
        &self,
        f: FamilyId,
        args: &[Expr],
        env: &[Option<Val>],
    ) -> Result<Row, UnrollError> {
        let fam = &self.model.families[f];
        let slot = &self.layout.families[f];
        let mut row = 0usize;
        for (k, (a, d)) in args.iter().zip(&fam.conditions).enumerate() {
            let v = self.int(a, env)?;
            row = row * slot.cond_sizes[k] + self.symbol_index(v, a, *d)?;
        }
        Ok(Row { family: f, row })
    }

    /// A draw of one known outcome (a span's symbol).
    fn draw_known(
        &mut self,
        dist: &Dist,
        domain: DomainId,
        outcome: i64,
        b: Branch,
        out: &mut Vec<Branch>,
    ) -> Result<(), UnrollError> {
        let mut probe = Vec::new();
        let symbol = Expr {
            kind: ExprKind::Int(outcome),
            ty: Ty::Sym(domain),
            span: Span::default(),
        };
        self.draw(&symbol, dist, Span::default(), b, &mut probe)?;
        out.extend(probe);
        Ok(())
    }

    /// The symbol of span `seq[lo..hi]` in `domain` and its text; `None` when the domain
    /// does not have it.
    fn span_symbol(
        &self,
        seq: &Expr,
        lo: &Expr,
        hi: &Expr,
        domain: DomainId,
        env: &[Option<Val>],
    ) -> Result<Option<(i64, String)>, UnrollError> {
        let Val::Seq(s) = self.eval(seq, env)? else {
            unreachable!("the checker slices sequence fields only")
        };
        let (i, j) = (self.int(lo, env)?, self.int(hi, env)?);
        for k in [i, j] {
            if k < 0 || k as usize > s.len() {
                return Err(self.error(
                    UnrollErrorKind::Index {
                        index: k,
                        len: s.len(),
                    },
                    seq.span,
                ));
            }
        }
        if i >= j {
            return Ok(None);
        }
        let ExprKind::Field(f) = seq.kind else {
            unreachable!("the checker slices sequence fields only")
        };
        let elem = self.model.fields[f].domain;
        let text: String = s[i as usize..j as usize]
            .iter()
            .map(|x| self.domains.name(elem, *x as u32))
            .collect();
        Ok(self
            .domains
            .lookup(domain, &text)
            .map(|o| (i64::from(o), text)))
    }

    pub(super) fn drawn(
        &self,
        b: &Branch,
        hidden: Option<LocalId>,
        value: i64,
        domain: DomainId,
        entry: Option<u32>,
        log_weight: f64,
    ) -> Branch {
        let mut c = b.clone();
        if let Some(l) = hidden {
            c.env[l] = Some(Val::Int(value));
            if self.record {
                c.labels.push(Label {
                    after: c.tails.len(),
                    text: self.domains.name(domain, value as u32).to_string(),
                    span: false,
                    position: false,
                    output: None,
                });
            }
        }
        c.entries.extend(entry);
        c.log_const += log_weight;
        c
    }
}
