#!/usr/bin/env python3
"""W4: IBM Model 1 on the English-French Hansards, whole runs timed from outside.

    ibm1.py --emc target/release/emc --runs 5 --out DIR [--shared ../shared] [--before BINARY]

Writes DIR/hansards.txt: the 50k training pairs plus the 447 test pairs (test.ascii, which is
accent-stripped like the training text), lowercased, one `french ||| english` pair a line, the
test pairs last. Each run is the whole job: `emc run models/ibm1_null.em` (read, compile, five
EM iterations, Viterbi alignments of every pair into decode.txt), as a user would start it.
The alignments of the test pairs are scored with `emc eval --metric aer` against
test.wa.nonullalign. Prints a Markdown table of median wall seconds (min-max) and peak
memory at 1 and 2 threads, without and with writing the parameter files. With `--before`,
another emc binary (an earlier build) is timed the same way in the same run, each of its
runs alternating with one of `--emc`'s.

The peer in the same run is fast_align (Dyer et al. 2013) in its Model 1 mode (no `-d`), 5
iterations on the same file, built here with `g++ -O3 -march=native` from its source in
SHARED/peers/fast_align (no registry has it) into DIR; its alignments of the test pairs are
scored the same way. fast_align runs with `-r`, so that it models the left-hand side (French)
given the right, as the zoo's `ibm1_null` does, both with a NULL word; it prints its links
left-right (French-English) either way.
"""

import argparse
import os
import shutil
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


def timed(cmd, stdout=subprocess.DEVNULL):
    """Runs `cmd` under /usr/bin/time: wall seconds and peak RSS in MiB."""
    fd, report = tempfile.mkstemp(prefix="emc-w4-time-")
    os.close(fd)
    p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", report, *cmd], stdout=stdout,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-2000:]}")
    wall, kb = open(report).read().split()[-2:]
    os.remove(report)
    return float(wall), int(kb) / 1024


def run(emc, data, threads, params):
    out = tempfile.mkdtemp(prefix="emc-w4-")
    cmd = [emc, "run", "models/ibm1_null.em", data, "--out", out, "--threads", str(threads),
           "--quiet", "--decode"]
    if not params:
        cmd.append("--no-params")
    seconds, mib = timed(cmd)
    return seconds, mib, out


def build_fast_align(shared, out):
    """fast_align built from its source, as its README's CMake build does, into OUT."""
    binary = os.path.join(out, "fast_align")
    if not os.path.exists(binary):
        src = os.path.join(shared, "peers", "fast_align")
        subprocess.run(["g++", "-O3", "-march=native", "-std=c++11", "-I", src,
                        os.path.join(src, "src", "fast_align.cc"),
                        os.path.join(src, "src", "ttables.cc"), "-o", binary], check=True)
    return binary


def run_fast_align(binary, data, out):
    """One whole run of fast_align's Model 1 (5 iterations) of French given English; the
    Pharaoh links it prints (0-based French-English) rewritten as the 1-based English-French
    links `emc eval` reads."""
    links = os.path.join(out, "fast_align.links")
    with open(links, "w") as f:
        seconds, mib = timed([binary, "-i", data, "-r", "-I", "5"], stdout=f)
    rows = []
    for line in open(links).read().splitlines():
        pairs = (p.split("-") for p in line.split())
        rows.append(" ".join(f"{int(e) + 1}-{int(f) + 1}" for f, e in pairs))
    with open(os.path.join(out, "decode.txt"), "w") as f:
        f.write("\n".join(rows) + "\n")
    return seconds, mib


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
    ap.add_argument("--before", help="an earlier emc binary, timed alternately in the same run")
    a = ap.parse_args()
    data = prepare(a.shared, a.out)
    gold = os.path.join(a.shared, "data", "hansards_en_fr", "test.wa.nonullalign")
    print(f"\n### W4: IBM Model 1, {sum(1 for _ in open(data))} pairs, 5 iterations\n")
    print(f"| run | threads | wall s, median (min-max) of {a.runs} | peak MiB | "
          "fast_align / this | AER (precision, recall) |")
    print("|---|---|---|---|---|---|")
    peer = None
    if os.path.isdir(os.path.join(a.shared, "peers", "fast_align")):
        binary = build_fast_align(a.shared, a.out)
        fa_out = os.path.join(a.out, "fast_align-out")
        os.makedirs(fa_out, exist_ok=True)
        run_fast_align(binary, data, fa_out)  # warm-up: the file cache
        runs = [run_fast_align(binary, data, fa_out) for _ in range(a.runs)]
        times = [t for t, _ in runs]
        peer = statistics.median(times)
        print(f"| fast_align, Model 1 (`-r -I 5`) | 1 | {peer:.2f} ({min(times):.2f}-{max(times):.2f}) "
              f"| {max(m for _, m in runs):.0f} | 1.00x | {aer(a.emc, fa_out, gold)} |")
    binaries = [("emc", a.emc)] + ([("emc before", a.before)] if a.before else [])
    for params in (False, True):
        for threads in (1, 2):
            rows = {}
            for name, emc in binaries:
                shutil.rmtree(run(emc, data, threads, params)[2])  # warm-up: the file cache
                rows[name] = ([], [], None)
            for _ in range(a.runs):
                for name, emc in binaries:
                    times, peaks, last = rows[name]
                    if last:
                        shutil.rmtree(last, ignore_errors=True)
                    t, mib, last = run(emc, data, threads, params)
                    times.append(t)
                    peaks.append(mib)
                    rows[name] = (times, peaks, last)
            for name, emc in binaries:
                times, peaks, last = rows[name]
                what = f"{name}, " + ("`--decode` + params.json, params.tsv" if params
                                      else "`--decode --no-params`")
                median = statistics.median(times)
                ratio = f"{peer / median:.2f}x" if peer else "(not built)"
                print(f"| {what} | {threads} | {median:.2f} ({min(times):.2f}-{max(times):.2f}) | "
                      f"{max(peaks):.0f} | {ratio} | {aer(emc, last, gold)} |")
                shutil.rmtree(last, ignore_errors=True)


if __name__ == "__main__":
    main()
