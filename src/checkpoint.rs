//! `checkpoint.json`: where an interrupted EM run stands, with the settings and the inputs it
//! was started with, as text; and the checks that make resuming from one safe. The driver
//! offers a [`Checkpoint`] after every M-step and returns the last one when it is stopped
//! (`Outcome::resume`); the CLI writes it, and reads it back with [`resume`].

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::model::{Algorithm, FamilyKind, InitMode};
use crate::params::Params;
use crate::program::Program;
use crate::train::{Anneal, Checkpoint, Config, Init};

/// The file's name in a run's output directory.
pub const FILE_NAME: &str = "checkpoint.json";

pub const FORMAT: &str = "emc-checkpoint-1";

/// The training state after an M-step, with what it was trained on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointFile {
    pub format: String,
    /// Of the model and data texts and the constant overrides ([`inputs_fingerprint`]), so a
    /// checkpoint is not resumed on other inputs.
    pub fingerprint: u64,
    pub iterations: usize,
    pub tolerance: f64,
    pub restarts: usize,
    pub seed: u64,
    /// `random` or `uniform`; `None` when the run started from given parameters only.
    pub init_mode: Option<String>,
    /// The given initial parameters, when there were some.
    pub init_theta: Option<Vec<f64>>,
    /// The families `init_theta` gives, when it gives only some (`--init` with a file that
    /// lacks families of the model); the others start by `init_mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_families: Option<Vec<usize>>,
    /// The algorithm and its settings (files of earlier versions, which have none, were
    /// written by EM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Training>,
    pub checkpoint: Checkpoint,
}

/// The settings of the algorithm a checkpoint's run trains with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Training {
    pub algorithm: String,
    pub batch: usize,
    pub alpha: f64,
    /// The annealing schedule's start and rate.
    pub anneal: Option<(f64, f64)>,
    pub prior: f64,
}

// Accumulator files fingerprint their inputs the same way.
pub use crate::accum::fingerprint;

/// Of the inputs a checkpoint belongs to: model text, data text and `--set` overrides.
pub fn inputs_fingerprint(model: &str, data: &str, set: &[(String, String)]) -> u64 {
    let overrides: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut texts = vec![model, data];
    texts.extend(overrides.iter().map(String::as_str));
    fingerprint(&texts)
}

/// [`inputs_fingerprint`] taken a part at a time, for a data file never held whole (FNV-1a,
/// as `accum::fingerprint`: each text followed by the byte 0xff).
pub struct Fingerprint(u64);

impl Fingerprint {
    pub fn new() -> Fingerprint {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }

