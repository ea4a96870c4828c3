#!/usr/bin/env python3
"""Cross-check emc's Gaussian families against scikit-learn and hmmlearn.

Cases (all data and initial parameters from numpy.random.default_rng with
fixed seeds, so every run is identical):

  gmm-full, gmm-diag, gmm-spherical, gmm-tied   2-D, 300 points, K = 3
  gmm-full-d3, gmm-diag-d1                      extra shapes (D = 3, D = 1)
      peer: sklearn.mixture.GaussianMixture, reg_covar = 1e-6 (sklearn default)
  gmm-{full,diag,spherical,tied}-reg            2-D, reg_covar = 0.05, so that a
      misplaced or missing reg_covar is well above the tolerance
  hmm-full, hmm-diag, hmm-spherical, hmm-tied   2-D, 20 sequences of length
      20..40 sampled from a 3-state HMM
      peer: hmmlearn.hmm.GaussianHMM with all priors neutral (plain ML);
      emc model uses reg_covar: 0 (hmmlearn 0.3.3 adds nothing in its M-step)

For every case this script

  1. writes model.em, data.txt, init.json into a work directory;
  2. runs the peer from exactly those initial parameters for T iterations and
     builds its trace: total (not per-sample) natural-log likelihood of the
     data at the parameters after t M-steps, t = 0..T;
  3. checks the peer itself: trace non-decreasing; an independent NumPy
     re-implementation of one EM iteration reproduces the peer's parameters
     after 1 iteration; the NumPy re-implementation run for T iterations
     reproduces the peer's whole trace and final parameters;
  4. unless --peers-only: runs `emc run model.em data.txt --init init.json
     --iterations T --tolerance 0 --threads 1 --out DIR --quiet`, reads
     DIR/trace.tsv and DIR/params.json and compares them with the peer:
     log-likelihood at every t and the final parameters, each within
     |a - b| <= 1e-6 * max(|a|, |b|) + 1e-9.

Exit status: 0 if every check passed, 1 if any failed, 2 on usage errors.
"""
import argparse
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

# Tiny problems: BLAS thread pools only add overhead (and compete with emc /
# cargo on a small machine). Must be set before numpy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from scipy import linalg  # noqa: E402
from scipy.special import logsumexp  # noqa: E402

K = 3
# GMM reg_covar values, written into model.em verbatim. 1e-6 is sklearn's
# default, but it moves variances of order 1 by only ~1e-6 relative, i.e. at
# the comparison tolerance; the "-reg" cases use 0.05 so that where and how
# reg_covar is added is actually visible in the comparison.
REG_COVAR_TEXT = "1e-6"
REG_COVAR_BIG_TEXT = "0.05"
EMC_COV = {"full": "full", "diag": "diagonal", "spherical": "spherical", "tied": "tied"}

# emc vs peer
EMC_RTOL, EMC_ATOL = 1e-6, 1e-9
# NumPy re-implementation vs peer (should agree to rounding)
REF_RTOL, REF_ATOL = 1e-9, 1e-12
# allowed decrease of a peer trace (relative to |LL|), for rounding only
MONO_SLACK = 1e-10


# --------------------------------------------------------------------------
# small helpers

def close(a, b, rtol, atol):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False, math.inf
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), np.abs(b))
    ok = bool(np.all(diff <= rtol * scale + atol))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(diff == 0, 0.0, diff / np.maximum(scale, atol / rtol))
    return ok, float(rel.max()) if rel.size else 0.0


def fmt_num(x):
    return repr(float(x))


def cov_to_full(cov, ct, k, d):
    """Peer-native covariance array -> (k, d, d) full matrices."""
    cov = np.asarray(cov, dtype=float)
    if ct == "full":
        return cov.reshape(k, d, d).copy()
    if ct == "diag":
        return np.array([np.diag(c) for c in cov.reshape(k, d)])
    if ct == "spherical":
        v = cov.reshape(k, -1)[:, 0]  # hmmlearn stores (k, d) tiled, sklearn (k,)
        return v[:, None, None] * np.eye(d)[None]
    if ct == "tied":
        return np.broadcast_to(cov.reshape(d, d), (k, d, d)).copy()
    raise ValueError(ct)


