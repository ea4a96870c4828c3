//! Parameter families: kinds, outcome and conditions, Categorical options and initial values.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, Span};

impl Checker {
    pub(super) fn families(&mut self, file: &ast::File) {
        for p in &file.params {
            if self.model.families.iter().any(|f| f.name == p.name.name) {
                error!(self, p.name.span, Kind::duplicate("family", &p.name.name));
                continue;
            }
            // An unsupported or misspelt kind is reported, and the family is still declared
            // (as categorical) so that its uses are not reported as unknown names too.
            let mut kind = FamilyKind::Categorical;
            match p.kind.name.as_str() {
                "Categorical" => {}
                "Logistic" => {
                    kind = FamilyKind::Logistic(Logistic {
                        features: Vec::new(),
                        l2: DEFAULT_L2,
                        m_step_tolerance: 0.0,
                    })
                }
                "Gaussian" => match &p.outcome_real {
                    Some(r) => {
                        kind = FamilyKind::Gaussian(Gaussian {
                            dim: self.real_dim(r),
                            covariance: Covariance::Full,
                            reg_covar: DEFAULT_REG_COVAR,
                            seeding: Seeding::KMeansPlusPlus,
                            init_means: None,
                            init_covariances: None,
                        })
                    }
                    None => error!(
                        self,
                        p.outcome.span,
                        Kind::ty("`Real` or `Real[D]`", format!("domain `{}`", p.outcome.name)),
                        "a Gaussian is a density over real numbers, e.g. `Gaussian(Real[2] | Comp)`"
                    ),
                },
                other => error!(
                    self,
                    p.kind.span,
                    Kind::unknown("family kind", other),
                    did_you_mean(other, ["Categorical", "Logistic", "Gaussian"])
                ),
            }
            if p.outcome_real.is_some() && !matches!(kind, FamilyKind::Gaussian(_)) {
                error!(
                    self,
                    p.outcome.span,
                    Kind::ty("a domain", "a real type"),
                    "only a `Gaussian` family has a real-valued outcome"
                );
            }
            let outcome = match kind {
                FamilyKind::Gaussian(_) => Some(NO_DOMAIN),
                _ if p.outcome_real.is_some() => None,
                _ => self.domain_named(&p.outcome),
            };
            let conditions: Vec<Option<DomainId>> =
                p.conditions.iter().map(|c| self.domain_named(c)).collect();
            let mut family = Family {
                name: p.name.name.clone(),
                kind,
                outcome: outcome.unwrap_or_else(|| self.error_domain()),
                conditions: conditions
                    .iter()
                    .map(|c| c.unwrap_or_else(|| self.error_domain()))
                    .collect(),
                fixed: false,
                init: None,
                smoothing: 0.0,
                storage: Storage::Auto,
                span: p.name.span,
            };
            if let Some(opts) = &p.options {
                match family.kind {
                    // A repeated key would silently take its last value.
                    _ if self.repeated_keys(&opts.items) => {}
                    FamilyKind::Logistic(_) => self.logistic_options(&mut family, opts),
                    FamilyKind::Gaussian(_) => self.gaussian_options(&mut family, opts),
                    FamilyKind::Categorical => self.family_options(&mut family, opts),
                }
            }
            if let FamilyKind::Logistic(l) = &family.kind {
                for f in &l.features {
                    if let Template::Distance(_) = f.template {
                        let int = |d: Option<DomainId>| {
                            d.is_some_and(|d| {
                                matches!(self.model.domains[d].base, DomainBase::Range(..))
                            })
                        };
                        if !(int(outcome) && int(conditions.first().copied().flatten())) {
                            error!(
                                self,
                                f.span,
                                Kind::option("features", "`distance` compares integers: the outcome and the first condition must be range domains"),
                                "declare them like `domain Pos = 0..50`"
                            );
                        }
                    }
                }
                if l.features.is_empty() {
                    error!(
                        self,
                        p.span,
                        Kind::option("features", "a Logistic family needs feature templates"),
                        "e.g. `{ features: [word, suffix(3), capital], l2: 1.0 }`"
                    );
                }
            }
            if family.storage == Storage::Sparse && !family.can_be_sparse() {
                error!(
                    self,
                    p.span,
                    Kind::option("storage", "a sparse table keeps the entries no data reaches at zero, so it cannot be fixed, start from given values or take smoothing"),
                    "drop `storage: sparse`, or the other option"
                );
            }
            if family.fixed && family.init.is_none() {
                error!(
                    self,
                    p.span,
                    Kind::option("fixed", "a fixed family needs values"),
                    "give them with `init: [...]`"
                );
            }
            if outcome.is_some_and(|o| o != NO_DOMAIN) && conditions.iter().all(Option::is_some) {
                if let Some(init) = &family.init {
                    self.check_init_shape(&family, init);
                }
            }
            self.model.families.push(family);
        }
    }

