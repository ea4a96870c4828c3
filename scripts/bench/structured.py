#!/usr/bin/env python3
"""Structured-model benchmark (issue 12): emc's inside-outside E-step against the NumPy
peers on the same data from the same initial parameters, in one run.

    structured.py --emc target/release/emc [--iterations 10] [--repeats 3]
                  [--only seg,dmv10,dmv15,hmm]

Workloads (data prepared by scripts/data/*.py into target/data if missing; they read
../shared/data, so this is a corpus-scale check):

- seg:   unigram word segmentation on Brent (models/segmentation.em with MAXLEN = 10)
         against seg_peer.py --max-len 10; both start uniform.
- dmv10: the DMV (models/dmv.em) on EWT train sentences of at most 10 tokens against
         dmv_peer.py --init uniform; dmv15: at most 15 tokens.
- hmm:   the recursive HMM (models/hmm_recursive.em) against the chain kernel (models/hmm.em)
         on models/hmm.txt: what a structured story costs over the fixed-structure plan.

Every emc run's log-likelihood trace must agree with its reference's to 1e-9 (relative),
else the script fails. Timing is wall time per iteration as each tool reports it (emc: the
span of its trace.tsv, so reading the data and building the hypergraphs are excluded, as
loading is for the peers); hyperedges per second per core come from the hyperedge count
`emc check` prints; peak memory is the whole process's, from GNU time. Each configuration
(the peer, emc on one thread, on two) runs --repeats times, interleaved, and the table gives
the median of its times per iteration: an iteration of a few milliseconds moves by a fifth
with whatever else the host runs, and one run of each made the ratios as noisy. Prints a
Markdown table.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "scripts", "bench")


def peak_rss_mib(stderr):
    for line in stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024.0
    return float("nan")


def prepare():
    data = os.path.join(ROOT, "target", "data")
    jobs = [
        ("brent/chars.txt", ["scripts/data/brent.py", "--out", "target/data/brent"]),
        ("ewt10/train/tags.txt",
         ["scripts/data/ewt_dmv.py", "--out", "target/data/ewt10", "--max-length", "10"]),
        ("ewt15/train/tags.txt",
         ["scripts/data/ewt_dmv.py", "--out", "target/data/ewt15", "--max-length", "15"]),
    ]
    for path, cmd in jobs:
        if not os.path.exists(os.path.join(data, path)):
            subprocess.run([sys.executable] + cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def run_emc(emc, model, data, iterations, threads, extra):
    out = tempfile.mkdtemp(prefix="emc-structured-")
    cmd = ["/usr/bin/time", "-v", emc, "run", model, data, "--iterations", str(iterations),
           "--tolerance", "0", "--threads", str(threads), "--out", out, "--no-params",
           "--quiet"] + extra
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        sys.exit(f"emc failed: {' '.join(cmd)}\n{p.stderr}")
    rows = [l.split("\t") for l in open(f"{out}/trace.tsv").read().split("\n")[1:] if l]
    lls = [float(r[1]) for r in rows]
    secs = [float(r[2]) for r in rows]
    # secs[t] is when iteration t's E-step ended: the span from the first to the last holds
    # len - 1 whole iterations (M-step and E-step each).
    per_iter = (secs[-1] - secs[0]) / (len(secs) - 1)
    return {"lls": lls, "seconds": per_iter, "peak": peak_rss_mib(p.stderr)}


def hyperedges(emc, model, data, extra):
    sets = [x for i, x in enumerate(extra) if x == "--set" or (i > 0 and extra[i - 1] == "--set")]
    p = subprocess.run([emc, "check", model, data] + sets, capture_output=True, text=True,
                       cwd=ROOT)
    m = re.search(r"(?:cost|measured)\s+(\d+) nodes and (\d+) hyperedges", p.stdout + p.stderr)
    return int(m.group(2)) if m else None


def run_peer(script, args):
    cmd = ["/usr/bin/time", "-v", sys.executable, os.path.join(HERE, script)] + args
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        sys.exit(f"peer failed: {' '.join(cmd)}\n{p.stderr}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return {"lls": out["log_likelihoods"], "seconds": out["seconds_per_iteration"],
            "cpu": out.get("cpu_seconds_per_iteration"), "peak": peak_rss_mib(p.stderr)}


def median_of(runs):
    """The run with the median time per iteration (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]


