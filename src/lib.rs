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
//!
//! # Using the library
//!
//! A model's text and its data's text go through [`pipeline::front_end`] (parse and check:
//! a [`model::Model`]) and [`pipeline::compile`] (read the data, choose the plan, compile the
//! E-step: a [`pipeline::Compiled`]); [`pipeline::Compiled::train`] runs the training that
//! a [`train::Config`] describes (start from [`train::Config::from_model`], the file's
//! `train` block) and returns a [`train::Outcome`]: the parameters, the trace and whether it
//! converged. Every error is an [`error::Error`], which renders as `emc` prints it
//! ([`error::Error::render`]: file, line, column, the offending text and a hint). The
//! callback sees each iteration as a [`train::Event`]; `Config::stop` stops a run after
//! the iteration in progress, with its parameters kept.
//!
//! Do and Batzoglou's two coins, trained from strings:
//!
//! ```
//! use emc::pipeline::{compile, front_end};
//! use emc::train::{Config, Event};
//!
//! let source = "
//!     domain Coin = {A, B}
//!     domain Face = {H, T}
//!     data tosses : [Face]
//!     param choice : Categorical(Coin) { fixed, init: [0.5, 0.5] }
//!     param toss   : Categorical(Face | Coin) { init: [[0.6, 0.4], [0.5, 0.5]] }
//!     train { iterations: 10, tolerance: 0 }
//!     model {
//!         hidden coin : Coin
//!         coin ~ choice
//!         for i in 0..len(tosses): tosses[i] ~ toss(coin)
//!     }";
//! let data = "H T T T H H T H T H\nH H H H T H H H H H\nH T H H H H H T H H\n\
//!             H T H T T T H H T T\nT H H H T H H H T H\n";
//!
//! let compiled = compile(front_end(source, &[])?, data, None, 1)?;
//! let config = Config::from_model(&compiled.program);
//! let mut iterations = 0;
//! let outcome = compiled.train(&config, &mut |event| {
//!     if let Event::Iteration { .. } = event {
//!         iterations += 1;
//!     }
//! })?;
//! // The initial parameters' log-likelihood, then one per M-step.
//! assert_eq!(iterations, 11);
//! let heads = compiled.program.probability(&outcome.params.theta, "toss", &["A"], "H");
//! assert!((heads.unwrap() - 0.7967).abs() < 1e-4); // Do & Batzoglou: 0.80 after 10 iterations
//! # Ok::<(), emc::error::Error>(())
//! ```

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
pub mod plot;
pub mod program;
pub mod report;
pub mod sample;
pub mod score;
pub mod stream;
pub mod structured;
pub mod syntax;
pub mod text;
pub mod train;