def cov_native(full, ct):
    """(k, d, d) full matrices -> sklearn-native shape for ct."""
    if ct == "full":
        return full.copy()
    if ct == "diag":
        return np.array([np.diag(c) for c in full])
    if ct == "spherical":
        return np.array([c[0, 0] for c in full])
    if ct == "tied":
        return full[0].copy()
    raise ValueError(ct)


def random_spd(rng, d, scale):
    a = rng.normal(size=(d, d)) * scale
    return a @ a.T + 0.3 * scale * np.eye(d)


def init_covariances(x, ct, k):
    """Initial covariances valid for ct, from the (biased) data covariance."""
    d = x.shape[1]
    c = np.atleast_2d(np.cov(x.T, bias=True))
    if ct in ("full", "tied"):
        m = c
    elif ct == "diag":
        m = np.diag(np.diag(c))
    else:
        m = np.mean(np.diag(c)) * np.eye(d)
    return np.broadcast_to(m, (k, d, d)).copy()


# --------------------------------------------------------------------------
# Gaussian log-density and the M-step, written independently of the peers

def log_gauss(x, mu, cov):
    """log N(x | mu, cov) for every row of x (natural log)."""
    d = x.shape[1]
    l = linalg.cholesky(cov, lower=True)
    sol = linalg.solve_triangular(l, (x - mu).T, lower=True)
    return (-0.5 * (d * math.log(2 * math.pi) + np.sum(sol * sol, axis=0))
            - np.sum(np.log(np.diag(l))))


def log_emissions(x, means, covs):
    return np.stack([log_gauss(x, means[j], covs[j]) for j in range(len(means))], axis=1)


def mstep_gaussian(x, resp, ct, reg):
    """ML means and covariances from responsibilities (n, k), plus reg on the
    diagonal, following the covariance-type rules documented in README.md.
    Returns nk (k,), means (k, d), covs (k, d, d)."""
    n, d = x.shape
    k = resp.shape[1]
    nk = resp.sum(axis=0)
    means = (resp.T @ x) / nk[:, None]
    scatter = np.empty((k, d, d))  # sum_i r_ik (x_i - mu_k)(x_i - mu_k)^T
    for j in range(k):
        diff = x - means[j]
        scatter[j] = (resp[:, j, None] * diff).T @ diff
    eye = np.eye(d)
    if ct == "full":
        covs = scatter / nk[:, None, None] + reg * eye
    elif ct == "diag":
        var = np.array([np.diag(s) for s in scatter]) / nk[:, None] + reg
        covs = np.array([np.diag(v) for v in var])
    elif ct == "spherical":
        var = np.array([np.diag(s) for s in scatter]) / nk[:, None] + reg
        covs = var.mean(axis=1)[:, None, None] * eye
    elif ct == "tied":
        tied = scatter.sum(axis=0) / nk.sum() + reg * eye
        covs = np.broadcast_to(tied, (k, d, d)).copy()
    else:
        raise ValueError(ct)
    return nk, means, covs


# ---- GMM reference

def gmm_loglik(x, w, means, covs):
    lj = log_emissions(x, means, covs) + np.log(w)[None, :]
    norm = logsumexp(lj, axis=1)
    return float(norm.sum()), lj - norm[:, None]


def gmm_em(x, w, means, covs, ct, reg, iters):
    """Returns trace (iters+1 totals) and the parameters after each M-step."""
    trace, history = [], []
    for _ in range(iters):
        ll, log_resp = gmm_loglik(x, w, means, covs)
        trace.append(ll)
        nk, means, covs = mstep_gaussian(x, np.exp(log_resp), ct, reg)
        w = nk / nk.sum()
        history.append((w, means, covs))
    trace.append(gmm_loglik(x, w, means, covs)[0])
    return trace, history


# ---- HMM reference (scaled forward-backward)

