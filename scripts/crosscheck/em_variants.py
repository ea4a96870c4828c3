#!/usr/bin/env python3
"""Cross-check emc's training algorithms against plain NumPy written from the papers.

  em_variants.py --emc EMC [--keep DIR]

On `models/hmm.em` (10 states, 500 lines of `models/hmm.txt`), from the random initial
parameters emc writes with `--iterations 0`, this reimplements each algorithm with an
independent scaled forward-backward (and a log-space Viterbi) and compares emc's trace.tsv
and final params.json:

- stepwise EM (Liang & Klein 2009): mini-batches of B lines in data order,
  mu <- (1 - eta_k) mu + eta_k (N / B_k) s_k, eta_k = (k + 2)^-alpha, mu starting at the
  whole data's expected counts under the initial parameters; the trace holds each pass's sum
  of its batches' log-likelihoods;
- incremental EM (Neal & Hinton 1998): each block's counts kept, replaced when the block is
  visited, an M-step after each block; the trace's free energy
  F = sum_b (log p(x_b | theta_b) - E_b[log p(x_b, z | theta_b)]) + E[log p(x, z | theta)];
- hard EM: counts of each line's Viterbi path; the trace holds sum_lines max_z log p(x, z);
- variational Bayes (Beal 2003; Johnson 2007) with a symmetric Dirichlet(a): weights
  exp(psi(a + c_k) - psi(sum)), the evidence lower bound log Z~ - KL(q || p) in the trace;
- deterministic annealing (Ueda & Nakano 1998): posteriors proportional to p^beta, stages
  beta = b0 * r^s up to 1, the trace holding log sum_z p(x, z)^beta / beta.

Each to 1e-9 relative (traces) and 1e-9 absolute (parameters). Exit status 0 only if every
check passed. Needs numpy and scipy (run.sh's virtualenv).
"""
import argparse
import json
import math
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
from scipy.special import digamma, gammaln

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "hmm.em"
DATA = ROOT / "models" / "hmm.txt"
TOL = 1e-9


def run(emc, out, *flags):
    subprocess.run([emc, "run", str(MODEL), str(DATA), "--out", str(out), "--quiet",
                    "--threads", "1", "--seed", "3", *flags], check=True,
                   stdout=subprocess.DEVNULL)
    trace = [l.split("\t") for l in (out / "trace.tsv").read_text().splitlines()]
    header, rows = trace[0], trace[1:]
    params = json.loads((out / "params.json").read_text())
    return header, rows, params


def tables(params):
    fam = {f["name"]: np.array(f["values"], dtype=float) for f in params["families"]}
    words = next(d["symbols"] for d in params["domains"] if d["name"] == "Word")
    return (fam["start"].ravel(), fam["trans"], fam["emit"],
            {w: i for i, w in enumerate(words)})


def forward_backward(line, start, trans, emit):
    """Expected counts (start, trans, emit) and log p(x) by scaled forward-backward."""
    T, K = len(line), len(start)
    alpha = np.zeros((T, K))
    scale = np.zeros(T)
    a = start * emit[:, line[0]]
    scale[0] = a.sum()
    alpha[0] = a / scale[0]
    for t in range(1, T):
        a = (alpha[t - 1] @ trans) * emit[:, line[t]]
        scale[t] = a.sum()
        alpha[t] = a / scale[t]
    beta = np.ones((T, K))
    for t in range(T - 2, -1, -1):
        beta[t] = trans @ (emit[:, line[t + 1]] * beta[t + 1]) / scale[t + 1]
    gamma = alpha * beta
    cs, ct, ce = gamma[0].copy(), np.zeros_like(trans), np.zeros_like(emit)
    for t in range(T - 1):
        ct += np.outer(alpha[t], emit[:, line[t + 1]] * beta[t + 1]) * trans / scale[t + 1]
    for t in range(T):
        ce[:, line[t]] += gamma[t]
    return (cs, ct, ce), float(np.log(scale).sum())


