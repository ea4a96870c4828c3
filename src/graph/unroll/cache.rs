//! Tables shared between the instances one cache unrolls, and the entries of sparse families
//! that a discovering cache records.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

use crate::graph::Entry;

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
    /// When finding sparse families' supports: the entries of theirs that factors use, as
    /// `discovered_key`s, one per use. Graphs unrolled meanwhile point at them with
    /// `Entry::Param(UNPLACED | number)`, to be placed once every support is known.
    pub(super) discovered: Option<RefCell<Vec<u64>>>,
}

/// A sparse family's entry as one number: the family in the top 16 bits, its dense position
/// (`row * n_out + out`, below 2^48: `params` checks) in the rest.
pub fn discovered_key(family: usize, rel: usize) -> u64 {
    (family as u64) << 48 | rel as u64
}

/// Marks an `Entry::Param` that numbers a discovered entry rather than a parameter (the
/// parameter vector is far shorter than 2^31).
pub const UNPLACED: u32 = 1 << 31;

/// Tables a cache keeps before it starts afresh, bounding its memory on huge vocabularies.
const CACHE_TABLES: usize = 1 << 16;

/// Lookups of one draw statement's tables before its hit rate decides whether to go on.
const CACHE_TRIAL: u32 = 1024;
const CACHE_HIT_RATE: u32 = 8;

impl TableCache {
    /// A cache that records which entries of sparse families the unrolled graphs use.
    pub fn discovering() -> TableCache {
        TableCache {
            discovered: Some(RefCell::new(Vec::new())),
            ..TableCache::default()
        }
    }

    /// The `discovered_key` of every use of a sparse family's entry so far: use `n` is what
    /// `Entry::Param(UNPLACED | n)` stands for.
    pub fn take_discovered(&mut self) -> Vec<u64> {
        self.discovered
            .as_mut()
            .map(|d| std::mem::take(d.get_mut()))
            .unwrap_or_default()
    }

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
