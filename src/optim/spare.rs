//! Vectors the minimiser hands back to its thread when a run ends, for the next run there.
//!
//! The featurised M-step runs one L-BFGS per part (a state's weights, about 24,500 on W5),
//! dozens of runs an M-step: allocating each run's `2 * memory + 5` vectors zeroed, and the
//! logistic fit's workspaces, wrote about 200 MB per M-step for entries that every run writes
//! before it reads them. Reused here, they are neither zeroed nor faulted in again.
//!
//! What a thread keeps is bounded in vectors (`KEPT`), not bytes: after a direct fit of
//! millions of weights, that run's vectors stay with the thread for its next runs until it
//! exits.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

/// Vectors kept per thread; past this many, a vector handed back is freed. Enough for one
/// run's buffers with some to spare, so that runs of different lengths can alternate: a
/// featurised M-step's part takes 15 for L-BFGS (memory 5), 2 for its workspace and 8 for
/// its block-elimination operator (with 16 kept, W5 took 0.133 s per iteration against
/// 0.115-0.118 s with 32, in alternating runs).
const KEPT: usize = 32;

thread_local! {
    static SPARES: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

/// A vector of `n` entries whose values are unspecified: whoever takes one writes every entry
/// before reading it. Dropped, it goes back to its thread's spares.
///
/// Debug builds (and so the tests) fill it with NaN, so that an entry read before it is
/// written shows as a NaN in the result rather than as a leftover of an earlier run.
pub(crate) struct Spare(Vec<f64>);

impl Spare {
    pub(crate) fn new(n: usize) -> Spare {
        let taken = SPARES.with(|s| {
            let mut s = s.borrow_mut();
            // The smallest that fits, so that a long vector stays for a long request.
            let best = (s.iter().enumerate())
                .filter(|(_, v)| v.capacity() >= n)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(i, _)| i);
            best.map(|i| s.swap_remove(i))
        });
        let mut v = taken.unwrap_or_default();
        if v.len() >= n {
            v.truncate(n);
        } else {
            v.resize(n, 0.0);
        }
        if cfg!(debug_assertions) {
            v.fill(f64::NAN);
        }
        Spare(v)
    }

    /// The vector itself, no longer handed back when dropped (a `minimize` run that is
    /// given it hands it back when it ends).
    pub(crate) fn into_vec(mut self) -> Vec<f64> {
        std::mem::take(&mut self.0)
    }
}

/// A vector the caller made, to be handed back with the run's others.
impl From<Vec<f64>> for Spare {
    fn from(v: Vec<f64>) -> Spare {
        Spare(v)
    }
}

impl Drop for Spare {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        if v.capacity() == 0 {
            return;
        }
        // A thread being torn down has no spares left to keep it in; the vector is freed.
        let _ = SPARES.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < KEPT {
                s.push(v);
            }
        });
    }
}

impl Deref for Spare {
    type Target = Vec<f64>;
    fn deref(&self) -> &Vec<f64> {
        &self.0
    }
}

impl DerefMut for Spare {
    fn deref_mut(&mut self) -> &mut Vec<f64> {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Spare;

    /// A vector handed back is taken again, at the length asked for, without a new
    /// allocation; debug builds poison what a taker gets.
    #[test]
    fn spares_are_reused_at_the_length_asked_for() {
        let first = Spare::new(1000);
        let at = first.as_ptr();
        drop(first);
        let again = Spare::new(600);
        assert_eq!(again.len(), 600);
        assert_eq!(again.as_ptr(), at);
        if cfg!(debug_assertions) {
            assert!(again.iter().all(|x| x.is_nan()));
        }
        // Longer than any spare: a new vector.
        let longer = Spare::new(5000);
        assert_eq!(longer.len(), 5000);
        drop((again, longer));
        let both = (Spare::new(1000), Spare::new(4000));
        assert_eq!((both.0.len(), both.1.len()), (1000, 4000));
    }
}
