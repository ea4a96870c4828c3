//! Decoding: the most probable values of the hidden variables per instance (Viterbi / MAP),
//! or their posterior marginals, as text lines.

use crate::data::{Dataset, Domains, FieldValue};
use crate::error::Error;
use crate::graph::{unroll, Decoded, VarDomain, VarOrigin};
use crate::infer::{map, posterior, var_marginals};
use crate::kernel::Kernel;
use crate::params::Params;
use crate::program::Program;

/// One line per instance. A model with one hidden declaration and no `?` in the data prints
/// its values (a sequence space-separated); otherwise every line names its groups,
/// `name=values`, tab-separated: hidden declarations first, then data fields with `?`.
pub fn viterbi(program: &Program, data: &Dataset, params: &Params) -> Result<Vec<String>, Error> {
    crate::infer::check_values(data)?;
    if program.model.structured {
        return crate::structured::decode::viterbi(program, data, params);
    }
    let bare = is_bare(program, data);
    data.instances
        .iter()
        .map(|inst| {
            let g = unroll(&program.model, &program.domains, &program.layout, inst)?;
            let (assign, _) = map(program.plan.engine, &g, &params.theta)?;
            let vars: Vec<Decoded> = g
                .vars
                .iter()
                .zip(&assign)
                .map(|(v, a)| (v.origin, v.domain, *a))
                .collect();
            Ok(format_line(program, &vars, bare))
        })
        .collect()
}

/// Viterbi lines through a compiled kernel where it decodes (no instance is unrolled again),
/// else as `viterbi`.
pub fn viterbi_compiled(
    program: &Program,
    data: &Dataset,
    params: &Params,
    kernel: &Kernel,
    pool: &rayon::ThreadPool,
) -> Result<Vec<String>, Error> {
    crate::infer::check_values(data)?;
    let bare = is_bare(program, data);
    match kernel.map(params, pool, |vars| format_line(program, vars, bare)) {
        Some(lines) => Ok(lines),
        None => viterbi(program, data, params),
    }
}

fn is_bare(program: &Program, data: &Dataset) -> bool {
    program.model.hiddens.len() == 1 && !data.instances.iter().any(has_missing)
}

fn has_missing(inst: &crate::data::Instance) -> bool {
    inst.values.iter().any(|v| match v {
        FieldValue::Scalar(s) => s.is_none(),
        FieldValue::Sequence(items) => items.iter().any(|x| x.is_none()),
        // A missing real coordinate is marginalised, not decoded.
        FieldValue::Weight(_) | FieldValue::Real(_) | FieldValue::RealSequence(_) => false,
    })
}

fn value_name(domains: &Domains, domain: VarDomain, value: u32) -> String {
    match domain {
        VarDomain::Symbols(d) => domains.name(d, value).to_string(),
        VarDomain::Integers(lo) => (lo + i64::from(value)).to_string(),
    }
}

/// Groups variables by the declaration (or data field) they come from: hidden declarations in
/// declaration order, then data fields in field order.
fn groups(program: &Program, vars: &[Decoded]) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(VarOrigin, Vec<usize>)> = Vec::new();
    for (i, (origin, _, _)) in vars.iter().enumerate() {
        let key = match *origin {
            VarOrigin::Hidden { decl, .. } => VarOrigin::Hidden { decl, index: None },
            VarOrigin::Missing { field, .. } => VarOrigin::Missing { field, index: None },
        };
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => out.push((key, vec![i])),
        }
    }
    out.sort_by_key(|(key, _)| match key {
        VarOrigin::Hidden { decl, .. } => (0, *decl),
        VarOrigin::Missing { field, .. } => (1, *field),
    });
    let model = &program.model;
    out.into_iter()
        .map(|(key, members)| {
            let name = match key {
                VarOrigin::Hidden { decl, .. } => model.hiddens[decl].name.clone(),
                VarOrigin::Missing { field, .. } => model.fields[field].name.clone(),
            };
            (name, members)
        })
        .collect()
}

fn format_line(program: &Program, vars: &[Decoded], bare: bool) -> String {
    let groups = groups(program, vars);
    let render = |members: &[usize]| -> String {
        members
            .iter()
            .map(|v| value_name(&program.domains, vars[*v].1, vars[*v].2))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match groups.as_slice() {
        [(_, members)] if bare => render(members),
        _ => groups
            .iter()
            .map(|(name, members)| format!("{name}={}", render(members)))
            .collect::<Vec<_>>()
            .join("\t"),
    }
}

/// Posterior marginals: one line per hidden variable, `line<TAB>variable<TAB>value=p ...`.
pub fn marginals(program: &Program, data: &Dataset, params: &Params) -> Result<Vec<String>, Error> {
    crate::infer::check_values(data)?;
    if program.model.structured {
        return crate::structured::posterior::posteriors(program, data, params);
    }
    let mut out = Vec::new();
    for inst in &data.instances {
        let g = unroll(&program.model, &program.domains, &program.layout, inst)?;
        let p = posterior(program.plan.engine, &g, &params.theta)?;
        for (v, m) in var_marginals(&g, &p).iter().enumerate() {
            let probs: Vec<String> = m
                .iter()
                .enumerate()
                .map(|(k, x)| {
                    let name = value_name(&program.domains, g.vars[v].domain, k as u32);
                    format!("{name}={x:.6}")
                })
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