def viterbi(line, start, trans, emit):
    """Counts of the most probable path and its log probability."""
    with np.errstate(divide="ignore"):
        ls, lt, le = np.log(start), np.log(trans), np.log(emit)
    T, K = len(line), len(start)
    delta = ls + le[:, line[0]]
    back = np.zeros((T, K), dtype=int)
    for t in range(1, T):
        scores = delta[:, None] + lt
        back[t] = scores.argmax(axis=0)
        delta = scores.max(axis=0) + le[:, line[t]]
    path = [int(delta.argmax())]
    best = float(delta.max())
    for t in range(T - 1, 0, -1):
        path.append(int(back[t][path[-1]]))
    path.reverse()
    cs, ct, ce = np.zeros(K), np.zeros((K, K)), np.zeros_like(emit)
    cs[path[0]] += 1
    for t in range(1, T):
        ct[path[t - 1], path[t]] += 1
    for t in range(T):
        ce[path[t], line[t]] += 1
    return (cs, ct, ce), best


def e_step(lines, theta, count=forward_backward):
    total = [np.zeros_like(x) for x in theta]
    ll = 0.0
    for line in lines:
        c, l = count(line, *theta)
        for a, b in zip(total, c):
            a += b
        ll += l
    return total, ll


def normalise(counts):
    return [c / c.sum(axis=-1, keepdims=True) for c in counts]


def expected_log(counts, theta):
    return sum(float((c[c != 0] * np.log(t[c != 0])).sum()) for c, t in zip(counts, theta))


def stepwise(lines, theta, batch, alpha, passes):
    mu, ll0 = e_step(lines, theta)
    trace = [ll0]
    k = 0
    for _ in range(passes):
        ll = 0.0
        for b in range(0, len(lines), batch):
            part = lines[b:b + batch]
            s, l = e_step(part, theta)
            ll += l
            eta = (k + 2.0) ** -alpha
            mu = [(1 - eta) * m + eta * len(lines) / len(part) * x for m, x in zip(mu, s)]
            k += 1
            theta = normalise(mu)
        trace.append(ll)
    return trace, theta


def incremental(lines, theta, batch, passes):
    blocks, entropies = [], []
    ll0 = 0.0
    for b in range(0, len(lines), batch):
        s, l = e_step(lines[b:b + batch], theta)
        blocks.append(s)
        entropies.append(l - expected_log(s, theta))
        ll0 += l
    trace, free = [ll0], [ll0]
    for _ in range(passes):
        ll = 0.0
        for i, b in enumerate(range(0, len(lines), batch)):
            s, l = e_step(lines[b:b + batch], theta)
            ll += l
            entropies[i] = l - expected_log(s, theta)
            blocks[i] = s
            theta = normalise([sum(parts) for parts in zip(*blocks)])
        total = [sum(parts) for parts in zip(*blocks)]
        trace.append(ll)
        free.append(sum(entropies) + expected_log(total, theta))
    return trace, free, theta


def hard(lines, theta, iterations):
    trace = []
    for t in range(iterations + 1):
        c, ll = e_step(lines, theta, viterbi)
        trace.append(ll)
        if t < iterations:
            theta = normalise(c)
    return trace, theta


def vb(lines, theta, prior, iterations):
    def weights(post):
        return [np.exp(digamma(p) - digamma(p.sum(axis=-1, keepdims=True))) for p in post]

    def kl(post):
        total = 0.0
        for p in post:
            rows = p.reshape(-1, p.shape[-1])
            n = rows.shape[1]
            for a in rows:
                a0 = a.sum()
                total += (gammaln(a0) - gammaln(n * prior) + n * gammaln(prior)
                          + float((-gammaln(a) + (a - prior) * (digamma(a) - digamma(a0))).sum()))
        return total

    c, _ = e_step(lines, theta)
    post = [x + prior for x in c]
    lls, elbos = [], []
    for t in range(iterations + 1):
        c, ll = e_step(lines, weights(post))
        lls.append(ll)
        elbos.append(ll - kl(post))
        if t < iterations:
            post = [x + prior for x in c]
    return lls, elbos, [p / p.sum(axis=-1, keepdims=True) for p in post]


def anneal(lines, theta, start, rate, iterations):
    betas = []
    b = start
    while b < 1.0:
        betas.append(b)
        b *= rate
    betas.append(1.0)
    trace = []
    for s, beta in enumerate(betas):
        for t in range(iterations + 1):
            c, ll = e_step(lines, [x ** beta for x in theta])
            trace.append((ll / beta, beta))
            if t == iterations and s + 1 == len(betas):
                break
            theta = normalise(c)
            if t == iterations:
                break
    return trace, theta


