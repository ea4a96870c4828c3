//! Fuzz targets for emc: the pipelines they drive ([`pipeline`], shared with
//! `tests/fuzz_regressions.rs`), the grammar-aware model generator ([`grammar`]), the command
//! lines of the `cli` target ([`cli_case`]) and an opt-in filter for panics already reported
//! ([`known`]).

pub mod cli_case;
pub mod grammar;
pub mod known;
pub mod pipeline;

pub use pipeline::*;
