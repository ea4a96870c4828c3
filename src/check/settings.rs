//! The `train { ... }` settings.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast;

impl Checker {
    pub(super) fn settings(&mut self, file: &ast::File) {
        for opts in &file.trains {
            for o in &opts.items {
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
                .filter(|v| *v >= 1)
                .map(|v| s.restarts = v)
                .is_some(),
            ("seed", Some(n), _) => n.text.parse().map(|v| s.seed = v).is_ok(),
            ("tolerance", Some(n), _) => n
                .text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
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
                let known = [
                    "iterations",
                    "tolerance",
                    "restarts",
                    "seed",
                    "init",
                    "algorithm",
                ];
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
                    "tolerance" => "a finite number >= 0".into(),
                    "restarts" => "a whole number >= 1".into(),
                    _ => "a whole number >= 0".into(),
                })
            );
        }
    }
}
