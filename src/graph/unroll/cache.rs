//! Tables shared between the instances one cache unrolls, and the entries of sparse families
//! that a discovering cache records.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use super::{unroll_cached, UnrollError};
use crate::data::{Domains, Instance};
use crate::graph::{Entry, InstanceGraph};
use crate::model::Model;
use crate::params::Layout;

/// Factor tables already built, by what determines their entries (see `table_key`), which
/// does not depend on the instance: unrolling many instances with one cache builds an HMM's
/// transition table once instead of once per line.
#[derive(Default)]
pub struct TableCache {
    tables: HashMap<Vec<i64>, Rc<[Entry]>>,
    names: HashMap<String, Rc<str>>,
    /// Lookups and hits per draw statement (by its span's start): a draw whose tables
    /// rarely repeat (a translation table indexed through the words of a sentence) is not
    /// worth hashing its key and keeping its tables.
    use_by_draw: HashMap<usize, (u32, u32)>,
    /// Only in a [`Discovering`] cache: the entries of sparse families that factors use.
    /// Graphs unrolled meanwhile point at them by number (see [`UnplacedGraph`]), to be
    /// placed once every support is known.
    pub(super) discovered: Option<RefCell<Discovered>>,
    /// Scratch for a draw's table key and entries, reused from draw to draw.
    pub(super) key_scratch: Vec<i64>,
    pub(super) entry_scratch: Vec<Entry>,
}

/// How the entries of sparse families met so far are numbered.
pub(super) enum Discovered {
    /// As met, through a hash table of the distinct ones. IBM Model 1 on the Hansards uses
    /// 1.15M entries 7.06M times, and recording (then sorting) every use made most of the
    /// run's peak memory.
    AsMet {
        keys: Vec<DiscoveredKey>,
        numbers: HashMap<DiscoveredKey, u32>,
    },
    /// By dense position, recording nothing: whoever reads the numbers marks the entries
    /// met (`kernel::placing`).
    Dense(Arc<DenseNumbers>),
}

impl Default for Discovered {
    fn default() -> Discovered {
        Discovered::AsMet {
            keys: Vec::new(),
            numbers: HashMap::default(),
        }
    }
}

impl Discovered {
    /// The number of entry `rel` of sparse family `f`: as met, the next one if it is new.
    pub(super) fn number(&mut self, f: usize, rel: usize) -> u32 {
        match self {
            Discovered::AsMet { keys, numbers } => {
                let key = DiscoveredKey::new(f, rel);
                *numbers.entry(key).or_insert_with(|| {
                    keys.push(key);
                    (keys.len() - 1) as u32
                })
            }
            Discovered::Dense(d) => d.number(f, rel),
        }
    }

    /// The entry an unplaced graph holds for probability `rel` of sparse family `f`: the
    /// number of its key, tagged.
    pub(super) fn entry(&mut self, f: usize, rel: usize) -> Entry {
        Entry::Param(UNPLACED | self.number(f, rel))
    }
}

/// Every sparse family's entries numbered by dense position, the families one after another
/// in layout order: numbering an entry is an addition, where numbering as met is a hash
/// look-up per use and another per shard to merge the shards' numberings (a third of
/// compiling IBM Model 1 on the Hansards). The numbers name the entries that can exist, not
/// those met, so there are only as many as a table of bits the size of all the families
/// can afford to mark (see `new`).
#[derive(Clone, Debug)]
pub struct DenseNumbers {
    /// Per family in the layout, where its numbers start, if it is sparse.
    starts: Vec<Option<usize>>,
    /// The sparse families with their starts, ascending.
    ranges: Vec<(usize, usize)>,
    total: usize,
}

impl DenseNumbers {
    /// Dense numbers for the layout's sparse families, if they have at most `limit` entries
    /// in all (`limit` below [`UNPLACED`]).
    pub fn new(layout: &Layout, limit: usize) -> Option<DenseNumbers> {
        debug_assert!(limit < UNPLACED as usize);
        let mut total = 0usize;
        let mut ranges = Vec::new();
        let starts = layout
            .families
            .iter()
            .enumerate()
            .map(|(f, slot)| {
                slot.support.is_some().then(|| {
                    let start = total;
                    total = total.saturating_add(slot.n_cond.saturating_mul(slot.n_out));
                    ranges.push((start, f));
                    start
                })
            })
            .collect();
        (total <= limit).then_some(DenseNumbers {
            starts,
            ranges,
            total,
        })
    }

