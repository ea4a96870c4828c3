#!/usr/bin/env python3
"""Peer Baum-Welch implementations for the emc HMM benchmark.

  peers.py --workload DIR --iterations T --peer {hmmlearn,numpy} [--threads 1]
  peers.py --check [--workload DIR] [--iterations T] [--threads 1]

Loads DIR/data.txt and DIR/init.json (written by gen_hmm.py), runs T
Baum-Welch (EM) iterations from exactly those parameters and prints one JSON
line on stdout:

  {"peer", "implementation", "k", "vocab", "sentences", "tokens", "iterations",
   "threads", "seconds_total", "seconds_per_iteration" (wall clock),
   "cpu_seconds_per_iteration" (process CPU time), "final_ll_seconds",
   "log_likelihoods", "log_likelihoods_after_msteps", "final_params_sha256"}

log_likelihoods[t] is the total log-likelihood (natural log) of the data under
the parameters after t M-steps; log_likelihoods_after_msteps lists those t.
Both peers report t = 0..T (T + 1 values): the E-step of iteration t computes
the log-likelihood at the parameters after t M-steps as a by-product (for
hmmlearn that is monitor_.history, which holds t = 0..T-1), and the value at
t = T comes from one extra forward pass after the timed loop (hmmlearn:
model.score; numpy: a forward-only pass). Only the T iterations are timed
(seconds_total); the extra pass is reported separately as final_ll_seconds.

--check generates (or uses) a small workload, runs both peers and fails
unless the two traces agree to a relative difference < 1e-9 and the trace is
non-decreasing.
"""
import argparse
import hashlib
import json
import os
import sys
import time


def set_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)


# ---------------------------------------------------------------- loading

