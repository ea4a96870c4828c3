//! Ancestral sampling: synthetic data lines from the model and its parameters.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::compile::{Error, Program};
use crate::data::{FieldValue, Instance};
use crate::graph::{unroll, Entry, InstanceGraph, VarOrigin};
use crate::model::FieldKind;
use crate::params::Params;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleError {
    #[error("`{0}` is used before it is drawn, so it cannot be sampled in story order")]
    Order(String),
}

/// `n` lines; every sequence field gets `length` elements. Draws whose outcome is a constant
/// (an end marker like `STOP`) are evidence, not generated, and are skipped.
pub fn sample(
    program: &Program,
    params: &Params,
    n: usize,
    length: usize,
    seed: u64,
) -> Result<Vec<String>, Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let model = &program.model;
    let values = model
        .fields
        .iter()
        .map(|f| match f.kind {
            FieldKind::Scalar => FieldValue::Scalar(None),
            FieldKind::Sequence => FieldValue::Sequence(vec![None; length]),
            FieldKind::Weight => FieldValue::Weight(1.0),
        })
        .collect();
    let template = Instance {
        line: 0,
        values,
        weight: 1.0,
    };
    let g = unroll(model, &program.domains, &program.layout, &template)?;
    (0..n)
        .map(|_| {
            let assign = ancestral(&g, &params.theta, &mut rng)?;
            Ok(render(program, &g, &assign))
        })
        .collect()
}

fn ancestral(g: &InstanceGraph, theta: &[f64], rng: &mut impl Rng) -> Result<Vec<u32>, Error> {
    let cards = g.cards();
    let mut value: Vec<Option<usize>> = vec![None; g.vars.len()];
    for f in &g.factors {
        let Some(t) = f.target else { continue };
        let pos = f
            .scope
            .iter()
            .position(|v| *v == t)
            .expect("target is in scope");
        let inner: usize = f.scope[pos + 1..]
            .iter()
            .map(|v| cards[*v as usize])
            .product();
        // Index of the entry with the target at 0, given the other variables' values.
        let mut base = 0;
        for (k, v) in f.scope.iter().enumerate() {
            let x = if k == pos {
                0
            } else {
                value[*v as usize]
                    .ok_or_else(|| {
                        crate::sample::SampleError::Order(g.vars[*v as usize].name.clone())
                    })
                    .map_err(Error::Sample)?
            };
            base = base * cards[*v as usize] + x;
        }
        let weights: Vec<f64> = (0..cards[t as usize])
            .map(|x| match f.entries[base + x * inner] {
                Entry::Param(k) => theta[k as usize],
                Entry::Fixed(w) => w,
            })
            .collect();
        value[t as usize] = Some(draw(&weights, rng));
    }
    Ok(value.into_iter().map(|v| v.unwrap_or(0) as u32).collect())
}

fn draw(weights: &[f64], rng: &mut impl Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.gen::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

fn render(program: &Program, g: &InstanceGraph, assign: &[u32]) -> String {
    let model = &program.model;
    let symbol = |field: usize, index: Option<usize>| -> String {
        let var = g
            .vars
            .iter()
            .position(|v| v.origin == VarOrigin::Missing { field, index });
        match var {
            Some(v) => program
                .domains
                .name(model.fields[field].domain, assign[v])
                .to_string(),
            None => "?".into(),
        }
    };
    model
        .groups
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|f| match model.fields[*f].kind {
                    FieldKind::Weight => "1".to_string(),
                    FieldKind::Scalar => symbol(*f, None),
                    FieldKind::Sequence => {
                        let n = g
                            .vars
                            .iter()
                            .filter(|v| matches!(v.origin, VarOrigin::Missing { field, .. } if field == *f))
                            .count();
                        (0..n).map(|i| symbol(*f, Some(i))).collect::<Vec<_>>().join(" ")
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" ||| ")
}
