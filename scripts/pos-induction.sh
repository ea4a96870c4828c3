#!/usr/bin/env bash
# Part-of-speech induction on UD English EWT train with the basic HMM (models/pos_hmm.em):
# trains one model per seed, decodes the Viterbi states and scores them against the gold
# XPOS tags with many-to-one accuracy, then prints the mean and standard deviation.
#
#   scripts/pos-induction.sh [SEEDS] [ITERATIONS] [THREADS]
#
# Defaults: 5 seeds (0..4), 50 iterations, 2 threads. EWT comes from ../shared/data (set
# EWT_DIR to use another copy). Outputs go to pos-induction-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-5}
iterations=${2:-50}
threads=${3:-2}
ewt=${EWT_DIR:-../shared/data/ud_english_ewt}
out=pos-induction-out
mkdir -p "$out"
cargo build --release --quiet
scores=()
for ((seed = 0; seed < seeds; seed++)); do
  dir="$out/seed$seed"
  ./target/release/emc run models/pos_hmm.em "$ewt/en_ewt-train.words" --out "$dir" \
    --seed "$seed" --iterations "$iterations" --tolerance 0 --threads "$threads" --quiet >"$dir.log"
  ./target/release/emc decode models/pos_hmm.em "$ewt/en_ewt-train.words" --params "$dir/params.json" >"$dir/pred.txt"
  score=$(./target/release/emc eval --gold "$ewt/en_ewt-train.xpos" --pred "$dir/pred.txt" --metric many-to-one)
  echo "seed $seed: $score ($(tail -1 "$dir/trace.tsv" | cut -f2) final log-likelihood)"
  scores+=("$(echo "$score" | awk '{print $3}')")
done
printf '%s\n' "${scores[@]}" | awk '{ s += $1; ss += $1 * $1; n++ }
  END { m = s / n; sd = (n > 1) ? sqrt((ss - n * m * m) / (n - 1)) : 0;
        printf "many-to-one over %d seeds: mean %.4f, sd %.4f\n", n, m, sd }'
