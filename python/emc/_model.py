"""`emc.Model`: a model file (or its text) compiled by emc, trained, decoded, scored and
sampled from Python, through the same library code paths as the `emc` command line."""

import json
import os

import numpy as np

from . import _emc
from ._data import read as _read_data


def _model_text(path_or_source):
    """(text, name) of a model given as a path or as its source text."""
    if isinstance(path_or_source, os.PathLike):
        path = os.fspath(path_or_source)
    elif isinstance(path_or_source, str) and "\n" not in path_or_source \
            and "{" not in path_or_source and os.path.exists(path_or_source):
        path = path_or_source
    elif isinstance(path_or_source, str):
        if "\n" not in path_or_source and path_or_source.endswith(".em"):
            raise FileNotFoundError("no model file %r" % path_or_source)
        return path_or_source, "<model>"
    else:
        raise TypeError("a model is a path to a .em file or its text, not %s"
                        % type(path_or_source).__name__)
    with open(path, "rb") as f:
        raw = f.read()
    return raw.decode("utf-8-sig"), path


def _init_text(init):
    """What `fit(init=...)` gives the library: None, 'random', 'uniform', or params.json
    text (from a fitted Model, a dict in params.json's layout, a path, or the text)."""
    if init is None or init in ("random", "uniform"):
        return init
    if isinstance(init, Model):
        return init._core.params_json()
    if isinstance(init, dict):
        return json.dumps(init)
    if isinstance(init, os.PathLike) or (isinstance(init, str) and not init.lstrip().startswith("{")):
        with open(os.fspath(init), encoding="utf-8") as f:
            return f.read()
    if isinstance(init, str):
        return init
    raise TypeError("init is 'random', 'uniform', a fitted Model, a params.json dict, "
                    "path or text, not %s" % type(init).__name__)


def _progress_bar(progress, total):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="it", desc="emc", leave=True)


def _family_arrays(doc):
    """params.json (parsed) to `params_`: per family a numpy array, shaped by its condition
    domains then outcome; a Gaussian family's as a dict of `means` (conditions..., D) and
    `covariances` (conditions..., D, D); a sparse family's as a dict from condition tuple to
    {outcome: probability}."""
    sizes = {d["name"]: len(d["symbols"]) for d in doc["domains"]}
    out, weights = {}, {}
    for fam in doc["families"]:
        shape = [sizes[c] for c in fam["conditions"]]
        if fam["kind"] == "Gaussian":
            means = np.asarray(fam["means"], dtype=float)
            d = means.shape[-1] if means.size else 0
            out[fam["name"]] = {
                "covariance": fam.get("covariance"),
                "means": means.reshape(shape + [d]),
                "covariances": np.asarray(fam["covariances"], dtype=float).reshape(shape + [d, d]),
            }
        elif fam.get("sparse") or (not fam["values"] and fam["kind"] != "Gaussian"):
            out[fam["name"]] = {
                tuple(row["condition"]): dict(zip(row["outcomes"], row["values"]))
                for row in fam.get("sparse", [])
            }
        else:
            values = np.asarray(fam["values"], dtype=float)
            out[fam["name"]] = values.reshape(shape + [values.shape[-1]])
        if fam.get("weights"):
            weights[fam["name"]] = dict((name, w) for name, w in fam["weights"])
    return out, weights