    /// How many numbers there are: each is below this.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The number of entry `rel` of sparse family `f`.
    pub fn number(&self, f: usize, rel: usize) -> u32 {
        let start = self.starts[f].expect("only a sparse family's entries are discovered");
        (start + rel) as u32
    }

    /// The sparse family that number `n` belongs to, and where its numbers start.
    pub fn family(&self, n: usize) -> (usize, usize) {
        let i = self.ranges.partition_point(|(start, _)| *start <= n) - 1;
        let (start, f) = self.ranges[i];
        (f, start)
    }

    /// The numbers of sparse family `f`.
    pub fn range(&self, f: usize) -> std::ops::Range<usize> {
        let start = self.starts[f].expect("a sparse family");
        let end = self
            .ranges
            .iter()
            .find(|(s, _)| *s > start)
            .map_or(self.total, |(s, _)| *s);
        start..end
    }
}

/// A sparse family's entry as one number: the family in the top 16 bits, its dense position
/// (`row * n_out + out`, below 2^48: `params` checks) in the rest. Keys order by family, then
/// entry, which is the order of the supports, and a plain `u64` underneath hashes and
/// compares in one instruction (millions of look-ups in `kernel::placing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiscoveredKey(u64);

impl DiscoveredKey {
    /// Bits of the dense position.
    pub const ENTRY_BITS: u32 = 48;

    pub fn new(family: usize, entry: usize) -> DiscoveredKey {
        debug_assert!((entry as u64) < 1 << Self::ENTRY_BITS && family < 1 << 16);
        DiscoveredKey((family as u64) << Self::ENTRY_BITS | entry as u64)
    }

    /// The family's index in the layout.
    pub fn family(self) -> usize {
        (self.0 >> Self::ENTRY_BITS) as usize
    }

    /// The dense position in the family, `row * n_out + out`.
    pub fn entry(self) -> usize {
        (self.0 & ((1 << Self::ENTRY_BITS) - 1)) as usize
    }
}

/// Marks an `Entry::Param` that numbers a discovered entry rather than a parameter (the
/// parameter vector is far shorter than 2^31). Only an [`UnplacedGraph`] holds such
/// entries; a tag bit rather than an `Entry` variant, so that the engines, which never see
/// one, have no case for it.
pub const UNPLACED: u32 = 1 << 31;

/// The number of the discovered entry an `Entry::Param` of an [`UnplacedGraph`] stands for,
/// if it is one.
pub fn unplaced_entry(param: u32) -> Option<u32> {
    (param & UNPLACED != 0).then_some(param & !UNPLACED)
}

/// An instance graph unrolled while discovering sparse supports. Its sparse families'
/// entries are numbered as discovered, not parameters, so it is not an [`InstanceGraph`]: no engine
/// takes it. Only a kernel builder that places the uses reads its factors.
pub struct UnplacedGraph(InstanceGraph);

impl UnplacedGraph {
    /// The graph with its discovered entries unplaced: an `Entry::Param` with
    /// [`unplaced_entry`] some number is the discovered entry of that number, the rest are
    /// as in a placed graph.
    pub fn with_unplaced_entries(&self) -> &InstanceGraph {
        &self.0
    }
}

/// Unrolls instances while recording the entries of sparse families that they use, so that
/// the supports can be found (and a kernel compiled) in one pass over the data.
pub struct Discovering(TableCache);

impl Default for Discovering {
    fn default() -> Discovering {
        Discovering(TableCache {
            discovered: Some(RefCell::new(Discovered::default())),
            ..TableCache::default()
        })
    }
}

impl Discovering {
    /// Numbers the sparse entries by `dense` and records none of them: `take_keys` is
    /// empty.
    pub fn dense(dense: Arc<DenseNumbers>) -> Discovering {
        Discovering(TableCache {
            discovered: Some(RefCell::new(Discovered::Dense(dense))),
            ..TableCache::default()
        })
    }