def hmm_estep(seqs, start, trans, means, covs):
    """Scaled forward-backward (hmmlearn uses the log-space one: independent).
    Returns total log P(X), expected start counts, expected transition counts
    and the stacked state posteriors (sum(len), k)."""
    k = len(start)
    total = 0.0
    start_c = np.zeros(k)
    trans_c = np.zeros((k, k))
    gammas = []
    for x in seqs:
        lb = log_emissions(x, means, covs)
        shift = lb.max(axis=1)
        b = np.exp(lb - shift[:, None])
        t_len = len(x)
        alpha = np.empty((t_len, k))
        beta = np.ones((t_len, k))
        c = np.empty(t_len)
        a = start * b[0]
        c[0] = a.sum()
        alpha[0] = a / c[0]
        for t in range(1, t_len):
            a = (alpha[t - 1] @ trans) * b[t]
            c[t] = a.sum()
            alpha[t] = a / c[t]
        for t in range(t_len - 2, -1, -1):
            beta[t] = trans @ (b[t + 1] * beta[t + 1]) / c[t + 1]
        total += float(np.log(c).sum() + shift.sum())
        gamma = alpha * beta
        gamma /= gamma.sum(axis=1, keepdims=True)
        gammas.append(gamma)
        start_c += gamma[0]
        nxt = b[1:] * beta[1:] / c[1:, None]
        trans_c += trans * (alpha[:-1].T @ nxt)
    return total, start_c, trans_c, np.concatenate(gammas)


def hmm_em(seqs, start, trans, means, covs, ct, reg, iters):
    xall = np.concatenate(seqs)
    trace, history = [], []
    for _ in range(iters):
        ll, start_c, trans_c, gamma = hmm_estep(seqs, start, trans, means, covs)
        trace.append(ll)
        start = start_c / start_c.sum()
        trans = trans_c / trans_c.sum(axis=1, keepdims=True)
        _, means, covs = mstep_gaussian(xall, gamma, ct, reg)
        history.append((start, trans, means, covs))
    trace.append(hmm_estep(seqs, start, trans, means, covs)[0])
    return trace, history


# --------------------------------------------------------------------------
# case generation

GMM_MODEL = """const K = {k}
domain Comp = 0..K
data x : Real[{d}]
param weight : Categorical(Comp)
param g : Gaussian(Real[{d}] | Comp) {{ covariance: {cov}, reg_covar: {reg} }}
train {{ iterations: {iters}, tolerance: 0 }}
model {{
    hidden c : Comp
    c ~ weight
    x ~ g(c)
}}
"""

HMM_MODEL = """const K = {k}
domain State = 0..K
data obs : [Real[{d}]]
param start : Categorical(State)
param trans : Categorical(State | State)
param emit  : Gaussian(Real[{d}] | State) {{ covariance: {cov}, reg_covar: {reg} }}
train {{ iterations: {iters}, tolerance: 0 }}
model {{
    hidden z : [State; len(obs)]
    z[0] ~ start
    for i in 1..len(obs): z[i] ~ trans(z[i-1])
    for i in 0..len(obs): obs[i] ~ emit(z[i])
}}
"""


def gaussian_family(name, d, cond, ct, means, covs):
    return {"name": name, "kind": "Gaussian", "outcome": "Real[%d]" % d,
            "conditions": [cond], "values": [], "covariance": EMC_COV[ct],
            "means": np.asarray(means).tolist(), "covariances": np.asarray(covs).tolist()}


def categorical_family(name, outcome, conditions, rows):
    return {"name": name, "kind": "Categorical", "outcome": outcome,
            "conditions": conditions, "values": np.atleast_2d(rows).tolist()}


