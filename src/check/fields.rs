//! The data line: fields and their groups, real types, and the fields vocabularies collect.

use super::{CheckErrorKind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, Span};

impl Checker {
    pub(super) fn data(&mut self, file: &ast::File) {
        let decl = match file.data.as_slice() {
            [] => {
                self.err(
                    CheckErrorKind::Missing("`data` declaration"),
                    Span::default(),
                    Some(
                        "say what one line of the data file holds, e.g. `data words : [Word]`"
                            .into(),
                    ),
                );
                return;
            }
            [d] => d,
            [_, second, ..] => {
                self.err(
                    CheckErrorKind::Duplicate {
                        what: "declaration",
                        name: "data".into(),
                    },
                    second.span,
                    Some(
                        "one `data` declaration describes a whole line; separate groups with `|||`"
                            .into(),
                    ),
                );
                &file.data[0]
            }
        };
        for group in &decl.groups {
            let mut ids = Vec::new();
            for (k, f) in group.iter().enumerate() {
                if self.model.fields.iter().any(|x| x.name == f.name.name) {
                    self.err(
                        CheckErrorKind::Duplicate {
                            what: "field",
                            name: f.name.name.clone(),
                        },
                        f.name.span,
                        None,
                    );
                    continue;
                }
                let kind = if f.sequence {
                    FieldKind::Sequence
                } else if f.ty.name == "weight" {
                    FieldKind::Weight
                } else {
                    FieldKind::Scalar
                };
                if kind == FieldKind::Sequence && k + 1 != group.len() {
                    self.err(
                        CheckErrorKind::Unsupported(format!(
                            "sequence field `{}` must be the last field of its group",
                            f.name.name
                        )),
                        f.name.span,
                        Some(
                            "separate sequences with `|||`, e.g. `data f : [F] ||| e : [E]`".into(),
                        ),
                    );
                }
                let real = f.real.as_ref().map(|r| self.real_dim(r));
                let domain = if kind == FieldKind::Weight || real.is_some() {
                    NO_DOMAIN
                } else {
                    self.domain_named(&f.ty)
                        .unwrap_or_else(|| self.error_domain())
                };
                ids.push(self.model.fields.len());
                self.model.fields.push(Field {
                    name: f.name.name.clone(),
                    kind,
                    domain,
                    real,
                    span: f.name.span,
                });
            }
            self.model.groups.push(ids);
        }
        let weights = self
            .model
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Weight)
            .count();
        if weights > 1 {
            self.err(
                CheckErrorKind::Duplicate {
                    what: "field of type",
                    name: "weight".into(),
                },
                decl.span,
                None,
            );
        }
    }

    pub(super) fn field_named(&self, name: &str) -> Option<FieldId> {
        self.model.fields.iter().position(|f| f.name == name)
    }

    pub(super) fn vocabularies(&mut self, file: &ast::File) {
        for d in &file.domains {
            let ast::DomainBase::Vocabulary {
                fields, options, ..
            } = &d.base
            else {
                continue;
            };
            let Some(id) = self
                .model
                .domains
                .iter()
                .position(|x| x.span == d.name.span)
            else {
                continue;
            };
            let mut vocab = Vocabulary {
                fields: Vec::new(),
                unknown: None,
                min_count: 1,
            };
            for f in fields {
                match self.field_named(&f.name) {
                    Some(fid) if self.model.fields[fid].domain == id => vocab.fields.push(fid),
                    Some(fid) if self.model.fields[fid].kind == FieldKind::Weight => self.err(
                        CheckErrorKind::Type {
                            expected: format!("a field of domain `{}`", d.name.name),
                            found: format!("the weight field `{}`", f.name),
                        },
                        f.span,
                        None,
                    ),
                    Some(fid) => {
                        let other = self.model.domains[self.model.fields[fid].domain]
                            .name
                            .clone();
                        self.err(
                            CheckErrorKind::Type {
                                expected: format!("a field of domain `{}`", d.name.name),
                                found: format!("field `{}` of domain `{other}`", f.name),
                            },
                            f.span,
                            Some(format!(
                                "declare the field as `{} : [{}]`",
                                f.name, d.name.name
                            )),
                        );
                    }
                    None => {
                        let names: Vec<String> =
                            self.model.fields.iter().map(|x| x.name.clone()).collect();
                        let hint = did_you_mean(&f.name, names.iter().map(String::as_str));
                        self.err(
                            CheckErrorKind::Unknown {
                                what: "data field",
                                name: f.name.clone(),
                            },
                            f.span,
                            hint,
                        );
                    }
                }
            }
            for o in options {
                match (o.key.name.as_str(), &o.value) {
                    ("unknown", Some(ast::Value::Str { text, .. })) => {
                        vocab.unknown = Some(text.clone())
                    }
                    ("min_count", Some(ast::Value::Number(n))) => match n.text.parse::<u64>() {
                        Ok(v) if v >= 1 => vocab.min_count = v,
                        _ => self.err(
                            CheckErrorKind::Number(n.text.clone()),
                            n.span,
                            Some("`min_count` is a whole number, at least 1".into()),
                        ),
                    },
                    (key, _) => self.err(
                        CheckErrorKind::Option {
                            key: key.into(),
                            reason: "a vocabulary takes `unknown = \"<unk>\"` and `min_count = N`"
                                .into(),
                        },
                        o.span,
                        did_you_mean(key, ["unknown", "min_count"]),
                    ),
                }
            }
            if vocab.min_count > 1 && vocab.unknown.is_none() {
                self.err(
                    CheckErrorKind::Option {
                        key: "min_count".into(),
                        reason: "rare words need a symbol to become".into(),
                    },
                    d.span,
                    Some("add `unknown = \"<unk>\"`".into()),
                );
            }
            self.model.domains[id].base = DomainBase::Vocabulary(vocab);
        }
    }

    /// The dimension of `Real` (1) or `Real[D]`.
    pub(super) fn real_dim(&mut self, r: &ast::RealType) -> usize {
        let Some(e) = &r.dim else {
            return 1;
        };
        match self.const_expr(e) {
            Some(d) if (1..=MAX_REAL_DIM).contains(&d) => d as usize,
            Some(d) => {
                self.err(
                    CheckErrorKind::Number(d.to_string()),
                    e.span,
                    Some(format!("a real vector has 1 to {MAX_REAL_DIM} numbers")),
                );
                1
            }
            None => 1,
        }
    }
}