    /// Unrolls the story on one instance, numbering the sparse entries it uses.
    pub fn unroll(
        &mut self,
        model: &Model,
        domains: &Domains,
        layout: &Layout,
        instance: &Instance,
    ) -> Result<UnplacedGraph, UnrollError> {
        unroll_cached(model, domains, layout, instance, &mut self.0).map(UnplacedGraph)
    }

    /// The key of every entry discovered so far, distinct, numbered as met (entry `n` is
    /// `keys[n]`), and the numbering starts afresh.
    pub fn take_keys(&mut self) -> Vec<DiscoveredKey> {
        self.0
            .discovered
            .as_mut()
            .and_then(|d| match d.get_mut() {
                Discovered::AsMet { keys, numbers } => {
                    numbers.clear();
                    Some(std::mem::take(keys))
                }
                Discovered::Dense(_) => None,
            })
            .unwrap_or_default()
    }
}

/// Tables a cache keeps before it starts afresh, bounding its memory on huge vocabularies.
const CACHE_TABLES: usize = 1 << 16;

/// Lookups of one draw statement's tables before its hit rate decides whether to go on.
const CACHE_TRIAL: u32 = 1024;
const CACHE_HIT_RATE: u32 = 8;

impl TableCache {
    pub(super) fn get(&mut self, draw: usize, key: &[i64]) -> Option<Rc<[Entry]>> {
        let found = self.tables.get(key).cloned();
        let (lookups, hits) = self.use_by_draw.entry(draw).or_default();
        *lookups += 1;
        *hits += u32::from(found.is_some());
        found
    }

    /// Whether tables of this draw statement are worth caching: until `CACHE_TRIAL` lookups,
    /// yes; after them, if at least one in `CACHE_HIT_RATE` hit.
    pub(super) fn worth_caching(&self, draw: usize) -> bool {
        self.use_by_draw.get(&draw).is_none_or(|(lookups, hits)| {
            *lookups < CACHE_TRIAL || hits * CACHE_HIT_RATE >= *lookups
        })
    }

    pub(super) fn insert(&mut self, key: Vec<i64>, entries: Rc<[Entry]>) {
        if self.tables.len() >= CACHE_TABLES {
            self.tables.clear();
        }
        self.tables.insert(key, entries);
    }

    /// One shared copy of each family's or table's name for the factors drawn from it.
    pub(super) fn name(&mut self, name: &str) -> Rc<str> {
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        let n: Rc<str> = name.into();
        self.names.insert(name.to_string(), n.clone());
        n
    }
}

#[cfg(test)]
mod tests {
    use super::{unplaced_entry, Discovered, DiscoveredKey, UNPLACED};

    /// Keys give back their parts and order by family first, then entry, as the supports are
    /// laid out, whatever the entries' sizes.
    #[test]
    fn discovered_keys_order_by_family_then_entry() {
        let big = (1 << DiscoveredKey::ENTRY_BITS) - 1;
        let k = DiscoveredKey::new(40000, big);
        assert_eq!((k.family(), k.entry()), (40000, big));
        let mut keys = [
            DiscoveredKey::new(2, 0),
            DiscoveredKey::new(1, big),
            DiscoveredKey::new(2, 5),
            DiscoveredKey::new(1, 3),
        ];
        keys.sort_unstable();
        let parts: Vec<(usize, usize)> = keys.iter().map(|k| (k.family(), k.entry())).collect();
        assert_eq!(parts, [(1, 3), (1, big), (2, 0), (2, 5)]);
    }

    #[test]
    fn only_tagged_parameters_are_unplaced_entries() {
        assert_eq!(unplaced_entry(UNPLACED | 7), Some(7));
        assert_eq!(unplaced_entry(7), None);
        assert_eq!(unplaced_entry((1 << 28) - 1), None);
    }

    /// An entry keeps the number it was first given; new ones are numbered in order.
    #[test]
    fn discovered_entries_are_numbered_as_met() {
        let mut d = Discovered::default();
        assert_eq!(
            [
                d.number(1, 9),
                d.number(0, 3),
                d.number(1, 9),
                d.number(0, 3)
            ],
            [0, 1, 0, 1]
        );
        let Discovered::AsMet { keys, .. } = d else {
            unreachable!()
        };
        assert_eq!(keys, [DiscoveredKey::new(1, 9), DiscoveredKey::new(0, 3)]);
    }
}
