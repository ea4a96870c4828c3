"""Estimators with hmmlearn's and scikit-learn's conventions that write their `.em` model
and train it with emc: switching is a one-line change (`from emc import GaussianMixture`).

Both stop as their originals do: each iteration is an E-step at the current parameters and
an M-step; the run stops after the M-step of the iteration whose log-likelihood changed by
less than `tol` from the previous one (hmmlearn: the total, `new - old < tol`; scikit-learn:
the mean per sample, `|new - old| < tol`), or after `n_iter` / `max_iter` M-steps. So from
the same initial parameters the traces and the fitted parameters are theirs (to rounding).
What they lack comes as options: missing values (a negative symbol, a NaN coordinate: emc
marginalises them), restarts (`n_init` for the HMM), fixed families (`params`), and, from
the generated model text (`model_text()`), everything the language has.
"""

import json

import numpy as np

from ._model import Model


def _seeds(random_state, n):
    """n emc seeds from a scikit-learn style random_state (None, an int, a RandomState)."""
    if random_state is None:
        rng = np.random.default_rng()
        return [int(s) for s in rng.integers(0, 2**63 - 1, size=n)]
    if isinstance(random_state, (int, np.integer)):
        return [int(random_state) + i for i in range(n)]
    if isinstance(random_state, np.random.RandomState):
        return [int(s) for s in random_state.randint(0, 2**31 - 1, size=n)]
    if isinstance(random_state, np.random.Generator):
        return [int(s) for s in random_state.integers(0, 2**63 - 1, size=n)]
    raise ValueError("random_state must be None, an int, a RandomState or a Generator")


def _rng(random_state):
    if isinstance(random_state, np.random.RandomState):
        return random_state
    return np.random.RandomState(random_state)


def _values(a):
    """A nested list of floats, written so that they read back to the same bits."""
    return np.asarray(a, dtype=float).tolist()


def _literal(a):
    """A nested list as model text (`init: [...]`)."""
    return json.dumps(_values(a))


def _stop_rule(changed):
    """A callback that stops emc one M-step after the first iteration whose change from the
    previous log-likelihood satisfies `changed(new - old)` (as hmmlearn and scikit-learn stop:
    they test after the M-step, so the parameters they return are one step past it)."""
    lls = []
    state = {"converged": False}

    def callback(info):
        lls.append(info["log_likelihood"])
        p = len(lls) - 1
        if p >= 2 and changed(lls[p - 1] - lls[p - 2]):
            state["converged"] = True
            return True
        return False

    return callback, state


class _Verbose:
    def __init__(self, verbose, every=1):
        self.verbose = verbose
        self.every = max(1, int(every))

    def __call__(self, info):
        if self.verbose and info["iteration"] % self.every == 0:
            change = info["change"]
            print("emc: restart %d iteration %d log-likelihood %.6f change %s" % (
                info["restart"], info["iteration"], info["log_likelihood"],
                "-" if change is None else "%+.3e" % change))


class _Monitor:
    """hmmlearn's ConvergenceMonitor's fields: `history` holds the log-likelihood of every
    iteration's E-step (at the parameters before its M-step), `iter` the M-steps done."""

    def __init__(self, tol, n_iter, history, converged):
        self.tol = tol
        self.n_iter = n_iter
        self.history = list(history)
        self.iter = len(self.history)
        # hmmlearn counts reaching n_iter as converged too.
        self.converged = bool(converged or self.iter == n_iter)

    def __repr__(self):
        return "ConvergenceMonitor(n_iter=%d, tol=%r, iter=%d, converged=%r)" % (
            self.n_iter, self.tol, self.iter, self.converged)


def _fit_restarts(text, data, iterations, seeds, init, stop, verbose, threads, algorithm="em"):
    """Trains the model once per seed; returns the (model, converged) whose final
    log-likelihood is best."""
    best = None
    for seed in seeds:
        model = Model(text)
        callback, state = _stop_rule(stop)

        def both(info, callback=callback):
            verbose(info)
            return callback(info)

        model.fit(data, iterations=iterations, tolerance=0, seed=seed, threads=threads,
                  init=init, callback=both, algorithm=algorithm)
        if best is None or model.trace_[-1] > best[0].trace_[-1]:
            best = (model, state["converged"])
    return best


# --------------------------------------------------------------------------------------
# hmmlearn's CategoricalHMM