def load_workload(d):
    import numpy as np
    with open(os.path.join(d, "init.json")) as f:
        init = json.load(f)
    assert init["format"] == "emc-params-1", init.get("format")
    doms = {x["name"]: x["symbols"] for x in init["domains"]}
    words = doms["Word"]
    fams = {x["name"]: np.asarray(x["values"], dtype=np.float64) for x in init["families"]}
    start = fams["start"][0]
    trans = fams["trans"]
    emit = fams["emit"]
    k, v = trans.shape[0], emit.shape[1]
    assert start.shape == (k,) and trans.shape == (k, k) and emit.shape == (k, v)
    assert len(doms["State"]) == k and len(words) == v
    index = {w: i for i, w in enumerate(words)}
    toks, lengths = [], []
    with open(os.path.join(d, "data.txt")) as f:
        for line in f:
            s = line.split()
            if not s:
                continue
            toks.extend(index[w] for w in s)
            lengths.append(len(s))
    obs = np.asarray(toks, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    return obs, lengths, start, trans, emit


def params_digest(start, trans, emit):
    import numpy as np
    h = hashlib.sha256()
    for a in (start, trans, emit):
        h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- hmmlearn

def run_hmmlearn(obs, lengths, start, trans, emit, iterations, implementation):
    import numpy as np
    from hmmlearn import hmm
    k, v = emit.shape
    m = hmm.CategoricalHMM(n_components=k, n_features=v, n_iter=iterations,
                           tol=-np.inf, init_params="", params="ste",
                           implementation=implementation, verbose=False)
    m.startprob_ = start.copy()
    m.transmat_ = trans.copy()
    m.emissionprob_ = emit.copy()
    X = obs.reshape(-1, 1)
    t0, c0 = time.perf_counter(), time.process_time()
    m.fit(X, lengths)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    # monitor_.history[i] is the log-likelihood computed in the E-step of
    # iteration i, i.e. at the parameters BEFORE that iteration's M-step
    # (after i M-steps): t = 0..T-1. hmmlearn 0.3.x keeps all of them.
    lls = [float(x) for x in m.monitor_.history]
    assert len(lls) == iterations, (len(lls), iterations)
    t1 = time.perf_counter()
    lls.append(float(m.score(X, lengths)))
    final_s = time.perf_counter() - t1
    return lls, fit_s, fit_cpu, final_s, params_digest(m.startprob_, m.transmat_, m.emissionprob_)


# ---------------------------------------------------------------- numpy

class PackedHMM:
    """Batched scaled forward-backward over many sentences.

    Sentences are sorted by length (descending) and packed time-major: the
    block for position t holds the t-th token of every sentence longer than
    t, and those sentences are always rows 0..n_t-1 of the block (n_t is
    non-increasing). So each position is one (n_t, K) @ (K, K) product for
    all sentences at once; sentences of equal length form contiguous row
    ranges (this is "group by length" with the groups stacked). Sentences
    that end at position t are the rows n_{t+1}..n_t-1 of block t.
    """

    def __init__(self, obs, lengths, vocab, emission_counts="sparse"):
        import numpy as np
        order = np.argsort(-lengths, kind="stable")
        ls = lengths[order]
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[order]
        T = int(ls.max())
        # n[t] = number of sentences with length > t
        # (ls is descending, so -ls is ascending and ls > t <=> -ls < -t)
        n = np.searchsorted(-ls, -np.arange(T), side="left").astype(np.int64)
        off = np.concatenate([[0], np.cumsum(n)])
        packed = np.empty(int(off[-1]), dtype=np.int64)
        for t in range(T):
            packed[off[t]:off[t + 1]] = obs[starts[:n[t]] + t]
        self.T, self.n, self.off, self.obs = T, n, off, packed
        self.N = len(lengths)
        self.tokens = int(off[-1])
        # tokens sorted by word type, for emission counts
        self.word_order = np.argsort(packed, kind="stable")
        sorted_words = packed[self.word_order]
        self.word_types, first = np.unique(sorted_words, return_index=True)
        self.word_first = first
        self.onehot = None
        if emission_counts == "sparse":
            import scipy.sparse as sp
            nv = int(vocab)
            self.onehot = sp.csr_matrix(
                (np.ones(self.tokens), (packed, np.arange(self.tokens))),
                shape=(nv, self.tokens))

    def forward(self, pi, A, eobs, alpha, scale, ET=None):
        """Scaled forward pass; returns the log-likelihood.

        With alpha/scale given (training): eobs is the packed (tokens, K)
        array of emission probabilities E[z, o] per token, alpha (tokens, K)
        and scale (tokens,) are filled. With alpha None (scoring only): the
        emission rows are gathered from ET (V, K) block by block."""
        import numpy as np
        off, n = self.off, self.n
        ll = 0.0
        prev = None
        for t in range(self.T):
            s, e = off[t], off[t + 1]
            if alpha is not None:
                a = alpha[s:e]
                if t == 0:
                    np.multiply(eobs[s:e], pi, out=a)
                else:
                    np.matmul(prev[:n[t]], A, out=a)
                    a *= eobs[s:e]
            else:
                a = ET[self.obs[s:e]]
                if t == 0:
                    a *= pi
                else:
                    a *= prev[:n[t]] @ A
            c = a.sum(axis=1)
            a /= c[:, None]
            if scale is not None:
                scale[s:e] = c
            ll += np.log(c).sum()
            prev = a
        return float(ll)

    def emission_counts(self, gamma, v):
        """(K, V) expected emission counts: sum of gamma rows per word type."""
        import numpy as np
        k = gamma.shape[1]
        if self.onehot is not None:
            ec = self.onehot @ gamma                        # (V, K) sparse x dense
            return np.ascontiguousarray(ec.T)
        g = gamma[self.word_order]
        ec = np.add.reduceat(g, self.word_first, axis=0)    # (types seen, K)
        out = np.zeros((k, v))
        out[:, self.word_types] = ec.T
        return out

    def em_iteration(self, pi, A, B, work):
        """One E-step at (pi, A, B) and the M-step. Returns (ll, pi', A', B')."""
        import numpy as np
        k, v = B.shape
        off, n = self.off, self.n
        ET = np.ascontiguousarray(B.T)                      # (V, K)
        alpha, scale, eobs = work["alpha"], work["scale"], work["eobs"]
        # E[:, o_t] for every token (mode="clip": with the default "raise", out= is buffered)
        np.take(ET, self.obs, axis=0, out=eobs, mode="clip")
        ll = self.forward(pi, A, eobs, alpha, scale)
        # Backward pass with the forward scales. alpha rows become gamma rows
        # in place once alpha_t is no longer needed (block t is last used for
        # the xi of (t, t+1)); eobs rows become m_t in place.
        xi = np.zeros((k, k))
        beta = np.ones((self.n[0], k))                      # beta for block T-1 rows
        AT = np.ascontiguousarray(A.T)
        for t in range(self.T - 1, 0, -1):
            s, e = off[t], off[t + 1]
            nt = n[t]
            bt = beta[:nt]
            # m_t = E[o_t] * beta_t / c_t   (n_t, K)
            m = eobs[s:e]
            m *= bt
            m /= scale[s:e, None]
            alpha[s:e] *= bt                                # gamma_t
            ps = off[t - 1]
            xi += alpha[ps:ps + nt].T @ m                   # sum_b alpha_{t-1} (x) m_t
            # beta_{t-1}: rows < n_t are m_t @ A.T; rows n_t..n_{t-1} end at t-1 (=1)
            newb = np.empty((n[t - 1], k))
            np.matmul(m, AT, out=newb[:nt])
            newb[nt:] = 1.0
            beta = newb
        alpha[off[0]:off[1]] *= beta                         # gamma_0
        gamma = alpha
        start_c = gamma[off[0]:off[1]].sum(axis=0)
        trans_c = xi * A
        emit_c = self.emission_counts(gamma, v)
        # M-step (plain maximum likelihood, rows with zero mass left at zero,
        # as hmmlearn does with its default priors of 1)
        def norm(x):
            s = x.sum(axis=-1, keepdims=True)
            s[s == 0] = 1.0
            return x / s
        return ll, norm(start_c), norm(trans_c), norm(emit_c)


def run_numpy(obs, lengths, start, trans, emit, iterations, emission_counts):
    import numpy as np
    k, v = emit.shape
    hm = PackedHMM(obs, lengths, v, emission_counts)
    work = {"alpha": np.empty((hm.tokens, k)), "scale": np.empty(hm.tokens),
            "eobs": np.empty((hm.tokens, k))}
    pi, A, B = start.copy(), trans.copy(), emit.copy()
    lls = []
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iterations):
        ll, pi, A, B = hm.em_iteration(pi, A, B, work)
        lls.append(ll)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    lls.append(hm.forward(pi, A, None, None, None, ET=np.ascontiguousarray(B.T)))
    final_s = time.perf_counter() - t1
    return lls, fit_s, fit_cpu, final_s, params_digest(pi, A, B)


