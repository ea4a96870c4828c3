//! The one scheduler every E-step kernel counts with. Results must be the same bits for any
//! thread count, and floating-point sums depend on their order, so the units of work are fixed
//! by the data (never by the thread count) and their results are merged strictly in unit
//! order. Units go to whichever thread is free, and whichever thread finishes the unit the
//! merge waits for merges it and every finished unit after it: no thread idles at a barrier
//! while another finishes a longer unit, and at most a window of units is counted ahead of the
//! merge, so memory stays bounded by the thread count rather than the data size. The merging
//! happens outside the scheduler's lock (one thread at a time merges), so the other threads
//! hand in and take units meanwhile (units can be tens of microseconds long: 2-thread
//! segmentation iterations on Brent took 1.78-2.02 ms against 1.86-2.29 ms with the merge
//! under the lock, three paired runs).

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex};

/// Units counted ahead of the merge, per thread.
const AHEAD_PER_THREAD: usize = 2;

/// Runs `work` on units `0..units` in `pool` and hands each result to `merge` in unit order.
///
/// `work(unit, scratch, spare)` gets its thread's scratch (made once per thread by `scratch`)
/// and, when there is one, a result `merge` gave back, to reuse its memory. `merge` may give
/// a result back for that; it runs under a lock, so it should only add. The first unit, in
/// unit order, whose work fails stops the run: its error is returned, and no unit after it is
/// merged, so the error is the same for any thread count.
pub fn map_merge_in_order<S, R, E>(
    pool: &rayon::ThreadPool,
    units: usize,
    scratch: impl Fn() -> S + Sync,
    work: impl Fn(usize, &mut S, Option<R>) -> Result<R, E> + Sync,
    merge: impl FnMut(R) -> Option<R> + Send,
) -> Result<(), E>
where
    R: Send,
    E: Send,
{
    let threads = pool.current_num_threads().max(1);
    let window = AHEAD_PER_THREAD * threads;
    let state = Mutex::new(Schedule {
        next: 0,
        merged: 0,
        done: BTreeMap::new(),
        spare: Vec::new(),
        failed: None,
        merging: false,
    });
    // Only the thread that set `merging` locks it, so it is never contended: merging runs
    // outside `state`'s lock, while the other threads hand in units and take new ones.
    let merge = Mutex::new(merge);
    let turn = Condvar::new();
    let worker = || {
        let mut scratch = scratch();
        loop {
            let (unit, spare) = {
                let mut st = state.lock().expect("no worker panics holding the lock");
                loop {
                    if st.failed.is_some() || st.next >= units {
                        return;
                    }
                    if st.next < st.merged + window {
                        break;
                    }
                    st = turn.wait(st).expect("no worker panics holding the lock");
                }
                st.next += 1;
                (st.next - 1, st.spare.pop())
            };
            let result = work(unit, &mut scratch, spare);
            let mut st = state.lock().expect("no worker panics holding the lock");
            st.done.insert(unit, result);
            if st.merging {
                // The merging thread takes this unit up when it comes back for more.
                continue;
            }
            st.merging = true;
            loop {
                let (ready, failure) = st.take_ready();
                let count = ready.len();
                if count > 0 {
                    drop(st);
                    let given_back: Vec<R> = {
                        let mut merge = merge.lock().expect("no worker panics holding the lock");
                        ready.into_iter().filter_map(|r| (*merge)(r)).collect()
                    };
                    st = state.lock().expect("no worker panics holding the lock");
                    st.merged += count;
                    st.spare.extend(given_back);
                }
                if failure.is_some() {
                    st.failed = failure;
                }
                if count == 0 || st.failed.is_some() {
                    break;
                }
                turn.notify_all();
            }
            st.merging = false;
            turn.notify_all();
        }
    };
    if threads == 1 {
        worker();
    } else {
        pool.scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|_| worker());
            }
        });
    }
    match state.into_inner().expect("no worker panicked").failed {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// The run's shared state: what is merged so far and the units finished ahead of the merge.
struct Schedule<R, E> {
    /// The next unit to hand out.
    next: usize,
    /// Units `0..merged` are merged.
    merged: usize,
    done: BTreeMap<usize, Result<R, E>>,
    /// Results the merge gave back, for units still to run.
    spare: Vec<R>,
    failed: Option<E>,
    /// A thread is merging (units from `merged` on, taken out of `done`).
    merging: bool,
}

impl<R, E> Schedule<R, E> {
    /// Takes out the finished units next in order, up to the first that failed, whose error
    /// comes second: once the units before it are merged, it stops the run. Nothing once
    /// the run has failed.
    fn take_ready(&mut self) -> (Vec<R>, Option<E>) {
        let mut ready = Vec::new();
        if self.failed.is_some() {
            return (ready, None);
        }
        while let Some(result) = self.done.remove(&(self.merged + ready.len())) {
            match result {
                Ok(r) => ready.push(r),
                Err(error) => return (ready, Some(error)),
            }
        }
        (ready, None)
    }
}

#[cfg(test)]
mod tests {
    use super::map_merge_in_order;
    use crate::train::thread_pool;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Units that take uneven time still reach the merge in unit order.
    #[test]
    fn merges_in_unit_order_for_any_thread_count() {
        for threads in [1, 2, 4] {
            let pool = thread_pool(threads);
            let mut order = Vec::new();
            let run = map_merge_in_order(
                &pool,
                50,
                || (),
                |unit, _, _| {
                    // Early units are slow, so later ones finish first.
                    std::thread::sleep(std::time::Duration::from_micros(((50 - unit) * 20) as u64));
                    Ok::<usize, ()>(unit)
                },
                |unit| {
                    order.push(unit);
                    None
                },
            );
            assert_eq!(run, Ok(()));
            assert_eq!(order, (0..50).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    /// The first failing unit in unit order is the error, whichever fails first in time, and
    /// nothing after it is merged.
    #[test]
    fn the_first_failure_in_unit_order_stops_the_run() {
        for threads in [1, 2, 4] {
            let pool = thread_pool(threads);
            let mut merged = Vec::new();
            let run = map_merge_in_order(
                &pool,
                40,
                || (),
                |unit, _, _| {
                    if unit == 7 {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                    if unit == 7 || unit == 9 {
                        Err(unit)
                    } else {
                        Ok(unit)
                    }
                },
                |unit| {
                    merged.push(unit);
                    None
                },
            );
            assert_eq!(run, Err(7), "{threads} threads");
            assert_eq!(merged, (0..7).collect::<Vec<_>>(), "{threads} threads");
        }
    }

    /// Results given back by the merge are reused, and no more than the window is ever
    /// counted ahead of the merge (each thread's scratch is made once).
    #[test]
    fn reuses_results_and_bounds_the_units_ahead() {
        let threads = 2;
        let pool = thread_pool(threads);
        let (ahead, most_ahead, fresh, scratches) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        let run = map_merge_in_order(
            &pool,
            200,
            || scratches.fetch_add(1, Ordering::SeqCst),
            |_, _, spare: Option<Vec<u8>>| {
                let now = ahead.fetch_add(1, Ordering::SeqCst) + 1;
                most_ahead.fetch_max(now, Ordering::SeqCst);
                Ok::<_, ()>(spare.unwrap_or_else(|| {
                    fresh.fetch_add(1, Ordering::SeqCst);
                    vec![0; 8]
                }))
            },
            |buffer| {
                ahead.fetch_sub(1, Ordering::SeqCst);
                Some(buffer)
            },
        );
        assert_eq!(run, Ok(()));
        assert!(most_ahead.into_inner() <= 2 * threads);
        assert!(fresh.into_inner() <= 2 * threads + threads);
        assert!(scratches.into_inner() <= threads);
    }
}
