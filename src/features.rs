//! Feature templates of a Logistic family, interned once per run. A feature is a template's
//! value on the outcome (say `suffix(3)=ing`) conjoined with some parts of the condition, so
//! its weight index is `offset + projected condition * values + value`: nothing per (condition,
//! outcome) pair is stored, and scoring a row reads one weight per template.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::data::Domains;
use crate::model::{coarse_class, DomainBase, DomainId, Family, FamilyKind, Model, Template};

/// No feature of this template fires on this outcome.
const NONE: u32 = u32::MAX;

/// The weights of one template for one projected condition value: `first..first + len`, read
/// by the condition `rows` (ascending).
#[derive(Clone, Debug)]
pub struct Block {
    item: usize,
    pub first: usize,
    pub len: usize,
    pub rows: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq)]
struct Item {
    template: Template,
    /// First weight of this template's block.
    offset: usize,
    /// Distinct template values (the columns of the block).
    values: Vec<String>,
    /// The value index per outcome (`NONE` when it does not fire); empty for `Distance`.
    per_outcome: Vec<u32>,
    /// Where `per_outcome` fires, for the scoring loops.
    fires: Fires,
    /// Per condition row: its index among the values of the conjoined parts.
    projection: Vec<u32>,
    /// Per projected index: the conjoined parts' symbols, for weight names.
    projected_names: Vec<String>,
    /// For `Distance`: the outcome's and each condition row's first part as integers.
    distance: Option<(i64, Vec<i64>)>,
    /// For `CommonPrefix` and `EditDistance`: the value index per (first condition symbol,
    /// outcome), row-major, and each condition row's first part.
    pair: Option<(Vec<u8>, Vec<u32>)>,
}

impl Item {
    /// Whether the item's weight block is a row's scores themselves (outcome `o` reads
    /// weight `o`), so that scoring can start by copying it.
    fn assigns(&self) -> bool {
        self.pair.is_none() && self.distance.is_none() && self.fires == Fires::Identity
    }
}

/// Where a template of values per outcome fires. Scoring a row runs over the templates, each
/// over its outcomes: a loop with no test per (outcome, template), and along contiguous
/// weights for the word identity, which holds most of them.
#[derive(Clone, Debug, PartialEq)]
enum Fires {
    /// Outcome `o` has value `o` (the word itself): the block is the row's scores.
    Identity,
    /// The (outcome, value) pairs where it fires, in outcome order; empty for the templates
    /// whose value depends on the condition too.
    Sparse(Vec<(u32, u32)>),
}

