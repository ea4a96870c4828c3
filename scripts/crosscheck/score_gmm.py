#!/usr/bin/env python3
"""scikit-learn's GaussianMixture.score, .bic and .aic at the parameters of an emc params.json.

tests/score.rs asserts that `emc score MODEL DATA --params P --bic --aic` gives these
numbers for the mixtures in tests/score/ (trained once by `emc run` and committed); cargo
test has no scikit-learn, so the figures were computed by this script and copied there:

    target/bench-venv/bin/python scripts/crosscheck/score_gmm.py \
        models/gmm_2d.txt tests/score/gmm_{full,diagonal,spherical,tied}.params.json
    target/bench-venv/bin/python scripts/crosscheck/score_gmm.py \
        models/old_faithful.txt tests/score/old_faithful.params.json

Each params.json holds one unconditioned Categorical family (the mixture weights) and one
Gaussian family conditioned on it. The mixture is set to those parameters without fitting
(weights_, means_, covariances_ in scikit-learn's shape for the covariance type, and the
Cholesky factors of the precisions scikit-learn scores with), then scored on the data.
scikit-learn's `score` is the mean log-likelihood per sample; the total is it times n.
"""

import json
import sys

import numpy as np
from sklearn.mixture import GaussianMixture
from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky

# emc's covariance names to scikit-learn's.
TYPES = {"full": "full", "diagonal": "diag", "spherical": "spherical", "tied": "tied"}


def mixture(params):
    families = params["families"]
    weights = next(f for f in families if f["kind"] == "Categorical")
    gaussian = next(f for f in families if f["kind"] == "Gaussian")
    kind = TYPES[gaussian["covariance"]]
    means = np.array(gaussian["means"], dtype=float)
    full = np.array(gaussian["covariances"], dtype=float)  # emc writes every row in full
    if kind == "full":
        cov = full
    elif kind == "diag":
        cov = np.array([np.diag(c) for c in full])
    elif kind == "spherical":
        cov = np.array([np.diag(c).mean() for c in full])
    else:
        cov = full[0]
    gm = GaussianMixture(n_components=len(means), covariance_type=kind)
    gm.weights_ = np.array(weights["values"][0], dtype=float)
    gm.means_ = means
    gm.covariances_ = cov
    gm.precisions_cholesky_ = _compute_precision_cholesky(cov, kind)
    return gm


def main():
    data, paths = sys.argv[1], sys.argv[2:]
    x = np.loadtxt(data, ndmin=2)
    for path in paths:
        with open(path) as f:
            gm = mixture(json.load(f))
        mean = gm.score(x)
        print(f"{path}: n = {len(x)}, k = {gm._n_parameters()}")
        print(f"  score (mean per sample) {mean!r}")
        print(f"  total log-likelihood    {mean * len(x)!r}")
        print(f"  bic                     {gm.bic(x)!r}")
        print(f"  aic                     {gm.aic(x)!r}")


if __name__ == "__main__":
    main()
