//! A set of numbers below a bound, one bit each, that once filled answers how many of its
//! members are below a number: what placing discovered entries by their dense position needs
//! (each entry's parameter is its rank among its family's entries), without a hash look-up.
//! The bits are kept only for blocks that hold a member: IBM Model 1 on the Hansards numbers
//! 238M entries, of which the data reaches 1.14M, in 146k of 466k blocks (9 MiB of bits
//! where all of them would take 28).

/// Numbers per block: eight words, one cache line.
const BLOCK: usize = 512;
const WORDS: usize = BLOCK / 64;

pub(super) struct RankedBits {
    /// Per block of numbers: 1 + where its bits are in `bits`, or 0 while it has no member;
    /// then (by `rank_all`) how many members the blocks before it hold.
    directory: Vec<[u32; 2]>,
    /// The bits of the blocks with members, in the order their first members were inserted.
    bits: Vec<[u64; WORDS]>,
}

impl RankedBits {
    /// The empty set of numbers below `bound` (below 2^32).
    pub(super) fn new(bound: usize) -> RankedBits {
        debug_assert!((bound as u64) < 1 << 32);
        RankedBits {
            directory: vec![[0; 2]; bound.div_ceil(BLOCK) + 1],
            bits: Vec::new(),
        }
    }

    pub(super) fn insert(&mut self, n: u32) {
        let n = n as usize;
        let slot = &mut self.directory[n / BLOCK][0];
        if *slot == 0 {
            self.bits.push([0; WORDS]);
            *slot = self.bits.len() as u32;
        }
        self.bits[*slot as usize - 1][n % BLOCK / 64] |= 1 << (n % 64);
    }

    /// Counts the members before each block; after it, `rank` and `ones` answer, and
    /// `insert` must not be called.
    pub(super) fn rank_all(&mut self) {
        let mut below = 0u32;
        for [slot, before] in &mut self.directory {
            *before = below;
            if *slot != 0 {
                below += self.bits[*slot as usize - 1]
                    .iter()
                    .map(|w| w.count_ones())
                    .sum::<u32>();
            }
        }
    }

    /// The bits of block `b`, if it has any member.
    fn block(&self, b: usize) -> Option<&[u64; WORDS]> {
        let slot = self.directory[b][0] as usize;
        (slot != 0).then(|| &self.bits[slot - 1])
    }

    /// Members below `n` (at most the bound).
    pub(super) fn rank(&self, n: usize) -> usize {
        let b = n / BLOCK;
        let mut rank = self.directory[b][1] as usize;
        if let Some(words) = self.block(b) {
            let word = n % BLOCK / 64;
            rank += words[..word]
                .iter()
                .map(|w| w.count_ones() as usize)
                .sum::<usize>();
            if !n.is_multiple_of(64) {
                rank += (words[word] & ((1 << (n % 64)) - 1)).count_ones() as usize;
            }
        }
        rank
    }

    /// The members in `range`, ascending.
    pub(super) fn ones(&self, range: std::ops::Range<usize>) -> Ones<'_> {
        let (b, word) = (range.start / BLOCK, range.start % BLOCK / 64);
        let first = self.block(b).map_or(0, |words| words[word]);
        Ones {
            set: self,
            at: b * WORDS + word,
            bits: first >> (range.start % 64) << (range.start % 64),
            left: self.rank(range.end) - self.rank(range.start),
        }
    }
}

/// Members of a [`RankedBits`] in a range, ascending; its length is known from the ranks.
pub(super) struct Ones<'a> {
    set: &'a RankedBits,
    /// The word being read (a block times `WORDS` plus a word of it), and its members not
    /// yet returned.
    at: usize,
    bits: u64,
    left: usize,
}

impl Iterator for Ones<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        while self.bits == 0 {
            self.at += 1;
            if self.at.is_multiple_of(WORDS) {
                // Past a block: on to the next one with members.
                let mut b = self.at / WORDS;
                while self.set.directory[b][0] == 0 {
                    b += 1;
                }
                self.at = b * WORDS;
            }
            self.bits = self
                .set
                .block(self.at / WORDS)
                .map_or(0, |w| w[self.at % WORDS]);
        }
        let n = self.at * 64 + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        self.left -= 1;
        Some(n)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Ones<'_> {}

#[cfg(test)]
mod tests {
    use super::RankedBits;

    /// Ranks and members agree with counting a sorted list, at word and block boundaries,
    /// across empty blocks, and in ranges that start and end inside words.
    #[test]
    fn ranks_and_members_agree_with_a_sorted_list() {
        let dense = |n: &usize| n % 7 == 3 || n.is_multiple_of(64) || n % 512 == 511;
        let sparse = |n: &usize| [5, 600, 1023, 1024, 5000, 5001, 20_000, 29_999].contains(n);
        for (bound, member) in [(3000, &dense as &dyn Fn(&usize) -> bool), (30_000, &sparse)] {
            let members: Vec<usize> = (0..bound).filter(|n| member(n)).collect();
            let mut bits = RankedBits::new(bound);
            // Inserted out of order, some twice.
            for n in members.iter().rev().chain(&members[members.len() / 2..]) {
                bits.insert(*n as u32);
            }
            bits.rank_all();
            for n in 0..=bound {
                assert_eq!(
                    bits.rank(n),
                    members.partition_point(|m| *m < n),
                    "rank {n}"
                );
            }
            let edges = [
                0, 1, 5, 6, 63, 65, 511, 600, 1025, 4999, 5001, 20_001, bound,
            ];
            for start in edges.into_iter().filter(|e| *e <= bound) {
                for end in edges.into_iter().filter(|e| (start..=bound).contains(e)) {
                    let want: Vec<usize> = members
                        .iter()
                        .copied()
                        .filter(|m| (start..end).contains(m))
                        .collect();
                    let ones = bits.ones(start..end);
                    assert_eq!(ones.len(), want.len());
                    assert_eq!(ones.collect::<Vec<_>>(), want, "{start}..{end}");
                }
            }
        }
    }

    #[test]
    fn an_empty_set_has_no_members() {
        let mut bits = RankedBits::new(100);
        bits.rank_all();
        assert_eq!(bits.rank(100), 0);
        assert_eq!(bits.ones(0..100).count(), 0);
    }
}
