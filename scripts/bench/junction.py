#!/usr/bin/env python3
"""Junction-tree benchmark: emc's E-step on models whose unrolled graph is not a chain, as
compiled, as interpreted, and against a first-order HMM of the same work per position.

    junction.py [--emc target/release/emc] [--iterations 5] [--repeats 1]
                [--only w6-20,w6-45,w7,w8] [--interpreted-lines 500]
                [--interpreted-lines-w6-45 50] [--scale 1]

Workloads (data written by gen_hmm.py into target/bench/ unless already there; i.i.d.
Zipfian words over V = 10,000 types, so the data is the same kind as W1's):

- w6-20, w6-45: the trigram HMM (models/trigram_hmm.em, --set K=20 / K=45) on W6:
  50,000 sentences of 1 + Poisson(19) tokens (about 1M tokens; gen_hmm.py --vocab 10000
  --sentences 50000 --mean-length 20, target/bench/w6). J = K^3.
- w7: a mixture of M = 3 HMMs of K = 10 states (models/hmm_mixture.em, --set M=3 --set K=10)
  on W7: 100,000 sentences of exactly 20 tokens (gen_hmm.py --fixed-length,
  target/bench/w7). J = M * K^2.
- w8: the factorial HMM with two chains of K = 10 states (models/factorial_hmm.em,
  --set K=10) on the W6 data. J = 2 * K^3 (two eliminations of K^3 joint values each).

J is the number of joint values per position of the workload's contraction. Three
configurations of each, all `emc run --threads 1 --tolerance 0` (and `--no-params` when the
binary has it):

a) compiled: the model as `emc run` runs it by default, on the whole data;
b) interpreted: `emc run --interpreted`, on the first --interpreted-lines lines of the data
   only (the interpreted path can be ~1000x slower); w6-45 uses --interpreted-lines-w6-45
   (default 50) instead. A binary whose `emc run --help` does not list `--interpreted` skips
   (b), and the script says so. The compiled path runs on the same lines for the same
   iterations, and the two log-likelihood traces (trace.tsv) must agree to 1e-9 relative at
   every iteration (the `trace` column); the speed-up compares seconds per token: the
   interpreted run's on its lines against the compiled run's on the whole data;
c) plain HMM: models/hmm.em with --set K=k on the same data, k = round(sqrt(J)), i.e. a
   first-order chain whose K^2 per position is about the workload's J, with `--precision
   f64` where the binary has it (the frontier kernel is double precision; the chain
   kernel's default is single from 9 states and 2^15 tokens). Target: compiled
   no more than 2x the plain HMM per iteration, and at least 20x faster than interpreted per
   token.

Seconds per iteration come from trace.tsv's `seconds` column (its span from iteration 0 to
T over T: each an M-step and an E-step; reading and compiling the data are excluded) when
the binary writes one, else from wall clocks, (wall(T+1 E-steps) - wall(1 E-step)) / T, i.e.
(wall(--iterations T) - wall(--iterations 0)) / T; the script prints which. Each configuration runs --repeats times, interleaved, and the
table gives the median. --scale F shrinks (or grows) the number of sentences of W6 and W7,
written into target/bench/w6-scaleF etc., for smoke tests. Prints a Markdown table on
stdout; progress on stderr. Exits with 1 when a pair of traces disagrees.
"""

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "scripts", "bench")
TOLERANCE = 1e-9

# name -> (description, model, --set values, data set, J, plain-HMM k)
WORKLOADS = {
    "w6-20": ("W6 trigram HMM, K = 20", "models/trigram_hmm.em", ["K=20"], "w6", 20 ** 3),
    "w6-45": ("W6 trigram HMM, K = 45", "models/trigram_hmm.em", ["K=45"], "w6", 45 ** 3),
    "w7": ("W7 mixture of 3 HMMs, K = 10", "models/hmm_mixture.em", ["M=3", "K=10"], "w7",
           3 * 10 ** 2),
    "w8": ("W8 factorial HMM, 2 x K = 10", "models/factorial_hmm.em", ["K=10"], "w6",
           2 * 10 ** 3),
}