# ---------------------------------------------------------------- driver

def run_peer(workload, peer, iterations, threads, implementation, emission_counts="sparse"):
    obs, lengths, start, trans, emit = load_workload(workload)
    if peer == "hmmlearn":
        lls, fit_s, fit_cpu, final_s, dig = run_hmmlearn(obs, lengths, start, trans, emit,
                                                iterations, implementation)
        impl = implementation
    else:
        lls, fit_s, fit_cpu, final_s, dig = run_numpy(obs, lengths, start, trans, emit, iterations,
                                             emission_counts)
        impl = "packed-scaled-float64/emission-counts-" + emission_counts
    return {
        "peer": peer, "implementation": impl,
        "k": int(emit.shape[0]), "vocab": int(emit.shape[1]),
        "sentences": int(len(lengths)), "tokens": int(obs.size),
        "iterations": iterations, "threads": threads,
        "seconds_total": fit_s, "seconds_per_iteration": fit_s / iterations,
        "cpu_seconds_per_iteration": fit_cpu / iterations,
        "final_ll_seconds": final_s,
        "log_likelihoods": lls,
        "log_likelihoods_after_msteps": list(range(len(lls))),
        "final_params_sha256": dig,
    }


def check(args):
    import subprocess
    import tempfile
    wl = args.workload
    tmp = None
    if wl is None:
        tmp = tempfile.TemporaryDirectory(prefix="emc-bench-check-")
        wl = tmp.name
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, os.path.join(here, "gen_hmm.py"), "--k", "5",
                        "--vocab", "50", "--sentences", "200", "--mean-length", "20",
                        "--seed", "1", "--out", wl], check=True, stdout=subprocess.DEVNULL)
    T = args.iterations
    res = {p: run_peer(wl, p, T, args.threads, args.implementation, args.emission_counts)
           for p in ("hmmlearn", "numpy")}
    a, b = res["hmmlearn"]["log_likelihoods"], res["numpy"]["log_likelihoods"]
    ok = len(a) == len(b) == T + 1
    worst = 0.0
    for x, y in zip(a, b):
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    ok = ok and worst < 1e-9
    mono = all(b[i + 1] >= b[i] - 1e-9 * abs(b[i]) for i in range(len(b) - 1))
    ok = ok and mono
    print(json.dumps({"check": "ok" if ok else "FAIL", "iterations": T,
                      "max_rel_diff": worst, "monotone": mono,
                      "hmmlearn": a, "numpy": b}))
    print(("check: " if ok else "check: ") + ("1 passed, 0 failed" if ok else "0 passed, 1 failed"),
          file=sys.stderr)
    if tmp is not None:
        tmp.cleanup()
    return 0 if ok else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description="Baum-Welch peers for the emc HMM benchmark")
    ap.add_argument("--workload", help="directory with data.txt and init.json")
    ap.add_argument("--iterations", type=int, default=None, help="EM iterations T")
    ap.add_argument("--peer", choices=["hmmlearn", "numpy"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--implementation", choices=["scaling", "log"], default="scaling",
                    help="hmmlearn forward-backward implementation (default scaling: faster)")
    ap.add_argument("--emission-counts", choices=["sparse", "reduceat"], default="sparse",
                    help="numpy peer: emission counts as a scipy.sparse one-hot (V x tokens) "
                         "product (default, faster) or pure-NumPy sort + np.add.reduceat")
    ap.add_argument("--check", action="store_true",
                    help="run both peers on a small workload and compare their traces")
    a = ap.parse_args(argv)
    set_threads(a.threads)
    if a.check:
        if a.iterations is None:
            a.iterations = 10
        return check(a)
    if a.workload is None or a.peer is None or a.iterations is None:
        ap.error("--workload, --iterations and --peer are required (or use --check)")
    if a.iterations < 1:
        ap.error("--iterations must be >= 1")
    print(json.dumps(run_peer(a.workload, a.peer, a.iterations, a.threads, a.implementation,
                              a.emission_counts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
