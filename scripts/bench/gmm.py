#!/usr/bin/env python3
"""W3: Gaussian mixture EM, emc against scikit-learn's GaussianMixture, same data and the same
initial parameters (full covariances, reg_covar 1e-6, no early stopping).

    gmm.py --emc target/release/emc --n 1000000 --dim 2 --k 8 --iterations 5 --out DIR

Generates DIR/{data.txt, init.json, model.em} with a fixed seed (points from K random
Gaussians; the initial means are K of the points, every covariance the data's, equal
weights), times T iterations of each tool, checks their log-likelihood traces agree
(relative 1e-6) and prints a Markdown table. scikit-learn runs with one BLAS thread.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def generate(n, dim, k, seed, out):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 5.0, size=(k, dim))
    scales = [np.linalg.cholesky(np.cov(rng.normal(size=(dim, dim + 3)))) + 0.1 * np.eye(dim) for _ in range(k)]
    labels = rng.integers(0, k, size=n)
    x = np.empty((n, dim))
    for c in range(k):
        idx = labels == c
        x[idx] = centres[c] + rng.normal(size=(idx.sum(), dim)) @ scales[c].T
    means = x[rng.choice(n, size=k, replace=False)]
    cov = np.cov(x, rowvar=False).reshape(dim, dim)
    weights = np.full(k, 1.0 / k)
    os.makedirs(out, exist_ok=True)
    np.savetxt(f"{out}/data.txt", x, fmt="%.17g")
    init = {
        "format": "emc-params-1",
        "domains": [{"name": "Comp", "symbols": [str(i) for i in range(k)]}],
        "families": [
            {"name": "weight", "kind": "Categorical", "outcome": "Comp", "conditions": [],
             "values": [weights.tolist()]},
            {"name": "g", "kind": "Gaussian", "outcome": f"Real[{dim}]", "conditions": ["Comp"],
             "values": [], "covariance": "full", "means": means.tolist(),
             "covariances": [cov.tolist()] * k},
        ],
    }
    with open(f"{out}/init.json", "w") as f:
        json.dump(init, f)
    with open(f"{out}/model.em", "w") as f:
        f.write(f"""const K = {k}
domain Comp = 0..K
data x : Real[{dim}]
param weight : Categorical(Comp)
param g : Gaussian(Real[{dim}] | Comp) {{ covariance: full, reg_covar: 1e-6 }}
model {{
    hidden c : Comp
    c ~ weight
    x ~ g(c)
}}
""")
    return x, weights, means, cov


def run_sklearn(x, weights, means, cov, iterations):
    from sklearn.mixture import GaussianMixture

    k, dim = means.shape
    precision = np.linalg.inv(cov)
    gm = GaussianMixture(n_components=k, covariance_type="full", reg_covar=1e-6, tol=0,
                         max_iter=iterations, weights_init=weights, means_init=means,
                         precisions_init=np.array([precision] * k))
    start = time.perf_counter()
    gm.fit(x)
    seconds = time.perf_counter() - start
    # lower_bounds_[i]: mean log-likelihood after i M-steps.
    trace = [v * len(x) for v in gm.lower_bounds_]
    return seconds / iterations, trace


def run_emc(emc, out, iterations, threads):
    res = tempfile.mkdtemp(prefix="emc-gmm-")
    cmd = ["/usr/bin/time", "-v", emc, "run", f"{out}/model.em", f"{out}/data.txt", "--init",
           f"{out}/init.json", "--iterations", str(iterations), "--tolerance", "0",
           "--threads", str(threads), "--out", res, "--quiet"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"emc failed: {p.stderr}")
    rows = [l.split("\t") for l in open(f"{res}/trace.tsv").read().split("\n")[1:] if l]
    secs = [float(r[2]) for r in rows]
    rss = next((int(l.split(":")[1]) / 1024 for l in p.stderr.splitlines()
                if "Maximum resident" in l), float("nan"))
    return (secs[-1] - secs[0]) / (len(secs) - 1), [float(r[1]) for r in rows], rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emc", required=True)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=2)
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    x, weights, means, cov = generate(a.n, a.dim, a.k, a.seed, a.out)
    sk_per, sk_trace = run_sklearn(x, weights, means, cov, a.iterations)
    print(f"\n### GMM K = {a.k}, full covariances, {a.n} points in {a.dim}-D\n")
    print("| tool | s / iteration | peak RSS (MiB) | vs scikit-learn | max rel. diff of log-lik trace |")
    print("|---|---|---|---|---|")
    ok = True
    for threads in (1, 2):
        per, trace, rss = run_emc(a.emc, a.out, a.iterations, threads)
        diff = max(abs(e - s) / abs(s) for e, s in zip(trace, sk_trace))
        ok = ok and diff <= 1e-6
        print(f"| emc, {threads} thread{'s' if threads > 1 else ''} | {per:.3f} | {rss:.0f} | "
              f"{sk_per / per:.2f}x faster | {diff:.1e} |")
    print(f"| scikit-learn GaussianMixture, 1 BLAS thread | {sk_per:.3f} | - | 1.00x | - |")
    if not ok:
        sys.exit("log-likelihood traces disagree by more than 1e-6")


if __name__ == "__main__":
    main()