    /// The next part of the text under way.
    pub fn part(&mut self, bytes: &[u8]) {
        self.0 = bytes.iter().fold(self.0, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    }

    pub fn end_text(&mut self) {
        self.part(&[0xff]);
    }

    /// A whole text.
    pub fn text(&mut self, bytes: &[u8]) {
        self.part(bytes);
        self.end_text();
    }

    pub fn value(&self) -> u64 {
        self.0
    }
}

impl Default for Fingerprint {
    fn default() -> Fingerprint {
        Fingerprint::new()
    }
}

fn mode_name(mode: InitMode) -> String {
    match mode {
        InitMode::Uniform => "uniform".into(),
        InitMode::Random => "random".into(),
    }
}

/// The text of `checkpoint.json` for state `c` of a run with `config`.
pub fn to_text(config: &Config, fingerprint: u64, c: &Checkpoint) -> String {
    let (init_mode, init_theta, init_families) = match &config.init {
        Init::Mode(mode) => (Some(mode_name(*mode)), None, None),
        Init::Given(p) => (None, Some(p.theta.clone()), None),
        Init::Partial {
            mode,
            given,
            families,
        } => (
            Some(mode_name(*mode)),
            Some(given.theta.clone()),
            Some(families.clone()),
        ),
    };
    let file = CheckpointFile {
        format: FORMAT.into(),
        fingerprint,
        iterations: config.iterations,
        tolerance: config.tolerance,
        restarts: config.restarts,
        seed: config.seed,
        init_mode,
        init_theta,
        init_families,
        training: Some(Training {
            algorithm: config.algorithm.name().into(),
            batch: config.batch,
            alpha: config.alpha,
            anneal: config.anneal.map(|a| (a.start, a.rate)),
            prior: config.prior,
        }),
        checkpoint: c.clone(),
    };
    // A struct of numbers, strings and vectors always serialises.
    serde_json::to_string(&file).unwrap_or_default()
}

/// Why a checkpoint cannot be resumed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    #[error("`--resume` works with `--algorithm em` only")]
    Direct,
    #[error("this is not a checkpoint: {0}")]
    NotJson(String),
    #[error("unknown checkpoint format `{0}`")]
    Format(String),
    #[error("the checkpoint was written for another model or data file")]
    OtherInputs,
    #[error("the checkpoint is damaged: {0}")]
    Damaged(String),
    #[error("the checkpoint belongs to a run with {setting} {had}, not {asked}")]
    OtherSettings {
        setting: String,
        asked: String,
        had: String,
    },
    #[error("the checkpoint is of a run that finished all its {restarts} restart(s)")]
    Finished { restarts: usize },
}

impl CheckpointError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        let hint = match self {
            CheckpointError::Direct => {
                "the direct algorithm keeps no checkpoint: run it again without `--resume`"
            }
            CheckpointError::OtherInputs => {
                "resume with the same MODEL, DATA and --set values the run started with"
            }
            CheckpointError::OtherSettings { .. } => {
                "a resumed run keeps the settings it started with: leave the option out, or \
                 start a new run without `--resume`"
            }
            CheckpointError::Finished { .. } => {
                "there is nothing to continue: its outputs are final; start a new run \
                 without `--resume`"
            }
            CheckpointError::NotJson(_)
            | CheckpointError::Format(_)
            | CheckpointError::Damaged(_) => {
                "a checkpoint is the `checkpoint.json` an interrupted `emc run` left in its \
                 output directory; start the run again without `--resume`"
            }
        };
        Diagnostic::unlocated(self.to_string()).with_hint(hint)
    }

    /// A problem with the model, data or settings given (the rest are problems of the file).
    pub fn is_user(&self) -> bool {
        matches!(
            self,
            CheckpointError::Direct
                | CheckpointError::OtherInputs
                | CheckpointError::OtherSettings { .. }
                | CheckpointError::Finished { .. }
        )
    }
}

/// Sets `config` to continue the run that `text` (a checkpoint file) stopped: its settings
/// and its state. `fingerprint` is of the inputs given now ([`inputs_fingerprint`]); a
/// checkpoint written for others, or whose vectors do not fit `program`, is refused.
pub fn resume(
    text: &str,
    fingerprint: u64,
    program: &Program,
    config: &mut Config,
) -> Result<(), CheckpointError> {
    if config.algorithm == Algorithm::Direct {
        return Err(CheckpointError::Direct);
    }
    let file: CheckpointFile =
        serde_json::from_str(text).map_err(|e| CheckpointError::NotJson(e.to_string()))?;
    if file.format != FORMAT {
        return Err(CheckpointError::Format(file.format));
    }
    if file.fingerprint != fingerprint {
        return Err(CheckpointError::OtherInputs);
    }
    validate(&file, program)?;
    // A run offers no checkpoint once its last restart is done, so such a file is left by
    // another version or copied: its run has nothing left to run.
    if file.checkpoint.restart == file.restarts {
        return Err(CheckpointError::Finished {
            restarts: file.restarts,
        });
    }
    let mode = match file.init_mode.as_deref() {
        Some("uniform") => InitMode::Uniform,
        _ => InitMode::Random,
    };
    if let Some(t) = &file.training {
        config.algorithm = Algorithm::from_name(&t.algorithm)
            .ok_or(CheckpointError::Format(t.algorithm.clone()))?;
        config.batch = t.batch;
        config.alpha = t.alpha;
        config.anneal = t.anneal.map(|(start, rate)| Anneal { start, rate });
        config.prior = t.prior;
    } else {
        config.algorithm = Algorithm::Em;
    }
    config.iterations = file.iterations;
    config.tolerance = file.tolerance;
    config.restarts = file.restarts;
    config.seed = file.seed;
    config.init = match (file.init_theta, file.init_families) {
        (Some(theta), Some(families)) => Init::Partial {
            mode,
            given: Params { theta },
            families,
        },
        (Some(theta), None) => Init::Given(Params { theta }),
        (None, _) => Init::Mode(mode),
    };
    config.resume = Some(file.checkpoint);
    Ok(())
}

