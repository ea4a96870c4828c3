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
    }

    pub(super) fn setting(&mut self, o: &ast::OptionItem) {
        let s = &mut self.model.settings;
        let key = o.key.name.as_str();
        let number = match &o.value {
            Some(ast::Value::Number(n)) => Some(n),
            _ => None,
        };
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
            ("algorithm", _, Some(ast::Value::Word(w))) => match w.name.as_str() {
                "em" => {
                    s.algorithm = Algorithm::Em;
                    true
                }
                "direct" => {
                    s.algorithm = Algorithm::Direct;
                    true
                }
                _ => false,
            },
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
                    "algorithm" => "`algorithm` is `em` or `direct`".into(),
                    "tolerance" => valid_tolerance(f64::NAN).unwrap_err(),
                    "restarts" => valid_restarts(0).unwrap_err(),
                    _ => "a whole number >= 0".into(),
                })
            );
        }
    }
}