def close(a, b, what, failures, rel=True):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        failures.append(f"{what}: shapes {a.shape} and {b.shape}")
        return
    scale = np.maximum(np.abs(b), 1.0) if rel else 1.0
    err = float(np.max(np.abs(a - b) / scale)) if a.size else 0.0
    status = "ok" if err <= TOL else "FAILED"
    print(f"{what:<40} max error {err:.2e}  {status}")
    if err > TOL:
        failures.append(what)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emc", default=str(ROOT / "target" / "release" / "emc"))
    ap.add_argument("--keep", help="keep emc's outputs in this directory")
    args = ap.parse_args()
    work = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="emc-variants-"))
    work.mkdir(parents=True, exist_ok=True)
    _, _, init = run(args.emc, work / "init", "--iterations", "0")
    start, trans, emit, index = tables(init)
    theta0 = [start, trans, emit]
    lines = [[index[w] for w in l.split()] for l in DATA.read_text().splitlines() if l.strip()]
    failures = []

    def column(rows, name, header):
        return [float(r[header.index(name)]) for r in rows]

    def params_of(p):
        s, t, e, _ = tables(p)
        return np.concatenate([s.ravel(), t.ravel(), e.ravel()])

    def flat(theta):
        return np.concatenate([x.ravel() for x in theta])

    passes, batch = 4, 120
    h, rows, p = run(args.emc, work / "stepwise", "--algorithm", "stepwise", "--batch",
                     str(batch), "--alpha", "0.7", "--iterations", str(passes), "--tolerance", "0")
    ref, theta = stepwise(lines, theta0, batch, 0.7, passes)
    close(column(rows, "log_likelihood", h), ref, "stepwise: trace", failures)
    close(params_of(p), flat(theta), "stepwise: parameters", failures, rel=False)

    h, rows, p = run(args.emc, work / "incremental", "--algorithm", "incremental", "--batch",
                     str(batch), "--iterations", str(passes), "--tolerance", "0")
    ref, free, theta = incremental(lines, theta0, batch, passes)
    close(column(rows, "log_likelihood", h), ref, "incremental: trace", failures)
    close(column(rows, "free_energy", h), free, "incremental: free energy", failures)
    if any(b < a - 1e-9 * abs(a) for a, b in zip(free, free[1:])):
        failures.append("incremental: the free energy decreased")
    close(params_of(p), flat(theta), "incremental: parameters", failures, rel=False)

    iterations = 6
    h, rows, p = run(args.emc, work / "vb", "--algorithm", "vb", "--prior", "0.1",
                     "--iterations", str(iterations), "--tolerance", "0")
    lls, elbos, theta = vb(lines, theta0, 0.1, iterations)
    close(column(rows, "log_likelihood", h), lls, "vb: log Z~", failures)
    close(column(rows, "elbo", h), elbos, "vb: evidence lower bound", failures)
    if any(b < a - 1e-9 * abs(a) for a, b in zip(elbos, elbos[1:])):
        failures.append("vb: the bound decreased")
    close(params_of(p), flat(theta), "vb: parameters (posterior means)", failures, rel=False)

    h, rows, p = run(args.emc, work / "anneal", "--anneal", "0.4", "--anneal-rate", "2",
                     "--iterations", "3", "--tolerance", "0")
    ref, theta = anneal(lines, theta0, 0.4, 2.0, 3)
    close(column(rows, "log_likelihood", h), [r[0] for r in ref], "anneal: trace", failures)
    close(column(rows, "beta", h), [r[1] for r in ref], "anneal: schedule", failures)
    close(params_of(p), flat(theta), "anneal: parameters", failures, rel=False)

    h, rows, p = run(args.emc, work / "hard", "--algorithm", "hard", "--iterations",
                     str(iterations), "--tolerance", "0")
    ref, theta = hard(lines, theta0, iterations)
    close(column(rows, "log_likelihood", h), ref, "hard: trace", failures)
    close(params_of(p), flat(theta), "hard: parameters", failures, rel=False)

    if failures:
        print("FAILED: " + ", ".join(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
