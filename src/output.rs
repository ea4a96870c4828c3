//! Text of the training outputs that are not parameter files.

use crate::train::TracePoint;

/// `trace.tsv`: `iteration log_likelihood seconds`, iteration 0 being the initial parameters.
pub fn trace_tsv(trace: &[TracePoint]) -> String {
    let mut out = String::from("iteration\tlog_likelihood\tseconds\n");
    for p in trace {
        out.push_str(&format!(
            "{}\t{}\t{:.3}\n",
            p.iteration, p.log_likelihood, p.seconds
        ));
    }
    out
}
