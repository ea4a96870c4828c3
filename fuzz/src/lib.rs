//! Fuzz targets for emc: the pipelines they drive ([`pipeline`], shared with
//! `tests/fuzz_regressions.rs`), the grammar-aware model generator ([`grammar`]), the command
//! lines of the `cli` target ([`cli_case`]), an opt-in filter for panics already reported
//! ([`known`]) and the signal stack that lets libFuzzer report a stack overflow ([`overflow`]).

pub mod cli_case;
pub mod grammar;
pub mod known;
pub mod overflow;
pub mod pipeline;

pub use pipeline::*;

/// What every target's `init` does: report stack overflows, and step over known panics when
/// `EMC_FUZZ_SKIP_KNOWN` is set.
pub fn init() {
    overflow::install();
    known::install();
}
