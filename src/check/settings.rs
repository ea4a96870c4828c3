//! The `train { ... }` settings.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, Span};
use std::collections::HashSet;

impl Checker {
    pub(super) fn settings(&mut self, file: &ast::File) {
        // A later block or key would silently overwrite an earlier one: refuse both.
        if let Some(second) = file.trains.get(1) {
            error!(
                self,
                Span::new(second.span.start, second.span.start),
                Kind::Duplicate {
                    what: "block",
                    name: "train".into(),
                },
                "a model has one `train { ... }` block: merge the settings into the first"
            );
        }
        for opts in &file.trains {
            let mut seen = HashSet::new();
            for o in &opts.items {
                if !seen.insert(o.key.name.as_str()) {
                    error!(
                        self,
                        o.key.span,
                        Kind::Duplicate {
                            what: "setting",
                            name: o.key.name.clone(),
                        },
                        "each setting is given once: keep one of the two"
                    );
                    continue;
                }
                self.setting(o);
            }
        }
        self.unused_settings();
    }

    /// A setting of another algorithm than the block's would be silently ignored: refuse it.
    fn unused_settings(&mut self) {
        let s = &self.model.settings;
        let algorithm = s.algorithm;
        let unused: Vec<(String, Span, String)> = (s.spans.iter())
            .filter_map(|(key, span)| {
                let users = setting_users(key)?;
                (!users.contains(&algorithm)).then(|| {
                    let names: Vec<String> = users
                        .iter()
                        .map(|a| format!("`algorithm: {}`", a.name()))
                        .collect();
                    (key.clone(), *span, names.join(" or "))
                })
            })
            .collect();
        for (key, span, users) in unused {
            error!(
                self,
                span,
                Kind::option(&key, "not a setting of this algorithm"),
                format!(
                    "`{key}` applies to {users}, and this block trains with `{}`: \
                     remove it, or choose that algorithm",
                    algorithm.name()
                )
            );
        }
    }

    pub(super) fn setting(&mut self, o: &ast::OptionItem) {
        let s = &mut self.model.settings;
        let key = o.key.name.as_str();
        let number = match &o.value {
            Some(ast::Value::Number(n)) => Some(n),
            _ => None,
        };
        s.spans.push((key.to_string(), o.span));
        let ok = match (key, number, &o.value) {
            ("iterations", Some(n), _) => n.text.parse().map(|v| s.iterations = v).is_ok(),
            ("restarts", Some(n), _) => n
                .text
                .parse::<usize>()
                .ok()
                .and_then(|v| valid_restarts(v).ok())
                .map(|v| s.restarts = v)
                .is_some(),
            ("seed", Some(n), _) => n.text.parse().map(|v| s.seed = v).is_ok(),
            ("tolerance", Some(n), _) => n
                .text
                .parse::<f64>()
                .ok()
                .and_then(|v| valid_tolerance(v).ok())
                .map(|v| s.tolerance = v)
                .is_some(),
            ("init", _, Some(ast::Value::Word(w))) => match w.name.as_str() {
                "random" => {
                    s.init = InitMode::Random;
                    true
                }
                "uniform" => {
                    s.init = InitMode::Uniform;
                    true
                }
                _ => false,
            },
            ("algorithm", _, Some(ast::Value::Word(w))) => Algorithm::from_name(&w.name)
                .map(|a| s.algorithm = a)
                .is_some(),
            ("batch", Some(n), _) => n
                .text
                .parse::<usize>()
                .ok()
                .and_then(|v| valid_batch(v).ok())
                .map(|v| s.batch = v)
                .is_some(),
            ("alpha", Some(n), _) => real(n, valid_alpha).map(|v| s.alpha = v).is_some(),
            ("anneal", Some(n), _) => real(n, valid_anneal).map(|v| s.anneal = Some(v)).is_some(),
            ("anneal_rate", Some(n), _) => real(n, valid_anneal_rate)
                .map(|v| s.anneal_rate = v)
                .is_some(),
            ("prior", Some(n), _) => real(n, valid_prior).map(|v| s.prior = v).is_some(),
            _ => {
                let known = SETTING_KEYS;
                if known.contains(&key) {
                    false
                } else {
                    error!(
                        self,
                        o.key.span,
                        Kind::option(key, "not a training setting"),
                        did_you_mean(key, known)
                    );
                    return;
                }
            }
        };
        if !ok {
            error!(
                self,
                o.span,
                Kind::option(key, "bad value"),
                Some(match key {
                    "init" => "`init` is `random` or `uniform`".into(),
                    "algorithm" => format!(
                        "`algorithm` is one of {}",
                        Algorithm::ALL.map(|a| format!("`{}`", a.name())).join(", ")
                    ),
                    "batch" => valid_batch(0).unwrap_err(),
                    "alpha" => valid_alpha(0.0).unwrap_err(),
                    "anneal" => valid_anneal(0.0).unwrap_err(),
                    "anneal_rate" => valid_anneal_rate(0.0).unwrap_err(),
                    "prior" => valid_prior(0.0).unwrap_err(),
                    "tolerance" => valid_tolerance(f64::NAN).unwrap_err(),
                    "restarts" => valid_restarts(0).unwrap_err(),
                    _ => "a whole number >= 0".into(),
                })
            );
        }
    }
}

/// A number setting checked by `rule`.
fn real(n: &ast::Number, rule: fn(f64) -> Result<f64, String>) -> Option<f64> {
    n.text.parse::<f64>().ok().and_then(|v| rule(v).ok())
}
