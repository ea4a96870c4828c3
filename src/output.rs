//! Text of the training outputs that are not parameter files.

use crate::model::Algorithm;
use crate::train::TracePoint;

/// `trace.tsv`: `iteration log_likelihood seconds`, iteration 0 being the initial parameters;
/// then the objective where it is not the log-likelihood plus priors (`elbo` for variational
/// Bayes, `free_energy` for incremental EM), and `beta` for an annealed run. The first three
/// columns mean the same for every algorithm (online: a pass, and the sum of its batches'
/// log-likelihoods).
pub fn trace_tsv(trace: &[TracePoint], algorithm: Algorithm) -> String {
    let objective = match algorithm {
        Algorithm::Vb => Some("elbo"),
        Algorithm::Incremental => Some("free_energy"),
        _ => None,
    };
    let annealed = trace.iter().any(|p| p.beta.is_some());
    let mut out = String::from("iteration\tlog_likelihood\tseconds");
    if let Some(name) = objective {
        out.push('\t');
        out.push_str(name);
    }
    if annealed {
        out.push_str("\tbeta");
    }
    out.push('\n');
    for p in trace {
        out.push_str(&format!(
            "{}\t{}\t{:.3}",
            p.iteration, p.log_likelihood, p.seconds
        ));
        if objective.is_some() {
            out.push_str(&format!("\t{}", p.objective));
        }
        if annealed {
            out.push_str(&format!("\t{}", p.beta.unwrap_or(1.0)));
        }
        out.push('\n');
    }
    out
}
