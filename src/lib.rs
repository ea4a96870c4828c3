//! emc compiles a declarative generative model with hidden variables into an exact EM trainer.
//!
//! The stages follow the data: [`syntax`] (text to tree) → [`check`] (tree to [`model::Model`])
//! → [`compile`] (model and data text to a [`program::Program`]: [`data`] reads the lines and
//! fixes the vocabularies, [`graph`] unrolls one instance into a factor graph, [`plan`] picks the
//! exact inference plan) → [`kernel`] (the E-step compiled for the plan, over the engines and
//! count store of [`infer`]) → [`family`] (M-step per family) → [`train`] (the EM driver) →
//! [`params`] and [`output`] (files as text). [`pipeline`] strings the stages together for every
//! caller; [`error`] is the one error type they convert into, with its rendering.
//! [`hard`] counts hard (Viterbi) EM's E-step. [`text`] decodes the bytes of a file; [`decode`], [`sample`], [`eval`], [`report`] and [`score`] serve the other commands, [`checkpoint`]
//! resumes interrupted runs, [`accum`] splits
//! an iteration into shards (accumulator files), and [`hypergraph`] is the inside-outside engine for structured
//! hidden variables. The core does no I/O: the `emc` binary reads and writes files.

pub mod accum;
pub mod check;
pub mod checkpoint;
pub mod compile;
pub mod data;
pub mod decode;
pub mod density;
pub mod diagnostic;
pub mod error;
pub mod eval;
pub mod family;
pub mod features;
pub mod graph;
pub mod hard;
pub mod hypergraph;
pub mod infer;
pub mod kernel;
pub mod model;
pub mod optim;
pub mod output;
pub mod params;
pub mod pipeline;
pub mod plan;
pub mod program;
pub mod report;
pub mod sample;
pub mod score;
pub mod structured;
pub mod syntax;
pub mod text;
pub mod train;