class Model:
    """A model (a path to a `.em` file, or its text) checked by emc. `**set` are the
    constants `--set NAME=VALUE` overrides (`Model("models/hmm.em", K=45)`).

    A model that does not parse or check raises `emc.ModelError`, whose message is the
    diagnostic the command line prints (file:line:col, the line, a caret, a hint).

    After `fit` (or `load`):

    - `params_`: dict by family name of numpy arrays (`_family_arrays` says the shapes);
      index them with `domains_`, the symbols of every domain in index order;
    - `trace_`: numpy array of the best restart's log-likelihoods, one per iteration, the
      first at the initial parameters (as `trace.tsv`); `traces_` one per restart;
    - `fit_info_`: dict with `converged`, `interrupted`, `best_restart`, `plan`, ...
    """

    def __init__(self, path_or_source, **set):
        text, name = _model_text(path_or_source)
        sets = [(str(k), str(v)) for k, v in set.items()]
        self._core = _emc.Core(text, name, sets)
        self._reset()

    def _reset(self):
        self.trace_ = None
        self.traces_ = None
        self.fit_info_ = None
        self._doc = None

    # --- what the model is

    @property
    def source(self):
        """The model text."""
        return self._core.source

    @property
    def settings(self):
        """The model's `train` block (iterations, tolerance, restarts, seed, algorithm),
        defaults filled in: what `fit` uses for the settings it is not given."""
        return self._core.settings()

    @property
    def families(self):
        """(name, kind, outcome, conditions) of every parameter family."""
        return self._core.families()

    @property
    def fitted(self):
        return self._core.fitted

    def __repr__(self):
        state = "fitted" if self.fitted else "not fitted"
        return "emc.Model(%r, %s)" % (self._core.name, state)

    # --- training

    def fit(self, data, *, iterations=None, tolerance=None, restarts=None, seed=None,
            threads=None, algorithm=None, init=None, callback=None, progress=False,
            precision=None):
        """Trains on `data` (a path, the data text, a list of lines, or a numpy array:
        `emc.lines`). Settings left None are the model's `train` block's (as `emc run`'s
        flags): `iterations`, `tolerance` (relative change of the objective; 0 runs exactly
        `iterations`), `restarts` (the best final objective is kept), `seed`, `threads`
        (the same bits for any count; default all cores), `algorithm` (`em`, `direct`,
        `stepwise`, `incremental`, `hard`, `vb`), `init` (`'random'`, `'uniform'`, or
        parameters to start from: a fitted Model, a params.json path, text or dict; it may
        give only some families, as `emc run --init`), `precision` (`'auto'`, the default:
        an HMM's or mixture's messages in single precision from 9 states and 2^15 tokens,
        sums and counts in double; `'f64'`: double everywhere; `'f32'`: single wherever it
        can, as `emc run --precision`).

        `callback(info)` is called after each iteration's E-step with a dict (`restart`,
        `iteration`, `log_likelihood`, `objective`, `change`, `seconds`); returning True
        stops training after that iteration. `progress=True` shows a tqdm bar (when tqdm is
        installed).

        Ctrl-C (KeyboardInterrupt) stops training after the current iteration: the model
        keeps the parameters reached (those whose log-likelihood ends `trace_`) and the
        KeyboardInterrupt is raised again. An exception in `callback` does the same.
        Returns self."""
        name, raw = _read_data(data)
        init_text = _init_text(init)
        total = iterations if iterations is not None else self._core.settings()["iterations"]
        bar = _progress_bar(progress, total)
        def on_iteration(info):
            if bar is not None:
                if info["iteration"] == 0 and info["restart"] > 0:
                    bar.reset()
                    bar.set_description("emc restart %d" % info["restart"])
                elif info["iteration"] > 0:
                    bar.update(1)
                change = info["change"]
                bar.set_postfix_str("log-lik %.6f  change %s" % (
                    info["log_likelihood"], "-" if change is None else "%+.3e" % change))
            if callback is not None:
                return bool(callback(info))
            return False

        self._doc = None
        try:
            result = self._core.fit(
                name, raw, iterations=iterations, tolerance=tolerance, restarts=restarts,
                seed=seed, threads=threads, algorithm=algorithm, init=init_text,
                callback=on_iteration, precision=precision)
        except BaseException:
            # Interrupted (Ctrl-C, or the callback raised): the parameters reached are kept
            # by the library; the trace is the one the iterations reported.
            reached = self._core.take_interrupted()
            if reached is not None:
                self._keep(reached)
            raise
        finally:
            if bar is not None:
                bar.close()
        self._keep(result)
        return self

    def _keep(self, result):
        self.trace_ = np.asarray(result["trace"], dtype=float)
        self.traces_ = [np.asarray(t, dtype=float) for t in result["traces"]]
        self.fit_info_ = {k: v for k, v in result.items() if k not in ("trace", "traces")}

    # --- parameters

    def _params_doc(self):
        if self._doc is None:
            self._doc = json.loads(self._core.params_json())
        return self._doc

    @property
    def params_(self):
        """Per family name a numpy array of probabilities, shaped (condition domains...,
        outcome domain); an unconditioned family is 1-D. A Gaussian family is a dict
        `{"covariance", "means": (conditions..., D), "covariances": (conditions..., D, D)}`
        (full matrices whatever the covariance type). A sparse family is a dict from the
        condition's symbols (a tuple) to {outcome symbol: probability}."""
        return _family_arrays(self._params_doc())[0]

    @property
    def weights_(self):
        """Per Logistic family its feature weights, {feature name: weight}."""
        return _family_arrays(self._params_doc())[1]

    @property
    def domains_(self):
        """Per domain its symbols in index order (vocabularies as collected from the
        training data): the labels of `params_`'s axes."""
        return {d["name"]: list(d["symbols"]) for d in self._params_doc()["domains"]}

    def params_json(self):
        """The parameters as params.json text (what `emc run` writes)."""
        return self._core.params_json()

    def params_tsv(self):
        """The parameters as params.tsv text (family, condition, outcome, value)."""
        return self._core.params_tsv()

    def save(self, path):
        """Writes the parameters as params.json (reloadable by `load`, `emc decode
        --params`, `emc run --init`)."""
        text = self._core.params_json()
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            f.write(text)
        return self

    def load(self, path):
        """Takes the parameters of a params.json file (written by `save` or `emc run`).
        A file of another model raises `emc.ParamsError`. Returns self."""
        path = os.fspath(path)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self._core.load_params(text, path)
        self._doc = None
        return self

    # --- using the parameters

    def decode(self, data):
        """The Viterbi/MAP values of the hidden variables, one string per data line, as
        `emc decode` prints them (a sequence space-separated; several hidden declarations
        as `name=values`, tab-separated)."""
        name, raw = _read_data(data)
        return self._core.decode(name, raw)

    def posteriors(self, data):
        """Posterior marginals per data line: a list (one per line) of
        `(variable, value names, probabilities)` for every hidden variable and missing
        value (`z[3]`, `c`). A story with procedures gives `emc decode --posterior`'s text
        lines instead (its posteriors are of calls, not variables)."""
        name, raw = _read_data(data)
        result = self._core.posteriors(name, raw)
        if "lines" in result:
            return result["lines"]
        return [vars for _, vars in result["marginals"]]

    def score(self, data, per_sample=False):
        """The log-likelihood of `data` under the parameters (one E-step, as `emc score`).

        By default the total over the data (the sum over lines of weight x log P(line)):
        what `trace_` reports and hmmlearn's `score` returns, the messages in the `fit`'s
        `precision` (`'auto'` for parameters loaded). With `per_sample=True` the
        mean per sample (the total divided by the number of lines, or their weights
        summed): scikit-learn's `score`."""
        s = self._core.score(*_read_data(data))
        return s["total"] / s["samples"] if per_sample else s["total"]

    def score_samples(self, data):
        """Each data line's log-likelihood (of the line once, its weight aside)."""
        s = self._core.score(*_read_data(data), per_line=True)
        return np.asarray(s["per_line"], dtype=float)

    def free_parameters(self):
        """The number of free parameters (as `emc score --bic` counts them)."""
        return self._core.free_parameters()

    def bic(self, data):
        """-2 log L + k ln n with n the samples (lines), as scikit-learn's."""
        s = self._core.score(*_read_data(data))
        return -2 * s["total"] + s["free_parameters"] * np.log(s["samples"])

    def aic(self, data):
        """-2 log L + 2 k."""
        s = self._core.score(*_read_data(data))
        return -2 * s["total"] + 2 * s["free_parameters"]

    def sample(self, n, seed=0, length=10):
        """`n` synthetic data lines (as `emc sample`), every sequence `length` long."""
        return self._core.sample(int(n), int(seed), int(length))

    # --- pickling: the model text, its settings and its parameters as params.json

    def __getstate__(self):
        return {
            "source": self._core.source,
            "name": self._core.name,
            "sets": self._core.sets,
            "params": self._core.params_json() if self._core.fitted else None,
            "trace_": self.trace_,
            "traces_": self.traces_,
            "fit_info_": self.fit_info_,
        }

    def __setstate__(self, state):
        self._core = _emc.Core(state["source"], state["name"], list(state["sets"]))
        self._reset()
        if state["params"] is not None:
            self._core.load_params(state["params"], "pickle")
        self.trace_ = state["trace_"]
        self.traces_ = state["traces_"]
        self.fit_info_ = state["fit_info_"]
