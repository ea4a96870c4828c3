//! The compile stage: a checked model and the data text become a [`Program`]. Reading the
//! data fixes the vocabularies, the parameters are laid out (sparse supports found by running
//! the story on every line), and the inference plan is chosen on a probe instance.

use crate::data::{self, Dataset, Domains};
use crate::error::Error;
use crate::graph::{
    probe_dataset, unroll, DiscoveredKey, Discovering, InstanceGraph, TableCache, UnrollError,
    VarOrigin,
};
use crate::infer::Engine;
use crate::model::InitMode;
use crate::model::Model;
use crate::params::{initial, Layout, Support};
use crate::plan::{choose, IntractableError, Plan};
use crate::program::Program;
use crate::syntax::ast::Span;

/// The plan, chosen on a probe instance so that it is the same whatever the data.
pub fn plan_for(model: &Model) -> Result<(Plan, InstanceGraph), Error> {
    let probe = probe_dataset(model);
    if model.structured {
        return structured_plan(model, &probe);
    }
    let layout = Layout::new(model, &probe.domains)?;
    let g = unroll(model, &probe.domains, &layout, &probe.instances[0])?;
    let plan = choose(&g).map_err(|error| Error::Intractable {
        span: clique_span(model, &g, &error),
        error,
    })?;
    Ok((plan, g))
}

/// Calls the probe instance may make (sequences of length 4): a story that makes more on so
/// short a line recurses without end, and is stopped here in a fraction of a second rather
/// than at the full per-line budget.
const PROBE_CALLS: usize = 1 << 18;

/// A structured story's plan. Running it on the probe instance finds what does not depend
/// on the data (an unknown symbol, a call that depends on itself) before any data is read.
fn structured_plan(model: &Model, probe: &Dataset) -> Result<(Plan, InstanceGraph), Error> {
    let layout = Layout::new(model, &probe.domains)?;
    let g = crate::structured::execute(
        model,
        &probe.domains,
        &layout,
        &probe.instances[0],
        crate::structured::Budget {
            calls: PROBE_CALLS,
            ..crate::structured::Budget::default()
        },
        false,
    )?;
    let plan = Plan {
        engine: Engine::Hypergraph,
        reason: "the story calls procedures: each line's calls, memoised, make an acyclic hypergraph that is built once and re-weighted every iteration".into(),
        largest_clique: Vec::new(),
        largest_states: 0,
        cost: g.graph.edges(),
    };
    // No factor graph stands for a structured line: an empty one goes with the plan.
    let empty = InstanceGraph {
        vars: Vec::new(),
        factors: Vec::new(),
        weight: 1.0,
        line: 0,
        observations: Vec::new(),
    };
    Ok((plan, empty))
}

/// Where to point for a clique that is too large: the declaration of its first hidden variable.
fn clique_span(model: &Model, g: &InstanceGraph, error: &IntractableError) -> Span {
    g.vars
        .iter()
        .find(|v| error.vars.contains(&format!("`{}`", v.name)))
        .map(|v| match v.origin {
            VarOrigin::Hidden { decl, .. } => model.hiddens[decl].span,
            VarOrigin::Missing { field, .. } => model.fields[field].span,
        })
        .unwrap_or_default()
}

/// Reads the data for a model and compiles it, sparse supports included, without an E-step
/// kernel (for the commands that do not train). `frozen` domains come from a parameter file.
pub fn program(
    model: Model,
    data_text: &str,
    frozen: Option<&Domains>,
) -> Result<(Program, Dataset), Error> {
    let (mut program, dataset) = program_unplaced(model, data_text, frozen)?;
    program.layout = find_supports(&program.model, &dataset, program.layout)?;
    Ok((program, dataset))
}

