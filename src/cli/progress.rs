//! What `emc run` shows on stderr while it works.
//!
//! On a terminal: a spinner while the data is read and compiled (seconds on a large corpus,
//! when nothing else would move), then a bar of iterations with the log-likelihood, its
//! change, the time spent and the time left at the current pace; warnings print above it.
//! Anywhere else (a pipe, a log file, CI) it prints exactly the plain lines it always has,
//! one per iteration, so logs and the scripts that read them do not change.

use std::io::IsTerminal;
use std::time::Duration;

use emc::train::TracePoint;
use indicatif::{ProgressBar, ProgressStyle};

pub(super) struct Progress {
    /// `None` when stderr is not a terminal, or when the run is quiet.
    bar: Option<ProgressBar>,
    /// No iteration lines (`--quiet`); warnings and errors are still said.
    quiet: bool,
    restarts: usize,
    /// The restart the bar is counting.
    restart: Option<usize>,
}

impl Progress {
    pub(super) fn new(quiet: bool) -> Progress {
        let terminal =
            std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        let bar = (terminal && !quiet).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .expect("a fixed template"),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Progress {
            bar,
            quiet,
            restarts: 1,
            restart: None,
        }
    }

    /// What the run is doing before it trains ("reading the data", "compiling").
    pub(super) fn phase(&self, what: &'static str) {
        if let Some(bar) = &self.bar {
            bar.set_message(what);
        }
    }

    /// Training starts: at most `iterations` per restart, `restarts` of them.
    pub(super) fn training(&mut self, iterations: usize, restarts: usize) {
        self.restarts = restarts;
        if let Some(bar) = &self.bar {
            bar.disable_steady_tick();
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix}iteration {pos}/{len} [{bar:28}] {msg}  {elapsed_precise} (left {eta})",
                )
                .expect("a fixed template")
                .progress_chars("=> "),
            );
            bar.set_length(iterations as u64);
            bar.set_position(0);
            bar.set_message("");
            bar.reset_elapsed();
        }
    }

    pub(super) fn iteration(&mut self, restart: usize, point: &TracePoint, change: Option<f64>) {
        if self.quiet {
            return;
        }
        // Restarts are counted from 1, as the summary's "restart 3 of 3 was best" does.
        let prefix = if self.restarts > 1 {
            format!("restart {}/{} ", restart + 1, self.restarts)
        } else {
            String::new()
        };
        let Some(bar) = &self.bar else {
            eprintln!("{prefix}{}", iteration_line(point, change));
            return;
        };
        if self.restart != Some(restart) {
            // Each restart is a run of its own: its bar starts empty, its pace anew.
            self.restart = Some(restart);
            bar.set_prefix(prefix);
            bar.reset();
        }
        let position = point.iteration as u64;
        // Annealing counts its stages' iterations on: the bar grows rather than overflows.
        if position > bar.length().unwrap_or(0) {
            bar.set_length(position);
        }
        bar.set_position(position);
        bar.set_message(bar_message(point, change));
    }

    /// A line for the user (a warning, a restart's result), above the bar on a terminal.
    pub(super) fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Training is over: the bar stays, showing where it ended.
    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}

impl Drop for Progress {
    /// A run that fails before training (a data error) takes its spinner with it, so the
    /// error is printed on a clean line.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            if !bar.is_finished() {
                bar.finish_and_clear();
            }
        }
    }
}

/// One iteration's progress line: its log-likelihood, the relative change of the objective
/// and the time.
pub(super) fn iteration_line(point: &TracePoint, change: Option<f64>) -> String {
    let change = change.map_or("-".to_string(), |c| format!("{c:+.3e}"));
    format!(
        "iteration {:>4}  log-likelihood {:>16.6}  change {change:>11}  {:>8.2}s",
        point.iteration, point.log_likelihood, point.seconds
    )
}

/// The bar's message: what the plain line says but the iteration and the time, which the
/// bar shows itself.
fn bar_message(point: &TracePoint, change: Option<f64>) -> String {
    let change = change.map_or("-".to_string(), |c| format!("{c:+.2e}"));
    format!(
        "log-likelihood {:.6}  change {change}",
        point.log_likelihood
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point() -> TracePoint {
        TracePoint {
            iteration: 7,
            log_likelihood: -1234.5,
            objective: -1234.5,
            seconds: 1.25,
            beta: None,
        }
    }

    #[test]
    fn lines_say_iteration_log_likelihood_change_and_time() {
        assert_eq!(
            iteration_line(&point(), Some(-1.5e-4)),
            "iteration    7  log-likelihood     -1234.500000  change   -1.500e-4      1.25s"
        );
        assert_eq!(
            bar_message(&point(), None),
            "log-likelihood -1234.500000  change -"
        );
    }
}
