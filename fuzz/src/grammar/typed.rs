//! Careful stories: every draw's outcome and conditions have the domains its family declares,
//! each observed value is drawn once and each hidden variable once, so that the checker
//! accepts many of them and the planner and the probe unroll run. Now and then an ordinary
//! (untyped) statement comes in between.

use super::Gen;

impl Gen<'_, '_> {
    /// Options that are always valid for a family of this kind.
    pub(super) fn careful_options(&mut self, kind: &str) {
        let opt = match kind {
            "Logistic" => "{ features: [word], l2: 1.0 }",
            "Gaussian" => self.pick(&[
                "",
                "{ covariance: full }",
                "{ covariance: diagonal }",
                "{ covariance: spherical, reg_covar: 0.001 }",
            ]),
            _ => self.pick(&[
                "",
                "",
                "{ smoothing: 1 }",
                "{ storage: sparse }",
                "{ storage: dense }",
            ]),
        };
        if !opt.is_empty() {
            self.w(" ");
            self.w(opt);
        }
    }

    /// The body of a careful `model` block: the hidden variables first (the checker wants
    /// them at the top), then their draws and the fields' in an order where every condition
    /// is drawn before it is used.
    pub(super) fn typed_story(&mut self) {
        let mut hidden: Vec<(String, usize, usize)> = Vec::new();
        for _ in 0..self.below(4) {
            let Some(k) = self.family_for(None) else {
                break;
            };
            let d = self.families[k].out.expect("a categorical family");
            let name = self.fresh("h");
            let dom = self.domains[d].name.clone();
            self.indent_typed();
            self.w(&format!("hidden {name} : {dom}\n"));
            hidden.push((name, d, k));
        }
        // Hidden variables in scope once drawn, with their domains.
        let mut typed: Vec<(String, usize)> = Vec::new();
        let mut drawn = vec![false; self.fields.len()];
        let mut next_hidden = 0;
        for _ in 0..1 + self.below(6) {
            if self.full() {
                break;
            }
            self.indent_typed();
            match self.below(6) {
                0..=2 if next_hidden < hidden.len() => {
                    let (name, d, k) = hidden[next_hidden].clone();
                    next_hidden += 1;
                    let call = self.typed_call(k, &typed, None);
                    self.w(&format!("{name} ~ {call}"));
                    typed.push((name, d));
                }
                0..=4 => self.typed_field(&mut typed, &mut drawn, None),
                _ => self.stmt_for_typed(),
            }
            self.w("\n");
        }
        // Every hidden variable and every field drawn, most of the time.
        for (name, d, k) in hidden[next_hidden..].to_vec() {
            if !self.oops(4) {
                self.indent_typed();
                let call = self.typed_call(k, &typed, None);
                self.w(&format!("{name} ~ {call}\n"));
                typed.push((name, d));
            }
        }
        for f in 0..self.fields.len() {
            if !drawn[f] && !self.oops(4) {
                self.indent_typed();
                self.typed_field(&mut typed, &mut drawn, Some(f));
                self.w("\n");
            }
        }
    }

    fn indent_typed(&mut self) {
        self.w("    ");
    }

    /// An ordinary statement, or a stress one, between the typed ones.
    fn stmt_for_typed(&mut self) {
        if !self.one_in(4) {
            let name = self.fresh("l");
            let value = self.int_expr();
            self.w(&format!("let {name} = {value}"));
        } else {
            self.stmt();
        }
    }

    /// A family whose outcome is domain `d` (or any categorical one for `None`), if any.
    fn family_for(&mut self, d: Option<usize>) -> Option<usize> {
        let fits: Vec<usize> = (0..self.families.len())
            .filter(|&k| {
                let f = &self.families[k];
                !f.gaussian && f.out.is_some() && (d.is_none() || f.out == d)
            })
            .collect();
        if fits.is_empty() {
            None
        } else {
            Some(fits[self.below(fits.len())])
        }
    }

    /// A family call whose arguments have the family's condition domains.
    fn typed_call(
        &mut self,
        k: usize,
        typed: &[(String, usize)],
        loop_at: Option<(&str, usize)>,
    ) -> String {
        if self.one_in(10) {
            return "uniform".into();
        }
        let fam = self.families[k].clone();
        if fam.conds.is_empty() {
            return fam.name;
        }
        let args: Vec<String> = fam
            .conds
            .iter()
            .map(|&c| self.typed_value(c, typed, loop_at))
            .collect();
        format!("{}({})", fam.name, args.join(", "))
    }

    /// A value of domain `d`: a hidden variable, a field (element), a symbol or an integer.
    fn typed_value(
        &mut self,
        d: usize,
        typed: &[(String, usize)],
        loop_at: Option<(&str, usize)>,
    ) -> String {
        let mut options: Vec<String> = typed
            .iter()
            .filter(|(_, v)| *v == d)
            .map(|(n, _)| n.clone())
            .collect();
        for f in &self.fields {
            if f.domain == Some(d) && !f.seq {
                options.push(f.name.clone());
            }
        }
        if let Some((i, f)) = loop_at {
            if self.fields[f].domain == Some(d) {
                options.push(format!("{}[{i}]", self.fields[f].name));
            }
        }
        let domain = &self.domains[d];
        if let Some(s) = domain.symbols.first() {
            options.push(s.clone());
        }
        if domain.range {
            options.push("0".into());
        }
        if options.is_empty() {
            // A field element at a fixed position, or a wrong guess.
            return self.arg();
        }
        options[self.below(options.len())].clone()
    }

    /// Draws field `only` (or one not drawn yet): `f ~ fam(...)` for a single value,
    /// `for i in 0..len(f): f[i] ~ fam(...)` for a sequence, a Gaussian family for a real.
    fn typed_field(
        &mut self,
        typed: &mut Vec<(String, usize)>,
        drawn: &mut [bool],
        only: Option<usize>,
    ) {
        let open: Vec<usize> = (0..self.fields.len()).filter(|&f| !drawn[f]).collect();
        let f = match only {
            Some(f) => f,
            None if open.is_empty() => return self.stmt_for_typed(),
            None => open[self.below(open.len())],
        };
        drawn[f] = true;
        let field = self.fields[f].clone();
        let family = if field.real {
            let g: Vec<usize> = (0..self.families.len())
                .filter(|&k| self.families[k].gaussian)
                .collect();
            (!g.is_empty()).then(|| g[self.below(g.len())])
        } else {
            self.family_for(field.domain)
        };
        let Some(k) = family else {
            // No family fits: the draw is uniform (a symbolic field) or left out.
            if !field.real {
                if field.seq {
                    self.w(&format!(
                        "for i in 0..len({0}): {0}[i] ~ uniform",
                        field.name
                    ));
                } else {
                    self.w(&format!("{} ~ uniform", field.name));
                }
            }
            return;
        };
        if field.seq {
            let i = self.fresh("i");
            self.w(&format!("for {i} in 0..len({}) {{\n        ", field.name));
            let call = self.typed_call(k, typed, Some((&i, f)));
            self.w(&format!("{}[{i}] ~ {call}\n    }}", field.name));
        } else {
            let call = self.typed_call(k, typed, None);
            self.w(&format!("{} ~ {call}", field.name));
        }
    }
}
