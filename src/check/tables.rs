//! Deterministic tables: closed domains, one row per combination of inputs.

use super::{CheckErrorKind as Kind, Checker};
use crate::diagnostic::did_you_mean;
use crate::model::*;
use crate::syntax::ast;

impl Checker {
    pub(super) fn tables(&mut self, file: &ast::File) {
        for t in &file.tables {
            if self.model.tables.iter().any(|x| x.name == t.name.name) {
                error!(self, t.name.span, Kind::duplicate("table", &t.name.name));
                continue;
            }
            let args: Vec<Option<DomainId>> = t.args.iter().map(|a| self.domain_named(a)).collect();
            let result = self.domain_named(&t.result);
            let (Some(args), Some(result)) = (args.into_iter().collect::<Option<Vec<_>>>(), result)
            else {
                continue;
            };
            let Some(values) = self.table_values(t, &args, result) else {
                continue;
            };
            self.model.tables.push(Table {
                name: t.name.name.clone(),
                args,
                result,
                values,
                span: t.name.span,
            });
        }
    }

    pub(super) fn table_values(
        &mut self,
        t: &ast::TableDecl,
        args: &[DomainId],
        result: DomainId,
    ) -> Option<Vec<u32>> {
        self.ensure_closed(args.iter().copied().chain([result]));
        let mut arg_symbols = Vec::new();
        for (a, ident) in args.iter().zip(&t.args) {
            match self.closed.get(a) {
                Some(s) => arg_symbols.push(s.clone()),
                None => {
                    bail!(
                        self,
                        ident.span,
                        Kind::unsupported("a table's domains must be closed, not vocabularies",)
                    );
                }
            }
        }
        let out_symbols = self.closed.get(&result).cloned().unwrap_or_default();
        let total: usize = arg_symbols.iter().map(Vec::len).product();
        let mut values: Vec<Option<u32>> = vec![None; total];
        let mut ok = true;
        for row in &t.rows {
            if row.inputs.len() != args.len() {
                error!(
                    self,
                    row.span,
                    Kind::Arity {
                        family: t.name.name.clone(),
                        expected: args.len(),
                        found: row.inputs.len(),
                    },
                    format!(
                        "each row lists {} input symbol(s), `->`, the result",
                        args.len()
                    )
                );
                ok = false;
                continue;
            }
            let mut index = 0;
            for (sym, symbols) in row.inputs.iter().zip(&arg_symbols) {
                match symbols.iter().position(|s| *s == sym.name) {
                    Some(p) => index = index * symbols.len() + p,
                    None => {
                        self.unknown_symbol(sym, symbols);
                        ok = false;
                    }
                }
            }
            let out = out_symbols.iter().position(|s| *s == row.output.name);
            if out.is_none() {
                self.unknown_symbol(&row.output, &out_symbols);
                ok = false;
            }
            if let (true, Some(out)) = (ok, out) {
                if values[index].is_some() {
                    error!(
                        self,
                        row.span,
                        Kind::DuplicateRow {
                            table: t.name.name.clone(),
                            row: row_text(&row.inputs),
                        }
                    );
                }
                values[index] = Some(out as u32);
            }
        }
        if !ok {
            return None;
        }
        let missing: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_none())
            .map(|(i, _)| combination(i, &arg_symbols))
            .collect();
        if !missing.is_empty() {
            let shown: Vec<String> = missing.iter().take(3).map(|m| format!("`{m}`")).collect();
            let more = if missing.len() > 3 {
                format!(" and {} more", missing.len() - 3)
            } else {
                String::new()
            };
            bail!(
                self,
                t.name.span,
                Kind::IncompleteTable {
                    table: t.name.name.clone(),
                    missing: format!("{}{more}", shown.join(", ")),
                },
                "a table gives a result for every combination of its inputs"
            );
        }
        Some(values.into_iter().map(|v| v.unwrap_or(0)).collect())
    }

    pub(super) fn unknown_symbol(&mut self, sym: &ast::Ident, symbols: &[String]) {
        let hint = did_you_mean(&sym.name, symbols.iter().map(String::as_str));
        error!(self, sym.span, Kind::unknown("symbol", &sym.name), hint);
    }
}

fn row_text(inputs: &[ast::Ident]) -> String {
    format!(
        "`{}`",
        inputs
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn combination(mut index: usize, symbols: &[Vec<String>]) -> String {
    let mut parts = vec![String::new(); symbols.len()];
    for (k, s) in symbols.iter().enumerate().rev() {
        parts[k] = s[index % s.len()].clone();
        index /= s.len();
    }
    parts.join(" ")
}
