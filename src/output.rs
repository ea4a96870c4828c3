//! Text of the training outputs that are not parameter files.

use crate::diagnostic::{Diagnostic, Span};
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

/// A `trace.tsv` that cannot be read back (`emc plot`): where, what, and what was expected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TraceError {
    pub message: String,
    pub span: Span,
    pub hint: &'static str,
}

impl TraceError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(self.message.clone(), self.span).with_hint(self.hint)
    }
}

/// The `(iteration, log-likelihood)` points of a `trace.tsv` that [`trace_tsv`] wrote, in
/// file order. The header must name those two columns first; other columns are ignored.
pub fn read_trace(text: &str) -> Result<Vec<(f64, f64)>, TraceError> {
    const HINT: &str = "give a trace.tsv that `emc run` wrote";
    let mut lines = lines_with_offsets(text);
    let (start, header) = lines.next().unwrap_or((0, ""));
    let mut columns = header.split('\t');
    if columns.next() != Some("iteration") || columns.next() != Some("log_likelihood") {
        return Err(TraceError {
            message: "this is not a trace.tsv: its first line must begin with the columns \
                      `iteration` and `log_likelihood`"
                .to_string(),
            span: Span::new(start, start + header.len()),
            hint: HINT,
        });
    }
    let mut points = Vec::new();
    for (start, line) in lines {
        if line.is_empty() {
            continue;
        }
        let mut fields = fields_with_offsets(line, start);
        let iteration = fields.next();
        let log_likelihood = fields.next();
        let (Some((i_at, i_text)), Some((l_at, l_text))) = (iteration, log_likelihood) else {
            return Err(TraceError {
                message: "a trace line needs an iteration and a log-likelihood, separated by a tab"
                    .to_string(),
                span: Span::new(start, start + line.len()),
                hint: HINT,
            });
        };
        let iteration: u64 = i_text.parse().map_err(|_| TraceError {
            message: format!("`{i_text}` is not an iteration number"),
            span: Span::new(i_at, i_at + i_text.len()),
            hint: HINT,
        })?;
        let log_likelihood: f64 = l_text.parse().map_err(|_| TraceError {
            message: format!("`{l_text}` is not a number"),
            span: Span::new(l_at, l_at + l_text.len()),
            hint: HINT,
        })?;
        points.push((iteration as f64, log_likelihood));
    }
    Ok(points)
}

/// Each line with the byte offset it starts at, its line break (`\n` or `\r\n`) left out.
fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = at;
        at += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        (start, line.strip_suffix('\r').unwrap_or(line))
    })
}

/// A line's tab-separated fields with their byte offsets in the whole text.
fn fields_with_offsets(line: &str, start: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut at = start;
    line.split('\t').map(move |field| {
        let here = at;
        at += field.len() + 1;
        (here, field)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_trace_reads_back() {
        let trace: Vec<TracePoint> = (0..3)
            .map(|i| TracePoint {
                iteration: i,
                log_likelihood: -10.0 + i as f64 * 0.25,
                objective: 0.0,
                seconds: 0.5,
                beta: Some(1.0),
            })
            .collect();
        let text = trace_tsv(&trace, Algorithm::Vb);
        let points = read_trace(&text).unwrap();
        assert_eq!(points, vec![(0.0, -10.0), (1.0, -9.75), (2.0, -9.5)]);
        // Windows line breaks and a trailing empty line are fine.
        let crlf = text.replace('\n', "\r\n") + "\r\n";
        assert_eq!(read_trace(&crlf).unwrap(), points);
    }

    #[test]
    fn errors_point_at_the_bad_field() {
        let e = read_trace("a\tb\n").unwrap_err();
        assert_eq!(e.span, Span::new(0, 3));
        let text = "iteration\tlog_likelihood\tseconds\n0\t-1.5\t0.1\n1\tx\t0.2\n";
        let e = read_trace(text).unwrap_err();
        assert_eq!(&text[e.span.start..e.span.end], "x");
        let text = "iteration\tlog_likelihood\n-1\t-2\n";
        let e = read_trace(text).unwrap_err();
        assert_eq!(&text[e.span.start..e.span.end], "-1");
        let e = read_trace("iteration\tlog_likelihood\n3\n").unwrap_err();
        assert!(e
            .message
            .contains("needs an iteration and a log-likelihood"));
        assert!(read_trace("").is_err());
    }
}