def write_json(path, obj):
    # json.dumps writes Python floats with float.__repr__: round-trip exact.
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def make_gmm_case(name, ct, d, seed, iters, workdir, reg_text=REG_COVAR_TEXT):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [1.0, 5.0, 3.0]])[:, :d]
    sizes = [90, 100, 110]
    parts = [rng.multivariate_normal(centers[j], random_spd(rng, d, 1.0), size=sizes[j])
             for j in range(K)]
    x = np.concatenate(parts)
    x = x[rng.permutation(len(x))]
    w0 = rng.dirichlet(np.full(K, 5.0))
    w0 = w0 / w0.sum()
    m0 = x[rng.choice(len(x), size=K, replace=False)].copy()
    c0 = init_covariances(x, ct, K)

    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "model.em"), "w") as f:
        f.write(GMM_MODEL.format(k=K, d=d, cov=EMC_COV[ct], reg=reg_text, iters=iters))
    with open(os.path.join(workdir, "data.txt"), "w") as f:
        for row in x:
            f.write(" ".join(fmt_num(v) for v in row) + "\n")
    write_json(os.path.join(workdir, "init.json"), {
        "format": "emc-params-1",
        "domains": [{"name": "Comp", "symbols": [str(i) for i in range(K)]}],
        "families": [categorical_family("weight", "Comp", [], w0),
                     gaussian_family("g", d, "Comp", ct, m0, c0)]})
    return {"name": name, "kind": "gmm", "ct": ct, "d": d, "x": x, "reg": float(reg_text),
            "init": (w0, m0, c0), "workdir": workdir}


def make_hmm_case(name, ct, d, seed, iters, workdir):
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [3.0, 1.0], [1.0, 4.0]])[:, :d]
    true_covs = [random_spd(rng, d, 0.8) for _ in range(K)]
    true_start = np.array([0.5, 0.3, 0.2])
    true_trans = np.array([[0.8, 0.1, 0.1], [0.15, 0.7, 0.15], [0.1, 0.2, 0.7]])
    lengths = rng.integers(20, 41, size=20)
    seqs = []
    for length in lengths:
        z = np.empty(length, dtype=int)
        z[0] = rng.choice(K, p=true_start)
        for t in range(1, length):
            z[t] = rng.choice(K, p=true_trans[z[t - 1]])
        seqs.append(np.array([rng.multivariate_normal(centers[s], true_covs[s]) for s in z]))
    xall = np.concatenate(seqs)
    s0 = rng.dirichlet(np.full(K, 5.0))
    s0 = s0 / s0.sum()
    a0 = rng.dirichlet(np.full(K, 5.0), size=K)
    a0 = a0 / a0.sum(axis=1, keepdims=True)
    m0 = xall[rng.choice(len(xall), size=K, replace=False)].copy()
    c0 = init_covariances(xall, ct, K)

    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "model.em"), "w") as f:
        f.write(HMM_MODEL.format(k=K, d=d, cov=EMC_COV[ct], reg="0", iters=iters))
    with open(os.path.join(workdir, "data.txt"), "w") as f:
        for x in seqs:
            f.write(" ".join(",".join(fmt_num(v) for v in o) for o in x) + "\n")
    write_json(os.path.join(workdir, "init.json"), {
        "format": "emc-params-1",
        "domains": [{"name": "State", "symbols": [str(i) for i in range(K)]}],
        "families": [categorical_family("start", "State", [], s0),
                     categorical_family("trans", "State", ["State"], a0),
                     gaussian_family("emit", d, "State", ct, m0, c0)]})
    return {"name": name, "kind": "hmm", "ct": ct, "d": d, "seqs": seqs, "reg": 0.0,
            "init": (s0, a0, m0, c0), "workdir": workdir}


# --------------------------------------------------------------------------
# peers

