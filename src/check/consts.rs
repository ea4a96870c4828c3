//! Constants: `const` declarations, `--set` overrides, and integer expressions made of them.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::syntax::ast::{self, BinOp, Span};

impl Checker {
    pub(super) fn consts(&mut self, file: &ast::File, overrides: &[(String, String)]) {
        for c in &file.consts {
            if self.model.consts.iter().any(|(n, _)| *n == c.name.name) {
                error!(self, c.name.span, Kind::duplicate("constant", &c.name.name));
                continue;
            }
            match c.value.text.parse::<i64>() {
                Ok(v) => self.model.consts.push((c.name.name.clone(), v)),
                Err(_) => {
                    error!(
                        self,
                        c.value.span,
                        Kind::number(&c.value.text),
                        "constants are integers, e.g. `const K = 45`"
                    );
                    // Keep the name known so its uses do not report it again.
                    self.model.consts.push((c.name.name.clone(), 1));
                }
            }
        }
        for (name, value) in overrides {
            let known: Vec<&str> = self.model.consts.iter().map(|(n, _)| n.as_str()).collect();
            let hint = did_you_mean(name, known.iter().copied());
            match self.model.consts.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => match value.parse::<i64>() {
                    Ok(v) => slot.1 = v,
                    Err(_) => self.err_unlocated(
                        Kind::Number(value.clone()),
                        Some(format!("`--set {name}=...` takes an integer")),
                    ),
                },
                None => self.err_unlocated(
                    Kind::Unknown {
                        what: "constant (in --set)",
                        name: name.clone(),
                    },
                    hint,
                ),
            }
        }
    }

    pub(super) fn const_value(&self, name: &str) -> Option<i64> {
        self.model
            .consts
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    pub(super) fn bad_integer(&mut self, text: &str, span: Span) {
        error!(
            self,
            span,
            Kind::number(text.to_string()),
            "an integer here: a whole number between -2^63 and 2^63 - 1"
        );
    }

    /// Evaluates an integer expression made of literals and constants.
    pub(super) fn const_expr(&mut self, e: &ast::Expr) -> Option<i64> {
        match &e.kind {
            ast::ExprKind::Int(v) => Some(*v),
            ast::ExprKind::Name(n) => match self.const_value(n) {
                Some(v) => Some(v),
                None => {
                    let names: Vec<String> =
                        self.model.consts.iter().map(|(n, _)| n.clone()).collect();
                    let hint = did_you_mean(n, names.iter().map(String::as_str));
                    error!(self, e.span, Kind::unknown("constant", n), hint);
                    None
                }
            },
            ast::ExprKind::BadNumber(text) => {
                self.bad_integer(text, e.span);
                None
            }
            ast::ExprKind::Binary(op, a, b) if *op != BinOp::Concat => {
                let (a, b) = (self.const_expr(a)?, self.const_expr(b)?);
                let v = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    _ => a.checked_mul(b),
                };
                if v.is_none() {
                    error!(
                        self,
                        e.span,
                        Kind::Overflow,
                        "integers are 64-bit: between -2^63 and 2^63 - 1"
                    );
                }
                v
            }
            _ => {
                error!(
                    self,
                    e.span,
                    Kind::ty(
                        "an integer made of numbers and constants",
                        "an expression that depends on the data"
                    ),
                    "domain sizes are fixed before the data is read"
                );
                None
            }
        }
    }
}
