#!/usr/bin/env bash
# Checks that `mpirun -np N emc run` gives the params.json of one process, bit for bit, for
# N = 2 and 3 (oversubscribed on a 2-core machine): an HMM, the featurised HMM trained by
# EM with an L-BFGS M-step (Algorithm 1) and by direct L-BFGS (Algorithm 2), IBM Model 1
# with its translation table stored sparse, and a mixture of 2-D Gaussians; and that a run
# interrupted on 2 processes resumes on 3 to the same bits. What .ci/run calls.
#
#   scripts/cluster/mpi-check.sh
#
# Installs Open MPI and libclang from Debian's packages when mpirun or libclang is missing
# (as root, which CI is), then builds emc with the `mpi` feature into target/release.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v mpirun >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "mpi-check: needs Open MPI and libclang (apt-get install openmpi-bin libopenmpi-dev libclang-dev)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q openmpi-bin libopenmpi-dev libclang-dev >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q openmpi-bin libopenmpi-dev libclang-dev >/dev/null; }
fi
cargo build --release --features mpi
emc="$PWD/target/release/emc"

# Open MPI refuses root unless told; CI runs as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One thread per process: the cores are shared by the processes (the bits do not depend on it).
mpi() { mpirun --oversubscribe -np "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/param t : Categorical(F | E)$/param t : Categorical(F | E) { storage: sparse }/' \
    models/ibm1_null.em > "$work/ibm1_sparse.em"
grep -q 'storage: sparse' "$work/ibm1_sparse.em"

status=0
check() {
    local name=$1 model=$2 data=$3; shift 3
    "$emc" run "$model" "$data" --out "$work/$name-1" --threads 1 --quiet "$@" > /dev/null
    for n in 2 3; do
        mpi "$n" "$emc" run "$model" "$data" --out "$work/$name-$n" --threads 1 --quiet "$@" > /dev/null
        if cmp -s "$work/$name-1/params.json" "$work/$name-$n/params.json"; then
            echo "mpi-check: $name: -np $n gives one process's params.json"
        else
            echo "mpi-check: $name: -np $n differs from one process" >&2
            status=1
        fi
    done
}
check hmm models/hmm.em models/hmm.txt --iterations 20 --tolerance 0
check fhmm-alg1 models/pos_fhmm.em models/pos_fhmm.txt --iterations 5
check fhmm-direct models/pos_fhmm.em models/pos_fhmm.txt --algorithm direct --iterations 10
check ibm1-sparse "$work/ibm1_sparse.em" models/ibm1_null.txt
check gmm models/gmm_2d.em models/gmm_2d.txt

# A run on 2 processes killed midway (SIGINT to mpirun, which ends the job) leaves the
# checkpoint process 0 last wrote; resumed on 3, it ends with the uninterrupted run's bits.
long=(models/hmm.em models/hmm.txt --iterations 3000 --tolerance 0 --threads 1 --quiet)
"$emc" run "${long[@]}" --out "$work/long-1" > /dev/null
# mpirun itself in the background (not the `mpi` function, whose subshell would take the
# signal instead).
mpirun --oversubscribe -np 2 "$emc" run "${long[@]}" --out "$work/long-2" > /dev/null 2>&1 &
pid=$!
sleep 1.5
kill -INT "$pid" 2>/dev/null || true
wait "$pid" || true
if [ ! -f "$work/long-2/checkpoint.json" ]; then
    echo "mpi-check: the killed run left no checkpoint (did it finish within 1.5 s?)" >&2
    status=1
else
    mpi 3 "$emc" run "${long[@]}" --resume "$work/long-2" > /dev/null
    if cmp -s "$work/long-1/params.json" "$work/long-2/params.json"; then
        echo "mpi-check: killed on 2 processes, resumed on 3: one process's params.json"
    else
        echo "mpi-check: the resumed run differs from one process" >&2
        status=1
    fi
fi
exit $status
