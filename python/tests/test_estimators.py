"""emc.CategoricalHMM against hmmlearn's CategoricalHMM and emc.GaussianMixture against
scikit-learn's GaussianMixture, from the same data and initial parameters: traces and
fitted parameters to 1e-6 (relative, plus 1e-9 absolute, as scripts/crosscheck compares)."""

import logging
import pickle
import warnings

import numpy as np
import pytest

import emc

hmmlearn_hmm = pytest.importorskip("hmmlearn.hmm")
sklearn_mixture = pytest.importorskip("sklearn.mixture")
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

logging.getLogger("hmmlearn").setLevel(logging.ERROR)

RTOL, ATOL = 1e-6, 1e-9


def close(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, (a.shape, b.shape)
    diff = np.abs(a - b)
    worst = float(np.max(diff / (np.maximum(np.abs(a), np.abs(b)) + 1e-300))) if a.size else 0.0
    assert np.all(diff <= RTOL * np.maximum(np.abs(a), np.abs(b)) + ATOL), \
        "max rel diff %.3g" % worst
    return float(np.max(diff)) if a.size else 0.0


# --- the HMM

K, F = 3, 5


def hmm_case(seed=0):
    rng = np.random.default_rng(seed)
    start = np.array([0.5, 0.3, 0.2])
    trans = rng.dirichlet(np.full(K, 2.0), size=K)
    emit = rng.dirichlet(np.ones(F), size=K)
    lengths = rng.integers(10, 30, size=20)
    xs = []
    for n in lengths:
        z = rng.choice(K, p=start)
        for t in range(n):
            if t:
                z = rng.choice(K, p=trans[z])
            xs.append(rng.choice(F, p=emit[z]))
    X = np.array(xs)[:, None]
    init = (rng.dirichlet(np.full(K, 5.0)), rng.dirichlet(np.full(K, 5.0), size=K),
            rng.dirichlet(np.full(F, 5.0), size=K))
    return X, lengths, init


def both_hmms(init, **kw):
    out = []
    for cls, extra in ((hmmlearn_hmm.CategoricalHMM, {"n_features": F}),
                       (emc.CategoricalHMM, {})):
        h = cls(n_components=K, init_params="", params="ste", **kw, **extra)
        h.startprob_, h.transmat_, h.emissionprob_ = (a.copy() for a in init)
        out.append(h)
    return out


@pytest.mark.parametrize("n_iter,tol", [(15, -np.inf), (200, 1e-2)])
def test_categorical_hmm_matches_hmmlearn(n_iter, tol):
    X, lengths, init = hmm_case()
    peer, ours = both_hmms(init, n_iter=n_iter, tol=tol)
    peer.fit(X, lengths)
    ours.fit(X, lengths)
    peer_trace = list(peer.monitor_.history) + [peer.score(X, lengths)]
    assert len(ours.trace_) == len(peer_trace)
    assert list(ours.monitor_.history) == list(ours.trace_[:-1])
    diffs = [close(peer_trace, ours.trace_)]
    for name in ("startprob_", "transmat_", "emissionprob_"):
        diffs.append(close(getattr(peer, name), getattr(ours, name)))
    diffs.append(close(peer.score(X, lengths), ours.score(X, lengths)))
    diffs.append(close(peer.predict_proba(X, lengths), ours.predict_proba(X, lengths)))
    # Viterbi paths may break exact ties differently: their probabilities agree.
    diffs.append(close(peer.decode(X, lengths)[0], ours.decode(X, lengths)[0]))
    diffs.append(close(peer.bic(X, lengths), ours.bic(X, lengths)))
    diffs.append(close(peer.aic(X, lengths), ours.aic(X, lengths)))
    assert ours.monitor_.converged == peer.monitor_.converged
    print("hmm n_iter=%d tol=%g: max abs diff %.3g" % (n_iter, tol, max(diffs)))


def test_categorical_hmm_fixed_family_and_missing_symbols():
    X, lengths, init = hmm_case(1)
    h = emc.CategoricalHMM(n_components=K, n_iter=5, init_params="", params="te")
    h.startprob_, h.transmat_, h.emissionprob_ = (a.copy() for a in init)
    h.fit(X, lengths)
    assert np.array_equal(h.startprob_, init[0])       # not in params: fixed
    assert np.all(np.diff(h.trace_) >= -1e-9)
    Y = X.copy()
    Y[::5] = -1                                          # missing observations
    g = emc.CategoricalHMM(n_components=K, n_features=F, n_iter=5, random_state=3, n_init=2)
    g.fit(Y, lengths)
    assert np.isfinite(g.trace_).all()
    assert g.predict(Y, lengths).shape == (len(Y),)


def test_categorical_hmm_sample_and_pickle():
    X, lengths, init = hmm_case()
    h = emc.CategoricalHMM(n_components=K, n_iter=5, random_state=0).fit(X, lengths)
    Xs, Z = h.sample(50, random_state=1)
    assert Xs.shape == (50, 1) and Z.shape == (50,)
    h2 = pickle.loads(pickle.dumps(h))
    assert np.array_equal(h2.transmat_, h.transmat_)
    assert h2.score(X, lengths) == h.score(X, lengths)
    assert np.array_equal(h2.predict(X, lengths), h.predict(X, lengths))


# --- the Gaussian mixture

def gmm_case(ct, d=2, seed=1):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [1.0, 5.0, 3.0]])[:, :d]
    X = np.vstack([rng.multivariate_normal(c, np.eye(d) * s, size=m)
                   for c, s, m in zip(centers, [1.0, 0.5, 1.5], [90, 100, 110])])
    X = X[rng.permutation(len(X))]
    w0 = rng.dirichlet(np.full(3, 5.0))
    m0 = X[rng.choice(len(X), 3, replace=False)]
    cov = np.atleast_2d(np.cov(X.T, bias=True))
    p0 = {"full": np.array([np.linalg.inv(cov)] * 3), "tied": np.linalg.inv(cov),
          "diag": np.array([1 / np.diag(cov)] * 3),
          "spherical": np.array([1 / np.diag(cov).mean()] * 3)}[ct]
    return X, dict(n_components=3, covariance_type=ct, weights_init=w0, means_init=m0,
                   precisions_init=p0, random_state=0)


