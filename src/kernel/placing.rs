//! Compiling an enumeration plan whose sparse families have no supports yet, in one pass over
//! the data: each shard is unrolled with its sparse entries numbered, the shards are
//! absorbed in data order, and once every entry is known the supports are laid out and each
//! number becomes its parameter index. Where all sparse families together have at most
//! `DENSE_LIMIT` entries, an entry's number is its dense position and the entries met are
//! marked in a table of bits (`build_dense`); else the shards number their entries as met and
//! the numberings are merged through a hash table (`build_as_met`).

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::hash_table::{Entry, HashTable};
use rustc_hash::FxBuildHasher;

use super::bits::RankedBits;
use super::independent::{Builder, UnplacedBuilder};
use super::ordered::map_merge_in_order;
use crate::compile::{find_supports, supports_from};
use crate::data::{Dataset, Instance};
use crate::error::Error;
use crate::graph::{DenseNumbers, DiscoveredKey, Discovering};
use crate::params::{Layout, Support, MAX_PARAMS};
use crate::program::Program;

/// Most entries the sparse families may have in all (their rows times their outcomes) for
/// numbering by dense position. Marking the entries met then takes 8 bytes per 512 entries
/// (4 MiB at the limit) and 64 bytes per block of 512 that holds one: IBM Model 1 on the
/// Hansards has 238M entries and reaches 1.14M of them in 146k blocks, 12.5 MiB in all, less
/// than numbering them as met held at its peak (the keys, their hash table, then the keys
/// sorted with their numbers).
const DENSE_LIMIT: usize = 1 << 28;

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
    match DenseNumbers::new(&program.layout, DENSE_LIMIT) {
        Some(dense) => build_dense(program, data, pool, shard, Arc::new(dense)),
        None => build_as_met(program, data, pool, shard),
    }
}

/// Entries numbered by dense position. When some instance does not fit the kernel, the
/// shards after it are not unrolled, and the supports are found by `find_supports` instead
/// (the kernel is then the generic one, which unrolls every line anyway).
fn build_dense(
    program: &Program,
    data: &Dataset,
    pool: &rayon::ThreadPool,
    shard: usize,
    dense: Arc<DenseNumbers>,
) -> Result<(Layout, Option<Builder>), Error> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let n = data.instances.len();
    let starts: Vec<usize> = (0..n).step_by(shard).collect();
    let unfit = AtomicBool::new(false);
    let mut whole = Some(UnplacedBuilder::new());
    let mut merged = 0;
    map_merge_in_order(
        pool,
        starts.len(),
        || (),
        |i, _, _| {
            if unfit.load(Ordering::Relaxed) {
                return Ok::<_, Error>(None);
            }
            let range = starts[i]..(starts[i] + shard).min(n);
            let mut discovering = Discovering::dense(dense.clone());
            let built = add_shard(program, &data.instances[range], &mut discovering)?;
            if built.is_none() {
                unfit.store(true, Ordering::Relaxed);
            }
            Ok(built)
        },
        |builder| {
            merged += 1;
            absorb(&mut whole, builder, merged == 1, n);
            None
        },
    )?;
    let Some(whole) = whole else {
        let layout =
            pool.install(|| find_supports(&program.model, data, program.layout.clone()))?;
        return Ok((layout, None));
    };
    let mut met = RankedBits::new(dense.total());
    whole.unplaced().for_each(|n| met.insert(n));
    met.rank_all();
    let supports = program
        .layout
        .sparse_families()
        .into_iter()
        .map(|f| {
            let slot = &program.layout.families[f];
            let range = dense.range(f);
            let rels = met.ones(range.clone()).map(|n| (n - range.start) as u64);
            (f, Support::from_ascending(slot.n_cond, slot.n_out, rels))
        })
        .collect();
    let layout = program
        .layout
        .clone()
        .with_supports(&program.model, supports)?;
    // A support lists its family's entries in ascending order, so an entry's place in it is
    // how many entries met lie between the family's first number and its own.
    let placed = whole.place_by(|n| {
        let (f, start) = dense.family(n as usize);
        (layout.families[f].offset + met.rank(n as usize) - met.rank(start)) as u32
    });
    Ok((layout, Some(placed)))
}

