#!/usr/bin/env bash
# Cross-check emc's Gaussian families against scikit-learn and hmmlearn, the DMV
# (models/dmv.em) against its NumPy peer (dmv.py), and the training algorithms against NumPy
# references (em_variants.py).
#
#   scripts/crosscheck/run.sh [EMC] [crosscheck.py options...]
#
# EMC defaults to target/release/emc (relative to the repo root). Builds
# nothing: run `cargo build --release` first. Uses the benchmark virtualenv
# (scripts/bench/venv.sh, created on first use). Extra arguments are passed to
# crosscheck.py, e.g. `run.sh target/release/emc --only gmm --keep /tmp/cc`;
# `run.sh --peers-only` checks only the Python side. Exit status is
# 0 only if crosscheck.py's and dmv.py's checks all passed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

emc="target/release/emc"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    emc="$1"
    shift
fi

py="$("$root/scripts/bench/venv.sh" | tail -n1)"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

peers_only=0
for a in "$@"; do [ "$a" = "--peers-only" ] && peers_only=1; done
if [ "$peers_only" = 1 ]; then
    exec "$py" "$here/crosscheck.py" "$@"
fi
status=0
"$py" "$here/crosscheck.py" --emc "$emc" "$@" || status=$?
# The DMV against its NumPy peer: trace to 1e-9 from the harmonic initialiser (dmv.py).
"$py" "$here/dmv.py" --emc "$emc" || status=$?
# Stepwise, incremental and hard EM, variational Bayes and annealing against NumPy written
# from the papers (em_variants.py): traces and parameters to 1e-9.
"$py" "$here/em_variants.py" --emc "$emc" || status=$?
exit "$status"
