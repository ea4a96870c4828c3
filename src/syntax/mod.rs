//! Text to syntax tree (with spans): the pest grammar lives in `grammar/emc.pest`.

pub mod ast;
mod errors;
pub mod parse;
mod structured;
mod unsupported;

pub use parse::{parse, SyntaxError, MAX_DEPTH, MAX_MODEL_BYTES, MAX_NESTING};
#[cfg(test)]
mod tests;