def agree(name, a, b, tol=1e-9):
    n = min(len(a), len(b))
    worst = max(abs(x - y) / max(abs(y), 1.0) for x, y in zip(a[:n], b[:n]))
    if worst > tol:
        sys.exit(f"{name}: traces differ by {worst:.3e} (relative)\n  emc  {a}\n  peer {b}")
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emc", default=os.path.join(ROOT, "target", "release", "emc"))
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="seg,dmv10,dmv15,hmm")
    a = ap.parse_args()
    prepare()
    T = a.iterations
    rows = []
    work = {
        "seg": ("segmentation, Brent, L = 10", "models/segmentation.em",
                "target/data/brent/chars.txt", ["--set", "MAXLEN=10", "--init-mode", "uniform"],
                ("seg_peer.py", ["--data", "target/data/brent/chars.txt", "--max-len", "10",
                                 "--iterations", str(T)])),
        "dmv10": ("DMV, EWT train <= 10", "models/dmv.em", "target/data/ewt10/train/tags.txt",
                  ["--init-mode", "uniform"],
                  ("dmv_peer.py", ["--data", "target/data/ewt10/train/tags.txt", "--init",
                                   "uniform", "--iterations", str(T)])),
        "dmv15": ("DMV, EWT train <= 15", "models/dmv.em", "target/data/ewt15/train/tags.txt",
                  ["--init-mode", "uniform"],
                  ("dmv_peer.py", ["--data", "target/data/ewt15/train/tags.txt", "--init",
                                   "uniform", "--iterations", str(T)])),
    }
    print("| workload | hyperedges | peer s/iter | emc 1 thread s/iter | ratio | emc 2 threads "
          "s/iter | 2-thread speed-up | hyperedges/s/core | peak MiB emc / peer | trace |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key in a.only.split(","):
        if key == "hmm":
            continue
        name, model, data, extra, (script, args) = work[key]
        runs = {"peer": [], "one": [], "two": []}
        for _ in range(max(a.repeats, 1)):
            runs["peer"].append(run_peer(script, args))
            runs["one"].append(run_emc(a.emc, model, data, T, 1, extra))
            runs["two"].append(run_emc(a.emc, model, data, T, 2, extra))
        peer, one, two = (median_of(runs[k]) for k in ("peer", "one", "two"))
        worst = max(agree(key, r["lls"], peer["lls"]) for r in runs["one"] + runs["two"])
        edges = hyperedges(a.emc, model, data, extra)
        print(f"| {name} | {edges:,} | {peer['seconds']:.4f} | {one['seconds']:.4f} | "
              f"{peer['seconds'] / one['seconds']:.1f}x | {two['seconds']:.4f} | "
              f"{one['seconds'] / two['seconds']:.2f}x | {edges / one['seconds']:.3g} | "
              f"{one['peak']:.0f} / {peer['peak']:.0f} | {worst:.1e} |", flush=True)
    if "hmm" in a.only.split(","):
        chains, recs = [], []
        for _ in range(max(a.repeats, 1)):
            chains.append(run_emc(a.emc, "models/hmm.em", "models/hmm.txt", T, 1, []))
            recs.append(run_emc(a.emc, "models/hmm_recursive.em", "models/hmm.txt", T, 1, []))
        chain, rec = median_of(chains), median_of(recs)
        worst = agree("hmm", rec["lls"], chain["lls"])
        edges = hyperedges(a.emc, "models/hmm_recursive.em", "models/hmm.txt", [])
        print()
        print("| recursive HMM vs chain kernel (models/hmm.txt, 1 thread) | chain s/iter | "
              "recursive s/iter | recursive / chain | hyperedges | trace |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        print(f"| K = 10 | {chain['seconds']:.4f} | {rec['seconds']:.4f} | "
              f"{rec['seconds'] / chain['seconds']:.1f}x | {edges:,} | {worst:.1e} |")


if __name__ == "__main__":
    main()