    pub(super) fn family_options(&mut self, family: &mut Family, opts: &ast::Options) {
        for o in &opts.items {
            match (o.key.name.as_str(), &o.value) {
                ("fixed", None) => family.fixed = true,
                ("init", Some(v)) => family.init = self.init_values(v),
                ("smoothing", Some(ast::Value::Number(n))) => match n.text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => family.smoothing = v,
                    _ => error!(
                        self,
                        n.span,
                        Kind::number(&n.text),
                        "smoothing is a pseudo-count, a finite number >= 0"
                    ),
                },
                ("storage", Some(ast::Value::Word(w))) => match w.name.as_str() {
                    "auto" => family.storage = Storage::Auto,
                    "dense" => family.storage = Storage::Dense,
                    "sparse" => family.storage = Storage::Sparse,
                    other => error!(
                        self,
                        w.span,
                        Kind::option("storage", format!("`{other}` is not a storage")),
                        did_you_mean(other, ["auto", "dense", "sparse"])
                    ),
                },
                (key, _) => error!(
                    self,
                    o.span,
                    Kind::option(key, "a Categorical family takes `fixed`, `init: [...]`, `smoothing: x` and `storage: auto|dense|sparse`"),
                    did_you_mean(key, ["fixed", "init", "smoothing", "storage"])
                ),
            }
        }
    }

    pub(super) fn init_values(&mut self, v: &ast::Value) -> Option<InitValues> {
        match v {
            ast::Value::Number(n) => match n.text.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Some(InitValues::Number(x, n.span)),
                _ => {
                    error!(
                        self,
                        n.span,
                        Kind::number(&n.text),
                        "probabilities are finite numbers >= 0"
                    );
                    None
                }
            },
            ast::Value::Array { items, span } => {
                let items: Option<Vec<InitValues>> =
                    items.iter().map(|i| self.init_values(i)).collect();
                Some(InitValues::Array(items?, *span))
            }
            other => {
                error!(
                    self,
                    other.span(),
                    Kind::ty("a number or an array of numbers", "a word")
                );
                None
            }
        }
    }

    /// Checks nesting depth and, for closed domains, lengths. Vocabulary lengths are checked
    /// when the data is known (`params::initial`).
    pub(super) fn check_init_shape(&mut self, family: &Family, init: &InitValues) {
        let dims: Vec<DomainId> = family
            .conditions
            .iter()
            .chain(std::iter::once(&family.outcome))
            .copied()
            .collect();
        self.ensure_closed(dims.iter().copied());
        let sizes: Vec<Option<usize>> = dims
            .iter()
            .map(|d| self.closed.get(d).map(Vec::len))
            .collect();
        if let Err((reason, span)) = shape_ok(init, &sizes) {
            error!(
                self,
                span,
                Kind::Shape {
                    family: family.name.clone(),
                    reason,
                },
                format!(
                    "nest the values by condition, then outcome: {} level(s) of `[...]`",
                    dims.len()
                )
            );
            return;
        }
        self.check_init_sums(family, init);
    }

    /// Every row of given values is a distribution. Training refuses a row that is not (in
    /// `params::initial`), so `emc check` refuses it too, with the same tolerance.
    fn check_init_sums(&mut self, family: &Family, init: &InitValues) {
        let mut rows = Vec::new();
        innermost_rows(init, &mut rows);
        self.ensure_closed(family.conditions.iter().copied());
        let conditions: Option<Vec<&Vec<String>>> = family
            .conditions
            .iter()
            .map(|d| self.closed.get(d))
            .collect();
        for (r, (sum, span)) in rows.into_iter().enumerate() {
            if (sum - 1.0).abs() <= INIT_SUM_TOLERANCE {
                continue;
            }
            let condition = match &conditions {
                Some(c) if c.is_empty() => "(none)".to_string(),
                Some(c) => format!("`{}`", condition_symbols(r, c).join(", ")),
                // A vocabulary's symbols are known only with the data.
                None => format!("number {}", r + 1),
            };
            error!(
                self,
                span,
                Kind::NotNormalised {
                    family: family.name.clone(),
                    condition,
                    sum,
                },
                "each row is a distribution over the outcome domain: its values sum to 1"
            );
        }
    }
}

/// The sum and span of each innermost array (one row of the table), in row-major order.
fn innermost_rows(v: &InitValues, out: &mut Vec<(f64, Span)>) {
    let InitValues::Array(items, span) = v else {
        return;
    };
    if items.iter().all(|i| matches!(i, InitValues::Number(..))) {
        let sum = items
            .iter()
            .map(|i| match i {
                InitValues::Number(x, _) => *x,
                InitValues::Array(..) => 0.0,
            })
            .sum();
        out.push((sum, *span));
    } else {
        items.iter().for_each(|i| innermost_rows(i, out));
    }
}

/// The symbols of row `index` of a table over `conditions`, row-major.
fn condition_symbols(mut index: usize, conditions: &[&Vec<String>]) -> Vec<String> {
    let mut parts = vec![String::new(); conditions.len()];
    for (k, s) in conditions.iter().enumerate().rev() {
        // An empty condition domain has no rows, and is reported where it is declared.
        if s.is_empty() {
            continue;
        }
        parts[k] = s[index % s.len()].clone();
        index /= s.len();
    }
    parts
}
