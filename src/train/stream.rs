//! What a run over a streamed data file (`--stream`) cannot do: everything that needs the
//! data's lines at hand rather than one pass of E-step counts. Refused before any iteration,
//! never run on the empty set of lines a streamed `Dataset` holds.

use super::{Config, Init};
use crate::error::Error;
use crate::family::Estimators;
use crate::kernel::refuse_stream as refuse;
use crate::model::Algorithm;
use crate::program::Program;

pub(super) fn refuse_settings(
    program: &Program,
    config: &Config,
    estimators: &Estimators,
) -> Result<(), Error> {
    if !matches!(config.algorithm, Algorithm::Em | Algorithm::Vb) {
        return Err(refuse(
            format!("the {} algorithm", config.algorithm.name()),
            "train with `--algorithm em` (or `vb`)",
        ));
    }
    if config.decode {
        return Err(refuse(
            "`--decode` (it decodes every line after training)",
            "run `emc decode` on the trained parameters",
        ));
    }
    if config.distributed.is_some() {
        return Err(refuse(
            "a run over several processes",
            "run one process with --stream, or several without it",
        ));
    }
    if estimators.seeds() && !matches!(config.init, Init::Given(_)) {
        return Err(refuse(
            "Gaussian families started from the data (seeding reads lines spread over it)",
            "give their starting values with `--init PARAMS.json`",
        ));
    }
    let gaussian = program.model.families.iter().any(|f| f.is_gaussian());
    if config.anneal.is_some() && gaussian {
        return Err(refuse(
            "annealing a model with Gaussian families",
            "train without `anneal`",
        ));
    }
    Ok(())
}
