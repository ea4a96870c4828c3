//! Decoding: the most probable values of the hidden variables per instance (Viterbi / MAP),
//! or their posterior marginals, as text lines.

use crate::compile::{Error, Program};
use crate::data::{Dataset, Domains, FieldValue};
use crate::graph::{unroll, InstanceGraph, VarDomain, VarOrigin};
use crate::infer::{map, posterior, var_marginals};
use crate::params::Params;

/// One line per instance. A model with one hidden declaration and no `?` in the data prints
/// its values (a sequence space-separated); otherwise every line names its groups,
/// `name=values`, tab-separated: hidden declarations first, then data fields with `?`.
pub fn viterbi(program: &Program, data: &Dataset, params: &Params) -> Result<Vec<String>, Error> {
    let bare = program.model.hiddens.len() == 1 && !data.instances.iter().any(has_missing);
    data.instances
        .iter()
        .map(|inst| {
            let g = unroll(&program.model, &program.domains, &program.layout, inst)?;
            let (assign, _) = map(program.plan.engine, &g, &params.theta)?;
            Ok(format_assignment(&g, &program.domains, &assign, bare))
        })
        .collect()
}

fn has_missing(inst: &crate::data::Instance) -> bool {
    inst.values.iter().any(|v| match v {
        FieldValue::Scalar(s) => s.is_none(),
        FieldValue::Sequence(items) => items.iter().any(Option::is_none),
        // A missing real coordinate is marginalised, not decoded.
        FieldValue::Weight(_) | FieldValue::Real(_) | FieldValue::RealSequence(_) => false,
    })
}

fn value_name(g: &InstanceGraph, domains: &Domains, var: usize, value: u32) -> String {
    match g.vars[var].domain {
        VarDomain::Symbols(d) => domains.name(d, value).to_string(),
        VarDomain::Integers(lo) => (lo + i64::from(value)).to_string(),
    }
}

/// Groups variables by the declaration (or data field) they come from: hidden declarations in
/// declaration order, then data fields in field order.
fn groups(g: &InstanceGraph) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(VarOrigin, String, Vec<usize>)> = Vec::new();
    for (i, v) in g.vars.iter().enumerate() {
        let key = match v.origin {
            VarOrigin::Hidden { decl, .. } => VarOrigin::Hidden { decl, index: None },
            VarOrigin::Missing { field, .. } => VarOrigin::Missing { field, index: None },
        };
        let base = v.name.split('[').next().unwrap_or(&v.name).to_string();
        match out.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, vars)) => vars.push(i),
            None => out.push((key, base, vec![i])),
        }
    }
    out.sort_by_key(|(key, _, _)| match key {
        VarOrigin::Hidden { decl, .. } => (0, *decl),
        VarOrigin::Missing { field, .. } => (1, *field),
    });
    out.into_iter()
        .map(|(_, name, vars)| (name, vars))
        .collect()
}

fn format_assignment(g: &InstanceGraph, domains: &Domains, assign: &[u32], bare: bool) -> String {
    let groups = groups(g);
    let render = |vars: &[usize]| -> String {
        vars.iter()
            .map(|v| value_name(g, domains, *v, assign[*v]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match groups.as_slice() {
        [(_, vars)] if bare => render(vars),
        _ => groups
            .iter()
            .map(|(name, vars)| format!("{name}={}", render(vars)))
            .collect::<Vec<_>>()
            .join("\t"),
    }
}

/// Posterior marginals: one line per hidden variable, `line<TAB>variable<TAB>value=p ...`.
pub fn marginals(program: &Program, data: &Dataset, params: &Params) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for inst in &data.instances {
        let g = unroll(&program.model, &program.domains, &program.layout, inst)?;
        let p = posterior(program.plan.engine, &g, &params.theta)?;
        for (v, m) in var_marginals(&g, &p).iter().enumerate() {
            let probs: Vec<String> = m
                .iter()
                .enumerate()
                .map(|(k, x)| format!("{}={x:.6}", value_name(&g, &program.domains, v, k as u32)))
                .collect();
            out.push(format!(
                "{}\t{}\t{}",
                inst.line,
                g.vars[v].name,
                probs.join(" ")
            ));
        }
    }
    Ok(out)
}
