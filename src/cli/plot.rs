//! `emc plot`: the log-likelihood traces of several runs (their trace.tsv files) drawn over
//! each other in one SVG picture, to compare algorithms, settings or seeds.

use std::path::Path;

use emc::plot::{trace_svg, Series};

use super::files::{read_text, usage, Failure};
use super::outputs::write_atomic;
use super::PlotArgs;

/// Most traces one picture holds: past this the colours repeat and the legend covers the
/// lines.
const MAX_TRACES: usize = 99;

pub fn plot(args: PlotArgs) -> Result<(), Failure> {
    if args.traces.len() > MAX_TRACES {
        return Err(usage(
            format!(
                "{} traces given; one picture draws at most {MAX_TRACES}",
                args.traces.len()
            ),
            "draw them in several pictures",
        ));
    }
    if !args.labels.is_empty() && args.labels.len() != args.traces.len() {
        return Err(usage(
            format!(
                "{} --label given for {} traces",
                args.labels.len(),
                args.traces.len()
            ),
            "give one --label per trace, in the same order, or none",
        ));
    }
    let labels = if args.labels.is_empty() {
        default_labels(&args.traces)
    } else {
        args.labels.clone()
    };
    let mut series = Vec::with_capacity(args.traces.len());
    for (path, label) in args.traces.iter().zip(labels) {
        let text = read_text(path)?;
        let mut points = emc::output::read_trace(&text).map_err(|e| {
            Failure::User(e.to_diagnostic().render(&path.display().to_string(), &text))
        })?;
        points.retain(|p| p.0 >= args.from as f64);
        series.push(Series { label, points });
    }
    let svg = trace_svg(&args.title, &series);
    write_atomic(&args.out, svg)?;
    eprintln!("drew {} trace(s) into {}", series.len(), args.out.display());
    Ok(())
}

/// Each trace named by the directory of its run (`em/trace.tsv` is `em`), or by its whole
/// path where two runs' directories have the same name.
fn default_labels(paths: &[std::path::PathBuf]) -> Vec<String> {
    let short = |p: &Path| {
        p.parent()
            .and_then(|d| d.file_name())
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    let labels: Vec<String> = paths.iter().map(|p| short(p)).collect();
    let unique = labels
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len()
        == labels.len();
    if unique {
        labels
    } else {
        paths.iter().map(|p| p.display().to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn runs_are_named_by_their_directories() {
        let paths: Vec<PathBuf> = ["runs/em/trace.tsv", "runs/hard/trace.tsv"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(default_labels(&paths), ["em", "hard"]);
        let same: Vec<PathBuf> = ["a/out/trace.tsv", "b/out/trace.tsv"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            default_labels(&same),
            ["a/out/trace.tsv", "b/out/trace.tsv"]
        );
        assert_eq!(default_labels(&[PathBuf::from("trace.tsv")]), ["trace.tsv"]);
    }
}