impl Fires {
    fn new(per_outcome: &[u32]) -> Fires {
        let identity = !per_outcome.is_empty()
            && per_outcome
                .iter()
                .enumerate()
                .all(|(o, v)| *v as usize == o);
        if identity {
            return Fires::Identity;
        }
        let pairs = per_outcome.iter().enumerate();
        Fires::Sparse(
            pairs
                .filter(|(_, v)| **v != NONE)
                .map(|(o, v)| (o as u32, *v))
                .collect(),
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FeatureIndex {
    items: Vec<Item>,
    n_out: usize,
    pub n_weights: usize,
}

impl FeatureIndex {
    /// `None` for a family that is not Logistic.
    pub fn new(model: &Model, family: &Family, domains: &Domains) -> Option<FeatureIndex> {
        let FamilyKind::Logistic(l) = &family.kind else {
            return None;
        };
        let n_out = domains.size(family.outcome);
        let sizes: Vec<usize> = family.conditions.iter().map(|d| domains.size(*d)).collect();
        let n_cond: usize = sizes.iter().product();
        let outcomes: Vec<&str> = (0..n_out)
            .map(|o| domains.name(family.outcome, o as u32))
            .collect();
        let mut items = Vec::with_capacity(l.features.len());
        let mut offset = 0;
        for f in &l.features {
            let (mut projection, mut projected_names) =
                project(family, domains, &sizes, n_cond, &f.conjoin, &f.coarse);
            let inner: usize = sizes.iter().skip(1).product();
            let first_part = || (0..n_cond).map(|c| (c / inner.max(1)) as u32).collect();
            let first_names = || -> Vec<&str> {
                let d = family.conditions[0];
                (0..sizes[0]).map(|v| domains.name(d, v as u32)).collect()
            };
            let mut pair = None;
            let (values, per_outcome, distance) = match &f.template {
                &Template::CommonPrefix(n) | &Template::EditDistance(n) => {
                    let values = (0..=n).map(|d| d.to_string()).collect();
                    let common = matches!(f.template, Template::CommonPrefix(_));
                    let table = first_names()
                        .par_iter()
                        .flat_map_iter(|c| {
                            let c: Vec<char> = c.chars().collect();
                            outcomes.iter().map(move |o| {
                                if common {
                                    common_prefix(&c, o, n) as u8
                                } else {
                                    edit_distance(&c, o, n) as u8
                                }
                            })
                        })
                        .collect();
                    pair = Some((table, first_part()));
                    (values, Vec::new(), None)
                }
                &Template::PrefixPair(n) => {
                    let stem = |w: &str| w.chars().take(n).collect::<String>();
                    let intern = |words: &[&str]| {
                        let mut ids: HashMap<String, u32> = HashMap::new();
                        let mut names = Vec::new();
                        let index: Vec<u32> = words
                            .iter()
                            .map(|w| {
                                *ids.entry(stem(w)).or_insert_with(|| {
                                    names.push(stem(w));
                                    names.len() as u32 - 1
                                })
                            })
                            .collect();
                        (index, names)
                    };
                    let (by_symbol, names) = intern(&first_names());
                    projection = (0..n_cond).map(|c| by_symbol[c / inner.max(1)]).collect();
                    projected_names = names;
                    let (per_outcome, values) = intern(&outcomes);
                    (values, per_outcome, None)
                }
                &Template::Distance(n) => {
                    let values = (-n..=n).map(|d| d.to_string()).collect();
                    let out0 = range_start(model, family.outcome);
                    let c0 = family
                        .conditions
                        .first()
                        .map_or(0, |d| range_start(model, *d));
                    let inner: usize = sizes.iter().skip(1).product();
                    let rows = (0..n_cond)
                        .map(|c| c0 + (c / inner.max(1)) as i64)
                        .collect();
                    (values, Vec::new(), Some((out0, rows)))
                }
                t => {
                    let mut ids: HashMap<String, u32> = HashMap::new();
                    let mut values = Vec::new();
                    let per_outcome = outcomes
                        .iter()
                        .map(|w| match template_value(t, w) {
                            Some(v) => *ids.entry(v.clone()).or_insert_with(|| {
                                values.push(v);
                                values.len() as u32 - 1
                            }),
                            None => NONE,
                        })
                        .collect();
                    (values, per_outcome, None)
                }
            };
            let size = projected_names.len() * values.len();
            items.push(Item {
                template: f.template.clone(),
                offset,
                values,
                fires: Fires::new(&per_outcome),
                per_outcome,
                projection,
                projected_names,
                distance,
                pair,
            });
            offset += size;
        }
        Some(FeatureIndex {
            items,
            n_out,
            n_weights: offset,
        })
    }

    /// The scores of row `c` under weights `w` (per outcome, the sum of its active weights),
    /// written into `out` (length `n_out`). Each outcome's weights are added in template
    /// order, starting from zero.
    pub fn scores(&self, w: &[f64], c: usize, out: &mut [f64]) {
        self.scores_by(w, c, |t| self.base(t, c), out);
    }

    /// `scores` with row `c`'s weights of template `t` starting at `bases[t]` of `w`: for
    /// the weights of some rows laid out on their own.
    pub fn scores_at(&self, w: &[f64], bases: &[usize], c: usize, out: &mut [f64]) {
        self.scores_by(w, c, |t| bases[t], out);
    }

    /// Whether `block`'s weights are a row's scores themselves (outcome `o` reads weight `o`
    /// and no other weight of the first template): the word identity's.
    pub fn is_identity(&self, block: &Block) -> bool {
        block.item == 0 && self.items[0].assigns()
    }

    /// Templates: a row reads one block of each.
    pub fn templates(&self) -> usize {
        self.items.len()
    }

    /// Where row `c`'s weights of template `t` start in the weight vector: the `first` of
    /// one of the blocks.
    pub fn base(&self, t: usize, c: usize) -> usize {
        let item = &self.items[t];
        item.offset + item.projection[c] as usize * item.values.len()
    }

    /// `scores_at` of every template but the first, which must be the identity
    /// (`is_identity`): the part of the scores that the shared features' weights make.
    pub fn shared_scores_at(&self, w: &[f64], bases: &[usize], c: usize, out: &mut [f64]) {
        out.iter_mut().for_each(|s| *s = 0.0);
        for (t, item) in self.items.iter().enumerate().skip(1) {
            self.add_template(item, &w[bases[t]..], c, out);
        }
    }

    fn scores_by(&self, w: &[f64], c: usize, base: impl Fn(usize) -> usize, out: &mut [f64]) {
        // A first template that fires on every outcome (word identity) writes the scores
        // rather than adding to zeros: one pass fewer over a row as long as the vocabulary,
        // on every evaluation of the featurised M-step. (`0 + w` is `w`, up to the sign of
        // a zero, which no score's exponential sees.)
        let first = match self.items.first() {
            Some(item) if item.assigns() => {
                out.copy_from_slice(&w[base(0)..][..out.len()]);
                1
            }
            _ => {
                out.iter_mut().for_each(|s| *s = 0.0);
                0
            }
        };
        for (t, item) in self.items.iter().enumerate().skip(first) {
            self.add_template(item, &w[base(t)..], c, out);
        }
    }

    /// Adds row `c`'s scores from one template, its block of weights starting `w`.
    #[inline(always)]
    fn add_template(&self, item: &Item, w: &[f64], c: usize, out: &mut [f64]) {
        if let Some((table, rows)) = &item.pair {
            let row = &table[rows[c] as usize * self.n_out..][..self.n_out];
            out.iter_mut()
                .zip(row)
                .for_each(|(s, v)| *s += w[*v as usize]);
        } else if let Some((out0, rows)) = &item.distance {
            let n = (item.values.len() as i64 - 1) / 2;
            for (o, s) in out.iter_mut().enumerate() {
                *s += w[((out0 + o as i64 - rows[c]).clamp(-n, n) + n) as usize];
            }
        } else {
            match &item.fires {
                Fires::Identity => out.iter_mut().zip(w).for_each(|(s, w)| *s += w),
                Fires::Sparse(pairs) => {
                    for (o, v) in pairs {
                        out[*o as usize] += w[*v as usize];
                    }
                }
            }
        }
    }

    /// Log-probabilities of row `c` under weights `w`, written into `out` (length `n_out`).
    pub fn log_row(&self, w: &[f64], c: usize, out: &mut [f64]) {
        self.scores(w, c, out);
        let m = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + out.iter().map(|s| (s - m).exp()).sum::<f64>().ln();
        out.iter_mut().for_each(|s| *s -= lse);
    }

    /// The weights in blocks, in weight order (they partition `0..n_weights`): one per
    /// template and projected condition value, with the condition rows that read it. A
    /// gradient filled block by block needs no per-thread copy of the whole vector, and its
    /// sums run over rows in one order for any number of threads.
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        for (t, item) in self.items.iter().enumerate() {
            let mut rows = vec![Vec::new(); item.projected_names.len()];
            for (c, j) in item.projection.iter().enumerate() {
                rows[*j as usize].push(c as u32);
            }
            for (j, rows) in rows.into_iter().enumerate() {
                blocks.push(Block {
                    item: t,
                    first: item.offset + j * item.values.len(),
                    len: item.values.len(),
                    rows,
                });
            }
        }
        blocks
    }

    /// Adds `scale[o]` to the weight of `block` (its slice `out`) active on (row `c`, `o`),
    /// for every outcome `o`; `c` is one of the block's rows.
    pub fn add_to_block(&self, block: &Block, c: usize, scale: &[f64], out: &mut [f64]) {
        let item = &self.items[block.item];
        if !item.per_outcome.is_empty() && matches!(item.fires, Fires::Identity) {
            // The word identity's block lies along the row: one pass that vectorises.
            out.iter_mut().zip(scale).for_each(|(w, r)| *w += r);
        } else {
            self.each_fired(block, c, |o, k| out[k] += scale[o]);
        }
    }

    /// Calls `f(o, k)` for each outcome `o` of row `c` on which `block`'s weight `k` (its
    /// index in the block) fires: the pairs `add_to_block` adds along.
    pub fn each_fired(&self, block: &Block, c: usize, mut f: impl FnMut(usize, usize)) {
        let item = &self.items[block.item];
        if !item.per_outcome.is_empty() {
            match &item.fires {
                Fires::Identity => (0..self.n_out).for_each(|o| f(o, o)),
                Fires::Sparse(pairs) => pairs.iter().for_each(|(o, v)| f(*o as usize, *v as usize)),
            }
        } else if let Some((table, rows)) = &item.pair {
            let row = &table[rows[c] as usize * self.n_out..][..self.n_out];
            row.iter().enumerate().for_each(|(o, v)| f(o, *v as usize));
        } else if let Some((out0, rows)) = &item.distance {
            let n = (item.values.len() as i64 - 1) / 2;
            for o in 0..self.n_out {
                f(o, ((out0 + o as i64 - rows[c]).clamp(-n, n) + n) as usize);
            }
        }
    }

    pub fn n_out(&self) -> usize {
        self.n_out
    }

    /// Features per template, for `emc check`.
    pub fn summary(&self) -> Vec<(String, usize, usize)> {
        self.items
            .iter()
            .map(|i| {
                (
                    i.template.name(),
                    i.values.len(),
                    i.projected_names.len() * i.values.len(),
                )
            })
            .collect()
    }

    /// A readable name for every weight, in weight order: `suffix(3)=ing @ NN`.
    pub fn weight_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.n_weights);
        for item in &self.items {
            let t = item.template.name();
            for p in &item.projected_names {
                for v in &item.values {
                    if p.is_empty() {
                        names.push(format!("{t}={v}"));
                    } else {
                        names.push(format!("{t}={v} @ {p}"));
                    }
                }
            }
        }
        names
    }
}

