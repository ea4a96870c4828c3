//! The text of `emc check`: what the compiler made of a model, and the plan it chose.

use crate::data::{Dataset, FieldValue};
use crate::graph::{probe_dataset, TableCache, VarOrigin, PROBE_LENGTH};
use crate::model::{DomainBase, Family, FamilyKind, FieldKind, Logistic, Model, Storage};
use crate::params::FamilySlot;
use crate::plan::{choose, structure, Plan};
use crate::program::Program;

/// Where the plan `emc check` prints was read off.
enum Analysed {
    /// The probe instance: the plan does not depend on the data.
    Probe,
    /// A data line whose structure needs a more general engine than the probe's: a missing
    /// value (`?`) makes a hidden variable where the probe has an observed one, so the draws
    /// that use it can link hidden variables into a chain or a loop. The kernel follows the
    /// data (a chain of them runs forward-backward), so the report does too.
    Line { line: usize, missing: bool },
}

/// The plan the data gets: the program's, unless some instance needs a more general engine,
/// then the plan of the first instance that needs the most general one. An instance that
/// does not unroll keeps the program's plan here: unrolling reports it elsewhere. Shards of
/// instances are unrolled in parallel (each instance's generality alone), so the instance
/// found is the same for any thread count.
fn plan_on_data(program: &Program, data: &Dataset) -> (Plan, Analysed) {
    use rayon::prelude::*;
    const SHARD: usize = 1024;
    let base = program.plan.engine.generality();
    // Per shard, its most general instance above the program's (the first of them).
    let shards: Vec<Option<(u8, usize)>> = data
        .instances
        .par_chunks(SHARD)
        .enumerate()
        .map(|(s, shard)| {
            let mut tables = TableCache::default();
            let mut best: Option<(u8, usize)> = None;
            for (i, inst) in shard.iter().enumerate() {
                let Ok(g) = program.unroll(inst, &mut tables) else {
                    continue;
                };
                let needed = structure(&g).generality();
                if needed > best.map_or(base, |(n, _)| n) {
                    best = Some((needed, s * SHARD + i));
                }
            }
            best
        })
        .collect();
    let mut found: Option<(u8, usize)> = None;
    for (needed, i) in shards.into_iter().flatten() {
        if needed > found.map_or(base, |(n, _)| n) {
            found = Some((needed, i));
        }
    }
    // Unrolled again here: instance graphs share their tables, so stay on their thread.
    let g = found.and_then(|(_, i)| {
        program
            .unroll(&data.instances[i], &mut TableCache::default())
            .ok()
    });
    let Some(g) = g else {
        return (program.plan.clone(), Analysed::Probe);
    };
    let missing = g
        .vars
        .iter()
        .any(|v| matches!(v.origin, VarOrigin::Missing { .. }));
    let plan = match choose(&g) {
        Ok(plan) => plan,
        // Too large to run: the E-step will stop on this line with the same figures.
        Err(e) => Plan {
            engine: structure(&g),
            reason: format!("{e}, so training stops on this line"),
            largest_clique: Vec::new(),
            largest_states: 0,
            cost: 0,
        },
    };
    (
        plan,
        Analysed::Line {
            line: g.line,
            missing,
        },
    )
}