class CategoricalHMM:
    """A hidden Markov model over symbols 0..n_features-1, hmmlearn's `CategoricalHMM`.

    `fit(X, lengths)` takes hmmlearn's input: X an (n_samples, 1) integer array of the
    concatenated sequences, `lengths` their lengths. Attributes `startprob_`, `transmat_`,
    `emissionprob_` (n_components, n_features), `monitor_` (history of log-likelihoods),
    `trace_` (history plus the log-likelihood at the fitted parameters), `n_features`.

    As hmmlearn: families in `init_params` ('s', 't', 'e') start random (emc's `random`
    init, seeded by `random_state`), the others from the attributes set before `fit`; only
    families in `params` are trained. Beyond hmmlearn: a family not in `params` is `fixed`
    in the model (its given values kept); `n_init` restarts keep the best final
    log-likelihood; `fit(X, lengths, labels=...)` takes known states (-1 where unknown), a
    partially labelled HMM; `emission_groups` (a group per state) ties the emissions of
    the states of a group; a negative symbol in X is a missing observation (summed out);
    `*_prior` above 1 is add-(prior - 1) smoothing, as hmmlearn's Dirichlet MAP M-step.
    `score` is the total log-likelihood, as hmmlearn's.
    """

    def __init__(self, n_components=1, *, startprob_prior=1.0, transmat_prior=1.0,
                 emissionprob_prior=1.0, n_features=None, algorithm="viterbi",
                 random_state=None, n_iter=10, tol=1e-2, verbose=False, params="ste",
                 init_params="ste", implementation="log", n_init=1, threads=None,
                 emission_groups=None):
        self.n_components = n_components
        self.startprob_prior = startprob_prior
        self.transmat_prior = transmat_prior
        self.emissionprob_prior = emissionprob_prior
        self.n_features = n_features
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_iter = n_iter
        self.tol = tol
        self.verbose = verbose
        self.params = params
        self.init_params = init_params
        self.implementation = implementation
        self.n_init = n_init
        self.threads = threads
        self.emission_groups = emission_groups

    # --- the model

    def _groups(self):
        """The emission group of each state (tied emissions), or None."""
        if self.emission_groups is None:
            return None
        g = np.asarray(self.emission_groups, dtype=np.int64).reshape(-1)
        if g.shape[0] != self.n_components or g.min() < 0:
            raise ValueError("emission_groups must give every state a group 0, 1, ...")
        if set(g.tolist()) != set(range(g.max() + 1)):
            raise ValueError("emission_groups must use every group from 0 to its largest")
        return g

    def _given(self, attr):
        """An attribute's values as the model's family holds them: with tied emissions,
        one row of `emissionprob_` per group (its first state's)."""
        values = np.asarray(getattr(self, attr), dtype=float)
        g = self._groups()
        if attr == "emissionprob_" and g is not None:
            first = [int(np.flatnonzero(g == j)[0]) for j in range(g.max() + 1)]
            values = values.reshape(self.n_components, -1)[first]
        return values

    _FAMILIES = (("s", "start", "startprob_", "startprob_prior"),
                 ("t", "trans", "transmat_", "transmat_prior"),
                 ("e", "emit", "emissionprob_", "emissionprob_prior"))

    def _options(self, letter, attr, prior):
        opts = []
        if letter not in self.params:
            if not hasattr(self, attr):
                raise ValueError("%s is not trained (not in params=%r): set it before fit"
                                 % (attr, self.params))
            opts += ["fixed", "init: " + _literal(self._given(attr))]
        else:
            alpha = float(getattr(self, prior)) - 1.0
            if alpha < 0:
                raise ValueError("%s below 1 (a Dirichlet MAP with negative counts) is not "
                                 "supported" % prior)
            if alpha > 0:
                opts.append("smoothing: %r" % alpha)
        return " { %s }" % ", ".join(opts) if opts else ""

    def model_text(self, labelled=None):
        """The `.em` model this estimator trains. `labelled` (default: whether the last
        `fit` had labels) makes the states a data field (`x : [Symbol] ||| z : [State]`) in
        which the known states are given and `?` marks the hidden ones. With
        `emission_groups`, the states of a group draw their symbols from one shared (tied)
        emission row: `emit` is conditioned on the group, a table of the states."""
        if labelled is None:
            labelled = getattr(self, "_labelled", False)
        data_decl = "data x : [Symbol] ||| z : [State]\n" if labelled else "data x : [Symbol]\n"
        hidden = "" if labelled else "    hidden z : [State; len(x)]\n"
        o = {letter: self._options(letter, attr, prior)
             for letter, _, attr, prior in self._FAMILIES}
        g = self._groups()
        if g is None:
            tied, cond = "", "State"
            emit = "    for i in 0..len(x): x[i] ~ emit(z[i])\n"
        else:
            pairs = "  ".join("%d -> %d" % (k, j) for k, j in enumerate(g))
            tied = "domain Group = 0..%d\ntable group(State) -> Group { %s }\n" % (
                g.max() + 1, pairs)
            cond = "Group"
            hidden += "    hidden g : [Group; len(x)]\n"
            emit = ("    for i in 0..len(x) {\n"
                    "        g[i] = group(z[i])\n"
                    "        x[i] ~ emit(g[i])\n"
                    "    }\n")
        return (
            "# hmmlearn's CategoricalHMM, written by emc.CategoricalHMM\n"
            "const K = %d\n"
            "domain State = 0..K\n"
            "domain Symbol = 0..%d\n"
            "%s%s"
            "param start : Categorical(State)%s\n"
            "param trans : Categorical(State | State)%s\n"
            "param emit  : Categorical(Symbol | %s)%s\n"
            "train { iterations: %d, tolerance: 0 }\n"
            "model {\n"
            "%s"
            "    z[0] ~ start\n"
            "    for i in 1..len(x): z[i] ~ trans(z[i-1])\n"
            "%s"
            "}\n" % (self.n_components, self.n_features, tied, data_decl, o["s"], o["t"], cond,
                     o["e"], self.n_iter, hidden, emit))

    def _init_json(self):
        """The families that start from the attributes, as params.json (None: none)."""
        given = [(name, attr) for letter, name, attr, _ in self._FAMILIES
                 if letter not in self.init_params and letter in self.params]
        if not given:
            return None
        K, F = self.n_components, self.n_features
        g = self._groups()
        shape = {"start": ("State", [], (K,)), "trans": ("State", ["State"], (K, K)),
                 "emit": ("Symbol", ["State"], (K, F)) if g is None else
                         ("Symbol", ["Group"], (g.max() + 1, F))}
        families = []
        for name, attr in given:
            if not hasattr(self, attr):
                raise ValueError("%s is not initialised (not in init_params=%r): set it "
                                 "before fit" % (attr, self.init_params))
            outcome, conditions, s = shape[name]
            values = self._given(attr).reshape(s)
            families.append({"name": name, "kind": "Categorical", "outcome": outcome,
                             "conditions": conditions,
                             "values": _values(np.atleast_2d(values))})
        domains = [{"name": "State", "symbols": [str(i) for i in range(K)]},
                   {"name": "Symbol", "symbols": [str(i) for i in range(F)]}]
        if g is not None:
            domains.append({"name": "Group", "symbols": [str(j) for j in range(g.max() + 1)]})
        return {"format": "emc-params-1", "domains": domains, "families": families}

    def _data(self, X, lengths, labels=None):
        from ._data import lines
        X = np.asarray(X)
        if X.ndim == 1:
            X = X[:, None]
        if X.shape[1] != 1:
            raise ValueError("X must be of shape (n_samples, 1), not %r" % (X.shape,))
        if lengths is None:
            lengths = [X.shape[0]]
        text = lines(X.astype(np.int64), lengths)
        if not getattr(self, "_labelled", False):
            return text
        if labels is None:
            labels = np.full(X.shape[0], -1)
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != X.shape[0]:
            raise ValueError("labels must have one state per sample (-1: unknown)")
        states = lines(labels.astype(np.int64), lengths).splitlines()
        return "".join("%s ||| %s\n" % pair for pair in zip(text.splitlines(), states))

    # --- hmmlearn's API

    def fit(self, X, lengths=None, labels=None):
        """hmmlearn's `fit`. `labels` (not hmmlearn's): an (n_samples,) array of known
        states, -1 where unknown: a partially labelled HMM, whose EM sums over the unknown
        states only (the known ones are observed)."""
        X = np.asarray(X)
        self._labelled = labels is not None
        if self.n_features is None:
            self.n_features = int(X.max()) + 1
        text = self.model_text()
        data = self._data(X, lengths, labels)
        init = self._init_json()
        seeds = _seeds(self.random_state, self.n_init)
        model, converged = _fit_restarts(
            text, data, self.n_iter, seeds, init, lambda d: d < self.tol,
            _Verbose(self.verbose), self.threads)
        self.model_ = model
        self._take(model)
        self.trace_ = model.trace_.copy()
        self.monitor_ = _Monitor(self.tol, self.n_iter, model.trace_[:-1], converged)
        return self

    def _model(self):
        """The fitted emc model, or one made from the attributes set by hand (hmmlearn lets
        `score`, `predict` and `decode` run on given `startprob_`, `transmat_`,
        `emissionprob_`)."""
        if hasattr(self, "model_"):
            return self.model_
        missing = [a for a in ("startprob_", "transmat_", "emissionprob_")
                   if not hasattr(self, a)]
        if missing:
            raise AttributeError("not fitted: fit first, or set %s" % ", ".join(missing))
        if self.n_features is None:
            self.n_features = np.asarray(self.emissionprob_).shape[1]
        self._labelled = False
        saved, self.init_params, self.params = (self.init_params, self.params), "", "ste"
        try:
            text, doc = self.model_text(), self._init_json()
        finally:
            self.init_params, self.params = saved
        model = Model(text)
        model._core.load_params(json.dumps(doc), "attributes")
        return model

    def _take(self, model):
        p = model.params_
        self.startprob_ = p["start"]
        self.transmat_ = p["trans"]
        g = self._groups()
        self.emissionprob_ = p["emit"] if g is None else p["emit"][g]

    def score(self, X, lengths=None):
        """The total log-likelihood of the sequences (hmmlearn's `score`)."""
        return self._model().score(self._data(X, lengths))

    def _posteriors(self, X, lengths):
        rows = self._model().posteriors(self._data(X, lengths))
        return np.array([probs for line in rows for var, _, probs in line
                         if var.startswith("z[")])

    def predict_proba(self, X, lengths=None):
        """State posteriors, (n_samples, n_components)."""
        return self._posteriors(X, lengths)

    def score_samples(self, X, lengths=None):
        """(total log-likelihood, state posteriors), as hmmlearn's."""
        return self.score(X, lengths), self._posteriors(X, lengths)

    def predict(self, X, lengths=None):
        """The Viterbi states, concatenated."""
        decoded = self._model().decode(self._data(X, lengths))
        # With missing symbols the lines name their groups: `z=...<TAB>x=...`.
        states = [next((g[2:] for g in line.split("\t") if g.startswith("z=")), line)
                  for line in decoded]
        return np.array([int(s) for line in states for s in line.split()], dtype=int)

    def decode(self, X, lengths=None, algorithm=None):
        """(log P(X, Viterbi states), Viterbi states), as hmmlearn's."""
        states = self.predict(X, lengths)
        X = np.asarray(X).reshape(-1)
        if lengths is None:
            lengths = [len(X)]
        logp, start = 0.0, 0
        with np.errstate(divide="ignore"):
            ls, lt, le = (np.log(self.startprob_), np.log(self.transmat_),
                          np.log(self.emissionprob_))
        for n in lengths:
            z, x = states[start:start + n], X[start:start + n]
            logp += ls[z[0]] + lt[z[:-1], z[1:]].sum()
            seen = x >= 0
            logp += le[z[seen], x[seen]].sum()
            start += n
        return logp, states

    def _free_parameters(self):
        return self._model().free_parameters()

    def bic(self, X, lengths=None):
        """-2 log L + k ln n, n the observations (hmmlearn's)."""
        n = np.asarray(X).shape[0]
        return -2 * self.score(X, lengths) + self._free_parameters() * np.log(n)

    def aic(self, X, lengths=None):
        return -2 * self.score(X, lengths) + 2 * self._free_parameters()

    def sample(self, n_samples=1, random_state=None, currstate=None):
        """(X (n_samples, 1), states) of one sequence, drawn with numpy from the fitted
        parameters (hmmlearn's `sample`)."""
        rng = _rng(self.random_state if random_state is None else random_state)
        K, F = self.transmat_.shape[0], self.emissionprob_.shape[1]
        z = np.empty(n_samples, dtype=int)
        x = np.empty(n_samples, dtype=int)
        s = rng.choice(K, p=self.startprob_) if currstate is None else currstate
        for t in range(n_samples):
            if t > 0:
                s = rng.choice(K, p=self.transmat_[s])
            z[t] = s
            x[t] = rng.choice(F, p=self.emissionprob_[s])
        return x[:, None], z


