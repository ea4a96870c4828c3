//! Text to syntax tree (with spans): the pest grammar lives in `grammar/emc.pest`.

pub mod ast;
pub mod parse;
mod structured;
mod unsupported;

pub use parse::{parse, SyntaxError};