/// The text of `emc check`.
pub fn describe(m: &Model, plan: &Plan, with_data: Option<(&Program, &Dataset)>) -> String {
    let mut out = String::new();
    if !m.consts.is_empty() {
        let cs: Vec<String> = m.consts.iter().map(|(n, v)| format!("{n} = {v}")).collect();
        out.push_str(&format!("constants    {}\n", cs.join(", ")));
    }
    out.push_str("domains\n");
    let probe = probe_dataset(m);
    for (d, dom) in m.domains.iter().enumerate() {
        let kind = match &dom.base {
            DomainBase::Symbols(_) => "symbols".to_string(),
            DomainBase::Range(lo, hi) => format!("{lo}..{hi}"),
            DomainBase::Vocabulary(v) => format!(
                "vocabulary({})",
                v.fields
                    .iter()
                    .map(|f| m.fields[*f].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DomainBase::Extends(b) => {
                format!("{} + {{{}}}", m.domains[*b].name, dom.extra.join(", "))
            }
            DomainBase::Substrings { field, max_len } => {
                format!("substrings({}, max_len = {max_len})", m.fields[*field].name)
            }
        };
        let size = match with_data {
            Some((p, _)) => p.domains.size(d).to_string(),
            None => match dom.base {
                DomainBase::Vocabulary(_) | DomainBase::Substrings { .. } => {
                    "from the data".to_string()
                }
                _ => probe.domains.size(d).to_string(),
            },
        };
        out.push_str(&format!("  {:<12} {:<28} size {size}\n", dom.name, kind));
    }
    let groups: Vec<String> = m
        .groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|f| {
                    let field = &m.fields[*f];
                    match field.kind {
                        FieldKind::Sequence => {
                            format!("{} : [{}]", field.name, type_name(m, field))
                        }
                        FieldKind::Scalar => format!("{} : {}", field.name, type_name(m, field)),
                        FieldKind::Weight => format!("{} : weight", field.name),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    out.push_str(&format!("data line    {}\n", groups.join(" ||| ")));
    out.push_str("families\n");
    for (f, fam) in m.families.iter().enumerate() {
        let conds: Vec<&str> = fam
            .conditions
            .iter()
            .map(|d| m.domains[*d].name.as_str())
            .collect();
        let outcome = match &fam.kind {
            FamilyKind::Gaussian(g) => crate::model::real_name(g.dim),
            _ => m.domains[fam.outcome].name.clone(),
        };
        let sig = if conds.is_empty() {
            outcome
        } else {
            format!("{outcome} | {}", conds.join(", "))
        };
        let mut notes = Vec::new();
        if let FamilyKind::Gaussian(g) = &fam.kind {
            notes.push(format!("covariance {}", g.covariance.name()));
            notes.push(format!("reg_covar {}", g.reg_covar));
        }
        if fam.fixed {
            notes.push("fixed".to_string());
        } else if fam.init.is_some() {
            notes.push("given initial values".to_string());
        }
        if fam.smoothing > 0.0 {
            notes.push(format!("smoothing {}", fam.smoothing));
        }
        match fam.storage {
            Storage::Sparse => notes.push("stored sparse".to_string()),
            Storage::Dense => notes.push("stored dense".to_string()),
            Storage::Auto => {}
        }
        let size = with_data.map(|(p, _)| {
            let s = &p.layout.families[f];
            match s.support {
                None => format!(
                    "  {} x {} = {} parameters",
                    s.n_cond,
                    s.n_out,
                    s.n_cond * s.n_out
                ),
                Some(_) => format!(
                    "  {} x {}, sparse: {} entries the data reaches",
                    s.n_cond,
                    s.n_out,
                    s.n_probs()
                ),
            }
        });
        out.push_str(&format!(
            "  {:<12} {}({sig}){}{}\n",
            fam.name,
            fam.kind.name(),
            size.unwrap_or_default(),
            if notes.is_empty() {
                String::new()
            } else {
                format!("  [{}]", notes.join(", "))
            }
        ));
        if let FamilyKind::Logistic(l) = &fam.kind {
            out.push_str(&features(
                fam,
                l,
                with_data.map(|(p, _)| &p.layout.families[f]),
            ));
        }
    }
    for t in &m.tables {
        let args: Vec<&str> = t.args.iter().map(|d| m.domains[*d].name.as_str()).collect();
        out.push_str(&format!(
            "  {:<12} table({}) -> {}\n",
            t.name,
            args.join(", "),
            m.domains[t.result].name
        ));
    }
    if m.structured {
        out.push_str(&structured_plan(m, plan, with_data));
        return out;
    }
    let (plan, analysed) = match with_data {
        Some((p, d)) => plan_on_data(p, d),
        None => (plan.clone(), Analysed::Probe),
    };
    let why = match analysed {
        Analysed::Probe => plan.reason.clone(),
        Analysed::Line {
            line,
            missing: true,
        } => format!(
            "missing values (`?`) on data line {line} are hidden variables: there {}",
            plan.reason
        ),
        Analysed::Line {
            line,
            missing: false,
        } => format!("on data line {line}, {}", plan.reason),
    };
    out.push_str(&format!("plan         {}\n", plan.engine.name()));
    out.push_str(&format!("  why        {why}\n"));
    out.push_str(&format!(
        "  largest    {} ({} joint values)\n",
        if plan.largest_clique.is_empty() {
            "-".to_string()
        } else {
            plan.largest_clique.join(", ")
        },
        plan.largest_states
    ));
    out.push_str(&match analysed {
        Analysed::Probe => format!(
            "  cost       {} multiply-adds per probe instance (sequences of length {PROBE_LENGTH})\n",
            plan.cost
        ),
        Analysed::Line { line, .. } => {
            format!("  cost       {} multiply-adds on data line {line}\n", plan.cost)
        }
    });
    if let Some((p, d)) = with_data {
        let tokens: usize = d
            .instances
            .iter()
            .map(|i| {
                i.values
                    .iter()
                    .map(|v| match v {
                        FieldValue::Sequence(s) => s.len(),
                        FieldValue::RealSequence(s) => s.len(),
                        _ => 0,
                    })
                    .sum::<usize>()
            })
            .sum();
        out.push_str(&format!(
            "data         {} instances, {} sequence tokens, {} parameters\n",
            d.instances.len(),
            tokens,
            p.layout.total
        ));
    }
    out
}

/// The plan of a structured story: its procedures, and with data the hypergraphs' sizes
/// measured on every line (in total and on the largest line).
fn structured_plan(m: &Model, plan: &Plan, with_data: Option<(&Program, &Dataset)>) -> String {
    let mut out = String::new();
    let procs: Vec<String> = m
        .procs
        .iter()
        .map(|p| format!("{}/{}", p.name, p.params.len()))
        .collect();
    out.push_str(&format!(
        "procedures   {}\n",
        if procs.is_empty() {
            "-".to_string()
        } else {
            procs.join(", ")
        }
    ));
    out.push_str(&format!("plan         {}\n", plan.engine.name()));
    out.push_str(&format!("  why        {}\n", plan.reason));
    let shape = crate::check::shape::shape(m);
    out.push_str(&format!("  structure  {}\n", shape.class));
    let formula = |p: &crate::check::shape::Poly| {
        let legend = crate::check::shape::legend(m, p);
        let text = crate::check::shape::render(m, p);
        if legend.is_empty() {
            format!("{text} per line")
        } else {
            format!("{text} per line, where {}", legend.join(", "))
        }
    };
    out.push_str(&format!("  calls      {}\n", formula(&shape.nodes)));
    out.push_str(&match &shape.edges {
        Some(e) => format!(
            "  hyperedges {} (an upper bound: a call per value of its arguments, a hyperedge per branch of its body)\n",
            formula(e)
        ),
        None => "  hyperedges exponential in the line length: a `for` loop over positions branches on every pass\n".to_string(),
    });
    let Some((p, d)) = with_data else {
        out.push_str(&format!(
            "  probe      {} hyperedges on a probe instance (sequences of length {PROBE_LENGTH})\n",
            plan.cost
        ));
        return out;
    };
    out.push_str(&measured(p, d));
    out.push_str(&format!(
        "data         {} instances, {} parameters\n",
        d.instances.len(),
        p.layout.total
    ));
    out
}

/// Every line's hypergraph measured: nodes and hyperedges in total and on the largest line,
/// and the memory they hold and one thread's inside-outside arrays need.
fn measured(p: &Program, d: &Dataset) -> String {
    let mut out = String::new();
    let (mut nodes, mut edges, mut bytes) = (0usize, 0usize, 0usize);
    let mut largest: Option<(usize, usize, usize)> = None;
    for inst in &d.instances {
        // A line that does not run is reported by `validate_instances`, before this.
        let Ok(g) = crate::structured::execute(
            &p.model,
            &p.domains,
            &p.layout,
            inst,
            crate::structured::Budget::default(),
            false,
        ) else {
            continue;
        };
        let (n, e) = (g.graph.nodes(), g.graph.edges());
        nodes += n;
        edges += e;
        // What the kernel keeps is the E-step's binary form, not the story's.
        bytes +=
            crate::hypergraph::binary::Binary::new(&g.graph, |k| k, |s| s, u32::MAX).heap_bytes();
        if largest.is_none_or(|(_, _, le)| e > le) {
            largest = Some((inst.line, n, e));
        }
    }
    out.push_str(&format!(
        "  measured   {nodes} nodes and {edges} hyperedges on the data, each visited twice per iteration\n"
    ));
    if let Some((line, n, e)) = largest {
        out.push_str(&format!(
            "  largest    data line {line}: {n} nodes, {e} hyperedges\n"
        ));
        // Per thread while a line is counted: a weight per hyperedge, inside and outside
        // values per node (the binary form's nodes and hyperedges are at least as many).
        let work = 8 * (e + 2 * n);
        out.push_str(&format!(
            "  memory     {} for the hypergraphs, kept across iterations, plus {} per thread on the largest line\n",
            human(bytes),
            human(work)
        ));
    }
    out
}

/// Bytes as a person reads them.
fn human(bytes: usize) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b < K {
        format!("{bytes} B")
    } else if b < K * K {
        format!("{:.1} KiB", b / K)
    } else if b < K * K * K {
        format!("{:.1} MiB", b / (K * K))
    } else {
        format!("{:.2} GiB", b / (K * K * K))
    }
}

/// A Logistic family's templates, and with data how many features each interns.
fn features(fam: &Family, l: &Logistic, slot: Option<&FamilySlot>) -> String {
    let mut out = format!("    l2 {}\n", l.l2);
    let counts = slot.and_then(|s| s.features.as_ref()).map(|x| x.summary());
    for (k, f) in l.features.iter().enumerate() {
        let with = if f.conjoin.is_empty() {
            "shared".to_string()
        } else {
            let parts: Vec<String> = f
                .conjoin
                .iter()
                .zip(&f.coarse)
                .map(|(c, g)| match g {
                    None => format!("condition {c}"),
                    Some(g) => format!("coarse(condition {c}: {})", crate::model::groups_text(g)),
                })
                .collect();
            format!("by {}", parts.join(", "))
        };
        let sizes = counts.as_ref().map_or(String::new(), |c| {
            format!("  {} values, {} weights", c[k].1, c[k].2)
        });
        out.push_str(&format!(
            "    feature  {:<12} {with}{sizes}\n",
            f.template.name()
        ));
    }
    if let Some(s) = slot {
        out.push_str(&format!(
            "    weights  {} in all for `{}`\n",
            s.n_weights, fam.name
        ));
    }
    out
}

/// A field's element type as the model spells it.
fn type_name(m: &Model, field: &crate::model::Field) -> String {
    match field.real {
        Some(d) => crate::model::real_name(d),
        None => m.domains[field.domain].name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::describe;
    use crate::pipeline::{front_end, program};

    /// A Markov chain over observed tags: every draw's variables are observed, so the probe
    /// is enumerated; a run of `?` makes hidden variables that the transitions link.
    const TAGS: &str = "
domain Tag = {a, b, c}
data tags : [Tag]
param start : Categorical(Tag)
param trans : Categorical(Tag | Tag)
model {
    tags[0] ~ start
    for i in 1..len(tags): tags[i] ~ trans(tags[i-1])
}
";

    fn check(data: &str) -> String {
        let (p, d) = program(front_end(TAGS, &[]).unwrap(), data, None).unwrap();
        describe(&p.model, &p.plan, Some((&p, &d)))
    }

    #[test]
    fn check_describes_the_chain_that_missing_values_make() {
        let text = check("a b c\na ? ? c\n");
        assert!(text.contains("plan         forward-backward\n"), "{text}");
        assert!(
            text.contains("missing values (`?`) on data line 2 are hidden variables"),
            "{text}"
        );
        assert!(text.contains("multiply-adds on data line 2\n"), "{text}");
        assert!(!text.contains("enumeration"), "{text}");
    }

    #[test]
    fn check_keeps_the_probe_plan_when_the_data_fits_it() {
        // One `?` alone is a variable of its own: still enumeration.
        let text = check("a b c\na ? c\n");
        assert!(text.contains("plan         enumeration\n"), "{text}");
        assert!(text.contains("per probe instance"), "{text}");
        let without = describe(
            &front_end(TAGS, &[]).unwrap(),
            &crate::compile::plan_for(&front_end(TAGS, &[]).unwrap())
                .unwrap()
                .0,
            None,
        );
        assert!(without.contains("plan         enumeration\n"), "{without}");
    }
}
