//! Options of Logistic families and their feature templates.

use super::{CheckErrorKind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast;

const TEMPLATES_HINT: &str = "templates: word, suffix(n), prefix(n), digit, hyphen, capital, allcaps, shape, distance(n); wrap one in shared(...) or by(i, ...) to choose what it is conjoined with";

impl Checker {
    pub(super) fn logistic_options(&mut self, family: &mut Family, opts: &ast::Options) {
        let n_cond = family.conditions.len();
        let FamilyKind::Logistic(mut l) = family.kind.clone() else {
            return;
        };
        for o in &opts.items {
            match (o.key.name.as_str(), &o.value) {
                ("init", Some(v)) => family.init = self.init_values(v),
                ("l2", Some(ast::Value::Number(n))) => match n.text.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => l.l2 = v,
                    _ => self.err(
                        CheckErrorKind::Number(n.text.clone()),
                        n.span,
                        Some("`l2` is the penalty kappa * |w|^2: a finite number >= 0".into()),
                    ),
                },
                ("features", Some(ast::Value::Array { items, .. })) => {
                    for item in items {
                        if let Some(f) = self.feature(item, n_cond, (0..n_cond).collect()) {
                            l.features.push(f);
                        }
                    }
                }
                (key, _) => self.err(
                    CheckErrorKind::Option {
                        key: key.into(),
                        reason:
                            "a Logistic family takes `features: [...]`, `l2: x` and `init: [...]`"
                                .into(),
                    },
                    o.span,
                    did_you_mean(key, ["features", "l2", "init"]),
                ),
            }
        }
        family.kind = FamilyKind::Logistic(l);
    }

    /// One entry of `features: [...]`: a template, `shared(T)` (conjoined with no condition)
    /// or `by(i, .., T)` (conjoined with the listed condition parts only).
    pub(super) fn feature(
        &mut self,
        v: &ast::Value,
        n_cond: usize,
        conjoin: Vec<usize>,
    ) -> Option<Feature> {
        let (name, args, span) = match v {
            ast::Value::Word(w) => (w.name.as_str(), &[][..], w.span),
            ast::Value::Call { name, args, span } => (name.name.as_str(), &args[..], *span),
            other => {
                self.err(
                    CheckErrorKind::Option {
                        key: "features".into(),
                        reason: "not a feature template".into(),
                    },
                    other.span(),
                    Some(TEMPLATES_HINT.into()),
                );
                return None;
            }
        };
        let whole = |t| {
            Some(Feature {
                template: t,
                conjoin: conjoin.clone(),
                span,
            })
        };
        let int_arg = |this: &mut Self, lo: i64| -> Option<i64> {
            match args {
                [ast::Value::Number(n)] => match n.text.parse::<i64>() {
                    Ok(k) if k >= lo && k <= 64 => Some(k),
                    _ => {
                        this.err(
                            CheckErrorKind::Number(n.text.clone()),
                            n.span,
                            Some(format!("`{name}` takes a whole number from {lo} to 64")),
                        );
                        None
                    }
                },
                _ => {
                    this.err(
                        CheckErrorKind::Option {
                            key: "features".into(),
                            reason: format!("`{name}` takes one whole number, like `{name}(3)`"),
                        },
                        span,
                        None,
                    );
                    None
                }
            }
        };
        let plain = |this: &mut Self, t: Template| {
            if args.is_empty() {
                whole(t)
            } else {
                this.err(
                    CheckErrorKind::Option {
                        key: "features".into(),
                        reason: format!("`{name}` takes no arguments"),
                    },
                    span,
                    None,
                );
                None
            }
        };
        match name {
            "word" => plain(self, Template::Word),
            "digit" => plain(self, Template::Digit),
            "hyphen" => plain(self, Template::Hyphen),
            "capital" => plain(self, Template::Capital),
            "allcaps" => plain(self, Template::AllCaps),
            "shape" => plain(self, Template::Shape),
            "suffix" => int_arg(self, 1).and_then(|n| whole(Template::Suffix(n as usize))),
            "prefix" => int_arg(self, 1).and_then(|n| whole(Template::Prefix(n as usize))),
            "distance" => int_arg(self, 0).and_then(|n| whole(Template::Distance(n))),
            "shared" => match args {
                [inner] => self.feature(inner, n_cond, Vec::new()),
                _ => {
                    self.err(
                        CheckErrorKind::Option {
                            key: "features".into(),
                            reason: "`shared` takes one template, like `shared(suffix(2))`".into(),
                        },
                        span,
                        None,
                    );
                    None
                }
            },
            "by" => {
                let Some((inner, parts)) = args.split_last() else {
                    self.err(
                        CheckErrorKind::Option {
                            key: "features".into(),
                            reason:
                                "`by` takes condition positions and a template, like `by(0, word)`"
                                    .into(),
                        },
                        span,
                        None,
                    );
                    return None;
                };
                let mut conj = Vec::new();
                for p in parts {
                    match p {
                        ast::Value::Number(n) => match n.text.parse::<usize>() {
                            Ok(i) if i < n_cond => conj.push(i),
                            _ => self.err(
                                CheckErrorKind::Number(n.text.clone()),
                                n.span,
                                Some(format!(
                                    "condition positions count from 0; this family has {n_cond} condition(s)"
                                )),
                            ),
                        },
                        other => self.err(
                            CheckErrorKind::Option {
                                key: "features".into(),
                                reason: "`by` lists condition positions (0, 1, ...) before the template"
                                    .into(),
                            },
                            other.span(),
                            None,
                        ),
                    }
                }
                conj.sort_unstable();
                conj.dedup();
                self.feature(inner, n_cond, conj)
            }
            other => {
                self.err(
                    CheckErrorKind::Unknown {
                        what: "feature template",
                        name: other.into(),
                    },
                    span,
                    did_you_mean(
                        other,
                        [
                            "word", "suffix", "prefix", "digit", "hyphen", "capital", "allcaps",
                            "shape", "distance", "shared", "by",
                        ],
                    )
                    .or_else(|| Some(TEMPLATES_HINT.into())),
                );
                None
            }
        }
    }
}
