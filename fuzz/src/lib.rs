//! Fuzz targets for emc: the pipelines they drive ([`pipeline`], shared with
//! `tests/fuzz_regressions.rs`) and an opt-in filter for panics already reported ([`known`]).

pub mod known;
pub mod pipeline;

pub use pipeline::*;