# --------------------------------------------------------------------------------------
# scikit-learn's GaussianMixture


_COVARIANCE = {"full": "full", "diag": "diagonal", "spherical": "spherical", "tied": "tied"}


def _full(cov, ct, k, d):
    """scikit-learn's covariances of a type to (k, d, d) full matrices."""
    cov = np.asarray(cov, dtype=float)
    if ct == "full":
        return cov.reshape(k, d, d)
    if ct == "tied":
        return np.repeat(cov.reshape(1, d, d), k, axis=0)
    if ct == "diag":
        return np.array([np.diag(c) for c in cov.reshape(k, d)])
    return np.array([np.eye(d) * v for v in cov.reshape(k)])


def _native(full, ct):
    """(k, d, d) full matrices to scikit-learn's shape for the type."""
    if ct == "full":
        return full.copy()
    if ct == "tied":
        return full[0].copy()
    if ct == "diag":
        return np.array([np.diag(c) for c in full])
    return np.array([np.diag(c).mean() for c in full])


def _precisions(cov, ct):
    if ct == "full":
        return np.array([np.linalg.inv(c) for c in cov])
    if ct == "tied":
        return np.linalg.inv(cov)
    return 1.0 / cov


def _precisions_cholesky(cov, ct):
    if ct in ("full", "tied"):
        mats = cov if ct == "full" else cov[None]
        out = np.array([np.linalg.inv(np.linalg.cholesky(c)).T for c in mats])
        return out if ct == "full" else out[0]
    return 1.0 / np.sqrt(cov)