/// Per condition row, its index among the joint values of the `conjoin` parts (each read
/// through its coarse classes, if it has them), and the names of those joint values.
fn project(
    family: &Family,
    domains: &Domains,
    sizes: &[usize],
    n_cond: usize,
    conjoin: &[usize],
    coarse: &[Option<crate::model::Groups>],
) -> (Vec<u32>, Vec<String>) {
    let strides: Vec<usize> = (0..sizes.len())
        .map(|k| sizes[k + 1..].iter().product())
        .collect();
    let part = |c: usize, k: usize| (c / strides[k]) % sizes[k];
    // Per conjoined part: each symbol's value index, and the values' names.
    let parts: Vec<(Vec<usize>, Vec<String>)> = conjoin
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let d = family.conditions[*k];
            let symbols = (0..sizes[*k]).map(|v| domains.name(d, v as u32));
            match coarse.get(i).and_then(Option::as_ref) {
                None => (
                    (0..sizes[*k]).collect(),
                    symbols.map(String::from).collect(),
                ),
                Some(groups) => {
                    let mut names: Vec<String> = Vec::new();
                    let index = symbols
                        .map(|s| {
                            let class = coarse_class(groups, s);
                            names.iter().position(|n| *n == class).unwrap_or_else(|| {
                                names.push(class);
                                names.len() - 1
                            })
                        })
                        .collect();
                    (index, names)
                }
            }
        })
        .collect();
    let projection = (0..n_cond)
        .map(|c| {
            conjoin
                .iter()
                .zip(&parts)
                .fold(0usize, |acc, (k, (index, names))| {
                    acc * names.len() + index[part(c, *k)]
                }) as u32
        })
        .collect();
    let n_proj: usize = parts.iter().map(|(_, names)| names.len()).product();
    let names = (0..n_proj)
        .map(|p| {
            let mut rest = p;
            let mut out = Vec::with_capacity(parts.len());
            for (_, names) in parts.iter().rev() {
                out.push(names[rest % names.len()].clone());
                rest /= names.len();
            }
            out.reverse();
            out.join(" ")
        })
        .collect();
    (projection, names)
}