/// A program whose sparse families have no supports yet (`find_supports` gives them, or
/// `pipeline::compile` while compiling the data).
pub fn program_unplaced(
    model: Model,
    data_text: &str,
    frozen: Option<&Domains>,
) -> Result<(Program, Dataset), Error> {
    let (plan, _) = plan_for(&model)?;
    let dataset = data::read(&model, data_text, frozen).map_err(Error::Data)?;
    let program = program_over(model, plan, dataset.domains.clone())?;
    Ok((program, dataset))
}

/// The program over domains read from the data (or a parameter file), its sparse families
/// without supports: what `program_unplaced` compiles once it has read the data, and what a
/// streamed run compiles before it reads the data's lines.
pub fn program_over(model: Model, plan: Plan, domains: Domains) -> Result<Program, Error> {
    let layout = Layout::new(&model, &domains)?;
    // Given initial values can only be checked against vocabulary sizes now.
    let mut rng = rand::rngs::mock::StepRng::new(0, 1);
    initial(&model, &domains, &layout, InitMode::Uniform, &mut rng)?;
    Ok(Program {
        model,
        domains,
        layout,
        plan,
    })
}

/// Instances unrolled per parallel task when finding supports.
const SUPPORT_SHARD: usize = 1024;

/// Gives sparse families the entries the data reaches: unrolls every instance, recording the
/// entries of theirs that some factor uses. The supports are sets, so they are the same for
/// any thread count.
pub fn find_supports(model: &Model, data: &Dataset, layout: Layout) -> Result<Layout, Error> {
    use rayon::prelude::*;
    let sparse = layout.sparse_families();
    if sparse.is_empty() {
        return Ok(layout);
    }
    let found: Vec<Result<Vec<DiscoveredKey>, UnrollError>> = data
        .instances
        .par_chunks(SUPPORT_SHARD)
        .map(|shard| {
            let mut keys = Vec::new();
            if model.structured {
                for inst in shard {
                    keys.extend(crate::structured::discover(
                        model,
                        &data.domains,
                        &layout,
                        inst,
                    )?);
                }
            } else {
                let mut discovering = Discovering::default();
                for inst in shard {
                    discovering.unroll(model, &data.domains, &layout, inst)?;
                }
                keys = discovering.take_keys();
            }
            keys.sort_unstable();
            keys.dedup();
            Ok(keys)
        })
        .collect();
    let mut keys: Vec<DiscoveredKey> = Vec::new();
    for shard in found {
        keys.extend(shard?);
    }
    keys.par_sort_unstable();
    keys.dedup();
    supports_from(model, layout, &keys, |k| *k)
}

/// The layout with the supports that these discovered entries make: `keys` ascending and
/// distinct by `key`.
pub fn supports_from<T>(
    model: &Model,
    layout: Layout,
    keys: &[T],
    key: impl Fn(&T) -> DiscoveredKey,
) -> Result<Layout, Error> {
    let supports = layout
        .sparse_families()
        .into_iter()
        .map(|f| {
            let slot = &layout.families[f];
            let first = keys.partition_point(|k| key(k).family() < f);
            let last = keys.partition_point(|k| key(k).family() <= f);
            let rels = keys[first..last].iter().map(|k| key(k).entry() as u64);
            (f, Support::from_ascending(slot.n_cond, slot.n_out, rels))
        })
        .collect();
    Ok(layout.with_supports(model, supports)?)
}

/// Unrolls every instance once, so that `emc check` finds what only running the story on the
/// data reveals (an index past the end of a short line), without training. Shards run in
/// parallel; the error reported is the first in data order, whatever the thread count.
pub fn validate_instances(program: &Program, data: &Dataset) -> Result<(), Error> {
    use rayon::prelude::*;
    let shards: Vec<Result<(), Error>> = data
        .instances
        .par_chunks(SUPPORT_SHARD)
        .map(|shard| {
            if program.model.structured {
                for inst in shard {
                    crate::structured::execute_line(program, inst, false)?;
                }
                return Ok(());
            }
            let mut tables = TableCache::default();
            for inst in shard {
                program.unroll(inst, &mut tables)?;
            }
            Ok(())
        })
        .collect();
    shards.into_iter().collect()
}
