//! The data line: fields and their groups, real types, and the fields vocabularies collect.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast::{self, Span};

impl Checker {
    pub(super) fn data(&mut self, file: &ast::File) {
        let decl =
            match file.data.as_slice() {
                [] => {
                    error!(
                        self,
                        Span::default(),
                        Kind::Missing("`data` declaration"),
                        Some(
                            "say what one line of the data file holds, e.g. `data words : [Word]`"
                                .into(),
                        )
                    );
                    return;
                }
                [d] => d,
                [_, second, ..] => {
                    error!(self, second.span, Kind::duplicate("declaration", "data"), Some(
                        "one `data` declaration describes a whole line; separate groups with `|||`"
                            .into(),
                    ));
                    &file.data[0]
                }
            };
        for group in &decl.groups {
            let mut ids = Vec::new();
            for (k, f) in group.iter().enumerate() {
                if self.model.fields.iter().any(|x| x.name == f.name.name) {
                    error!(self, f.name.span, Kind::duplicate("field", &f.name.name));
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
                    error!(
                        self,
                        f.name.span,
                        Kind::unsupported(format!(
                            "sequence field `{}` must be the last field of its group",
                            f.name.name
                        )),
                        Some(
                            "separate sequences with `|||`, e.g. `data f : [F] ||| e : [E]`".into(),
                        )
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
                    generated: false,
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
            error!(self, decl.span, Kind::duplicate("field of type", "weight"));
        }
    }

    pub(super) fn field_named(&self, name: &str) -> Option<FieldId> {
        self.model.fields.iter().position(|f| f.name == name)
    }

    pub(super) fn vocabularies(&mut self, file: &ast::File) {
        for d in &file.domains {
            if let ast::DomainBase::Substrings {
                field,
                options,
                span,
            } = &d.base
            {
                self.substrings(d, field, options, *span);
                continue;
            }
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
                    Some(fid) if self.model.fields[fid].kind == FieldKind::Weight => error!(
                        self,
                        f.span,
                        Kind::ty(
                            format!("a field of domain `{}`", d.name.name),
                            format!("the weight field `{}`", f.name)
                        )
                    ),
                    // A real-valued field has no domain to name.
                    Some(fid) if self.model.fields[fid].real.is_some() => error!(
                        self,
                        f.span,
                        Kind::ty(
                            format!("a field of domain `{}`", d.name.name),
                            format!("the real-valued field `{}`", f.name)
                        ),
                        "a vocabulary collects symbols: give it a field of symbols, e.g. `w : [Word]`"
                    ),
                    Some(fid) => {
                        let other = self.model.domains[self.model.fields[fid].domain]
                            .name
                            .clone();
                        error!(
                            self,
                            f.span,
                            Kind::ty(
                                format!("a field of domain `{}`", d.name.name),
                                format!("field `{}` of domain `{other}`", f.name)
                            ),
                            format!("declare the field as `{} : [{}]`", f.name, d.name.name)
                        );
                    }
                    None => {
                        let names: Vec<String> =
                            self.model.fields.iter().map(|x| x.name.clone()).collect();
                        let hint = did_you_mean(&f.name, names.iter().map(String::as_str));
                        error!(self, f.span, Kind::unknown("data field", &f.name), hint);
                    }
                }
            }
            self.repeated_keys(options);
            for o in options {
                match (o.key.name.as_str(), &o.value) {
                    ("unknown", Some(ast::Value::Str { text, .. })) => {
                        vocab.unknown = Some(text.clone())
                    }
                    ("min_count", Some(ast::Value::Number(n))) => match n.text.parse::<u64>() {
                        Ok(v) if v >= 1 => vocab.min_count = v,
                        _ => error!(
                            self,
                            n.span,
                            Kind::number(&n.text),
                            "`min_count` is a whole number, at least 1"
                        ),
                    },
                    (key, _) => error!(
                        self,
                        o.span,
                        Kind::option(
                            key,
                            "a vocabulary takes `unknown = \"<unk>\"` and `min_count = N`"
                        ),
                        did_you_mean(key, ["unknown", "min_count"])
                    ),
                }
            }
            if vocab.min_count > 1 && vocab.unknown.is_none() {
                error!(
                    self,
                    d.span,
                    Kind::option("min_count", "rare words need a symbol to become"),
                    "add `unknown = \"<unk>\"`"
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
                error!(
                    self,
                    e.span,
                    Kind::number(d.to_string()),
                    format!("a real vector has 1 to {MAX_REAL_DIM} numbers")
                );
                1
            }
            None => 1,
        }
    }
}
