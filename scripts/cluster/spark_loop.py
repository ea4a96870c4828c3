#!/usr/bin/env python3
"""EM on a Spark cluster through accumulator files: `scripts/cluster/loop.sh` with Spark as
the scheduler. An example, not run by CI (Spark needs a JVM and a cluster); the loop it
drives is the one `tests/accum.rs` checks against `emc run`, bit for bit.

    spark-submit scripts/cluster/spark_loop.py MODEL DATA SHARDS ITERATIONS WORK \
        [--emc PATH] [--threads N] [--init-args "--seed 3"]

MODEL, DATA and WORK must be paths every executor sees (a shared file system), and `emc`
must be installed on every executor. Each iteration pipes the shard numbers through
`RDD.pipe`, one Spark task per shard: the task runs `emc estep` on its shard and prints the
shard's number once its accumulator file is written (estep writes it atomically, so a task
that died leaves no file). Spark runs a failed task again itself (`spark.task.maxFailures`);
a shard still missing stops the loop, naming it. The driver then runs `emc mstep` on every
shard's file. WORK/itT/params.json is `emc run MODEL DATA --iterations T --tolerance 0
--restarts 1`'s params.json, with the exceptions the README's "Running on a cluster" lists.
"""

import argparse
import os
import shlex
import subprocess
import sys

from pyspark import SparkContext


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("shards", type=int)
    ap.add_argument("iterations", type=int)
    ap.add_argument("work")
    ap.add_argument("--emc", default="emc", help="the emc binary on the driver and executors")
    ap.add_argument("--threads", type=int, default=1, help="threads per estep task")
    ap.add_argument("--precision", default="auto", choices=["auto", "f64", "f32"],
                    help="the messages' precision (emc estep --precision); executors with and "
                         "without AVX2 pick differently under auto, and mstep refuses the mix")
    ap.add_argument("--init-args", default="", help="more options for the initial `emc run`")
    a = ap.parse_args()
    model, data, work = (os.path.abspath(p) for p in (a.model, a.data, a.work))
    os.makedirs(work, exist_ok=True)

    subprocess.run(
        [a.emc, "run", model, data, "--iterations", "0", "--restarts", "1",
         "--out", f"{work}/it0", "--quiet", *shlex.split(a.init_args)],
        check=True, stdout=subprocess.DEVNULL)

    sc = SparkContext(appName="emc EM")
    for t in range(1, a.iterations + 1):
        params = f"{work}/it{t - 1}/params.json"
        counts = f"{work}/counts{t}"
        os.makedirs(counts, exist_ok=True)
        # What each task runs on its shard numbers (stdin, one a line): its stdout carries
        # only the numbers of the shards whose files were written.
        task = f"{work}/estep{t}.sh"
        with open(task, "w") as f:
            f.write(
                "while read -r i; do\n"
                f"  {shlex.quote(a.emc)} estep {shlex.quote(model)} {shlex.quote(data)}"
                f" --params {shlex.quote(params)} --shard \"$i/{a.shards}\""
                f" --threads {a.threads} --precision {a.precision}"
                f" --out {shlex.quote(counts)}/\"$i\".acc >&2"
                " && echo \"$i\"\n"
                "done\n")
        shards = sc.parallelize([str(i) for i in range(a.shards)], a.shards)
        written = {int(x) for x in shards.pipe(f"sh {shlex.quote(task)}").collect()}
        missing = sorted(set(range(a.shards)) - written)
        if missing:
            sys.exit(f"iteration {t - 1}: shards {missing} of {a.shards} wrote no counts")
        files = [f"{counts}/{i}.acc" for i in range(a.shards)]
        subprocess.run(
            [a.emc, "mstep", model, data, "--params", params, *files, "--out", f"{work}/it{t}"],
            check=True)
    sc.stop()


if __name__ == "__main__":
    main()