/// Entries numbered as met, shard by shard, the numberings merged into one in data order.
fn build_as_met(
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
            let mut discovering = Discovering::default();
            let built = add_shard(program, &data.instances[range], &mut discovering)?;
            Ok::<_, Error>((built, discovering.take_keys()))
        },
        |(builder, keys)| {
            let numbers = entries.number(&keys);
            merged += 1;
            let fits = entries.keys.len() <= MAX_PARAMS;
            let shard = builder.filter(|_| fits).map(|mut b| {
                b.renumber(&numbers);
                b
            });
            absorb(&mut whole, shard, merged == 1, n);
            None
        },
    )?;
    let Entries { keys, numbers } = entries;
    drop(numbers);
    let (layout, placed) = place(program, keys, pool)?;
    Ok((layout, whole.map(|w| w.place(&placed))))
}

/// Appends a shard's builder (`None`: some line of it does not fit the kernel) to the whole
/// data's, which is `None` from the first such shard on. After the first shard, room is
/// reserved for all `instances` at its sizes.
fn absorb(
    whole: &mut Option<UnplacedBuilder>,
    shard: Option<UnplacedBuilder>,
    first: bool,
    instances: usize,
) {
    *whole = match (whole.take(), shard) {
        (Some(mut w), Some(b)) => {
            w.absorb(b);
            if first {
                w.reserve_for(instances);
            }
            Some(w)
        }
        _ => None,
    };
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

/// One shard unrolled: its kernel, if every instance fits.
fn add_shard(
    program: &Program,
    shard: &[Instance],
    discovering: &mut Discovering,
) -> Result<Option<UnplacedBuilder>, Error> {
    let mut builder = Some(UnplacedBuilder::new());
    for inst in shard {
        let g = discovering.unroll(&program.model, &program.domains, &program.layout, inst)?;
        if builder.as_mut().is_some_and(|b| b.add(&g).is_err()) {
            builder = None;
        }
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::{build_as_met, build_dense, find_supports, DenseNumbers, Entries};
    use crate::compile::program_unplaced;
    use crate::graph::DiscoveredKey;
    use crate::params::{initial, Layout};
    use crate::pipeline::front_end;
    use crate::program::Program;
    use rand::SeedableRng;
    use std::sync::Arc;

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

    /// IBM Model 1 over two sides, both translation tables sparse (so the dense numbers run
    /// over two families), on pairs that reach few of their entries.
    const TWO_SPARSE: &str = "
data f : [F] ||| g : [F] ||| e : [E]
domain F = vocabulary(f, g)
domain E = vocabulary(e) + {NULL}
param t : Categorical(F | E) { storage: sparse }
param u : Categorical(F | E) { storage: sparse }
model {
    let src = [NULL] ++ e
    hidden a : [0..len(src); len(f)]
    for j in 0..len(f) {
        a[j] ~ uniform
        f[j] ~ t(src[a[j]])
        g[j] ~ u(src[a[j]])
    }
}
";

    fn unplaced(src: &str, data: &str) -> (Program, crate::data::Dataset) {
        program_unplaced(front_end(src, &[]).unwrap(), data, None).unwrap()
    }

    /// Pairs in two topics whose words never meet, so that many entries are never reached.
    fn pairs() -> String {
        let fr = [
            ["la", "le", "maison", "bleue"],
            ["fleur", "chat", "petit", "un"],
        ];
        let en = [["the", "house", "blue"], ["flower", "cat", "small"]];
        (0..300usize)
            .map(|i| {
                let (fr, en) = (fr[i % 2], en[i % 2]);
                let f: Vec<&str> = (0..1 + i % 4).map(|j| fr[(i * 3 + j * 5) % 4]).collect();
                let g: Vec<&str> = (0..1 + i % 4).map(|j| fr[(i + j) % 4]).collect();
                let e: Vec<&str> = (0..1 + (i / 4) % 3).map(|j| en[(i + j * 2) % 3]).collect();
                format!("{} ||| {} ||| {}\n", f.join(" "), g.join(" "), e.join(" "))
            })
            .collect()
    }

    /// Numbering by dense position and numbering as met give the same supports as finding
    /// them apart, and kernels that count and decode the same bits, for any shard size
    /// and thread count.
    #[test]
    fn both_numberings_compile_the_same_kernel() {
        let (p, d) = unplaced(TWO_SPARSE, &pairs());
        assert_eq!(p.layout.sparse_families().len(), 2);
        let want = find_supports(&p.model, &d, p.layout.clone()).unwrap();
        let reached: usize = want.families.iter().map(|s| s.n_probs()).sum();
        let all: usize = want.families.iter().map(|s| s.n_cond * s.n_out).sum();
        assert!(reached < all, "some entries are never reached");
        let dense = Arc::new(DenseNumbers::new(&p.layout, super::DENSE_LIMIT).unwrap());
        let mut kernels = Vec::new();
        for (threads, shard) in [(1, 7), (2, 64), (2, 1000)] {
            let pool = crate::train::thread_pool(threads);
            let (a, ka) = build_dense(&p, &d, &pool, shard, dense.clone()).unwrap();
            let (b, kb) = build_as_met(&p, &d, &pool, shard).unwrap();
            assert_eq!(a, want);
            assert_eq!(b, want);
            kernels.push((a.clone(), ka.unwrap().finish(a.total)));
            kernels.push((b.clone(), kb.unwrap().finish(b.total)));
        }
        let layout: &Layout = &kernels[0].0;
        let placed = Program {
            layout: layout.clone(),
            ..p.clone()
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let params = initial(
            &placed.model,
            &placed.domains,
            layout,
            crate::model::InitMode::Random,
            &mut rng,
        )
        .unwrap();
        let pool = crate::train::thread_pool(2);
        let line = |vars: &[crate::graph::Decoded]| vars.to_vec();
        let first = &kernels[0].1;
        let counts = first
            .e_step(&params.theta, &pool, false)
            .unwrap_or_else(|_| panic!("no line is impossible"));
        for (_, k) in &kernels[1..] {
            assert!(k
                .e_step(&params.theta, &pool, false)
                .is_ok_and(|c| c == counts));
            assert_eq!(
                k.map(&params.theta, &pool, line),
                first.map(&params.theta, &pool, line)
            );
        }
    }

    /// A line the kernel cannot take (a factor over two variables) leaves the generic
    /// kernel, with the supports every line reaches.
    #[test]
    fn a_line_the_kernel_cannot_take_still_gets_every_support() {
        let src = "
domain Z = 0..2
domain X = vocabulary(x)
data x : [X]
param t : Categorical(X | Z, Z) { storage: sparse }
model {
    hidden z : Z
    hidden w : Z
    z ~ uniform
    w ~ uniform
    for i in 0..len(x): x[i] ~ t(z, w)
}
";
        let data: String = (0..50)
            .map(|i| format!("s{} s{}\n", i % 7, i % 3))
            .collect();
        let (p, d) = unplaced(src, &data);
        let dense = Arc::new(DenseNumbers::new(&p.layout, 1 << 20).unwrap());
        let pool = crate::train::thread_pool(2);
        let (layout, kernel) = build_dense(&p, &d, &pool, 8, dense).unwrap();
        assert!(kernel.is_none());
        assert_eq!(
            layout,
            find_supports(&p.model, &d, p.layout.clone()).unwrap()
        );
        assert!(layout
            .families
            .iter()
            .any(|s| s.support.as_ref().is_some_and(|s| !s.is_empty())));
    }

    /// Sparse families too large in all for the limit are numbered as met.
    #[test]
    fn dense_numbers_cover_the_sparse_families_within_the_limit() {
        let (p, _) = unplaced(TWO_SPARSE, &pairs());
        let sizes: Vec<usize> = p
            .layout
            .families
            .iter()
            .map(|s| s.n_cond * s.n_out)
            .collect();
        let dense = DenseNumbers::new(&p.layout, sizes.iter().sum()).unwrap();
        assert_eq!(dense.total(), sizes.iter().sum::<usize>());
        let (t, u) = (0, 1);
        assert_eq!(dense.range(t), 0..sizes[t]);
        assert_eq!(dense.range(u), sizes[t]..sizes[t] + sizes[u]);
        assert_eq!(dense.number(u, 3), (sizes[t] + 3) as u32);
        assert_eq!(dense.family(sizes[t] + 3), (u, sizes[t]));
        assert_eq!(dense.family(sizes[t] - 1), (t, 0));
        assert!(DenseNumbers::new(&p.layout, sizes.iter().sum::<usize>() - 1).is_none());
    }
}