@pytest.mark.parametrize("ct", ["full", "diag", "spherical", "tied"])
@pytest.mark.parametrize("max_iter,tol,reg", [(20, 0.0, 1e-6), (100, 1e-3, 1e-6),
                                              (20, 0.0, 0.05)])
def test_gaussian_mixture_matches_scikit_learn(ct, max_iter, tol, reg):
    X, kw = gmm_case(ct)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        peer = sklearn_mixture.GaussianMixture(max_iter=max_iter, tol=tol, reg_covar=reg,
                                               **kw).fit(X)
    ours = emc.GaussianMixture(max_iter=max_iter, tol=tol, reg_covar=reg, **kw).fit(X)
    n = len(X)
    peer_trace = list(np.asarray(peer.lower_bounds_) * n) + [peer.score(X) * n]
    assert ours.n_iter_ == peer.n_iter_
    assert ours.converged_ == peer.converged_
    diffs = [close(peer_trace, ours.trace_), close(peer.lower_bound_, ours.lower_bound_)]
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        diffs.append(close(getattr(peer, name), getattr(ours, name)))
    diffs.append(close(peer.score(X), ours.score(X)))
    diffs.append(close(peer.score_samples(X), ours.score_samples(X)))
    diffs.append(close(peer.predict_proba(X), ours.predict_proba(X)))
    diffs.append(close(peer.bic(X), ours.bic(X)))
    diffs.append(close(peer.aic(X), ours.aic(X)))
    assert np.array_equal(peer.predict(X), ours.predict(X))
    print("gmm %s max_iter=%d tol=%g reg=%g: max abs diff %.3g"
          % (ct, max_iter, tol, reg, max(diffs)))


