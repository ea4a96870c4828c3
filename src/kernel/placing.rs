//! Compiling an enumeration plan whose sparse families have no supports yet, in one pass over
//! the data: each shard is unrolled with its sparse entries numbered as met, the shards'
//! numberings are merged into one in data order, and once every entry is known the supports
//! are laid out and each number becomes its parameter index.

use std::hash::BuildHasher;

use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::FxBuildHasher;

use super::independent::{Builder, UnplacedBuilder};
use super::ordered::map_merge_in_order;
use crate::compile::supports_from;
use crate::data::{Dataset, Instance};
use crate::error::Error;
use crate::graph::{DiscoveredKey, Discovering};
use crate::params::{Layout, MAX_PARAMS};
use crate::program::Program;

/// The layout with the supports the data reaches, and the independent kernel's builder when
/// every instance fits it. Shards of `shard` instances are unrolled in parallel and merged in
/// data order, so the numbering, the kernel and the first error reported are the same for any
/// thread count; a shard's memory goes as soon as it is merged.
pub(super) fn build(
    program: &Program,
    data: &Dataset,
    pool: &rayon::ThreadPool,
    shard: usize,
) -> Result<(Layout, Option<Builder>), Error> {
    let n = data.instances.len();
    let starts: Vec<usize> = (0..n).step_by(shard).collect();
    let mut entries = Entries::default();
    let mut whole = Some(UnplacedBuilder::new());
    let mut merged = 0;
    map_merge_in_order(
        pool,
        starts.len(),
        || (),
        |i, _, _| {
            let range = starts[i]..(starts[i] + shard).min(n);
            discover_shard(program, &data.instances[range])
        },
        |(builder, keys)| {
            let numbers = entries.number(&keys);
            merged += 1;
            whole = match (whole.take(), builder) {
                (Some(mut w), Some(mut b)) if entries.keys.len() <= MAX_PARAMS => {
                    b.renumber(&numbers);
                    w.absorb(b);
                    if merged == 1 {
                        w.reserve_for(n);
                    }
                    Some(w)
                }
                _ => None,
            };
            None
        },
    )?;
    let Entries { keys, numbers } = entries;
    drop(numbers);
    let (layout, placed) = place(program, keys, pool)?;
    Ok((layout, whole.map(|w| w.place(&placed))))
}

/// The whole data's sparse entries, numbered as first met in data order.
#[derive(Default)]
struct Entries {
    keys: Vec<DiscoveredKey>,
    /// The numbers, found through the keys they number: four bytes an entry, where a map
    /// from keys to numbers takes sixteen (IBM Model 1 on the Hansards: 1.15M entries).
    numbers: HashTable<u32>,
}

impl Entries {
    /// The whole data's number of each of a shard's entries (the shard's number `n` is
    /// `keys[n]`).
    fn number(&mut self, keys: &[DiscoveredKey]) -> Vec<u32> {
        let all = &mut self.keys;
        keys.iter()
            .map(|k| {
                let hash = |key: &DiscoveredKey| FxBuildHasher.hash_one(key);
                let found = self.numbers.entry(
                    hash(k),
                    |n| all[*n as usize] == *k,
                    |n| hash(&all[*n as usize]),
                );
                match found {
                    Entry::Occupied(o) => *o.get(),
                    Entry::Vacant(v) => {
                        // Past `MAX_PARAMS` the layout refuses the supports; the numbers then
                        // go unused.
                        let n = all.len() as u32;
                        all.push(*k);
                        *v.insert(n).get()
                    }
                }
            })
            .collect()
    }
}

/// The supports made of these distinct entries, and each one's parameter index: a support
/// is its family's entries in ascending order.
fn place(
    program: &Program,
    keys: Vec<DiscoveredKey>,
    pool: &rayon::ThreadPool,
) -> Result<(Layout, Vec<u32>), Error> {
    use rayon::prelude::*;
    let mut sorted: Vec<(DiscoveredKey, u32)> = keys.into_iter().zip(0..).collect();
    pool.install(|| sorted.par_sort_unstable());
    // The supports are read off the sorted pairs, with no copy of the keys alone: this is the
    // peak of compiling IBM Model 1, the whole kernel built beside it.
    let layout = supports_from(&program.model, program.layout.clone(), &sorted, |(k, _)| *k)?;
    let mut placed = vec![0u32; sorted.len()];
    let mut first = 0;
    for (rank, (key, n)) in sorted.iter().enumerate() {
        if rank > 0 && sorted[rank - 1].0.family() != key.family() {
            first = rank;
        }
        placed[*n as usize] = (layout.families[key.family()].offset + rank - first) as u32;
    }
    Ok((layout, placed))
}

/// One shard unrolled: its kernel (if every instance fits) and its discovered entries, the
/// shard's number `n` being entry `n`.
fn discover_shard(
    program: &Program,
    shard: &[Instance],
) -> Result<(Option<UnplacedBuilder>, Vec<DiscoveredKey>), Error> {
    let mut builder = Some(UnplacedBuilder::new());
    let mut discovering = Discovering::default();
    for inst in shard {
        let g = discovering.unroll(&program.model, &program.domains, &program.layout, inst)?;
        if builder.as_mut().is_some_and(|b| b.add(&g).is_err()) {
            builder = None;
        }
    }
    Ok((builder, discovering.take_keys()))
}

#[cfg(test)]
mod tests {
    use super::Entries;
    use crate::graph::DiscoveredKey;

    /// Shards' numberings merge into one, each entry numbered where the data first meets it.
    #[test]
    fn entries_are_numbered_as_first_met_in_data_order() {
        let key = |f: usize, rel: usize| DiscoveredKey::new(f, rel);
        let mut entries = Entries::default();
        assert_eq!(entries.number(&[key(1, 5), key(0, 9)]), [0, 1]);
        assert_eq!(
            entries.number(&[key(0, 9), key(2, 0), key(1, 5)]),
            [1, 2, 0]
        );
        assert_eq!(entries.keys, [key(1, 5), key(0, 9), key(2, 0)]);
    }
}
