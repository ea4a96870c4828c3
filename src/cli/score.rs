//! `emc score` (the log-likelihood of data under trained parameters, with BIC and AIC) and
//! `emc select` (train once per setting of the model's constants, pick one).

use std::collections::HashSet;

use emc::params::Loaded;
use emc::pipeline::{self, Compiled};
use emc::program::Program;
use emc::score::{free_parameters, line_log_likelihoods, Criteria, Size};
use emc::train::{Event, Outcome};

use super::files::{usage, Failure, Files, LinePrinter};
use super::outputs::Staging;
use super::progress::iteration_line;
use super::run::{configure, default_threads, write_outputs, Picture};
use super::use_params::load_params;
use super::{ByArg, ScoreArgs, SelectArgs};

pub fn score(args: ScoreArgs) -> Result<(), Failure> {
    let files = Files::read(&args.model, Some(&args.data))?;
    let model = files.front_end(&args.set)?;
    let loaded = load_params(&files, &model, &args.params)?;
    // The trained model's parameters: a sparse family's are the entries the file stores,
    // whatever the scored data reaches.
    let k: usize = free_parameters(&model, &loaded.layout).iter().sum();
    let threads = args.threads.unwrap_or_else(default_threads);
    // The file's vocabularies are the ones its values index: a word outside them is the
    // vocabulary's unknown word, or an error naming the line and the word.
    let mut compiled = pipeline::compile(model, files.data_text(), Some(&loaded.domains), threads)
        .map_err(|e| files.render(&e))?;
    compiled.kernel.set_precision(args.precision.into());
    let params = loaded.params_for(&compiled.program.layout);
    let total = compiled
        .log_likelihood(&params)
        .map_err(|e| files.render(&e))?;
    let mut out = LinePrinter::new();
    if args.per_line {
        let lines = line_log_likelihoods(
            &compiled.program,
            &compiled.dataset,
            &params,
            &compiled.pool,
        )
        .map_err(|e| files.render(&e))?;
        out.line("line\tlog_likelihood");
        for (line, ll) in lines {
            if !out.line(&format!("{line}\t{ll}")) {
                break;
            }
        }
    }
    let size = Size::of(&compiled.program.model, &compiled.dataset);
    let mut summary = vec![
        format!("model        {}", files.model_path),
        format!("data         {} ({} lines)", files.data_path, size.lines),
        format!("params       {}", args.params.display()),
        format!("log-lik      {total}  (total over the data, as trace.tsv and hmmlearn's score)"),
        format!(
            "per-sample   {}  (mean over {} samples, as scikit-learn's score)",
            total / size.samples,
            size.samples
        ),
    ];
    if size.tokens > 0.0 {
        summary.push(format!(
            "per-token    {}  (mean over {} tokens)",
            total / size.tokens,
            size.tokens
        ));
    }
    let criteria = Criteria {
        log_likelihood: total,
        free_parameters: k,
        samples: size.samples,
    };
    if args.bic || args.aic {
        summary.push(format!("parameters   {k}  (free)"));
    }
    if args.bic {
        summary.push(format!(
            "bic          {}  (-2 log L + k ln n, n = {} samples)",
            criteria.bic(),
            size.samples
        ));
    }
    if args.aic {
        summary.push(format!("aic          {}  (-2 log L + 2 k)", criteria.aic()));
    }
    // With --per-line stdout is the table, whole; the summary goes beside it.
    for line in &summary {
        if args.per_line {
            eprintln!("{line}");
        } else {
            out.line(line);
        }
    }
    out.finish()
}

/// Most settings one `emc select` tries: each is a training run.
const MAX_SETTINGS: usize = 1000;

