//! Panics in emc that a fuzz run found and that are reported but not yet fixed.
//!
//! libFuzzer stops at the first crash, and a shallow bug that is already known keeps it from
//! looking any deeper. With `EMC_FUZZ_SKIP_KNOWN=1` in the environment the targets treat a
//! panic listed here as an uninteresting input and go on; without it every panic is a crash, as
//! it should be once these are fixed. An entry matches the file the panic is raised in and the
//! start of its message, so a new panic anywhere else still stops the run. The inputs that
//! trigger them are in `tests/fuzz_regressions/`; delete an entry when its bug is fixed.

use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, OnceLock};

pub struct Known {
    /// The end of the path of the file the panic is raised in.
    pub file: &'static str,
    /// The start of the panic message.
    pub message: &'static str,
    /// What goes wrong, for the log.
    pub what: &'static str,
}

/// Panics reported and not yet fixed (none now: the list of lists and the `init` rows over
/// an empty condition domain, which the first runs of issue 16 found, are fixed and their
/// inputs replayed by `tests/fuzz_regressions.rs`).
pub const KNOWN: &[Known] = &[];

/// With `EMC_FUZZ_SKIP_KNOWN`, the `grammar` target makes flat chains (`1+1+...`,
/// `s[0][0]...`, `++` chains, `for` nests without braces) at most this long: longer ones
/// overflowed the stack (issue 16), which no panic hook can step over. The parser and the
/// checker now bound their depth, so there is no bound.
pub const KNOWN_DEEP_CHAIN: usize = usize::MAX;

/// With `EMC_FUZZ_SKIP_KNOWN`, the `grammar` target gives no field a domain made by
/// `substrings` (or an alias): `domain D = substrings(f, ...)` with `data f : [D]` recursed
/// without end in `graph::unroll::probe::probe_symbols` (found by the `grammar` target).
/// Now a located error, so it is `false`.
pub const KNOWN_SELF_SUBSTRINGS: bool = false;

/// The places (`file:line:col`) each known panic was seen at, so that a second site of the
/// same kind of bug is logged too.
static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Whether `EMC_FUZZ_SKIP_KNOWN` is set (to anything but `0` or nothing).
pub fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        std::env::var("EMC_FUZZ_SKIP_KNOWN").is_ok_and(|v| !v.is_empty() && v != "0")
    })
}

fn which(info: &panic::PanicHookInfo) -> Option<usize> {
    let file = info.location()?.file().replace('\\', "/");
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| info.to_string());
    KNOWN
        .iter()
        .position(|k| file.ends_with(k.file) && message.starts_with(k.message))
}

/// Called from a target's `init`: when enabled, wraps libfuzzer-sys's panic hook (which aborts)
/// so that a known panic unwinds quietly instead.
pub fn install() {
    if !enabled() {
        return;
    }
    let abort = panic::take_hook();
    panic::set_hook(Box::new(move |info| match which(info) {
        Some(k) => {
            let at = info.location().map(|l| l.to_string()).unwrap_or_default();
            if SEEN.lock().map_or(true, |mut seen| seen.insert(at)) {
                eprintln!(
                    "emc-fuzz: skipping known panic ({}): {info}\n{}",
                    KNOWN[k].what,
                    std::backtrace::Backtrace::force_capture()
                );
            }
        }
        None => abort(info),
    }));
}

/// Runs one input; a known panic (the only kind that unwinds this far when enabled) is dropped.
pub fn run(f: impl FnOnce()) {
    if enabled() {
        let _ = panic::catch_unwind(AssertUnwindSafe(f));
    } else {
        f();
    }
}
