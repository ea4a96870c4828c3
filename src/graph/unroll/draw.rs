//! Draw statements: the factor a draw adds, its table's entries (parameters, fixed weights,
//! Gaussian densities), and the checks that keep the story a generative order.

use std::rc::Rc;

use super::*;

impl Unroller<'_, '_> {
    pub(super) fn draw(
        &mut self,
        target: &Expr,
        dist: &Dist,
        span: Span,
    ) -> Result<(), UnrollError> {
        if let Dist::Family(f, args) = dist {
            if let FamilyKind::Gaussian(_) = self.model.families[*f].kind {
                self.gaussian_draw(target, *f, args, span)?;
                return self.count_observed(target, span);
            }
        }
        let t = self.scalar(target)?;
        let model = self.model;
        // The conditions first: a draw may not condition on what it draws (`x ~ p(x)`,
        // `f[i] ~ p(f[i])`), nor on a value of the data drawn later.
        let (slots, label_name): (Small<Scalar>, &str) = match dist {
            Dist::Family(f, args) | Dist::Table(f, args) => {
                let mut slots = Small::with_capacity(args.len() + 1);
                for a in args {
                    let slot = self.scalar(a)?;
                    self.require_drawn(&slot, a.span)?;
                    self.require_observed_drawn(a)?;
                    slots.push(slot);
                }
                slots.push(t);
                let name = match dist {
                    Dist::Family(..) => model.families[*f].name.as_str(),
                    _ => model.tables[*f].name.as_str(),
                };
                (slots, name)
            }
            Dist::Uniform => (smallvec![t], "uniform"),
        };
        let drawn = match &slots[slots.len() - 1] {
            Scalar::Known(_) => None,
            Scalar::Dep(d) => Some(self.drawn_variable(d, span)?),
        };
        let offsets = self.slot_offsets(dist, target);
        let (scope, cards) = self.union_scope(&slots);
        self.check_size(&scope, &cards, span)?;
        // The key and the entries are built in the cache's scratch vectors: a draw then
        // allocates only what its factor keeps.
        let mut key = std::mem::take(&mut self.tables.key_scratch);
        let keyed = self.tables.worth_caching(span.start);
        if keyed {
            table_key(&mut key, span, &scope, &cards, &slots);
        }
        let cached = keyed.then(|| self.tables.get(span.start, &key)).flatten();
        let entries = match cached {
            Some(e) => e,
            None => {
                let mut built = std::mem::take(&mut self.tables.entry_scratch);
                built.clear();
                let made = self
                    .table_entries(
                        &mut built, dist, target, &slots, &offsets, &scope, &cards, span,
                    )
                    .map(|()| Rc::<[Entry]>::from(&built[..]));
                self.tables.entry_scratch = built;
                let entries = made?;
                if keyed {
                    self.tables.insert(key.clone(), entries.clone());
                }
                entries
            }
        };
        self.tables.key_scratch = key;
        let name = self.tables.name(label_name);
        self.factors.push(Factor {
            scope: scope.to_vec(),
            entries,
            origin: span,
            name,
            target: drawn,
        });
        self.count_observed(target, span)
    }

    /// An observed real vector drawn from a Gaussian family: a factor over the hidden
    /// variables of the conditions whose entries are densities under each condition row.
    fn gaussian_draw(
        &mut self,
        target: &Expr,
        f: FamilyId,
        args: &[Expr],
        span: Span,
    ) -> Result<(), UnrollError> {
        let Scalar::Known(obs) = self.scalar(target)? else {
            unreachable!("the checker makes a Gaussian's target an observed real field")
        };
        let mut slots: Small<Scalar> = Small::with_capacity(args.len());
        for a in args {
            let slot = self.scalar(a)?;
            self.require_drawn(&slot, a.span)?;
            slots.push(slot);
        }
        let fam = &self.model.families[f];
        let offsets: Small<i64> = args
            .iter()
            .zip(&fam.conditions)
            .map(|(e, d)| match e.ty {
                Ty::Int => range_start(self.model, *d).unwrap_or(0),
                _ => 0,
            })
            .collect();
        let (scope, cards) = self.union_scope(&slots);
        self.check_size(&scope, &cards, span)?;
        let slot = &self.layout.families[f];
        let mut entries = Vec::with_capacity(cards.iter().product());
        for_each_assignment(&cards, |assign| {
            let mut cond = 0usize;
            for (k, (s, o)) in slots.iter().zip(&offsets).enumerate() {
                let v = value_at(s, &scope, assign) - o;
                cond = cond * slot.cond_sizes[k] + self.symbol_index(v, fam.conditions[k], span)?;
            }
            entries.push(Entry::Density {
                row: (slot.offset + cond * slot.n_out) as u32,
                obs: obs as u32,
            });
            Ok(())
        })?;
        let name = self.tables.name(&fam.name);
        self.factors.push(Factor {
            scope: scope.to_vec(),
            entries: entries.into(),
            origin: span,
            name,
            target: None,
        });
        Ok(())
    }

