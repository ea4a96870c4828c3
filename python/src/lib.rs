//! `emc._emc`: the Rust half of the Python package. One class, `Core`, holds a checked model
//! (its text, its name for diagnostics, its `--set` values) and, once trained or loaded, its
//! parameters; every method goes through `emc::pipeline` as the `emc` binary does, so that a
//! model trained from Python gives the bits `emc run` gives. The pure-Python package
//! (`python/emc/`) turns Python data into data text, parameters into arrays, and adds the
//! estimators.
//!
//! The GIL is released while data is compiled and while training runs; the training
//! callback takes it back once per iteration to call Python and to look for signals
//! (Ctrl-C), and a KeyboardInterrupt, or an exception of the callback, stops training after
//! that iteration through the train config's stop flag: the parameters reached are kept, then
//! the exception is raised.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use emc::data;
use emc::error::{Error, Named};
use emc::graph::{unroll, VarDomain};
use emc::infer::{posterior, var_marginals};
use emc::model::{Algorithm, InitMode, Model};
use emc::params::{self, Loaded, ParamsError as LibParamsError};
use emc::pipeline::{self, Compiled};
use emc::score::{free_parameters, line_log_likelihoods, Size};
use emc::kernel::Precision;
use emc::train::{valid_restarts, valid_threads, valid_tolerance, Config, Event, Init};
use numpy::{IntoPyArray, PyReadonlyArray2};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

// The allocator the `emc` binary uses, so that training from Python runs at its speed.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(
    emc,
    EmcError,
    PyException,
    "An error of emc: the message is the rendered diagnostic (file:line:col, the offending line with a caret, a hint), as the command line prints it."
);
create_exception!(
    emc,
    ModelError,
    EmcError,
    "A problem in the model text (syntax, checks, a story that cannot be unrolled or inferred exactly)."
);
create_exception!(
    emc,
    DataError,
    EmcError,
    "A problem in the data (a line that does not read, a line of probability zero)."
);
create_exception!(
    emc,
    ParamsError,
    EmcError,
    "A parameter file (params.json) that is not valid or not of this model."
);

/// What names the model text and the data text in diagnostics.
const DEFAULT_MODEL_NAME: &str = "<model>";

/// Parameters of a trained or loaded model: the domains they index, their layout and values.
struct Trained {
    loaded: Loaded,
    /// The messages' precision of the fit (`Auto` for parameters loaded), which `score`
    /// takes so that it reports what the fit's trace does.
    precision: Precision,
}

/// A checked model and, once trained or loaded, its parameters.
#[pyclass(module = "emc._emc")]
struct Core {
    source: String,
    name: String,
    sets: Vec<(String, String)>,
    model: Model,
    trained: Mutex<Option<Arc<Trained>>>,
    /// What the last `fit` that raised (Ctrl-C, the callback) had reached, for Python to
    /// take (`take_interrupted`).
    interrupted: Mutex<Option<Py<PyDict>>>,
}

/// The Python exception for an emc error, its message the rendered diagnostics.
fn to_py(e: &Error, model: Named, data: Named, other: &str) -> PyErr {
    let text = e.render(model, data, other);
    let text = text.trim_end().to_string();
    match e {
        Error::Data(_) | Error::Infer(_) => DataError::new_err(text),
        Error::Params(LibParamsError::Json(_) | LibParamsError::Mismatch(_)) => {
            ParamsError::new_err(text)
        }
        Error::Syntax(_)
        | Error::Check(_)
        | Error::Unroll(_)
        | Error::Params(_)
        | Error::Intractable { .. }
        | Error::Sample(_) => ModelError::new_err(text),
        _ => EmcError::new_err(text),
    }
}

/// Data text from its bytes, as the command line reads a file (a byte-order mark dropped,
/// UTF-16 refused, a bad byte located).
fn text_of(name: &str, bytes: &[u8]) -> PyResult<String> {
    emc::text::decode(bytes)
        .map_err(|e| DataError::new_err(e.render(name, bytes).trim_end().to_string()))
}

