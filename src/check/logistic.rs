//! Options of Logistic families and their feature templates.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast;

const TEMPLATES_HINT: &str = "templates: word, suffix(n), prefix(n), suffix(n, \"aeiou\"), prefix(n, \"aeiou\"), digit, hyphen, capital, allcaps, shape, length, count(\"aeiou\"), distance(n), common_prefix(n), edit_distance(n), prefix_pair(n), coarse(\"NOUN PROPN\", \"VERB AUX\"); wrap one in shared(...) or by(i, ...) to choose what it is conjoined with, by(coarse(i, \"NOUN PROPN\"), ...) to conjoin it with condition part i's coarse class";

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
                    _ => error!(
                        self,
                        n.span,
                        Kind::number(&n.text),
                        "`l2` is the penalty kappa * |w|^2: a finite number >= 0"
                    ),
                },
                ("m_step_tolerance", Some(ast::Value::Number(n))) => match n.text.parse::<f64>() {
                    Ok(v) if (0.0..1.0).contains(&v) => l.m_step_tolerance = v,
                    _ => error!(
                        self,
                        n.span,
                        Kind::number(&n.text),
                        "`m_step_tolerance` is the fraction of its starting size the \
                             gradient must fall to in each M-step: a number >= 0 and < 1 \
                             (0, the default, runs each M-step to convergence)"
                    ),
                },
                ("features", Some(ast::Value::Array { items, .. })) => {
                    for item in items {
                        if let Some(f) =
                            self.feature(item, n_cond, (0..n_cond).map(|i| (i, None)).collect())
                        {
                            l.features.push(f);
                        }
                    }
                }
                (key, _) => error!(
                    self,
                    o.span,
                    Kind::option(
                        key,
                        "a Logistic family takes `features: [...]`, `l2: x`, \
                         `m_step_tolerance: x` and `init: [...]`"
                    ),
                    did_you_mean(key, ["features", "l2", "m_step_tolerance", "init"])
                ),
            }
        }
        family.kind = FamilyKind::Logistic(l);
    }

    /// One entry of `features: [...]`: a template, `shared(T)` (conjoined with no condition)
    /// or `by(i, .., T)` (conjoined with the listed condition parts only, each as it is or,
    /// written `coarse(i, "A B", ..)`, through coarse classes).
    pub(super) fn feature(
        &mut self,
        v: &ast::Value,
        n_cond: usize,
        conjoin: Vec<(usize, Option<Groups>)>,
    ) -> Option<Feature> {
        let (name, args, span) = match v {
            ast::Value::Word(w) => (w.name.as_str(), &[][..], w.span),
            ast::Value::Call { name, args, span } => (name.name.as_str(), &args[..], *span),
            other => {
                bail!(
                    self,
                    other.span(),
                    Kind::option("features", "not a feature template"),
                    TEMPLATES_HINT
                );
            }
        };
        let whole = |t| {
            Some(Feature {
                template: t,
                conjoin: conjoin.iter().map(|(i, _)| *i).collect(),
                coarse: conjoin.iter().map(|(_, g)| g.clone()).collect(),
                span,
            })
        };
        let int_arg = |this: &mut Self, args: &[ast::Value], lo: i64| -> Option<i64> {
            match args {
                [ast::Value::Number(n)] => match n.text.parse::<i64>() {
                    Ok(k) if k >= lo && k <= 64 => Some(k),
                    _ => {
                        error!(
                            this,
                            n.span,
                            Kind::number(&n.text),
                            format!("`{name}` takes a whole number from {lo} to 64")
                        );
                        None
                    }
                },
                _ => {
                    let class = matches!(name, "suffix" | "prefix")
                        .then(|| {
                            format!(", or `{name}(2, \"aeiou\")` for the consonant-vowel pattern")
                        })
                        .unwrap_or_default();
                    error!(
                        this,
                        span,
                        Kind::option(
                            "features",
                            format!("`{name}` takes one whole number, like `{name}(3)`")
                        ),
                        format!("write `{name}(3)`{class}")
                    );
                    None
                }
            }
        };
        let plain = |this: &mut Self, t: Template| {
            if args.is_empty() {
                whole(t)
            } else {
                error!(
                    this,
                    span,
                    Kind::option("features", format!("`{name}` takes no arguments")),
                    format!("write `{name}` alone")
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
            "suffix" | "prefix" => {
                // `suffix(3)`, or `suffix(3, "aeiou")` for the ends' consonant-vowel pattern.
                let (n, class) = match args {
                    [n, ast::Value::Str { text, span }] => (
                        int_arg(self, std::slice::from_ref(n), 1),
                        self.class(text, *span).map(Some),
                    ),
                    _ => (int_arg(self, args, 1), Some(None)),
                };
                let (n, class) = (n? as usize, class?);
                whole(match name {
                    "suffix" => Template::Suffix(n, class),
                    _ => Template::Prefix(n, class),
                })
            }
            "distance" => int_arg(self, args, 0).and_then(|n| whole(Template::Distance(n))),
            "common_prefix" | "edit_distance" | "prefix_pair" if n_cond == 0 => {
                bail!(
                    self,
                    span,
                    Kind::option(
                        "features",
                        format!("`{name}` compares the outcome with the first condition, and this family has none")
                    ),
                    "use it in a family like `Logistic(F | E)`"
                );
            }
            "common_prefix" => {
                int_arg(self, args, 1).and_then(|n| whole(Template::CommonPrefix(n as usize)))
            }
            "edit_distance" => {
                int_arg(self, args, 1).and_then(|n| whole(Template::EditDistance(n as usize)))
            }
            "prefix_pair" => {
                let n = int_arg(self, args, 1)?;
                if conjoin.len() != n_cond || conjoin.iter().any(|(_, g)| g.is_some()) {
                    bail!(
                        self,
                        span,
                        Kind::option(
                            "features",
                            "`prefix_pair` is conjoined with the first condition's prefix only"
                        ),
                        "write `prefix_pair(4)` alone, without `shared` or `by`"
                    );
                }
                whole(Template::PrefixPair(n as usize))
            }
            "length" => plain(self, Template::Length),
            "count" => match args {
                [ast::Value::Str { text, span }] => self
                    .class(text, *span)
                    .and_then(|c| whole(Template::Count(c))),
                _ => {
                    error!(
                        self,
                        span,
                        Kind::option(
                            "features",
                            "`count` takes the characters to count, like `count(\"aeiou\")`"
                        ),
                        "`count(\"aeiou\")` counts the vowels of each outcome (a word, a span)"
                    );
                    None
                }
            },
            "coarse" => self
                .groups(args, span, "coarse(\"NOUN PROPN PRON\", \"VERB AUX\")")
                .and_then(|g| whole(Template::Coarse(g))),
            "shared" => match args {
                [inner] => self.feature(inner, n_cond, Vec::new()),
                _ => {
                    error!(
                        self,
                        span,
                        Kind::option(
                            "features",
                            "`shared` takes one template, like `shared(suffix(2))`"
                        )
                    );
                    None
                }
            },
            "by" => {
                let Some((inner, parts)) = args.split_last() else {
                    bail!(
                        self,
                        span,
                        Kind::option(
                            "features",
                            "`by` takes condition positions and a template, like `by(0, word)`"
                        )
                    );
                };
                let mut conj = Vec::new();
                for p in parts {
                    match p {
                        ast::Value::Number(n) => {
                            if let Some(i) = self.condition_position(n, n_cond) {
                                conj.push((i, None));
                            }
                        }
                        ast::Value::Call { name, args, span } if name.name == "coarse" => {
                            match args.split_first() {
                                Some((ast::Value::Number(n), groups)) => {
                                    let i = self.condition_position(n, n_cond);
                                    let g = self.groups(
                                        groups,
                                        *span,
                                        "by(coarse(1, \"NOUN PROPN PRON\", \"VERB AUX\"), word)",
                                    );
                                    if let (Some(i), Some(g)) = (i, g) {
                                        conj.push((i, Some(g)));
                                    }
                                }
                                _ => error!(
                                    self,
                                    *span,
                                    Kind::option(
                                        "features",
                                        "`coarse` in `by` takes a condition position, then the classes"
                                    ),
                                    "write `coarse(1, \"NOUN PROPN PRON\", \"VERB AUX\")`: condition part 1 read through those classes"
                                ),
                            }
                        }
                        other => error!(
                            self,
                            other.span(),
                            Kind::option("features", "`by` lists condition positions (0, 1, ...) before the template"),
                            "a position is a number, or `coarse(i, \"A B\", ...)` for part i's coarse class"
                        ),
                    }
                }
                conj.sort_by_key(|(i, _)| *i);
                if let Some(w) = conj.windows(2).find(|w| w[0].0 == w[1].0) {
                    bail!(
                        self,
                        span,
                        Kind::option(
                            "features",
                            format!("`by` names condition part {} twice", w[0].0)
                        ),
                        "conjoin a part once, as it is or through its coarse classes"
                    );
                }
                self.feature(inner, n_cond, conj)
            }
            other => {
                error!(
                    self,
                    span,
                    Kind::unknown("feature template", other),
                    did_you_mean(
                        other,
                        [
                            "word",
                            "suffix",
                            "prefix",
                            "digit",
                            "hyphen",
                            "capital",
                            "allcaps",
                            "shape",
                            "length",
                            "count",
                            "distance",
                            "common_prefix",
                            "edit_distance",
                            "prefix_pair",
                            "coarse",
                            "shared",
                            "by",
                        ],
                    )
                    .or_else(|| Some(TEMPLATES_HINT.into()))
                );
                None
            }
        }
    }

    /// A condition position of `by`, counted from 0.
    fn condition_position(&mut self, n: &ast::Number, n_cond: usize) -> Option<usize> {
        match n.text.parse::<usize>() {
            Ok(i) if i < n_cond => Some(i),
            _ => {
                error!(
                    self,
                    n.span,
                    Kind::number(&n.text),
                    format!(
                        "condition positions count from 0; this family has {n_cond} condition(s)"
                    )
                );
                None
            }
        }
    }

    /// The classes of `coarse(...)`: strings of space-separated symbols, no symbol in two.
    fn groups(&mut self, args: &[ast::Value], span: ast::Span, example: &str) -> Option<Groups> {
        if args.is_empty() {
            bail!(
                self,
                span,
                Kind::option("features", "`coarse` needs at least one class"),
                format!("list each class as a string of its symbols: `{example}`")
            );
        }
        let mut groups: Vec<std::sync::Arc<str>> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut ok = true;
        for a in args {
            let ast::Value::Str { text, span } = a else {
                error!(
                    self,
                    a.span(),
                    Kind::option("features", "a coarse class is a string of symbols"),
                    format!("write `{example}`")
                );
                ok = false;
                continue;
            };
            if text.split_whitespace().next().is_none() {
                error!(
                    self,
                    *span,
                    Kind::option("features", "an empty coarse class"),
                    "list the symbols of the class, space-separated, like \"VERB AUX\""
                );
                ok = false;
                continue;
            }
            for m in text.split_whitespace() {
                if seen.iter().any(|s| s == m) {
                    error!(
                        self,
                        *span,
                        Kind::option("features", format!("`{m}` is in two coarse classes")),
                        "a symbol belongs to one class; for another grouping write another feature"
                    );
                    ok = false;
                }
                seen.push(m.to_string());
            }
            groups.push(text.as_str().into());
        }
        ok.then(|| groups.into())
    }

    /// A character class written as the string of its characters (`None` after an error).
    fn class(&mut self, text: &str, span: ast::Span) -> Option<std::sync::Arc<str>> {
        if text.is_empty() {
            error!(
                self,
                span,
                Kind::option("features", "an empty character class"),
                "list the characters of the class, like \"aeiou\""
            );
            return None;
        }
        Some(text.into())
    }
}
