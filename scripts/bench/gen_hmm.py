#!/usr/bin/env python3
"""Generate an HMM Baum-Welch benchmark workload for emc and its peers.

Writes into --out DIR:
  data.txt   one sentence per line, tokens "w<i>" separated by single spaces
  init.json  initial parameters in emc's "emc-params-1" format
  model.em   the emc model (first-order HMM with K states)
  meta.json  the generation settings and a few statistics (not read by emc)

Data: sentence lengths are 1 + Poisson(L - 1) (mean L), or exactly L with
--fixed-length (then no lengths are drawn, so the tokens differ from the
Poisson run's at the same seed); words are drawn
i.i.d. from a Zipfian unigram distribution over V types, p(w_r) ~ 1 / (r+1)^1.1
for r = 0..V-1 (so w0 is the most frequent word). The data is NOT sampled from
an HMM: it is only a workload with a realistic vocabulary shape; EM on it is
well defined and deterministic from init.json.

Initial parameters: every row (start, each trans row, each emit row) is an
independent Dirichlet(1, ..., 1) draw, normalised again in float64. All
randomness comes from numpy.random.default_rng(seed), drawn in this order:
lengths (unless --fixed-length), tokens, start, trans, emit.

Word symbols in init.json are w0..w{V-1} in that order, so word wi has index i.
Floats are written with repr() (round-trip exact).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

MODEL_TEMPLATE = """const K = {k}
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]
param start : Categorical(State)
param trans : Categorical(State | State)
param emit  : Categorical(Word | State)
train {{ iterations: {iterations}, tolerance: 0, seed: 0 }}
model {{
    hidden z : [State; len(words)]
    z[0] ~ start
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}}
"""


def dirichlet_rows(rng, rows, cols):
    m = rng.dirichlet(np.ones(cols), size=rows)
    m /= m.sum(axis=1, keepdims=True)
    return m


def rows_json(m):
    # repr(float) is the shortest round-trip representation.
    return "[" + ",\n  ".join(
        "[" + ", ".join(repr(float(x)) for x in row) + "]" for row in m) + "]"


def write_init(path, k, v, start, trans, emit):
    domains = json.dumps([
        {"name": "State", "symbols": [str(i) for i in range(k)]},
        {"name": "Word", "symbols": ["w%d" % i for i in range(v)]},
    ])
    with open(path, "w") as f:
        f.write('{"format": "emc-params-1",\n "domains": %s,\n "families": [\n' % domains)
        f.write(' {"name": "start", "kind": "Categorical", "outcome": "State", '
                '"conditions": [], "values": %s},\n' % rows_json(start[None, :]))
        f.write(' {"name": "trans", "kind": "Categorical", "outcome": "State", '
                '"conditions": ["State"], "values": %s},\n' % rows_json(trans))
        f.write(' {"name": "emit", "kind": "Categorical", "outcome": "Word", '
                '"conditions": ["State"], "values": %s}\n' % rows_json(emit))
        f.write(']}\n')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=45, help="hidden states (default 45)")
    ap.add_argument("--vocab", type=int, default=10000, help="word types V (default 10000)")
    ap.add_argument("--sentences", type=int, default=50000, help="sentences N (default 50000)")
    ap.add_argument("--mean-length", type=float, default=20.0, help="mean sentence length L (default 20)")
    ap.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent (default 1.1)")
    ap.add_argument("--fixed-length", action="store_true",
                    help="every sentence exactly --mean-length tokens (an integer); no lengths drawn")
    ap.add_argument("--seed", type=int, default=0, help="numpy default_rng seed (default 0)")
    ap.add_argument("--iterations", type=int, default=10, help="iterations written in model.em's train block")
    ap.add_argument("--out", required=True, help="output directory")
    a = ap.parse_args(argv)
    if a.k < 1 or a.vocab < 1 or a.sentences < 1 or a.mean_length < 1:
        ap.error("--k, --vocab, --sentences must be >= 1 and --mean-length >= 1")
    if a.fixed_length and a.mean_length != int(a.mean_length):
        ap.error("--fixed-length needs a whole --mean-length")

    t0 = time.perf_counter()
    rng = np.random.default_rng(a.seed)
    if a.fixed_length:
        lengths = np.full(a.sentences, int(a.mean_length), dtype=np.int64)
    else:
        lengths = 1 + rng.poisson(a.mean_length - 1, size=a.sentences)
    n_tokens = int(lengths.sum())
    p = 1.0 / np.arange(1, a.vocab + 1, dtype=np.float64) ** a.zipf
    p /= p.sum()
    tokens = rng.choice(a.vocab, size=n_tokens, p=p)
    start = dirichlet_rows(rng, 1, a.k)[0]
    trans = dirichlet_rows(rng, a.k, a.k)
    emit = dirichlet_rows(rng, a.k, a.vocab)

    os.makedirs(a.out, exist_ok=True)
    names = np.array(["w%d" % i for i in range(a.vocab)], dtype=object)
    bounds = np.cumsum(lengths)[:-1]
    with open(os.path.join(a.out, "data.txt"), "w") as f:
        f.writelines(" ".join(s) + "\n" for s in np.split(names[tokens], bounds))
    write_init(os.path.join(a.out, "init.json"), a.k, a.vocab, start, trans, emit)
    with open(os.path.join(a.out, "model.em"), "w") as f:
        f.write(MODEL_TEMPLATE.format(k=a.k, iterations=a.iterations))
    seen = np.bincount(tokens, minlength=a.vocab) > 0
    meta = {
        "k": a.k, "vocab": a.vocab, "sentences": a.sentences,
        "mean_length": a.mean_length, "zipf": a.zipf, "seed": a.seed,
        "tokens": n_tokens, "max_length": int(lengths.max()),
        "types_seen": int(seen.sum()), "types_unseen": int(a.vocab - seen.sum()),
        "data_source": "iid-zipf-unigram", "init": "dirichlet(1)-rows",
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if a.fixed_length:
        # Only then, so that meta.json of the other runs keeps its keys.
        meta["fixed_length"] = True
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
