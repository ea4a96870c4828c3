#!/usr/bin/env python3
"""W5: the featurised HMM's Algorithm 1 iteration and start-up against a basic EM iteration.

    featurised.py --emc target/release/emc [--before OLD_EMC] [--ewt DIR] [--repeats 2]

On UD English EWT train (`../shared/data/ud_english_ewt`), 2 threads, `--tolerance 0`:
`models/pos_hmm.em` (basic EM), `models/pos_fhmm.em` (Algorithm 1, every M-step to
convergence) and the same model with `m_step_tolerance: 0.01` (generalised EM), each with
every binary given (`--before`: another build, to compare with; it runs the models it
accepts). Per run: seconds per EM iteration (the median spacing of trace.tsv's times after
iteration 1: each an E-step and an M-step) and the start-up (the whole process's wall time
less the trace's last time: reading, compiling, interning the features and fitting the
first weights; `--no-params` leaves out writing the 1.3M weights). The median over the
repeats, which alternate between binaries. Prints a Markdown table for BENCHMARKS.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(emc, model, data, iterations, out):
    start = time.perf_counter()
    p = subprocess.run(
        [emc, "run", model, data, "--iterations", str(iterations), "--tolerance", "0",
         "--threads", "2", "--quiet", "--no-params", "--out", out],
        capture_output=True, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        return None
    rows = [l.split("\t") for l in open(f"{out}/trace.tsv").read().split("\n")[1:] if l]
    seconds = [float(r[2]) for r in rows]
    per = statistics.median(b - a for a, b in zip(seconds[1:], seconds[2:]))
    return per, wall - seconds[-1], float(rows[-1][1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emc", required=True)
    ap.add_argument("--before")
    ap.add_argument("--ewt", default="../shared/data/ud_english_ewt")
    ap.add_argument("--iterations", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    data = f"{a.ewt}/en_ewt-train.words"
    if not os.path.exists(data):
        sys.exit(f"{data} is missing: EWT comes from ../shared/data (or --ewt DIR)")
    tmp = tempfile.mkdtemp(prefix="emc-w5-")
    fast = f"{tmp}/pos_fhmm_inexact.em"
    text = open("models/pos_fhmm.em").read()
    assert "    l2: 1.0\n" in text
    open(fast, "w").write(text.replace("    l2: 1.0\n", "    l2: 1.0,\n    m_step_tolerance: 0.01\n"))
    models = [("basic HMM, EM", "models/pos_hmm.em"),
              ("featurised, Algorithm 1", "models/pos_fhmm.em"),
              ("featurised, Algorithm 1, `m_step_tolerance: 0.01`", fast)]
    binaries = [("this build", os.path.abspath(a.emc))]
    if a.before:
        binaries.insert(0, ("before", os.path.abspath(a.before)))
    results = {}
    for r in range(a.repeats):
        for name, model in models:
            for label, emc in binaries:
                got = run(emc, model, data, a.iterations, f"{tmp}/{r}")
                results.setdefault((name, label), []).append(got)
                print(f"# {label} {name}: {got}", file=sys.stderr)
    basic = {label: statistics.median(x[0] for x in results[(models[0][0], label)])
             for label, _ in binaries}
    print("| model | binary | s / iteration | vs basic EM | start-up s | log-lik after "
          f"{a.iterations} |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, _ in models:
        for label, _ in binaries:
            runs = results[(name, label)]
            if any(x is None for x in runs):
                print(f"| {name} | {label} | (refused) | | | |")
                continue
            per = statistics.median(x[0] for x in runs)
            up = statistics.median(x[1] for x in runs)
            print(f"| {name} | {label} | {per:.3f} | {per / basic[label]:.1f}x | {up:.2f} | "
                  f"{runs[0][2]:.1f} |")


if __name__ == "__main__":
    main()
