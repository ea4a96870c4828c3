#!/bin/sh
# EM on a cluster through accumulator files: every iteration runs `emc estep` on each of
# SHARDS shards (here through `xargs -P`; any scheduler that runs commands will do: a Slurm
# array, Spark's RDD.pipe), then `emc mstep` sums them and writes the next parameters.
#
#   scripts/cluster/loop.sh MODEL DATA SHARDS ITERATIONS WORK
#
# WORK/it0 holds the initial parameters (`emc run --iterations 0 --restarts 1`) and WORK/itT
# those after T iterations; the last is bit for bit the params.json of
#   emc run MODEL DATA --iterations ITERATIONS --tolerance TOLERANCE --restarts 1 \
#       --precision PRECISION
# (README, "Running on a cluster", says when it is not).
#
# Environment: EMC (the binary, default `emc`), PARALLEL (shards at once, default 2),
# THREADS (per shard, default 1), TOLERANCE (stop when the objective's relative change
# falls below it, as `emc run --tolerance` does; default 0: run every iteration),
# INIT_ARGS (more options for the initial run, e.g. `--seed 3 --init-mode uniform`),
# RETRIES (how often a failed shard is run again alone, default 2), PRECISION (the
# messages' precision, `emc estep --precision`, default auto; on hosts some of which lack
# AVX2 give f64 or f32, since mstep refuses shards counted in both).
set -eu

if [ $# -ne 5 ]; then
    echo "usage: $0 MODEL DATA SHARDS ITERATIONS WORK" >&2
    exit 2
fi
model=$1 data=$2 shards=$3 iterations=$4 work=$5
emc=${EMC:-emc}
parallel=${PARALLEL:-2}
threads=${THREADS:-1}
tolerance=${TOLERANCE:-0}
retries=${RETRIES:-2}
precision=${PRECISION:-auto}

mkdir -p "$work"
# shellcheck disable=SC2086 # INIT_ARGS is a list of options
"$emc" run "$model" "$data" --iterations 0 --restarts 1 --out "$work/it0" --quiet \
    ${INIT_ARGS:-} > /dev/null
last=it0
previous=""
t=1
while [ "$t" -le "$iterations" ]; do
    params="$work/it$((t - 1))/params.json"
    counts="$work/counts$t"
    rm -rf "$counts"
    mkdir -p "$counts"
    # One process per shard. estep writes its file atomically, so a shard that failed (a
    # killed process, a lost node) has no file: it alone runs again, up to RETRIES times,
    # and its counts are the same bits as a first run's.
    seq 0 $((shards - 1)) | xargs -P "$parallel" -I{} \
        "$emc" estep "$model" "$data" --params "$params" --shard "{}/$shards" \
        --threads "$threads" --precision "$precision" --out "$counts/{}.acc" || true
    for i in $(seq 0 $((shards - 1))); do
        try=0
        while [ ! -f "$counts/$i.acc" ]; do
            if [ "$try" -ge "$retries" ]; then
                echo "iteration $((t - 1)): shard $i/$shards failed $((retries + 1)) times; stopping" >&2
                exit 1
            fi
            try=$((try + 1))
            echo "iteration $((t - 1)): shard $i/$shards failed; running it again ($try of $retries)" >&2
            "$emc" estep "$model" "$data" --params "$params" --shard "$i/$shards" \
                --threads "$threads" --precision "$precision" --out "$counts/$i.acc" || true
        done
    done
    "$emc" mstep "$model" "$data" --params "$params" --out "$work/it$t" \
        --threads "$threads" "$counts"/*.acc > "$work/mstep$t.txt"
    rm -r "$counts"
    objective=$(awk '$1 == "objective" { print $2 }' "$work/mstep$t.txt")
    echo "iteration $((t - 1)): objective $objective" >&2
    # `emc run` stops at the parameters whose objective changed by less than the
    # tolerance from the previous iteration's: those mstep was given this time.
    if [ -n "$previous" ] && awk -v a="$previous" -v b="$objective" -v tol="$tolerance" \
        'BEGIN { d = (b - a) / (a < 0 ? -a : a); exit !((d < 0 ? -d : d) < tol) }'; then
        last=it$((t - 1))
        echo "converged: $work/$last/params.json" >&2
        exit 0
    fi
    previous=$objective
    last=it$t
    t=$((t + 1))
done
echo "done: $work/$last/params.json" >&2
