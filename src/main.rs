//! The `emc` command: file I/O, progress on stderr, results on stdout. Exit codes: 0 ok,
//! 1 a problem in the model or the data, 2 a usage or I/O problem, 130 interrupted.

mod cli;

/// Unrolling a corpus makes and drops millions of small tables, and compiling it a few large
/// arrays: mimalloc keeps both cheaper than the system allocator (IBM Model 1 on the Hansards:
/// fewer page faults and a fifth less time per run).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's option enumeration (v2 and v3 alike).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds before mimalloc hands freed memory back to the OS while the data is read and
/// compiled (its own default is a second).
const COMPILING_PURGE_DELAY: std::ffi::c_long = 10;

fn main() -> std::process::ExitCode {
    // Reading and compiling the data free large transients that nothing reuses (the entries
    // discovered, the placing's sorts, the text's lines): handed back after 10 ms, IBM Model
    // 1 on the Hansards (W4) peaks at 130 MB of RSS instead of 185 MB, in the same time.
    // SAFETY: sets one integer option before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, COMPILING_PURGE_DELAY) };
    no_transparent_huge_pages();
    cli::main()
}

/// From here on what the run frees stays with it, to be reused: called once the data is
/// compiled, before training. Training frees and reallocates the same buffers every
/// iteration, and memory handed back comes back as fresh pages, zeroed by the kernel on
/// every first touch: in the featurised HMM on EWT (1.3M weights, L-BFGS buffers of 10 MB
/// each) that zeroing took a quarter of the time, and keeping the memory made 8 iterations
/// 5.5-5.8 s against 8.6-9.1 s.
pub(crate) fn keep_freed_memory(pool: &rayon::ThreadPool) {
    // SAFETY: stores one aligned `long` in mimalloc's option table, which it reads afresh
    // each time it considers a purge. The main thread calls this between compiling and
    // training, when the pool's threads are parked; a thread reading the option meanwhile
    // (a progress bar's) gets the old value or the new one, either a valid delay (-1:
    // never purge).
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, -1) };
    // What compiling freed in its last 10 ms (the placing's table of entries met, a count
    // of uses) was not handed back yet, and with purging off it never would be. Each thread
    // holds what it freed, and the pool's threads did the compiling: handed back now, on
    // every thread, W4's peak is 104-105 MB instead of 109-111.
    // SAFETY: asks the allocator to free what the calling thread holds unused.
    let collect = || unsafe { libmimalloc_sys::mi_collect(true) };
    collect();
    pool.broadcast(|_| collect());
}

/// mimalloc advises the kernel to back its large regions with transparent huge pages, and a
/// kernel whose THP `defrag` setting honours that advice (Debian's default, `madvise`) then
/// compacts memory in the faulting thread until it finds a free 2-MiB page. Once the host's
/// memory is fragmented, that stalls: IBM Model 1 on the Hansards (W4) took 5.3-6.2 s a run
/// with huge pages against 1.9-2.7 s without, and W1's iterations were no faster with them.
/// The process opts out for all its memory, whatever the allocator advises.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only this process's
    // memory policy; a kernel without it returns an error, which leaves the default.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}
