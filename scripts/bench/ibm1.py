#!/usr/bin/env python3
"""W4: IBM Model 1 on the English-French Hansards, whole runs timed from outside.

    ibm1.py --emc target/release/emc --runs 5 --out DIR [--shared ../shared]

Writes DIR/hansards.txt: the 50k training pairs plus the 447 test pairs (test.ascii, which is
accent-stripped like the training text), lowercased, one `french ||| english` pair a line, the
test pairs last. Each run is the whole job: `emc run models/ibm1_null.em` (read, compile, five
EM iterations, Viterbi alignments of every pair into decode.txt), as a user would start it.
The alignments of the test pairs are scored with `emc eval --metric aer` against
test.wa.nonullalign. Prints a Markdown table of median wall seconds (min-max) at 1 and 2
threads, without and with writing the parameter files.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TEST_PAIRS = 447


def prepare(shared, out):
    path = os.path.join(out, "hansards.txt")
    if os.path.exists(path):
        return path
    d = os.path.join(shared, "data", "hansards_en_fr")

    def lines(*names):
        rows = []
        for n in names:
            with open(os.path.join(d, n), encoding="utf-8") as f:
                rows.extend(f.read().splitlines())
        return rows

    fr = lines("hansard36.50k.tok.f", "test.ascii.f")
    en = lines("hansard36.50k.tok.e", "test.ascii.e")
    assert len(fr) == len(en)
    os.makedirs(out, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for a, b in zip(fr, en):
            f.write(" ".join(a.lower().split()) + " ||| " + " ".join(b.lower().split()) + "\n")
    return path


def run(emc, data, threads, params):
    out = tempfile.mkdtemp(prefix="emc-w4-")
    cmd = [emc, "run", "models/ibm1_null.em", data, "--out", out, "--threads", str(threads),
           "--quiet", "--decode"]
    if not params:
        cmd.append("--no-params")
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"emc failed: {p.stderr}")
    return seconds, out


def aer(emc, out, gold):
    with open(os.path.join(out, "decode.txt"), encoding="utf-8") as f:
        test = f.read().splitlines()[-TEST_PAIRS:]
    pred = os.path.join(out, "test.pred")
    with open(pred, "w", encoding="utf-8") as f:
        f.write("\n".join(test) + "\n")
    p = subprocess.run([emc, "eval", "--gold", gold, "--pred", pred, "--metric", "aer"],
                       capture_output=True, text=True, check=True)
    return p.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emc", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", required=True)
    ap.add_argument("--shared", default="../shared")
    a = ap.parse_args()
    data = prepare(a.shared, a.out)
    gold = os.path.join(a.shared, "data", "hansards_en_fr", "test.wa.nonullalign")
    print(f"\n### W4: IBM Model 1, {sum(1 for _ in open(data))} pairs, 5 iterations\n")
    print("| emc run | threads | wall s, median (min-max) of "
          f"{a.runs} | AER (precision, recall) |")
    print("|---|---|---|---|")
    for params in (False, True):
        for threads in (1, 2):
            run(a.emc, data, threads, params)  # warm-up: the file cache
            times, last = [], None
            for _ in range(a.runs):
                t, last = run(a.emc, data, threads, params)
                times.append(t)
            what = "`--decode` + params.json, params.tsv" if params else "`--decode --no-params`"
            print(f"| {what} | {threads} | {statistics.median(times):.2f} "
                  f"({min(times):.2f}-{max(times):.2f}) | {aer(a.emc, last, gold)} |")


if __name__ == "__main__":
    main()