fn range_start(model: &Model, d: DomainId) -> i64 {
    match &model.domains[d].base {
        DomainBase::Range(lo, _) => *lo,
        _ => 0,
    }
}

/// The template's value on a word, or `None` when it does not fire.
fn template_value(t: &Template, word: &str) -> Option<String> {
    let chars = || word.chars();
    match t {
        Template::Word => Some(word.to_string()),
        Template::Suffix(n, class) => {
            let len = chars().count();
            (len >= *n).then(|| classed(chars().skip(len - n), class))
        }
        Template::Prefix(n, class) => {
            (chars().count() >= *n).then(|| classed(chars().take(*n), class))
        }
        Template::Digit => chars().any(|c| c.is_numeric()).then(|| "yes".into()),
        Template::Hyphen => chars().any(|c| c == '-').then(|| "yes".into()),
        Template::Capital => chars()
            .next()
            .is_some_and(char::is_uppercase)
            .then(|| "yes".into()),
        Template::AllCaps => (chars().any(char::is_alphabetic)
            && chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase))
        .then(|| "yes".into()),
        Template::Shape => Some(shape(word)),
        Template::Length => Some(chars().count().to_string()),
        Template::Count(class) => Some(chars().filter(|c| class.contains(*c)).count().to_string()),
        Template::Distance(_)
        | Template::CommonPrefix(_)
        | Template::EditDistance(_)
        | Template::PrefixPair(_) => None,
        Template::Coarse(groups) => Some(coarse_class(groups, word)),
    }
}

