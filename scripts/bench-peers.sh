#!/usr/bin/env bash
# Benchmarks against the peers on this machine, in one run: HMMs (W1, W2) against hmmlearn
# and a batched NumPy forward-backward, Gaussian mixtures (W3) against scikit-learn, and whole
# IBM Model 1 runs on the Hansards (W4; needs ../shared/data/hansards_en_fr).
# Generates the workloads with a fixed seed, runs emc (1 and 2 threads) and the peers from
# the same initial parameters, checks their log-likelihood traces agree, and prints Markdown
# tables for BENCHMARKS.md.
#
#   scripts/bench-peers.sh [ITERATIONS] [HMMLEARN_ITERATIONS]
#
# Needs python3 with venv (the peers are installed into target/bench-venv from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-5}
hmmlearn_iterations=${2:-3}
py=$(scripts/bench/venv.sh | tail -n1)
cargo build --release --quiet
for k in 45 10 200; do
  dir=target/bench/w-k$k
  [[ -f "$dir/meta.json" ]] || "$py" scripts/bench/gen_hmm.py --k "$k" --vocab 10000 \
    --sentences 50000 --mean-length 20 --seed 0 --out "$dir" >/dev/null
  peers=numpy
  # hmmlearn is the W1 peer; at K = 200 it would take minutes per iteration.
  [[ $k == 45 ]] && peers=numpy,hmmlearn
  "$py" scripts/bench/compare.py --emc target/release/emc --python "$py" --workload "$dir" \
    --iterations "$iterations" --peer-iterations "$hmmlearn_iterations" --peers "$peers"
done
# W3: K = 8 full-covariance mixtures, 1M points in 2-D and 100k in 16-D.
"$py" scripts/bench/gmm.py --emc target/release/emc --n 1000000 --dim 2 --k 8 \
  --iterations "$iterations" --out target/bench/w3-2d
"$py" scripts/bench/gmm.py --emc target/release/emc --n 100000 --dim 16 --k 8 \
  --iterations "$iterations" --out target/bench/w3-16d
# W4: IBM Model 1 on the 50k Hansards pairs plus the 447 test pairs, whole runs.
"$py" scripts/bench/ibm1.py --emc target/release/emc --runs "$iterations" --out target/bench/w4