/// Whether a checkpoint's state fits `program`: every parameter vector has the layout's
/// length, with probabilities in [0, 1] and the other numbers (Logistic weights, Gaussian
/// rows) finite; the trace is as long as the iterations run; the restarts are in range.
pub fn validate(file: &CheckpointFile, program: &Program) -> Result<(), CheckpointError> {
    let c = &file.checkpoint;
    let damaged = |what: String| Err(CheckpointError::Damaged(what));
    if file.restarts == 0 || c.restart > file.restarts || c.objectives.len() != c.restart {
        return damaged(format!(
            "it is at restart {} of {} with {} finished",
            c.restart,
            file.restarts,
            c.objectives.len()
        ));
    }
    if !c.theta.is_empty() {
        check_params(&c.theta, program).or_else(|e| damaged(format!("its parameters {e}")))?;
        if c.trace.len() != c.iteration {
            return damaged(format!(
                "its trace has {} points for iteration {}",
                c.trace.len(),
                c.iteration
            ));
        }
    }
    if let Some(b) = &c.best {
        check_params(&b.theta, program)
            .or_else(|e| damaged(format!("the best restart's parameters {e}")))?;
    }
    if let Some(theta) = &file.init_theta {
        check_params(theta, program).or_else(|e| damaged(format!("its initial parameters {e}")))?;
    }
    if let Some(f) = file
        .init_families
        .iter()
        .flatten()
        .find(|f| **f >= program.model.families.len())
    {
        return damaged(format!(
            "it gives initial values of a family {f} the model lacks"
        ));
    }
    Ok(())
}

/// Largest amount by which a probability may exceed 1 (rounding in a normalisation).
const ROUNDING: f64 = 1e-9;

/// Why `theta` is not a parameter vector of `program`, if it is not. A family's slice is its
/// probabilities, then its weights (see `params::FamilySlot`); a Gaussian family's
/// "probabilities" are its rows of means and Cholesky factors, any finite numbers.
fn check_params(theta: &[f64], program: &Program) -> Result<(), String> {
    let layout = &program.layout;
    if theta.len() != layout.total {
        return Err(format!(
            "are {} numbers, the model has {}",
            theta.len(),
            layout.total
        ));
    }
    for (fam, slot) in program.model.families.iter().zip(&layout.families) {
        let probs = &theta[slot.offset..slot.offset + slot.n_probs()];
        let weights = &theta[slot.offset + slot.n_probs()..][..slot.n_weights];
        let is_probability = |p: &f64| (0.0..=1.0 + ROUNDING).contains(p);
        let probs_ok = match fam.kind {
            FamilyKind::Gaussian(_) => probs.iter().all(|x| x.is_finite()),
            _ => probs.iter().all(is_probability),
        };
        if !probs_ok {
            return Err(format!("of `{}` are not probabilities", fam.name));
        }
        if !weights.iter().all(|w| w.is_finite()) {
            return Err(format!(
                "of `{}` have a weight that is not finite",
                fam.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