# data set -> gen_hmm.py arguments (sentences scaled by --scale)
DATASETS = {
    "w6": {"sentences": 50000, "args": ["--k", "45", "--vocab", "10000", "--mean-length", "20",
                                        "--seed", "0"]},
    "w7": {"sentences": 100000, "args": ["--k", "10", "--vocab", "10000", "--mean-length", "20",
                                         "--seed", "0", "--fixed-length"]},
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def prepare(name, scale):
    """The data set's directory (generated unless its meta.json matches); its data.txt path."""
    spec = DATASETS[name]
    sentences = max(1, round(spec["sentences"] * scale))
    d = os.path.join(ROOT, "target", "bench", name if scale == 1 else f"{name}-scale{scale:g}")
    args = spec["args"] + ["--sentences", str(sentences)]
    meta_path = os.path.join(d, "meta.json")
    want = {"sentences": sentences, "vocab": 10000, "mean_length": 20.0, "seed": 0,
            "fixed_length": "--fixed-length" in args}
    if os.path.exists(meta_path) and os.path.exists(os.path.join(d, "data.txt")):
        meta = json.load(open(meta_path))
        have = {k: meta.get(k, False if k == "fixed_length" else None) for k in want}
        if have == want:
            return d, os.path.join(d, "data.txt")
        log(f"{d}: meta.json is of other settings ({have}), generating again")
    log(f"generating {d}: gen_hmm.py {' '.join(args)}")
    subprocess.run([sys.executable, os.path.join(HERE, "gen_hmm.py")] + args + ["--out", d],
                   check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return d, os.path.join(d, "data.txt")


def count(path):
    lines = tokens = 0
    with open(path) as f:
        for line in f:
            lines += 1
            tokens += len(line.split())
    return lines, tokens


def head(data, n):
    """The first n lines of data, as a file beside it (written once)."""
    out = f"{os.path.splitext(data)[0]}.first{n}.txt"
    if not os.path.exists(out):
        with open(data) as f, open(out + ".tmp", "w") as g:
            for i, line in enumerate(f):
                if i == n:
                    break
                g.write(line)
        os.replace(out + ".tmp", out)
    return out


class Emc:
    def __init__(self, binary):
        self.binary = binary
        p = subprocess.run([binary, "run", "--help"], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"{binary} run --help failed:\n{p.stderr}")
        self.help = p.stdout
        self.no_params = "--no-params" in self.help
        self.interpreted = re.search(r"--interpreted\b", self.help) is not None
        # The frontier kernel runs in double precision; from 9 states and 2^15 tokens the
        # chain kernel's default is single, so the plain HMM is held to double for a like
        # comparison.
        self.precision = re.search(r"--precision\b", self.help) is not None
        self.timed_trace = None  # whether trace.tsv has a seconds column (known after a run)

    def check_plan(self, model, sets):
        cmd = [self.binary, "check", model]
        for s in sets:
            cmd += ["--set", s]
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        m = re.search(r"^plan\s+(.+)$", p.stdout, re.M)
        return m.group(1).strip() if m else f"? (check exited {p.returncode})"

    def _run(self, model, data, sets, iterations, extra, out):
        cmd = [self.binary, "run", model, data, "--iterations", str(iterations),
               "--tolerance", "0", "--threads", "1", "--out", out, "--quiet"] + extra
        if self.no_params:
            cmd.append("--no-params")
        for s in sets:
            cmd += ["--set", s]
        start = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        if p.returncode != 0:
            last = (p.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            return None, f"exited {p.returncode}: {last}\n  {' '.join(cmd)}\n{p.stderr.strip()[-2000:]}"
        text = open(os.path.join(out, "trace.tsv")).read().split("\n")
        header = text[0].split("\t")
        rows = [l.split("\t") for l in text[1:] if l]
        col = header.index("log_likelihood") if "log_likelihood" in header else 1
        lls = [float(r[col]) for r in rows]
        secs = [float(r[header.index("seconds")]) for r in rows] if "seconds" in header else None
        return {"lls": lls, "secs": secs, "wall": wall}, None

    def run(self, model, data, sets, iterations, extra=()):
        """{"lls": trace, "seconds": per iteration} or (None, error)."""
        out = tempfile.mkdtemp(prefix="emc-junction-")
        try:
            r, err = self._run(model, data, sets, iterations, list(extra), out)
            if r is None:
                return None, err
            if self.timed_trace is None:
                self.timed_trace = r["secs"] is not None
            if r["secs"] is not None:
                per = (r["secs"][-1] - r["secs"][0]) / max(len(r["secs"]) - 1, 1)
            else:
                one, err = self._run(model, data, sets, 0, list(extra), out)
                if one is None:
                    return None, err
                per = (r["wall"] - one["wall"]) / max(iterations, 1)
            return {"lls": r["lls"], "seconds": per}, None
        finally:
            shutil.rmtree(out, ignore_errors=True)


def median_seconds(runs):
    return statistics.median(r["seconds"] for r in runs)


def worst_difference(a, b):
    if len(a) != len(b):
        return math.inf
    return max(abs(x - y) / max(abs(y), 1.0) for x, y in zip(a, b))


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emc", default=os.path.join(ROOT, "target", "release", "emc"))
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=1, help="runs of each configuration (median)")
    ap.add_argument("--only", default="w6-20,w6-45,w7,w8")
    ap.add_argument("--interpreted-lines", type=int, default=500,
                    help="lines of the data for the interpreted run (default 500)")
    ap.add_argument("--interpreted-lines-w6-45", type=int, default=50,
                    help="the same for w6-45, the slowest (default 50)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="sentences of W6 and W7 times this (default 1; e.g. 0.002 to smoke-test)")
    ap.add_argument("--skip-plain", action="store_true", help="leave out configuration (c)")
    a = ap.parse_args()
    if a.iterations < 1 or a.repeats < 1 or a.interpreted_lines < 1 or a.scale <= 0:
        ap.error("--iterations, --repeats, --interpreted-lines must be >= 1, --scale > 0")
    keys = [k for k in a.only.split(",") if k]
    for k in keys:
        if k not in WORKLOADS:
            ap.error(f"--only: unknown workload {k!r} (known: {', '.join(WORKLOADS)})")
    emc = Emc(os.path.abspath(a.emc))
    T = a.iterations
    notes = []
    if not emc.interpreted:
        msg = (f"{a.emc} does not accept --interpreted (not in `emc run --help`): "
               "configuration (b), the interpreted path, is SKIPPED")
        log("NOTE: " + msg)
        notes.append(msg)
    if not emc.no_params:
        notes.append(f"{a.emc} has no --no-params: runs write their parameters too")

    data = {}
    for k in keys:
        ds = WORKLOADS[k][3]
        if ds not in data:
            d, path = prepare(ds, a.scale)
            data[ds] = (path, count(path))

    rows, disagree = [], False
    for k in keys:
        desc, model, sets, ds, J = WORKLOADS[k]
        path, (n_lines, n_tokens) = data[ds]
        plain_k = round(math.sqrt(J))
        lines = min(a.interpreted_lines,
                    a.interpreted_lines_w6_45 if k == "w6-45" else a.interpreted_lines, n_lines)
        sub = head(path, lines)
        _, sub_tokens = count(sub)
        plan = emc.check_plan(model, sets)
        log(f"{k}: {desc}; {os.path.relpath(path, ROOT)}: {n_lines:,} lines, {n_tokens:,} tokens; "
            f"J = {J:,}, plain HMM k = {plain_k}; plan: {plan}")
        runs = {"compiled": [], "plain": [], "interpreted": [], "compiled-subset": []}
        errors = {}
        for rep in range(a.repeats):
            plain_extra = ["--precision", "f64"] if emc.precision else []
            configs = [("compiled", model, path, sets, []),
                       ("plain", "models/hmm.em", path, [f"K={plain_k}"], plain_extra)]
            if a.skip_plain:
                configs.pop()
            if emc.interpreted:
                configs += [("interpreted", model, sub, sets, ["--interpreted"]),
                            ("compiled-subset", model, sub, sets, [])]
            for name, m, d, s, extra in configs:
                if name in errors:
                    continue
                log(f"  {k} repeat {rep + 1}/{a.repeats}: {name} "
                    f"({' '.join(extra) + ', ' if extra else ''}{os.path.basename(d)})")
                r, err = emc.run(m, d, s, T, extra)
                if r is None:
                    log(f"  {k}: {name} FAILED: {err}")
                    errors[name] = err
                    if name in ("compiled", "plain"):
                        sys.exit(f"{k}: {name} run failed:\n{err}")
                    continue
                log(f"    {r['seconds']:.4f} s/iter")
                runs[name].append(r)
        compiled = median_seconds(runs["compiled"])
        plain = median_seconds(runs["plain"]) if runs["plain"] else None
        interp = median_seconds(runs["interpreted"]) if runs["interpreted"] else None
        sub_sec = median_seconds(runs["compiled-subset"]) if runs["compiled-subset"] else None
        comp_tok = compiled / n_tokens
        interp_tok = interp / sub_tokens if interp is not None else None
        speedup = interp_tok / comp_tok if interp_tok is not None and comp_tok > 0 else None
        ratio = compiled / plain if plain else None
        if runs["interpreted"] and runs["compiled-subset"]:
            worst = max(worst_difference(i["lls"], s["lls"])
                        for i in runs["interpreted"] for s in runs["compiled-subset"])
            ok = worst <= TOLERANCE
            disagree |= not ok
            trace = f"{'yes' if ok else 'NO'} ({worst:.1e})"
            if not ok:
                log(f"  {k}: traces DISAGREE by {worst:.3e}\n    compiled    "
                    f"{runs['compiled-subset'][0]['lls']}\n    interpreted {runs['interpreted'][0]['lls']}")
        elif "interpreted" in errors or "compiled-subset" in errors:
            trace = "run failed"
        else:
            trace = "skipped"
        verdict = lambda ok: "" if ok is None else (" ok" if ok else " MISS")
        rows.append(
            f"| {desc} | {J:,} | {plain_k} | {compiled:.4f} | {fmt(plain, '.4f')} | "
            f"{fmt(ratio, '.2f')}{'x' if ratio else ''}"
            f"{verdict(None if ratio is None else ratio <= 2)} | {fmt(interp_tok, '.3e')} | "
            f"{comp_tok:.3e} | {fmt(speedup, '.3g')}{'x' if speedup else ''}"
            f"{verdict(None if speedup is None else speedup >= 20)} | {trace} |")
        note = (f"{k}: plan `{plan}`; compiled and plain HMM on {os.path.relpath(path, ROOT)} "
                f"({n_lines:,} lines, {n_tokens:,} tokens)")
        if emc.interpreted:
            note += (f"; interpreted and compiled-on-the-subset on the first {lines:,} lines "
                     f"({sub_tokens:,} tokens): interpreted {fmt(interp, '.4f')} s/iter, "
                     f"compiled there {fmt(sub_sec, '.4f')} s/iter")
            if sub_sec is not None and sub_tokens:
                note += f" = {sub_sec / sub_tokens:.3e} s/token"
        else:
            note += f"; the interpreted run would have used the first {lines:,} lines"
        notes.append(note)
        for name, err in errors.items():
            notes.append(f"{k}: the {name} run failed, {err.splitlines()[0]}")
        log(rows[-1])

    timing = ("trace.tsv's `seconds` column: (t[T] - t[0]) / T" if emc.timed_trace
              else "wall clock: (wall(--iterations T) - wall(--iterations 0)) / T")
    print(f"emc {a.emc}, {T} iterations, 1 thread, median of {a.repeats} run(s); "
          f"s/iter from {timing}.")
    print()
    print("| workload | J | plain-HMM k | s/iter compiled | s/iter plain HMM | "
          "compiled / plain (target <= 2) | interpreted s/token | compiled s/token | "
          "speed-up over interpreted (target >= 20) | traces agree to 1e-9 (subset) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(r)
    print()
    for n in notes:
        print(f"- {n}")
    if disagree:
        sys.exit("the compiled and interpreted traces disagree (see above)")


if __name__ == "__main__":
    main()
