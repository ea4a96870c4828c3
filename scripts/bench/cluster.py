#!/usr/bin/env python3
"""W1 beyond one process: MPI ranks against one process, and the accumulator-file loop.

    cluster.py --emc target/release/emc --workload target/bench/w-k45 [--iterations 5]

The binary must be built with `--features mpi` and `mpirun` be on the PATH. Prints Markdown
tables for BENCHMARKS.md:

1. `emc run` on one process of one thread against `mpirun -np 2 emc run` with one thread per
   rank: seconds per iteration from trace.tsv (reading and compiling left out, as in W1), and
   whether params.json is the same bytes.
2. One iteration of the accumulator loop (`emc estep` per shard under `xargs -P 2`, then
   `emc mstep`), timed as whole processes, against an iteration of `emc run`; with the parts
   that make up the difference: each process reads and compiles the data again, and the
   counts go through files (their size, and a write and a read of that many bytes timed on
   the same disk).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def sh(cmd, env=None):
    start = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    return seconds


def per_iteration(out):
    rows = [l.split("\t") for l in open(f"{out}/trace.tsv").read().split("\n")[1:] if l]
    seconds = [float(r[2]) for r in rows]
    # Iteration 0's time includes fitting nothing but the first E-step; later spacings are
    # whole iterations (E-step and M-step).
    return statistics.median(b - a for a, b in zip(seconds[1:], seconds[2:]))


def same(a, b):
    return open(a, "rb").read() == open(b, "rb").read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emc", required=True)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    emc = os.path.abspath(a.emc)
    model, data = f"{a.workload}/model.em", f"{a.workload}/data.txt"
    init = f"{a.workload}/init.json"
    work = tempfile.mkdtemp(prefix="emc-cluster-")
    common = ["--init", init, "--iterations", str(a.iterations), "--tolerance", "0", "--quiet"]

    # 1. MPI. Repeated and alternated, so that a busy moment of the host hits both.
    one, two = [], []
    for r in range(a.repeats):
        sh([emc, "run", model, data, "--out", f"{work}/np1", *common, "--threads", "1"])
        one.append(per_iteration(f"{work}/np1"))
        sh(["mpirun", "--oversubscribe", "-np", "2", emc, "run", model, data,
            "--out", f"{work}/np2", *common, "--threads", "1"], MPI_ENV)
        two.append(per_iteration(f"{work}/np2"))
    identical = same(f"{work}/np1/params.json", f"{work}/np2/params.json")
    print(f"### W1 on MPI ranks ({a.iterations} iterations, {a.repeats} runs each, one thread per process)\n")
    print("| run | s / iteration, median of runs (min-max) | speed-up | params.json |")
    print("|---|---|---|---|")
    m1, m2 = statistics.median(one), statistics.median(two)
    print(f"| `emc run`, 1 process | {m1:.3f} ({min(one):.3f}-{max(one):.3f}) | 1.00x | |")
    print(f"| `mpirun -np 2 emc run` | {m2:.3f} ({min(two):.3f}-{max(two):.3f}) | {m1 / m2:.2f}x | "
          f"{'identical' if identical else 'DIFFERENT'} |")
    print()
    if not identical:
        sys.exit("MPI run differs from one process")

    # 2. The accumulator loop, one iteration from the initial parameters, 2 and 4 shards.
    p0 = f"{work}/p0"
    sh([emc, "run", model, data, "--init", init, "--iterations", "0", "--quiet", "--out", p0])
    params = f"{p0}/params.json"
    startup = statistics.median(
        sh([emc, "run", model, data, "--init", init, "--iterations", "0", "--threads", "1",
            "--quiet", "--no-params", "--out", f"{work}/startup"]) for _ in range(a.repeats))
    rows = []
    for shards in (2, 4):
        est, mst, loop, size = [], [], [], 0
        for _ in range(a.repeats):
            counts = f"{work}/counts{shards}"
            shutil.rmtree(counts, ignore_errors=True)
            os.makedirs(counts)
            start = time.perf_counter()
            script = (f"seq 0 {shards - 1} | xargs -P 2 -I{{}} {emc} estep {model} {data} "
                      f"--params {params} --shard {{}}/{shards} --threads 1 --out {counts}/{{}}.acc")
            sh(["sh", "-c", script])
            est.append(time.perf_counter() - start)
            files = [f"{counts}/{i}.acc" for i in range(shards)]
            mst.append(sh([emc, "mstep", model, data, "--params", params, *files,
                           "--threads", "2", "--out", f"{work}/m{shards}"]))
            loop.append(est[-1] + mst[-1])
            size = sum(os.path.getsize(f) for f in files)
        # The same bytes written (synced) and read back, to separate file I/O from the rest.
        blob = os.urandom(size)
        start = time.perf_counter()
        with open(f"{work}/blob", "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        with open(f"{work}/blob", "rb") as f:
            f.read()
        io = time.perf_counter() - start
        rows.append((shards, statistics.median(est), statistics.median(mst),
                     statistics.median(loop), size, io))
    sh([emc, "run", model, data, "--init", init, "--iterations", "1", "--tolerance", "0",
        "--threads", "2", "--quiet", "--out", f"{work}/run1"])
    for shards in (2, 4):
        if not same(f"{work}/m{shards}/params.json", f"{work}/run1/params.json"):
            sys.exit(f"the loop with {shards} shards differs from emc run")
    two_threads = []
    for _ in range(a.repeats):
        sh([emc, "run", model, data, "--out", f"{work}/t2", *common, "--threads", "2"])
        two_threads.append(per_iteration(f"{work}/t2"))
    it = statistics.median(two_threads)
    print(f"### W1 through accumulator files (one iteration, `xargs -P 2`, one thread per estep, "
          f"{a.repeats} runs each)\n")
    print(f"`emc run`, 2 threads: {it:.3f} s per iteration once started; starting it (reading, "
          f"compiling, one E-step: `--iterations 0`, 1 thread) takes {startup:.2f} s. "
          f"The loop's next params.json is `emc run --iterations 1`'s, byte for byte.\n")
    print("| shards | all estep processes, wall s | mstep, wall s | loop iteration, wall s | "
          "vs `emc run` iteration | accumulator bytes | write + read of those bytes, s |")
    print("|---|---|---|---|---|---|---|")
    for shards, e, m, l, size, io in rows:
        print(f"| {shards} | {e:.2f} | {m:.2f} | {l:.2f} | +{l - it:.2f} s | "
              f"{size / 2**20:.1f} MiB | {io:.3f} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