    /// A draw's table, appended to `entries`: by the shortcut for a family over one
    /// variable where it applies, else by the general evaluation.
    #[allow(clippy::too_many_arguments)]
    fn table_entries(
        &self,
        entries: &mut Vec<Entry>,
        dist: &Dist,
        target: &Expr,
        slots: &[Scalar],
        offsets: &[i64],
        scope: &[VarId],
        cards: &[usize],
        span: Span,
    ) -> Result<(), UnrollError> {
        if !self.family_over_one(entries, dist, slots, offsets, scope, cards, span)? {
            return self.entries(entries, dist, target, slots, offsets, scope, cards, span);
        }
        // The shortcut must build what the general evaluation builds.
        debug_assert!({
            let mut general = Vec::new();
            self.entries(
                &mut general,
                dist,
                target,
                slots,
                offsets,
                scope,
                cards,
                span,
            )
            .is_ok_and(|()| general == *entries)
        });
        Ok(())
    }

    /// Every joint value's entry, by evaluating the slots at each assignment, appended to
    /// `entries`.
    #[allow(clippy::too_many_arguments)]
    fn entries(
        &self,
        entries: &mut Vec<Entry>,
        dist: &Dist,
        target: &Expr,
        slots: &[Scalar],
        offsets: &[i64],
        scope: &[VarId],
        cards: &[usize],
        span: Span,
    ) -> Result<(), UnrollError> {
        entries.reserve(cards.iter().product());
        let mut vals: Small<i64> = smallvec![0; slots.len()];
        for_each_assignment(cards, |assign| {
            for ((v, s), o) in vals.iter_mut().zip(slots).zip(offsets) {
                *v = value_at(s, scope, assign) - o;
            }
            entries.push(self.entry(dist, target, &vals, span)?);
            Ok(())
        })
    }

    /// The common case of a family draw over one hidden variable (an emission, a mixture
    /// component), without the general per-assignment evaluation: every slot is a constant
    /// or a table over that variable. Appends the entries `entries` would (and fails with
    /// its first error) and says true, or says false for another kind of draw.
    #[allow(clippy::too_many_arguments)]
    fn family_over_one(
        &self,
        entries: &mut Vec<Entry>,
        dist: &Dist,
        slots: &[Scalar],
        offsets: &[i64],
        scope: &[VarId],
        cards: &[usize],
        span: Span,
    ) -> Result<bool, UnrollError> {
        let (Dist::Family(f, _), [_], [card]) = (dist, scope, cards) else {
            return Ok(false);
        };
        let fam = &self.model.families[*f];
        let slot = &self.layout.families[*f];
        let n_cond = fam.conditions.len();
        // Per slot: its domain, how many values the domain has (what a value is checked
        // against) and its stride in the family's layout; looked up once, not once per entry
        // (IBM Model 1 on the Hansards makes 7M entries here).
        let dims: Small<(DomainId, usize, usize)> = (0..slots.len())
            .map(|k| {
                let (domain, stride) = if k < n_cond {
                    (fam.conditions[k], slot.cond_sizes[k])
                } else {
                    (fam.outcome, slot.n_out)
                };
                (domain, self.domains.size(domain), stride)
            })
            .collect();
        entries.reserve(*card);
        // Borrowed once for the whole table; `param` does what this does per entry.
        let mut discovered = match (&slot.support, &self.tables.discovered) {
            (Some(_), Some(found)) => Some(found.borrow_mut()),
            _ => None,
        };
        for a in 0..*card {
            // Row-major over the conditions, then the outcome (Horner's rule).
            let mut rel = 0;
            for ((s, &(domain, values, stride)), off) in slots.iter().zip(&dims).zip(offsets) {
                let v = match s {
                    Scalar::Known(v) => *v,
                    Scalar::Dep(d) => d.table[a],
                } - off;
                let i = match usize::try_from(v) {
                    Ok(i) if i < values => i,
                    // Out of the domain: the error, as every other draw reports it.
                    _ => self.symbol_index(v, domain, span)?,
                };
                rel = rel * stride + i;
            }
            entries.push(match discovered.as_mut() {
                Some(found) => found.entry(*f, rel),
                None => self.param(*f, rel),
            });
        }
        Ok(true)
    }