def sklearn_gmm(x, ct, reg, init, iters):
    """Run GaussianMixture from init; return (trace, final params as full covs).
    trace[t] = total log-likelihood at the parameters after t M-steps."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture
    w0, m0, c0 = init
    prec = cov_native(np.linalg.inv(c0), ct)  # precisions_init, sklearn shape
    gm = GaussianMixture(n_components=K, covariance_type=ct, reg_covar=reg,
                         tol=0.0, max_iter=iters, n_init=1,
                         weights_init=w0, means_init=m0, precisions_init=prec,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm.fit(x)
    n = x.shape[0]
    if gm.n_iter_ != iters or len(gm.lower_bounds_) != iters:
        raise RuntimeError("sklearn ran %d iterations, expected %d" % (gm.n_iter_, iters))
    # lower_bounds_[i] = mean log p(x) from the E-step of iteration i+1, i.e. at
    # the parameters after i M-steps; score(X) = the same at the final params.
    trace = [float(lb) * n for lb in gm.lower_bounds_] + [float(gm.score(x)) * n]
    final = (np.asarray(gm.weights_), np.asarray(gm.means_),
             cov_to_full(gm.covariances_, ct, K, x.shape[1]))
    return trace, final


def hmmlearn_hmm(seqs, ct, init, iters):
    from hmmlearn.hmm import GaussianHMM
    s0, a0, m0, c0 = init
    x = np.concatenate(seqs)
    lengths = [len(s) for s in seqs]
    h = GaussianHMM(n_components=K, covariance_type=ct, n_iter=iters, tol=-np.inf,
                    init_params="", params="stmc", implementation="log",
                    min_covar=1e-3,                    # only used by _init; unused here
                    startprob_prior=1.0, transmat_prior=1.0,   # prior - 1 = 0
                    means_prior=0.0, means_weight=0.0,
                    covars_prior=0.0, covars_weight=1.0,       # see README
                    random_state=0)
    h.startprob_ = s0.copy()
    h.transmat_ = a0.copy()
    h.means_ = m0.copy()
    h.covars_ = cov_native(c0, ct)
    h.fit(x, lengths)
    hist = list(h.monitor_.history)
    if len(hist) != iters:
        raise RuntimeError("hmmlearn ran %d iterations, expected %d" % (len(hist), iters))
    # history[i] = log P(X) from the E-step of iteration i+1 (before its M-step)
    trace = [float(v) for v in hist] + [float(h.score(x, lengths))]
    # Not h.covars_: for "spherical" hmmlearn 0.3.3 stores _covars_ as (k, d)
    # (the per-state variance tiled d times) after an M-step, and the covars_
    # property then returns k*d matrices. cov_to_full reads column 0.
    final = (np.asarray(h.startprob_), np.asarray(h.transmat_), np.asarray(h.means_),
             cov_to_full(h._covars_, ct, K, x.shape[1]))
    return trace, final


def peer_one_step(case):
    """Peer parameters after exactly one EM iteration (separate short run)."""
    if case["kind"] == "gmm":
        return sklearn_gmm(case["x"], case["ct"], case["reg"], case["init"], 1)[1]
    return hmmlearn_hmm(case["seqs"], case["ct"], case["init"], 1)[1]


def reference_run(case, iters):
    if case["kind"] == "gmm":
        w0, m0, c0 = case["init"]
        return gmm_em(case["x"], w0, m0, c0, case["ct"], case["reg"], iters)
    s0, a0, m0, c0 = case["init"]
    return hmm_em(case["seqs"], s0, a0, m0, c0, case["ct"], 0.0, iters)


def param_names(kind):
    return ("weight", "means", "covariances") if kind == "gmm" else \
        ("start", "trans", "means", "covariances")


# --------------------------------------------------------------------------
# emc

def run_emc(emc, case, iters):
    out = os.path.join(case["workdir"], "emc-out")
    shutil.rmtree(out, ignore_errors=True)
    wd = case["workdir"]
    cmd = [emc, "run", os.path.join(wd, "model.em"), os.path.join(wd, "data.txt"),
           "--init", os.path.join(wd, "init.json"), "--iterations", str(iters),
           "--tolerance", "0", "--threads", "1", "--out", out, "--quiet"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        msg = (p.stderr or p.stdout).strip().splitlines()
        raise RuntimeError("emc exited %d: %s" % (p.returncode, " | ".join(msg[:6])))
    with open(os.path.join(out, "trace.tsv")) as f:
        lines = [ln.rstrip("\n") for ln in f if ln.strip()]
    header = lines[0].split("\t")
    it_col, ll_col = header.index("iteration"), header.index("log_likelihood")
    trace = {}
    for ln in lines[1:]:
        cols = ln.split("\t")
        trace[int(cols[it_col])] = float(cols[ll_col])
    with open(os.path.join(out, "params.json")) as f:
        params = json.load(f)
    fams = {fam["name"]: fam for fam in params["families"]}
    d = case["d"]
    if case["kind"] == "gmm":
        g = fams["g"]
        final = (np.asarray(fams["weight"]["values"], dtype=float).reshape(-1),
                 np.asarray(g["means"], dtype=float).reshape(K, d),
                 np.asarray(g["covariances"], dtype=float).reshape(K, d, d))
    else:
        e = fams["emit"]
        final = (np.asarray(fams["start"]["values"], dtype=float).reshape(-1),
                 np.asarray(fams["trans"]["values"], dtype=float).reshape(K, K),
                 np.asarray(e["means"], dtype=float).reshape(K, d),
                 np.asarray(e["covariances"], dtype=float).reshape(K, d, d))
    return trace, final


# --------------------------------------------------------------------------
# driver

class Report:
    def __init__(self):
        self.failures = []

    def check(self, case, what, ok, detail=""):
        status = "ok" if ok else "FAIL"
        print("  %-4s %-44s %s" % (status, what, detail))
        if not ok:
            self.failures.append("%s: %s %s" % (case, what, detail))
        return ok


def run_case(case, iters, emc, rep):
    name, kind = case["name"], case["kind"]
    print("\n== %s (%s, D=%d, K=%d, %s, reg_covar=%r, T=%d) -> %s" % (
        name, "sklearn GaussianMixture" if kind == "gmm" else "hmmlearn GaussianHMM",
        case["d"], K, case["ct"], case["reg"], iters, case["workdir"]))
    try:
        if kind == "gmm":
            peer_trace, peer_final = sklearn_gmm(case["x"], case["ct"], case["reg"],
                                                 case["init"], iters)
        else:
            peer_trace, peer_final = hmmlearn_hmm(case["seqs"], case["ct"], case["init"], iters)
    except Exception as e:  # noqa: BLE001 - report and continue
        rep.check(name, "peer run", False, repr(e))
        return
    names = param_names(kind)

    # --- peer self-checks
    drops = [peer_trace[t] - peer_trace[t + 1] for t in range(iters)]
    worst = max(drops) if drops else 0.0
    rep.check(name, "peer trace non-decreasing", all(
        dr <= MONO_SLACK * abs(peer_trace[t]) for t, dr in enumerate(drops)),
        "largest drop %.3g" % max(worst, 0.0))
    ref_trace, ref_hist = reference_run(case, iters)
    one = peer_one_step(case)
    for pname, a, b in zip(names, one, ref_hist[0]):
        ok, rel = close(b, a, REF_RTOL, REF_ATOL)
        rep.check(name, "numpy 1-step == peer 1-step: %s" % pname, ok, "max rel %.2e" % rel)
    ok, rel = close(ref_trace, peer_trace, REF_RTOL, REF_ATOL)
    rep.check(name, "numpy trace == peer trace (t=0..%d)" % iters, ok, "max rel %.2e" % rel)
    for pname, a, b in zip(names, peer_final, ref_hist[-1]):
        ok, rel = close(b, a, 1e-8, 1e-11)
        rep.check(name, "numpy final == peer final: %s" % pname, ok, "max rel %.2e" % rel)

    if emc is None:
        print("  t  %22s" % "peer log-likelihood")
        for t, v in enumerate(peer_trace):
            print("  %2d %22.12f" % (t, v))
        return

    # --- emc vs peer
    try:
        emc_trace, emc_final = run_emc(emc, case, iters)
    except Exception as e:  # noqa: BLE001
        rep.check(name, "emc run", False, str(e))
        return
    print("  %3s %22s %22s %10s" % ("t", "peer log-lik", "emc log-lik", "rel diff"))
    bad, missing, worst = [], [], 0.0
    for t, pv in enumerate(peer_trace):
        if t not in emc_trace:
            print("  %3d %22.12f %22s %10s  FAIL" % (t, pv, "missing", "-"))
            missing.append(t)
            continue
        ok, rel = close(emc_trace[t], pv, EMC_RTOL, EMC_ATOL)
        worst = max(worst, rel)
        print("  %3d %22.12f %22.12f %10.2e  %s" % (t, pv, emc_trace[t], rel, "ok" if ok else "FAIL"))
        if not ok:
            bad.append(t)
    rep.check(name, "emc log-likelihood == peer at t=0..%d" % iters, not bad and not missing,
              "max rel %.2e%s%s" % (worst, "; wrong at t=%s" % bad if bad else "",
                                    "; missing t=%s" % missing if missing else ""))
    extra = sorted(set(emc_trace) - set(range(iters + 1)))
    rep.check(name, "emc trace has exactly t=0..%d" % iters, not extra,
              "extra rows %s" % extra if extra else "")
    for pname, a, b in zip(names, peer_final, emc_final):
        ok, rel = close(b, a, EMC_RTOL, EMC_ATOL)
        rep.check(name, "emc final == peer final: %s" % pname, ok,
                  "max rel %.2e%s" % (rel, "" if ok or np.shape(a) != np.shape(b) else
                                      "\n       peer %s\n       emc  %s" % (
                                          np.array2string(np.asarray(a), precision=10),
                                          np.array2string(np.asarray(b), precision=10))))


def build_cases(only, iters, root):
    cases = []
    if only in (None, "gmm"):
        for i, ct in enumerate(("full", "diag", "spherical", "tied")):
            cases.append(make_gmm_case("gmm-" + ct, ct, 2, 1000 + i, iters,
                                       os.path.join(root, "gmm-" + ct)))
        cases.append(make_gmm_case("gmm-full-d3", "full", 3, 1010, iters,
                                   os.path.join(root, "gmm-full-d3")))
        cases.append(make_gmm_case("gmm-diag-d1", "diag", 1, 1011, iters,
                                   os.path.join(root, "gmm-diag-d1")))
        for i, ct in enumerate(("full", "diag", "spherical", "tied")):
            cases.append(make_gmm_case("gmm-%s-reg" % ct, ct, 2, 1020 + i, iters,
                                       os.path.join(root, "gmm-%s-reg" % ct),
                                       reg_text=REG_COVAR_BIG_TEXT))
    if only in (None, "hmm"):
        for i, ct in enumerate(("full", "diag", "spherical", "tied")):
            cases.append(make_hmm_case("hmm-" + ct, ct, 2, 2000 + i, iters,
                                       os.path.join(root, "hmm-" + ct)))
    return cases


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emc", help="path to the emc binary (required unless --peers-only)")
    ap.add_argument("--only", choices=("gmm", "hmm"))
    ap.add_argument("--iterations", type=int, default=20, help="EM iterations T (default 20)")
    ap.add_argument("--peers-only", action="store_true",
                    help="run only sklearn/hmmlearn and the NumPy re-implementation")
    ap.add_argument("--keep", metavar="DIR",
                    help="write case directories under DIR and keep them "
                         "(default: a temporary directory, removed at exit)")
    args = ap.parse_args(argv)
    if args.iterations < 1:
        ap.error("--iterations must be >= 1")
    emc = None
    if not args.peers_only:
        if not args.emc:
            ap.error("--emc PATH is required unless --peers-only")
        emc = os.path.abspath(args.emc)
        if not (os.path.isfile(emc) and os.access(emc, os.X_OK)):
            ap.error("emc binary not found or not executable: %s" % emc)
    logging.getLogger("hmmlearn").setLevel(logging.ERROR)

    import hmmlearn
    import sklearn
    print("numpy %s, scipy %s, scikit-learn %s, hmmlearn %s; T=%d; %s" % (
        np.__version__, __import__("scipy").__version__, sklearn.__version__,
        hmmlearn.__version__, args.iterations,
        "peers only" if emc is None else "emc: " + emc))

    if args.keep:
        root = os.path.abspath(args.keep)
        os.makedirs(root, exist_ok=True)
        cleanup = False
    else:
        root = tempfile.mkdtemp(prefix="emc-crosscheck-")
        cleanup = True
    rep = Report()
    try:
        for case in build_cases(args.only, args.iterations, root):
            run_case(case, args.iterations, emc, rep)
    finally:
        if cleanup:
            shutil.rmtree(root, ignore_errors=True)

    print()
    if rep.failures:
        print("FAILED: %d check(s)" % len(rep.failures))
        for f in rep.failures:
            print("  - " + f.splitlines()[0])
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
