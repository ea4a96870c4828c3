//! emc compiles a declarative generative model with hidden variables into an exact EM trainer.
//!
//! The stages follow the data: [`syntax`] (text to tree) → [`check`] (tree to [`model::Model`])
//! → [`data`] (lines to instances; vocabularies become domains) → [`graph`] (one instance
//! unrolled into a factor graph) → [`plan`] (the exact inference plan) → [`infer`] (E-step
//! engines and the count store) → [`kernel`] (the E-step compiled for the plan) → [`family`] (M-step per family) → [`train`] (the EM driver)
//! → [`params`] and [`output`] (files as text). [`compile`] strings the first stages together;
//! [`decode`], [`sample`], [`eval`] and [`report`] serve the other commands. The core does no I/O: the
//! `emc` binary reads and writes files.

pub mod check;
pub mod compile;
pub mod data;
pub mod decode;
pub mod diagnostic;
pub mod eval;
pub mod family;
pub mod graph;
pub mod infer;
pub mod kernel;
pub mod model;
pub mod optim;
pub mod output;
pub mod params;
pub mod plan;
pub mod report;
pub mod sample;
pub mod syntax;
pub mod train;
