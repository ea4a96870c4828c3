#!/usr/bin/env python3
"""Side-by-side HMM Baum-Welch benchmark: emc (1 and 2 threads) against hmmlearn and the
batched NumPy forward-backward, on the same workload from the same initial parameters.

Checks that every run agrees with the NumPy log-likelihood trace (relative 1e-9), then prints
a Markdown table of seconds per iteration, peak RSS and ratios. Timing is whole-iteration
wall time as each tool reports it (emc: its trace.tsv, so reading and compiling the data
are excluded as they are for the peers); peak RSS is the whole process's, from GNU time.

    compare.py --emc target/release/emc --workload DIR --iterations T [--peers numpy,hmmlearn]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile


def peak_rss_mib(stderr: str) -> float:
    for line in stderr.splitlines():
        if "Maximum resident set size" in line:
            return int(line.split(":")[1]) / 1024.0
    return float("nan")


def run_emc(emc, workload, iterations, threads, precision="auto"):
    out = tempfile.mkdtemp(prefix="emc-bench-")
    cmd = ["/usr/bin/time", "-v", emc, "run", f"{workload}/model.em", f"{workload}/data.txt",
           "--init", f"{workload}/init.json", "--iterations", str(iterations),
           "--tolerance", "0", "--threads", str(threads), "--out", out, "--quiet",
           "--precision", precision]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"emc failed: {p.stderr}")
    single = "single precision" in p.stdout
    rows = [l.split("\t") for l in open(f"{out}/trace.tsv").read().split("\n")[1:] if l]
    lls = [float(r[1]) for r in rows]
    secs = [float(r[2]) for r in rows]
    # Iteration t's E-step ends at secs[t]; M-steps are in between. Per iteration: the span
    # from the first E-step's end to the last one's, over the iterations it holds.
    per_iteration = (secs[-1] - secs[0]) / (len(secs) - 1)
    label = "f32 messages" if single else "f64"
    return {"tool": f"emc ({label}), {threads} thread{'s' if threads > 1 else ''}",
            "seconds_per_iteration": per_iteration, "log_likelihoods": lls,
            "peak_rss_mib": peak_rss_mib(p.stderr)}


def run_peer(python, peer, workload, iterations):
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = ["/usr/bin/time", "-v", python, f"{here}/peers.py", "--workload", workload,
           "--iterations", str(iterations), "--peer", peer, "--threads", "1"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{peer} failed: {p.stderr}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return {"tool": f"{peer}, 1 thread", "seconds_per_iteration": r["seconds_per_iteration"],
            "log_likelihoods": r["log_likelihoods"],
            "peak_rss_mib": peak_rss_mib(p.stderr)}


def cpu():
    """The processor's name and the widest vector instructions emc's kernels use on it."""
    name, flags = "unknown", set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and name == "unknown":
                name = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    isa = "AVX-512" if "avx512f" in flags else "AVX2/FMA" if {"avx2", "fma"} <= flags else "none"
    return f"{name}; hand-written kernels: {isa}"


def agree(a, b):
    n = min(len(a), len(b))
    return max(abs(x - y) / max(abs(y), 1.0) for x, y in zip(a[:n], b[:n]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emc", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--peer-iterations", type=int, default=None,
                    help="iterations for hmmlearn (slow); default --iterations")
    ap.add_argument("--peers", default="numpy,hmmlearn")
    a = ap.parse_args()
    meta = json.load(open(f"{a.workload}/meta.json"))
    runs = [run_emc(a.emc, a.workload, a.iterations, 1), run_emc(a.emc, a.workload, a.iterations, 2)]
    # The default precision against double, when the default is single.
    if runs[0]["tool"].startswith("emc (f32"):
        runs.append(run_emc(a.emc, a.workload, a.iterations, 1, "f64"))
    for peer in [p for p in a.peers.split(",") if p]:
        t = a.iterations if peer == "numpy" else (a.peer_iterations or a.iterations)
        runs.append(run_peer(a.python, peer, a.workload, t))
    reference = next((r for r in runs if r["tool"].startswith("numpy")), runs[0])
    ok = True
    k = meta["k"]
    tokens = meta["tokens"]
    # Forward, backward and edge counts: about 3 K^2 multiply-adds per token.
    bound = 3 * k * k * tokens * 2 / 30e9
    print(f"\n### K = {k}, {tokens} tokens, {meta['sentences']} sentences, V = {meta['vocab']}\n")
    print(f"CPU: {cpu()}\n")
    print(f"Arithmetic bound at 30 GFLOP/s on one core: {bound:.3f} s per iteration.\n")
    print("| tool | s / iteration | peak RSS (MiB) | vs emc 1 thread | max rel. diff of log-lik trace vs NumPy |")
    print("|---|---|---|---|---|")
    base = runs[0]["seconds_per_iteration"]
    for r in runs:
        diff = agree(r["log_likelihoods"], reference["log_likelihoods"])
        ok = ok and diff <= 1e-9
        print(f"| {r['tool']} | {r['seconds_per_iteration']:.3f} | {r['peak_rss_mib']:.0f} | "
              f"{r['seconds_per_iteration'] / base:.2f}x | {diff:.1e} |")
    print(f"\nemc 1 thread vs bound: {base / bound:.2f}x; "
          f"2 threads speed-up: {base / runs[1]['seconds_per_iteration']:.2f}x")
    double = [r for r in runs[2:] if r["tool"].startswith("emc (f64")]
    if double:
        d = double[0]
        print(f"f32 messages vs f64 (1 thread): {d['seconds_per_iteration'] / base:.2f}x faster; "
              f"log-lik traces within {agree(runs[0]['log_likelihoods'], d['log_likelihoods']):.1e} "
              f"relative")
    if not ok:
        sys.exit("log-likelihood traces disagree by more than 1e-9")


if __name__ == "__main__":
    main()