impl Core {
    fn named(&self) -> Named<'_> {
        Named {
            name: &self.name,
            text: &self.source,
        }
    }

    fn err(&self, e: &Error, data_name: &str, data_text: &str) -> PyErr {
        let data = Named {
            name: data_name,
            text: data_text,
        };
        to_py(e, self.named(), data, "command line")
    }

    fn trained(&self) -> PyResult<Arc<Trained>> {
        self.trained
            .lock()
            .map_err(|_| PyRuntimeError::new_err("the model's lock is poisoned"))?
            .clone()
            .ok_or_else(|| {
                PyRuntimeError::new_err(
                    "the model has no parameters yet: fit it, or load a params.json",
                )
            })
    }

    fn set_trained(&self, t: Trained) {
        if let Ok(mut slot) = self.trained.lock() {
            *slot = Some(Arc::new(t));
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(emc::train::MAX_THREADS))
}

/// One training iteration as Python's callback sees it.
fn iteration_dict<'py>(
    py: Python<'py>,
    restart: usize,
    point: &emc::train::TracePoint,
    change: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("restart", restart)?;
    d.set_item("iteration", point.iteration)?;
    d.set_item("log_likelihood", point.log_likelihood)?;
    d.set_item("objective", point.objective)?;
    d.set_item("change", change)?;
    d.set_item("seconds", point.seconds)?;
    d.set_item("beta", point.beta)?;
    Ok(d)
}

#[pymethods]
impl Core {
    /// Parses and checks `source` (the model text); `name` is what diagnostics call it (its
    /// path, or `<model>`); `sets` are `--set NAME=VALUE` constants.
    #[new]
    #[pyo3(signature = (source, name=None, sets=Vec::new()))]
    fn new(source: String, name: Option<String>, sets: Vec<(String, String)>) -> PyResult<Core> {
        let name = name.unwrap_or_else(|| DEFAULT_MODEL_NAME.to_string());
        let model = pipeline::front_end(&source, &sets).map_err(|e| {
            let model = Named {
                name: &name,
                text: &source,
            };
            let data = Named {
                name: "<data>",
                text: "",
            };
            to_py(&e, model, data, "command line")
        })?;
        Ok(Core {
            source,
            name,
            sets,
            model,
            trained: Mutex::new(None),
            interrupted: Mutex::new(None),
        })
    }

    #[getter]
    fn source(&self) -> &str {
        &self.source
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    #[getter]
    fn sets(&self) -> Vec<(String, String)> {
        self.sets.clone()
    }

    /// Whether the model has parameters (trained or loaded).
    #[getter]
    fn fitted(&self) -> bool {
        self.trained.lock().map(|t| t.is_some()).unwrap_or(false)
    }

    /// The model's `train` block (defaults where it says nothing): what `fit` runs with the
    /// settings it is not given.
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = &self.model.settings;
        let d = PyDict::new(py);
        d.set_item("iterations", s.iterations)?;
        d.set_item("tolerance", s.tolerance)?;
        d.set_item("restarts", s.restarts)?;
        d.set_item("seed", s.seed)?;
        d.set_item("algorithm", s.algorithm.name())?;
        Ok(d)
    }

    /// The model's families: (name, kind, outcome domain or `Real[D]`, condition domains).
    fn families(&self) -> Vec<(String, String, String, Vec<String>)> {
        let m = &self.model;
        m.families
            .iter()
            .map(|f| {
                let outcome = match &f.kind {
                    emc::model::FamilyKind::Gaussian(g) => emc::model::real_name(g.dim),
                    _ => m.domains[f.outcome].name.clone(),
                };
                let conditions = f
                    .conditions
                    .iter()
                    .map(|d| m.domains[*d].name.clone())
                    .collect();
                (
                    f.name.clone(),
                    f.kind.name().to_string(),
                    outcome,
                    conditions,
                )
            })
            .collect()
    }