class GaussianMixture:
    """A Gaussian mixture, scikit-learn's `GaussianMixture`.

    `fit(X)` with X of shape (n_samples, n_features); `weights_`, `means_`,
    `covariances_` (scikit-learn's shape for `covariance_type`), `precisions_`,
    `precisions_cholesky_`, `converged_`, `n_iter_`, `lower_bound_`, `lower_bounds_`
    (the mean log-likelihood per sample at every iteration's E-step), `trace_` (emc's:
    the total log-likelihood at every iteration's parameters, the fitted ones last).
    `score` is the mean log-likelihood per sample, `score_samples` per sample, as
    scikit-learn's; `bic`/`aic` with n the samples.

    Initialisation: with `weights_init`, `means_init` and `precisions_init` all given, EM
    starts from them exactly as scikit-learn does. Otherwise `init_params='kmeans'` (or
    'k-means++') uses emc's `seeding: kmeans` (means by k-means++ over the data, seeded by
    `random_state`; every covariance the data's) and 'random' / 'random_from_data' emc's
    `seeding: random` (random responsibilities, then an M-step): not scikit-learn's full
    k-means, so such fits start elsewhere. `means_init` alone is the model's
    `init_means`. Beyond scikit-learn: NaN coordinates in X are missing values, which emc
    marginalises (in fit, predict and score).
    """

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6,
                 max_iter=100, n_init=1, init_params="kmeans", weights_init=None,
                 means_init=None, precisions_init=None, random_state=None,
                 warm_start=False, verbose=0, verbose_interval=10, threads=None):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.threads = threads

    def model_text(self, d):
        """The `.em` model this estimator trains on data of `d` features."""
        ct = self.covariance_type
        if ct not in _COVARIANCE:
            raise ValueError("covariance_type must be one of %s" % ", ".join(_COVARIANCE))
        seeding = {"kmeans": "kmeans", "k-means++": "kmeans", "random": "random",
                   "random_from_data": "random"}.get(self.init_params)
        if seeding is None:
            raise ValueError("init_params must be 'kmeans', 'k-means++', 'random' or "
                             "'random_from_data'")
        opts = ["covariance: %s" % _COVARIANCE[ct], "reg_covar: %r" % float(self.reg_covar),
                "seeding: %s" % seeding]
        weight_opts = ""
        if not self._exact_init():
            if self.weights_init is not None:
                weight_opts = " { init: %s }" % _literal(self.weights_init)
            if self.means_init is not None:
                opts.append("init_means: %s" % _literal(np.asarray(self.means_init).reshape(
                    self.n_components, d)))
        return (
            "# scikit-learn's GaussianMixture, written by emc.GaussianMixture\n"
            "const K = %d\n"
            "domain Comp = 0..K\n"
            "data x : Real[%d]\n"
            "param weight : Categorical(Comp)%s\n"
            "param g : Gaussian(Real[%d] | Comp) { %s }\n"
            "train { iterations: %d, tolerance: 0 }\n"
            "model {\n"
            "    hidden c : Comp\n"
            "    c ~ weight\n"
            "    x ~ g(c)\n"
            "}\n" % (self.n_components, d, weight_opts, d, ", ".join(opts), self.max_iter))

    def _exact_init(self):
        return (self.weights_init is not None and self.means_init is not None
                and self.precisions_init is not None)

    def _init_json(self, d):
        if not self._exact_init():
            return None
        k, ct = self.n_components, self.covariance_type
        prec = _full(self.precisions_init, ct, k, d)
        covs = np.array([np.linalg.inv(p) for p in prec])
        return {"format": "emc-params-1",
                "domains": [{"name": "Comp", "symbols": [str(i) for i in range(k)]}],
                "families": [
                    {"name": "weight", "kind": "Categorical", "outcome": "Comp",
                     "conditions": [], "values": [_values(self.weights_init)]},
                    {"name": "g", "kind": "Gaussian", "outcome": "Real[%d]" % d,
                     "conditions": ["Comp"], "values": [], "covariance": _COVARIANCE[ct],
                     "means": _values(np.asarray(self.means_init).reshape(k, d)),
                     "covariances": _values(covs)}]}

    @staticmethod
    def _X(X):
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        return X

    def fit(self, X, y=None):
        from ._data import lines
        X = self._X(X)
        n, d = X.shape
        if self.warm_start and hasattr(self, "model_"):
            init = self.model_
        else:
            init = self._init_json(d)
        seeds = _seeds(self.random_state, self.n_init)
        model, converged = _fit_restarts(
            self.model_text(d), lines(X), self.max_iter, seeds, init,
            lambda change: abs(change) / n < self.tol,
            _Verbose(self.verbose, self.verbose_interval), self.threads)
        self.model_ = model
        p = model.params_
        ct = self.covariance_type
        self.weights_ = p["weight"]
        self.means_ = p["g"]["means"]
        self.covariances_ = _native(p["g"]["covariances"], ct)
        self.precisions_ = _precisions(self.covariances_, ct)
        self.precisions_cholesky_ = _precisions_cholesky(self.covariances_, ct)
        self.trace_ = model.trace_.copy()
        self.lower_bounds_ = list(model.trace_[:-1] / n)
        self.lower_bound_ = self.lower_bounds_[-1] if self.lower_bounds_ else -np.inf
        self.n_iter_ = len(model.trace_) - 1
        self.converged_ = converged
        self.n_features_in_ = d
        return self

    def _model(self):
        """The fitted emc model, or one made from `weights_`, `means_` and `covariances_`
        set by hand."""
        if hasattr(self, "model_"):
            return self.model_
        if not all(hasattr(self, a) for a in ("weights_", "means_", "covariances_")):
            raise AttributeError("not fitted: fit first, or set weights_, means_, covariances_")
        means = np.asarray(self.means_, dtype=float)
        k, d = means.shape
        saved = (self.weights_init, self.means_init, self.precisions_init)
        self.weights_init, self.means_init = self.weights_, means
        self.precisions_init = _precisions(np.asarray(self.covariances_, dtype=float),
                                           self.covariance_type)
        try:
            text, doc = self.model_text(d), self._init_json(d)
        finally:
            self.weights_init, self.means_init, self.precisions_init = saved
        model = Model(text)
        model._core.load_params(json.dumps(doc), "attributes")
        return model

    def fit_predict(self, X, y=None):
        return self.fit(X).predict(X)

    def predict_proba(self, X):
        """Responsibilities, (n_samples, n_components)."""
        from ._data import lines
        rows = self._model().posteriors(lines(self._X(X)))
        return np.array([line[0][2] for line in rows])

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)

    def score_samples(self, X):
        """log p(x) per sample."""
        from ._data import lines
        return self._model().score_samples(lines(self._X(X)))

    def score(self, X, y=None):
        """The mean log-likelihood per sample (scikit-learn's `score`)."""
        from ._data import lines
        return self._model().score(lines(self._X(X)), per_sample=True)

    def _n_parameters(self):
        return self._model().free_parameters()

    def bic(self, X):
        from ._data import lines
        return self._model().bic(lines(self._X(X)))

    def aic(self, X):
        from ._data import lines
        return self._model().aic(lines(self._X(X)))

    def sample(self, n_samples=1):
        """(X, y): n_samples points drawn with numpy from the fitted mixture, as
        scikit-learn's `sample` (components by a multinomial, then their normals)."""
        rng = _rng(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        covs = self._model().params_["g"]["covariances"]
        X = np.vstack([rng.multivariate_normal(m, c, int(k))
                       for m, c, k in zip(self.means_, covs, counts)])
        y = np.concatenate([np.full(k, j, dtype=int) for j, k in enumerate(counts)])
        return X, y