/// Every combination of the values given per constant (`K=2,3 M=1,2`: four), in the order
/// given, the last constant fastest.
fn settings(sets: &[(String, String)]) -> Result<Vec<Vec<(String, String)>>, Failure> {
    let mut all: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for (name, values) in sets {
        let values: Vec<&str> = values.split(',').map(str::trim).collect();
        if name.is_empty() || values.iter().any(|v| v.is_empty()) {
            return Err(usage(
                format!(
                    "`--set {name}={}` has an empty name or value",
                    values.join(",")
                ),
                "give a constant and its values to try, e.g. `--set K=2,3,4`",
            ));
        }
        if all.len().saturating_mul(values.len()) > MAX_SETTINGS {
            return Err(usage(
                format!("the `--set` lists make more than {MAX_SETTINGS} settings"),
                "try fewer values per constant, or select in steps",
            ));
        }
        all = all
            .iter()
            .flat_map(|s| {
                values.iter().map(move |v| {
                    let mut s = s.clone();
                    s.push((name.clone(), v.to_string()));
                    s
                })
            })
            .collect();
    }
    Ok(all)
}

/// One setting's row of the table.
struct Row {
    label: String,
    train: Criteria,
    held_out: Option<f64>,
}

impl Row {
    /// What the setting is picked by: higher is better.
    fn merit(&self, by: ByArg) -> f64 {
        match by {
            ByArg::Heldout => self.held_out.unwrap_or(f64::NEG_INFINITY),
            ByArg::Bic => -self.train.bic(),
            ByArg::Aic => -self.train.aic(),
        }
    }

    fn tsv(&self, picked: bool) -> String {
        let held = self.held_out.map_or("-".to_string(), |h| h.to_string());
        format!(
            "{}\t{}\t{held}\t{}\t{}\t{}\t{}",
            self.label,
            self.train.log_likelihood,
            self.train.free_parameters,
            self.train.bic(),
            self.train.aic(),
            if picked { "*" } else { "" }
        )
    }
}

const HEADER: &str =
    "setting\ttrain_log_likelihood\theldout_log_likelihood\tparameters\tbic\taic\tpicked";