    /// Trains on the data (its name for diagnostics and its bytes). Settings left `None` are
    /// the model's `train` block's. `init` is `"random"`, `"uniform"` or the text of a
    /// params.json (which may give only some families, as `emc run --init`). `callback`,
    /// when given, is called with a dict per iteration; a true result stops training after
    /// that iteration, an exception stops it and is raised once the parameters reached are
    /// kept. Ctrl-C does the same with KeyboardInterrupt.
    #[pyo3(signature = (data_name, data, *, iterations=None, tolerance=None, restarts=None,
        seed=None, threads=None, algorithm=None, init=None, callback=None, precision=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit<'py>(
        &self,
        py: Python<'py>,
        data_name: &str,
        data: &[u8],
        iterations: Option<usize>,
        tolerance: Option<f64>,
        restarts: Option<usize>,
        seed: Option<u64>,
        threads: Option<usize>,
        algorithm: Option<&str>,
        init: Option<&str>,
        callback: Option<Py<PyAny>>,
        precision: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let text = text_of(data_name, data)?;
        let precision = match precision.unwrap_or("auto") {
            "auto" => Precision::Auto,
            "f64" => Precision::Double,
            "f32" => Precision::Single,
            other => {
                return Err(PyValueError::new_err(format!(
                    "precision `{other}`: one of auto, f64, f32"
                )))
            }
        };
        let threads = match threads {
            Some(n) => {
                valid_threads(n).map_err(|e| PyValueError::new_err(format!("threads: {e}")))?
            }
            None => default_threads(),
        };
        if let Some(t) = tolerance {
            valid_tolerance(t).map_err(|e| PyValueError::new_err(format!("tolerance: {e}")))?;
        }
        if let Some(r) = restarts {
            valid_restarts(r).map_err(|e| PyValueError::new_err(format!("restarts: {e}")))?;
        }
        let algorithm = match algorithm {
            Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
                PyValueError::new_err(format!("algorithm `{name}`: one of {}", names.join(", ")))
            })?),
            None => None,
        };
        let (mode, file) = match init {
            None => (None, None),
            Some("random") => (Some(InitMode::Random), None),
            Some("uniform") => (Some(InitMode::Uniform), None),
            Some(json) => {
                let file = params::read_init(&self.model, json)
                    .map_err(|e| self.err(&e.into(), data_name, &text))?;
                (None, Some(file))
            }
        };
        // A parameter file's vocabularies are the ones its values index (as `emc run --init`).
        let frozen = match &file {
            Some(f) => {
                let collected = if f.lacks_domains(&self.model) {
                    let d = data::read(&self.model, &text, None)
                        .map_err(|e| self.err(&Error::Data(e), data_name, &text))?;
                    Some(d.domains)
                } else {
                    None
                };
                Some(
                    f.domains(&self.model, collected.as_ref())
                        .map_err(|e| self.err(&e.into(), data_name, &text))?,
                )
            }
            None => None,
        };
        let model = self.model.clone();
        let compiled: Result<Compiled, Error> = {
            let text = &text;
            let frozen = frozen.as_ref();
            py.detach(move || pipeline::compile(model, text, frozen, threads))
        };
        let mut compiled = compiled.map_err(|e| self.err(&e, data_name, &text))?;
        compiled.kernel.set_precision(precision);
        let program = &compiled.program;
        let mut config = Config::from_model(program);
        config.iterations = iterations.unwrap_or(config.iterations);
        config.tolerance = tolerance.unwrap_or(config.tolerance);
        config.restarts = restarts.unwrap_or(config.restarts).max(1);
        config.seed = seed.unwrap_or(config.seed);
        config.threads = compiled.pool.current_num_threads();
        if let Some(mode) = mode {
            config.init = Init::Mode(mode);
        }
        if let Some(a) = algorithm {
            config.algorithm = a;
        }
        if let Some(f) = &file {
            let (given, families) = f
                .values(&program.model, &program.domains, &program.layout)
                .map_err(|e| self.err(&e.into(), data_name, &text))?;
            let mode = match &config.init {
                Init::Mode(m) | Init::Partial { mode: m, .. } => *m,
                Init::Given(_) => InitMode::Random,
            };
            config.init = if families.len() == program.model.families.len() {
                Init::Given(given)
            } else {
                Init::Partial {
                    mode,
                    given,
                    families,
                }
            };
        }
        let stop = Arc::new(AtomicBool::new(false));
        config.stop = Some(stop.clone());

        // Per restart, its trace points as (iteration, log-likelihood, objective, seconds).
        let mut traces: Vec<Vec<(usize, f64, f64, f64)>> = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        let mut pending: Option<PyErr> = None;
        let mut stopped_by_callback = false;
        let outcome = {
            let mut on_event = |e: &Event| match e {
                Event::Iteration {
                    restart,
                    point,
                    change,
                } => {
                    while traces.len() <= *restart {
                        traces.push(Vec::new());
                    }
                    traces[*restart].push((
                        point.iteration,
                        point.log_likelihood,
                        point.objective,
                        point.seconds,
                    ));
                    if pending.is_some() {
                        return;
                    }
                    Python::attach(|py| {
                        if let Some(cb) = &callback {
                            let called = iteration_dict(py, *restart, point, *change)
                                .and_then(|d| cb.call1(py, (d,)))
                                .and_then(|r| r.bind(py).is_truthy());
                            match called {
                                Ok(true) => {
                                    stopped_by_callback = true;
                                    stop.store(true, Ordering::SeqCst);
                                }
                                Ok(false) => {}
                                Err(e) => {
                                    pending = Some(e);
                                    stop.store(true, Ordering::SeqCst);
                                    return;
                                }
                            }
                        }
                        if let Err(e) = py.check_signals() {
                            pending = Some(e);
                            stop.store(true, Ordering::SeqCst);
                        }
                    });
                }
                Event::Warning { message, .. } if !warnings.iter().any(|w| w == message) => {
                    warnings.push(message.to_string());
                }
                _ => {}
            };
            let job = (&compiled, &config, &mut on_event);
            py.detach(move || {
                let (compiled, config, on_event) = job;
                compiled.train(config, on_event)
            })
        };
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                return Err(pending.unwrap_or_else(|| self.err(&e, data_name, &text)));
            }
        };
        let program = &compiled.program;
        self.set_trained(Trained {
            loaded: Loaded {
                domains: program.domains.clone(),
                layout: program.layout.clone(),
                params: outcome.params.clone(),
            },
            precision,
        });
        let out = PyDict::new(py);
        let best: Vec<f64> = outcome.trace.iter().map(|p| p.log_likelihood).collect();
        out.set_item("trace", best.into_pyarray(py))?;
        let objectives: Vec<f64> = outcome.trace.iter().map(|p| p.objective).collect();
        out.set_item("objectives", objectives.into_pyarray(py))?;
        let per_restart: Vec<_> = traces
            .iter()
            .map(|t| t.iter().map(|p| p.1).collect::<Vec<f64>>().into_pyarray(py))
            .collect();
        out.set_item("traces", per_restart)?;
        let iterations: Vec<usize> = outcome.trace.iter().map(|p| p.iteration).collect();
        out.set_item("iterations", iterations)?;
        out.set_item("seconds", outcome.trace.last().map_or(0.0, |p| p.seconds))?;
        out.set_item("best_restart", outcome.best_restart)?;
        out.set_item("restart_objectives", outcome.restart_objectives.clone())?;
        out.set_item("converged", outcome.converged)?;
        out.set_item("interrupted", outcome.interrupted && !stopped_by_callback)?;
        out.set_item("stopped", stopped_by_callback)?;
        out.set_item("warnings", warnings)?;
        out.set_item("instances", compiled.dataset.instances.len())?;
        out.set_item("plan", program.plan.engine.name())?;
        out.set_item("algorithm", outcome.algorithm.name())?;
        if let Some(e) = pending {
            if let Ok(mut slot) = self.interrupted.lock() {
                *slot = Some(out.unbind());
            }
            return Err(e);
        }
        Ok(out)
    }

    /// What the last `fit` that raised had reached (its result dict), once.
    fn take_interrupted(&self) -> Option<Py<PyDict>> {
        self.interrupted.lock().ok().and_then(|mut s| s.take())
    }

    /// The parameters as params.json text (what `emc run` writes).
    fn params_json(&self) -> PyResult<String> {
        let t = self.trained()?;
        let l = &t.loaded;
        Ok(params::to_json(
            &self.model,
            &l.domains,
            &l.layout,
            &l.params,
        ))
    }

    /// The parameters as params.tsv text.
    fn params_tsv(&self) -> PyResult<String> {
        let t = self.trained()?;
        let l = &t.loaded;
        Ok(params::to_tsv(
            &self.model,
            &l.domains,
            &l.layout,
            &l.params,
        ))
    }

    /// Takes the parameters of a params.json text (`name` says where it comes from).
    #[pyo3(signature = (text, name="params.json"))]
    fn load_params(&self, text: &str, name: &str) -> PyResult<()> {
        let loaded = params::from_json(&self.model, text).map_err(|e| {
            let data = Named { name: "", text: "" };
            to_py(&e.into(), self.named(), data, name)
        })?;
        self.set_trained(Trained {
            loaded,
            precision: Precision::Auto,
        });
        Ok(())
    }

    /// The Viterbi/MAP lines of the data, as `emc decode` prints them.
    fn decode(&self, py: Python<'_>, data_name: &str, data: &[u8]) -> PyResult<Vec<String>> {
        let text = text_of(data_name, data)?;
        let t = self.trained()?;
        let model = self.model.clone();
        let job = (&text, &t);
        let lines = py.detach(move || {
            let (text, t) = job;
            pipeline::program(model, text, Some(&t.loaded.domains)).and_then(
                |(program, dataset)| {
                    let values = t.loaded.params_for(&program.layout);
                    emc::decode::viterbi(&program, &dataset, &values)
                },
            )
        });
        lines.map_err(|e| self.err(&e, data_name, &text))
    }

    /// Posterior marginals of every hidden variable (and missing value) per data line: a list
    /// per line of `(line, variable, value names, probabilities)`. A story with procedures
    /// has no variables: it gives `emc decode --posterior`'s text lines instead (`lines`).
    fn posteriors<'py>(
        &self,
        py: Python<'py>,
        data_name: &str,
        data: &[u8],
    ) -> PyResult<Bound<'py, PyDict>> {
        let text = text_of(data_name, data)?;
        let t = self.trained()?;
        let model = self.model.clone();
        type Marginals = Vec<(usize, Vec<(String, Vec<String>, Vec<f64>)>)>;
        let job = (&text, &t);
        let result: Result<Result<Marginals, Vec<String>>, Error> = py.detach(move || {
            let (text, t) = job;
            pipeline::program(model, text, Some(&t.loaded.domains)).and_then(
                |(program, dataset)| {
                    let values = t.loaded.params_for(&program.layout);
                    if program.model.structured {
                        return emc::decode::marginals(&program, &dataset, &values).map(Err);
                    }
                    let mut out = Vec::with_capacity(dataset.instances.len());
                    for inst in &dataset.instances {
                        let g = unroll(&program.model, &program.domains, &program.layout, inst)?;
                        let p = posterior(program.plan.engine, &g, &values.theta)?;
                        let vars = var_marginals(&g, &p)
                            .into_iter()
                            .enumerate()
                            .map(|(v, m)| {
                                let var = &g.vars[v];
                                let names = (0..m.len())
                                    .map(|k| match var.domain {
                                        VarDomain::Symbols(d) => {
                                            program.domains.name(d, k as u32).to_string()
                                        }
                                        VarDomain::Integers(lo) => (lo + k as i64).to_string(),
                                    })
                                    .collect();
                                (var.name.to_string(), names, m)
                            })
                            .collect();
                        out.push((inst.line, vars));
                    }
                    Ok(Ok(out))
                },
            )
        });
        let result = result.map_err(|e| self.err(&e, data_name, &text))?;
        let out = PyDict::new(py);
        match result {
            Ok(lines) => {
                let mut rows = Vec::with_capacity(lines.len());
                for (line, vars) in lines {
                    let vars: Vec<_> = vars
                        .into_iter()
                        .map(|(name, values, probs)| (name, values, probs.into_pyarray(py)))
                        .collect();
                    rows.push((line, vars));
                }
                out.set_item("marginals", rows)?;
            }
            Err(lines) => out.set_item("lines", lines)?,
        }
        Ok(out)
    }

    /// The log-likelihood of the data under the parameters (one E-step of the training
    /// kernel, as `emc score`): the total, the samples and tokens it can be divided by, the
    /// free parameters, and with `per_line` each line's log-likelihood.
    #[pyo3(signature = (data_name, data, per_line=false, threads=None))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        data_name: &str,
        data: &[u8],
        per_line: bool,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let text = text_of(data_name, data)?;
        let t = self.trained()?;
        let threads = match threads {
            Some(n) => {
                valid_threads(n).map_err(|e| PyValueError::new_err(format!("threads: {e}")))?
            }
            None => default_threads(),
        };
        let model = self.model.clone();
        type Scored = (f64, Size, Option<Vec<f64>>);
        let job = (&text, &t);
        let result: Result<Scored, Error> = py.detach(move || {
            let (text, t) = job;
            (|| {
                let mut compiled =
                    pipeline::compile(model, text, Some(&t.loaded.domains), threads)?;
                compiled.kernel.set_precision(t.precision);
                let values = t.loaded.params_for(&compiled.program.layout);
                let total = compiled.log_likelihood(&values)?;
                let size = Size::of(&compiled.program.model, &compiled.dataset);
                let lines = if per_line {
                    let lines = line_log_likelihoods(
                        &compiled.program,
                        &compiled.dataset,
                        &values,
                        &compiled.pool,
                    )?;
                    Some(lines.into_iter().map(|(_, ll)| ll).collect())
                } else {
                    None
                };
                Ok((total, size, lines))
            })()
        });
        let (total, size, lines) = result.map_err(|e| self.err(&e, data_name, &text))?;
        let k: usize = free_parameters(&self.model, &t.loaded.layout).iter().sum();
        let out = PyDict::new(py);
        out.set_item("total", total)?;
        out.set_item("lines", size.lines)?;
        out.set_item("samples", size.samples)?;
        out.set_item("tokens", size.tokens)?;
        out.set_item("free_parameters", k)?;
        if let Some(lines) = lines {
            out.set_item("per_line", lines.into_pyarray(py))?;
        }
        Ok(out)
    }

    /// Free parameters of the model's families under its parameters (as `emc score --bic`).
    fn free_parameters(&self) -> PyResult<usize> {
        let t = self.trained()?;
        Ok(free_parameters(&self.model, &t.loaded.layout).iter().sum())
    }

    /// `n` synthetic data lines (as `emc sample`), every sequence of `length` elements.
    #[pyo3(signature = (n, seed=0, length=10))]
    fn sample(&self, py: Python<'_>, n: usize, seed: u64, length: usize) -> PyResult<Vec<String>> {
        let t = self.trained()?;
        let model = self.model.clone();
        let job = &t;
        let lines: Result<Vec<String>, Error> = py.detach(move || {
            let t = job;
            pipeline::trained(model, t.loaded.clone()).and_then(|(program, values)| {
                if program.model.structured {
                    emc::structured::sample::sample(&program, &values, n, length, seed)
                        .map_err(Error::from)
                } else {
                    emc::sample::sample(&program, &values, n, length, seed).map_err(Error::from)
                }
            })
        });
        lines.map_err(|e| self.err(&e, "", ""))
    }
}