    /// The entry for probability `rel` (`row * n_out + out`) of family `f`. A sparse family's
    /// entry that its support lacks has probability zero: the support holds every entry the
    /// training data reaches, and EM leaves the others at zero.
    fn param(&self, f: usize, rel: usize) -> Entry {
        let slot = &self.layout.families[f];
        if slot.support.is_some() {
            if let Some(found) = &self.tables.discovered {
                return found.borrow_mut().entry(f, rel);
            }
        }
        match slot.index(rel) {
            Some(k) => Entry::Param(k as u32),
            None => Entry::Fixed(0.0),
        }
    }

    /// The variable a draw generates: its left side must be a hidden variable itself, not a
    /// function of one (`f[a] ~ t` would give `a` no distribution), and not drawn before.
    fn drawn_variable(&mut self, d: &Dep, span: Span) -> Result<VarId, UnrollError> {
        let identity = d
            .table
            .iter()
            .enumerate()
            .all(|(k, v)| *v == d.table[0] + k as i64);
        let [v] = d.vars[..] else {
            return Err(self.error(UnrollErrorKind::NotAVariable, span));
        };
        if !identity {
            return Err(self.error(UnrollErrorKind::NotAVariable, span));
        }
        if self.draws[v as usize] > 0 {
            let name = self.vars[v as usize].name.to_string();
            return Err(self.error(UnrollErrorKind::DrawnTwice(name), span));
        }
        self.draws[v as usize] += 1;
        Ok(v)
    }

    /// Conditions may only use variables already drawn, so the story is a proper generative
    /// order (a cycle such as `a ~ t(b); b ~ t(a)` defines no distribution).
    fn require_drawn(&self, slot: &Scalar, span: Span) -> Result<(), UnrollError> {
        if let Scalar::Dep(d) = slot {
            if let Some(v) = d.vars.iter().find(|v| self.draws[**v as usize] == 0) {
                let name = self.vars[*v as usize].name.to_string();
                return Err(self.error(UnrollErrorKind::UsedBeforeDrawn(name), span));
            }
        }
        Ok(())
    }

    /// Story integers (positions) that stand for a range domain's values are shifted to its
    /// indices: in `1..4`, the integer 1 is index 0. Symbol-typed values are indices already.
    fn slot_offsets(&self, dist: &Dist, target: &Expr) -> Small<i64> {
        let (args, domains, outcome) = match dist {
            Dist::Family(f, args) => {
                let fam = &self.model.families[*f];
                (args, &fam.conditions, fam.outcome)
            }
            Dist::Table(t, args) => {
                let table = &self.model.tables[*t];
                (args, &table.args, table.result)
            }
            Dist::Uniform => return smallvec![0],
        };
        args.iter()
            .zip(domains.iter().copied())
            .chain([(target, outcome)])
            .map(|(e, d)| match e.ty {
                Ty::Int => range_start(self.model, d).unwrap_or(0),
                _ => 0,
            })
            .collect()
    }

    /// The factor entry for one joint value of a draw's slots (conditions, then outcome).
    fn entry(
        &self,
        dist: &Dist,
        target: &Expr,
        vals: &[i64],
        span: Span,
    ) -> Result<Entry, UnrollError> {
        match dist {
            Dist::Family(f, _) => {
                let fam = &self.model.families[*f];
                let slot = &self.layout.families[*f];
                let mut cond = 0usize;
                for (k, (&v, &d)) in vals.iter().zip(&fam.conditions).enumerate() {
                    cond = cond * slot.cond_sizes[k] + self.symbol_index(v, d, span)?;
                }
                let out = self.symbol_index(vals[vals.len() - 1], fam.outcome, span)?;
                Ok(self.param(*f, cond * slot.n_out + out))
            }
            Dist::Table(t, _) => {
                let table = &self.model.tables[*t];
                let mut idx = 0usize;
                for (&v, &d) in vals.iter().zip(&table.args) {
                    idx = idx * self.domains.size(d) + self.symbol_index(v, d, span)?;
                }
                let out = self.symbol_index(vals[vals.len() - 1], table.result, span)?;
                Ok(Entry::Fixed(if table.values[idx] as usize == out {
                    1.0
                } else {
                    0.0
                }))
            }
            Dist::Uniform => {
                let n = match (&target.ty, self.domain_of_target(target)) {
                    (_, Some(card)) => card,
                    (Ty::Sym(d), None) => self.domains.size(*d),
                    _ => return Err(self.error(UnrollErrorKind::Uniform, span)),
                };
                Ok(Entry::Fixed(1.0 / n as f64))
            }
        }
    }

    /// The cardinality of a drawn hidden variable (uniform draws are over its own values).
    fn domain_of_target(&self, target: &Expr) -> Option<usize> {
        let hid = match &target.kind {
            ExprKind::Hidden(h) => *h,
            ExprKind::Index(a, _) => match a.kind {
                ExprKind::Hidden(h) => h,
                _ => return None,
            },
            _ => return None,
        };
        self.vars.iter().find_map(|v| match v.origin {
            VarOrigin::Hidden { decl, .. } if decl == hid => Some(v.card as usize),
            _ => None,
        })
    }