def test_gaussian_mixture_one_feature():
    X, kw = gmm_case("diag", d=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        peer = sklearn_mixture.GaussianMixture(max_iter=10, tol=0, **kw).fit(X)
    ours = emc.GaussianMixture(max_iter=10, tol=0, **kw).fit(X)
    close(peer.means_, ours.means_)
    close(peer.covariances_, ours.covariances_)


def test_gaussian_mixture_missing_values_restarts_and_pickle():
    X, kw = gmm_case("full")
    Y = X.copy()
    Y[::4, 0] = np.nan
    g = emc.GaussianMixture(n_components=3, n_init=3, random_state=0, max_iter=50).fit(Y)
    assert np.isfinite(g.trace_).all() and np.isfinite(g.means_).all()
    assert g.predict(Y).shape == (len(Y),)
    assert np.isfinite(g.score(Y))
    Xs, ys = g.sample(40)
    assert Xs.shape == (40, 2) and ys.shape == (40,)
    h = pickle.loads(pickle.dumps(g))
    assert np.array_equal(h.means_, g.means_)
    assert h.score(Y) == g.score(Y)


def test_categorical_hmm_partial_labels():
    X, lengths, init = hmm_case(2)
    plain, ours = (emc.CategoricalHMM(n_components=K, n_features=F, n_iter=6, tol=-np.inf,
                                      init_params="") for _ in range(2))
    for h in (plain, ours):
        h.startprob_, h.transmat_, h.emissionprob_ = (a.copy() for a in init)
    plain.fit(X, lengths)
    # No state known: the same EM as the plain HMM.
    ours.fit(X, lengths, labels=np.full(len(X), -1))
    close(plain.trace_, ours.trace_)
    close(plain.transmat_, ours.transmat_)
    assert np.array_equal(plain.predict(X, lengths), ours.predict(X, lengths))
    # Every state known: one M-step gives the counted frequencies.
    rng = np.random.default_rng(5)
    Z = rng.integers(0, K, size=len(X))
    full = emc.CategoricalHMM(n_components=K, n_features=F, n_iter=3, random_state=0)
    full.fit(X, lengths, labels=Z)
    counts = np.zeros((K, K))
    start = 0
    for n in lengths:
        for a, b in zip(Z[start:start + n - 1], Z[start + 1:start + n]):
            counts[a, b] += 1
        start += n
    close(full.transmat_, counts / counts.sum(axis=1, keepdims=True))
    # Some states known: the known ones are kept out of the sum.
    some = np.where(rng.random(len(X)) < 0.3, Z, -1)
    part = emc.CategoricalHMM(n_components=K, n_features=F, n_iter=5, random_state=0)
    part.fit(X, lengths, labels=some)
    assert np.all(np.diff(part.trace_) >= -1e-9)
    assert part.predict_proba(X, lengths).shape == (len(X), K)


def test_categorical_hmm_priors_match_hmmlearn():
    # hmmlearn's Dirichlet MAP M-step (prior - 1 added to the counts) is emc's `smoothing`.
    X, lengths, init = hmm_case()
    priors = dict(startprob_prior=1.5, transmat_prior=2.0, emissionprob_prior=3.0)
    peer, ours = both_hmms(init, n_iter=10, tol=-np.inf, **priors)
    peer.fit(X, lengths)
    ours.fit(X, lengths)
    close(list(peer.monitor_.history), ours.trace_[:-1])
    for name in ("startprob_", "transmat_", "emissionprob_"):
        close(getattr(peer, name), getattr(ours, name))


def test_estimators_score_attributes_set_by_hand():
    X, lengths, init = hmm_case()
    peer, ours = both_hmms(init)
    close(peer.score(X, lengths), ours.score(X, lengths))
    close(peer.predict_proba(X, lengths), ours.predict_proba(X, lengths))
    Y, kw = gmm_case("full")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = sklearn_mixture.GaussianMixture(max_iter=5, tol=0, **kw).fit(Y)
    g = emc.GaussianMixture(n_components=3, covariance_type="full")
    g.weights_, g.means_, g.covariances_ = fitted.weights_, fitted.means_, fitted.covariances_
    close(fitted.score_samples(Y), g.score_samples(Y))
    close(fitted.predict_proba(Y), g.predict_proba(Y))


def test_categorical_hmm_tied_emissions():
    X, lengths, init = hmm_case(3)
    kw = dict(n_components=K, n_features=F, n_iter=6, tol=-np.inf, init_params="")
    plain = emc.CategoricalHMM(**kw)
    ident = emc.CategoricalHMM(emission_groups=[0, 1, 2], **kw)
    tied = emc.CategoricalHMM(emission_groups=[0, 0, 1], **kw)
    for h in (plain, ident, tied):
        h.startprob_, h.transmat_, h.emissionprob_ = (a.copy() for a in init)
        h.fit(X, lengths)
    # One group per state: the plain HMM.
    close(plain.trace_, ident.trace_)
    close(plain.emissionprob_, ident.emissionprob_)
    # States 0 and 1 share their emissions; EM still never decreases the likelihood.
    assert np.array_equal(tied.emissionprob_[0], tied.emissionprob_[1])
    assert np.all(np.diff(tied.trace_) >= -1e-9)
    assert tied.predict(X, lengths).shape == (len(X),)
    assert tied.predict_proba(X, lengths).shape == (len(X), K)
    assert tied._free_parameters() == plain._free_parameters() - (F - 1)