pub fn select(args: SelectArgs) -> Result<(), Failure> {
    let by = match (args.by, &args.held_out) {
        (Some(ByArg::Heldout), None) => {
            return Err(usage(
                "`--by heldout` needs held-out data".into(),
                "give it with `--held-out FILE`, or pick by `--by bic` or `--by aic`",
            ))
        }
        (Some(by), _) => by,
        (None, Some(_)) => ByArg::Heldout,
        (None, None) => ByArg::Bic,
    };
    let settings = settings(&args.set)?;
    let files = Files::read(&args.model, Some(&args.data))?;
    let held_out = match &args.held_out {
        Some(path) => Some(Files::read(&args.model, Some(path))?),
        None => None,
    };
    // An output directory that cannot be written fails now, not after every training run.
    let mut staging = match &args.out {
        Some(dir) => Some(Staging::begin(dir)?),
        None => None,
    };
    // Ctrl-C ends a selection at once (its settings train from scratch again), but not in
    // the middle of writing the outputs, whose staging directory it removes.
    let _ = ctrlc::set_handler(|| super::outputs::quit_now());
    let threads = args.train.threads.unwrap_or_else(default_threads);
    let label = |set: &[(String, String)]| {
        let parts: Vec<String> = set.iter().map(|(n, v)| format!("{n}={v}")).collect();
        parts.join(" ")
    };
    let in_setting = |label: &str, f: Failure| match f {
        Failure::User(text) => Failure::User(format!("in setting {label}:\n{text}")),
        other => other,
    };
    // Every setting's model is checked before any trains: a bad value fails at once.
    let mut models = Vec::with_capacity(settings.len());
    for set in &settings {
        models.push(
            files
                .front_end(set)
                .map_err(|f| in_setting(&label(set), f))?,
        );
    }
    let mut rows: Vec<Row> = Vec::new();
    let mut best: Option<(usize, Program, Outcome)> = None;
    for (set, model) in settings.iter().zip(models) {
        let label = label(set);
        let in_setting = |f: Failure| in_setting(&label, f);
        let mut compiled = pipeline::compile(model, files.data_text(), None, threads)
            .map_err(|e| in_setting(files.render(&e)))?;
        compiled.kernel.set_precision(args.train.precision.into());
        let config = configure(&compiled, &args.train)?;
        let mut warned = HashSet::new();
        let mut on_event = |e: &Event| match e {
            Event::Warning { iteration, message } if warned.insert(message.to_string()) => {
                eprintln!("{label}: warning: after iteration {iteration}, {message}");
            }
            Event::Iteration { point, change, .. } if !args.train.quiet => {
                eprintln!("{label}: {}", iteration_line(point, *change));
            }
            _ => {}
        };
        let outcome = compiled
            .train(&config, &mut on_event)
            .map_err(|e| in_setting(files.render(&e)))?;
        let held = match &held_out {
            Some(h) => {
                let precision = args.train.precision.into();
                Some(score_held_out(h, set, &compiled, &outcome, precision).map_err(in_setting)?)
            }
            None => None,
        };
        let Compiled {
            program, dataset, ..
        } = compiled;
        let row = Row {
            label,
            train: Criteria {
                log_likelihood: outcome.trace.last().map_or(f64::NAN, |p| p.log_likelihood),
                free_parameters: free_parameters(&program.model, &program.layout)
                    .iter()
                    .sum(),
                samples: Size::of(&program.model, &dataset).samples,
            },
            held_out: held,
        };
        let better = best
            .as_ref()
            .is_none_or(|(b, ..)| row.merit(by) > rows[*b].merit(by));
        if better {
            best = Some((rows.len(), program, outcome));
        }
        rows.push(row);
    }
    let Some((picked, program, outcome)) = best else {
        return Err(usage("no setting to try".into(), "give `--set K=2,3,4`"));
    };
    let mut table = vec![HEADER.to_string()];
    table.extend(rows.iter().enumerate().map(|(i, r)| r.tsv(i == picked)));
    let mut text = table.join("\n");
    text.push('\n');
    let how = match by {
        ByArg::Heldout => "the highest held-out log-likelihood",
        ByArg::Bic => "the lowest BIC",
        ByArg::Aic => "the lowest AIC",
    };
    if let Some(staging) = &mut staging {
        let picture = Picture {
            title: format!("{}: {}", files.model_path, rows[picked].label),
            restarts: Default::default(),
        };
        write_outputs(&program, &outcome, true, &picture, staging)?;
        staging.write("select.tsv", &text)?;
    }
    if let Some(staging) = staging {
        staging.commit()?;
    }
    let mut out = LinePrinter::new();
    for line in &table {
        out.line(line);
    }
    out.finish()?;
    eprintln!("picked {} ({how})", rows[picked].label);
    if let Some(dir) = &args.out {
        eprintln!(
            "wrote {}/{{params.json, params.tsv, trace.tsv, select.tsv}}",
            dir.display()
        );
    }
    Ok(())
}

/// The log-likelihood of the held-out data under a setting's trained parameters, over the
/// training run's vocabularies (as `emc score` scores it with the run's params.json).
fn score_held_out(
    held_out: &Files,
    set: &[(String, String)],
    trained: &Compiled,
    outcome: &Outcome,
    precision: emc::kernel::Precision,
) -> Result<f64, Failure> {
    let model = held_out.front_end(set)?;
    let program = &trained.program;
    let mut compiled = pipeline::compile(
        model,
        held_out.data_text(),
        Some(&program.domains),
        trained.pool.current_num_threads(),
    )
    .map_err(|e| held_out.render(&e))?;
    compiled.kernel.set_precision(precision);
    let loaded = Loaded {
        domains: program.domains.clone(),
        layout: program.layout.clone(),
        params: outcome.params.clone(),
    };
    let params = loaded.params_for(&compiled.program.layout);
    compiled
        .log_likelihood(&params)
        .map_err(|e| held_out.render(&e))
}
