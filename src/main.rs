//! The `emc` command: file I/O, progress on stderr, results on stdout. Exit codes: 0 ok,
//! 1 a problem in the model or the data, 2 a usage or I/O problem, 130 interrupted.

mod cli;

/// Unrolling a corpus makes and drops millions of small tables, and compiling it a few large
/// arrays: mimalloc keeps both cheaper than the system allocator (IBM Model 1 on the Hansards:
/// fewer page faults and a fifth less time per run).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