/// How many characters `a` and `b` share from the start, at most `n`.
fn common_prefix(a: &[char], b: &str, n: usize) -> usize {
    a.iter()
        .zip(b.chars())
        .take(n)
        .take_while(|(x, y)| *x == y)
        .count()
}

/// The Levenshtein distance between `a` and `b` in characters (insertions, deletions and
/// substitutions cost 1), or `n` when it is at least `n`.
fn edit_distance(a: &[char], b: &str, n: usize) -> usize {
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) >= n {
        return n;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            row[j + 1] = sub.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        if row.iter().all(|d| *d >= n) {
            return n;
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()].min(n)
}

/// The characters as they are, or as `V` (in `class`) and `C` (not).
fn classed(chars: impl Iterator<Item = char>, class: &Option<Arc<str>>) -> String {
    match class {
        None => chars.collect(),
        Some(class) => chars
            .map(|c| if class.contains(c) { 'V' } else { 'C' })
            .collect(),
    }
}

fn shape(word: &str) -> String {
    let mut out = String::new();
    for c in word.chars() {
        let class = if c.is_uppercase() {
            'X'
        } else if c.is_lowercase() {
            'x'
        } else if c.is_numeric() {
            'd'
        } else {
            c
        };
        if !out.ends_with(class) {
            out.push(class);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_read_the_word() {
        assert_eq!(
            template_value(&Template::Suffix(3, None), "running").as_deref(),
            Some("ing")
        );
        assert_eq!(template_value(&Template::Suffix(3, None), "at"), None);
        assert_eq!(
            template_value(&Template::Prefix(2, None), "Über").as_deref(),
            Some("Üb")
        );
        assert_eq!(
            template_value(&Template::Digit, "B52").as_deref(),
            Some("yes")
        );
        assert_eq!(template_value(&Template::Digit, "Bob"), None);
        assert_eq!(
            template_value(&Template::Hyphen, "well-known").as_deref(),
            Some("yes")
        );
        assert_eq!(
            template_value(&Template::Capital, "Paris").as_deref(),
            Some("yes")
        );
        assert_eq!(template_value(&Template::Capital, "paris"), None);
        assert_eq!(
            template_value(&Template::AllCaps, "NASA's").as_deref(),
            None
        );
        assert_eq!(
            template_value(&Template::AllCaps, "U.S.").as_deref(),
            Some("yes")
        );
        assert_eq!(template_value(&Template::AllCaps, "1984"), None);
        assert_eq!(shape("McDonald's"), "XxXx'x");
    }

    /// What a segmentation's lexicon features read of a word: its length, its vowels, and
    /// the consonant-vowel pattern of its ends.
    #[test]
    fn span_templates_read_lengths_and_classes() {
        let vowels: Option<Arc<str>> = Some("aeiou".into());
        let value = |t: Template, w: &str| template_value(&t, w);
        assert_eq!(value(Template::Length, "dOgi").as_deref(), Some("4"));
        assert_eq!(value(Template::Length, "Über").as_deref(), Some("4"));
        assert_eq!(
            value(Template::Count("aeiou".into()), "banana").as_deref(),
            Some("3")
        );
        assert_eq!(
            value(Template::Count("aeiou".into()), "xyz").as_deref(),
            Some("0")
        );
        let pre = Template::Prefix(2, vowels.clone());
        assert_eq!(value(pre.clone(), "apple").as_deref(), Some("VC"));
        assert_eq!(value(pre, "a"), None);
        assert_eq!(
            value(Template::Suffix(3, vowels), "banana").as_deref(),
            Some("VCV")
        );
        assert_eq!(shape("1,000.50"), "d,d.d");
    }

    /// A tag reads as its group's members joined, or as itself when no group has it.
    #[test]
    fn coarse_classes_merge_the_groups_only() {
        let t = Template::Coarse(vec!["NOUN PROPN PRON".into(), "VERB AUX".into()].into());
        assert_eq!(
            template_value(&t, "PROPN").as_deref(),
            Some("NOUN+PROPN+PRON")
        );
        assert_eq!(template_value(&t, "AUX").as_deref(), Some("VERB+AUX"));
        assert_eq!(template_value(&t, "DET").as_deref(), Some("DET"));
    }

    /// The pair templates of a translation table: shared prefix and edit distance (clamped)
    /// against the condition's word.
    #[test]
    fn pair_templates_compare_the_outcome_with_the_condition() {
        let c = |w: &str| w.chars().collect::<Vec<_>>();
        assert_eq!(common_prefix(&c("government"), "gouvernement", 5), 2);
        assert_eq!(common_prefix(&c("nation"), "nation", 4), 4);
        assert_eq!(common_prefix(&c("le"), "the", 4), 0);
        assert_eq!(edit_distance(&c("nation"), "nation", 3), 0);
        assert_eq!(edit_distance(&c("nations"), "nation", 3), 1);
        assert_eq!(edit_distance(&c("kitten"), "sitting", 5), 3);
        assert_eq!(edit_distance(&c("kitten"), "sitting", 3), 3);
        assert_eq!(edit_distance(&c("kitten"), "sitting", 2), 2);
        assert_eq!(edit_distance(&c("a"), "abcdef", 3), 3);
        assert_eq!(edit_distance(&c(""), "ab", 3), 2);
        assert_eq!(edit_distance(&c("\u{e9}t\u{e9}"), "ete", 5), 2);
    }
}