/// Data text of real numbers: one line per row (its numbers space-separated) or, with
/// `lengths`, one line per sequence of consecutive rows (each row one token of
/// comma-separated numbers, as a `[Real[D]]` field reads them). NaN is written `?`, a
/// missing value. Numbers are written so that they read back to the same bits.
#[pyfunction]
#[pyo3(signature = (x, lengths=None))]
fn real_lines(x: PyReadonlyArray2<'_, f64>, lengths: Option<Vec<usize>>) -> PyResult<String> {
    let x = x.as_array();
    let (n, d) = (x.nrows(), x.ncols());
    let number = |v: f64, out: &mut String| {
        use std::fmt::Write;
        if v.is_nan() {
            out.push('?');
        } else if v.is_finite() {
            let _ = write!(out, "{v:?}");
        } else {
            let _ = write!(out, "{v}");
        }
    };
    let mut out = String::with_capacity(n * d * 12);
    match lengths {
        None => {
            for row in x.rows() {
                for (j, v) in row.iter().enumerate() {
                    if j > 0 {
                        out.push(' ');
                    }
                    number(*v, &mut out);
                }
                out.push('\n');
            }
        }
        Some(lengths) => {
            if lengths.iter().sum::<usize>() != n {
                return Err(PyValueError::new_err(format!(
                    "lengths sum to {}, but X has {n} rows",
                    lengths.iter().sum::<usize>()
                )));
            }
            let mut start = 0;
            for len in lengths {
                for i in start..start + len {
                    if i > start {
                        out.push(' ');
                    }
                    for j in 0..d {
                        if j > 0 {
                            out.push(',');
                        }
                        number(x[[i, j]], &mut out);
                    }
                }
                out.push('\n');
                start += len;
            }
        }
    }
    Ok(out)
}

#[pymodule]
fn _emc(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Core>()?;
    m.add_function(wrap_pyfunction!(real_lines, m)?)?;
    m.add("EmcError", py.get_type::<EmcError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("ParamsError", py.get_type::<ParamsError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