    /// Checks a symbol index against its domain.
    fn symbol_index(&self, v: i64, d: DomainId, span: Span) -> Result<usize, UnrollError> {
        let size = self.domains.size(d);
        usize::try_from(v)
            .ok()
            .filter(|i| *i < size)
            .ok_or_else(|| {
                // Report the value as the user wrote it: range domains count from their start.
                let lo = range_start(self.model, d);
                let values = match lo {
                    Some(lo) => format!("{lo}..{}", lo + size as i64),
                    None => format!("{size} symbols"),
                };
                self.error(
                    UnrollErrorKind::Domain {
                        value: v + lo.unwrap_or(0),
                        domain: self.model.domains[d].name.clone(),
                        values,
                    },
                    span,
                )
            })
    }

    /// The data value `e` names when it is a value of a field the story draws (`f[i]` at a
    /// known position in range, or a scalar field): its field and position.
    fn drawn_value(&mut self, e: &Expr) -> Result<Option<(FieldId, usize)>, UnrollError> {
        let Some(f) = e.drawn_field() else {
            return Ok(None);
        };
        if self.observed_draws[f].is_empty() {
            return Ok(None);
        }
        Ok(match &e.kind {
            ExprKind::Index(_, i) => match self.scalar(i)? {
                // Out of range: evaluating the expression reports it.
                Scalar::Known(i) => usize::try_from(i)
                    .ok()
                    .filter(|i| *i < self.observed_draws[f].len())
                    .map(|i| (f, i)),
                // At a hidden position: a draw's target there is refused by the draw itself.
                Scalar::Dep(_) => None,
            },
            _ => Some((f, 0)),
        })
    }

    /// Counts a draw of a data value of a field the story draws, refusing a second one.
    fn count_observed(&mut self, target: &Expr, span: Span) -> Result<(), UnrollError> {
        let Some((f, at)) = self.drawn_value(target)? else {
            return Ok(());
        };
        let count = &mut self.observed_draws[f][at];
        *count = count.saturating_add(1);
        if *count > 1 {
            let name = self.value_name(f, at);
            return Err(self.error(UnrollErrorKind::ObservedTwice(name), span));
        }
        Ok(())
    }

    /// A condition that is a value of a field the story draws must have been drawn already.
    fn require_observed_drawn(&mut self, cond: &Expr) -> Result<(), UnrollError> {
        match self.drawn_value(cond)? {
            Some((f, at)) if self.observed_draws[f][at] == 0 => {
                let name = self.value_name(f, at);
                Err(self.error(UnrollErrorKind::UsedBeforeDrawn(name), cond.span))
            }
            _ => Ok(()),
        }
    }

    fn value_name(&self, f: FieldId, at: usize) -> String {
        let field = &self.model.fields[f];
        match field.kind {
            FieldKind::Sequence => format!("{}[{at}]", field.name),
            _ => field.name.clone(),
        }
    }

    pub(super) fn check_draws(&self) -> Result<(), UnrollError> {
        for (i, n) in self.draws.iter().enumerate() {
            let kind = match n {
                0 => UnrollErrorKind::NotDrawn(self.vars[i].name.to_string()),
                1 => continue,
                _ => UnrollErrorKind::DrawnTwice(self.vars[i].name.to_string()),
            };
            return Err(self.error(kind, self.var_spans[i]));
        }
        for (f, counts) in self.observed_draws.iter().enumerate() {
            if let Some(at) = counts.iter().position(|c| *c == 0) {
                let name = self.value_name(f, at);
                return Err(self.error(
                    UnrollErrorKind::ObservedNotDrawn(name),
                    self.model.fields[f].span,
                ));
            }
        }
        Ok(())
    }
}

/// What a draw's table depends on, written over `key`: the statement, the cardinalities of
/// its scope, and each slot as a known value or a tabulated function of scope positions. Two
/// draws with equal keys have equal tables, whichever variables they touch.
fn table_key(key: &mut Vec<i64>, span: Span, scope: &[VarId], cards: &[usize], slots: &[Scalar]) {
    key.clear();
    key.extend([span.start as i64, cards.len() as i64]);
    key.extend(cards.iter().map(|c| *c as i64));
    for s in slots {
        match s {
            Scalar::Known(v) => key.extend([-1, *v]),
            Scalar::Dep(d) => {
                key.extend([-2, d.vars.len() as i64]);
                key.extend(
                    d.vars
                        .iter()
                        .map(|v| scope.binary_search(v).map_or(-1, |p| p as i64)),
                );
                key.extend(d.table.iter().copied());
            }
        }
    }
}
