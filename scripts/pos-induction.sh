#!/usr/bin/env bash
# Part-of-speech induction on UD English EWT train (Berg-Kirkpatrick et al. 2010, Table 1, on
# public data): trains one model per seed, decodes the Viterbi states and scores them against
# the gold XPOS tags with many-to-one accuracy, then prints the mean and standard deviation.
#
#   scripts/pos-induction.sh [MODEL] [ALGORITHM] [SEEDS] [ITERATIONS] [THREADS]
#
#   scripts/pos-induction.sh models/pos_hmm.em  em     5 100   # basic HMM, EM
#   scripts/pos-induction.sh models/pos_fhmm.em em     5 100   # featurised HMM, Algorithm 1
#   scripts/pos-induction.sh models/pos_fhmm.em direct 5 100   # featurised HMM, Algorithm 2
#
#   EMC_FLAGS="--batch 100 --alpha 0.7" scripts/pos-induction.sh models/pos_hmm.em stepwise 3 10
#                                           # stepwise EM, 10 passes (Liang & Klein 2009)
#   EMC_FLAGS="--prior 0.1" scripts/pos-induction.sh models/pos_hmm.em vb 3 50   # variational Bayes
#   M_STEP_TOLERANCE=0.01 scripts/pos-induction.sh models/pos_fhmm.em em 3 1000
#                                           # Algorithm 1 with inexact M-steps (generalised EM)
#
# Defaults: models/pos_hmm.em, em, 5 seeds (0..4), 100 iterations (for `direct`, L-BFGS
# iterations; for `stepwise` and `incremental`, passes), 2 threads. EMC_FLAGS adds flags to
# `emc run` (an algorithm's settings). M_STEP_TOLERANCE=r trains a copy of MODEL whose Logistic
# family has `m_step_tolerance: r` (each M-step stops once its gradient is r times its size at
# the warm start; README, Logistic). EWT comes from ../shared/data (set EWT_DIR to use another copy).
# Outputs go to pos-induction-out/NAME-ALGORITHM/. Set EMC to use a given emc binary instead of
# building one.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/pos_hmm.em}
algorithm=${2:-em}
seeds=${3:-5}
iterations=${4:-100}
threads=${5:-2}
ewt=${EWT_DIR:-../shared/data/ud_english_ewt}
flags=${EMC_FLAGS:-}
out="pos-induction-out/$(basename "$model" .em)${M_STEP_TOLERANCE:+-mst$M_STEP_TOLERANCE}-$algorithm$(echo "$flags" | tr -d ' -')"
mkdir -p "$out"
if [[ -n "${M_STEP_TOLERANCE:-}" ]]; then
  # The variant is written next to the outputs, so a run's directory says what it trained.
  grep -q '^    l2: 1.0$' "$model" || { echo "pos-induction.sh: M_STEP_TOLERANCE needs a model whose Logistic block ends with 'l2: 1.0'" >&2; exit 2; }
  sed 's/^    l2: 1.0$/    l2: 1.0,\n    m_step_tolerance: '"$M_STEP_TOLERANCE"'/' "$model" >"$out/model.em"
  model="$out/model.em"
fi
emc=${EMC:-}
if [[ -z "$emc" ]]; then
  cargo build --release --quiet
  emc=./target/release/emc
fi
scores=()
for ((seed = 0; seed < seeds; seed++)); do
  dir="$out/seed$seed"
  "$emc" run "$model" "$ewt/en_ewt-train.words" --out "$dir" --algorithm "$algorithm" \
    --seed "$seed" --iterations "$iterations" --tolerance 0 --threads "$threads" --quiet $flags >"$dir.log"
  "$emc" decode "$model" "$ewt/en_ewt-train.words" --params "$dir/params.json" >"$dir/pred.txt"
  metric() { "$emc" eval --gold "$ewt/en_ewt-train.xpos" --pred "$dir/pred.txt" --metric "$1" | awk '{print $3}'; }
  m2o=$(metric many-to-one)
  o2o=$(metric one-to-one)
  vm=$("$emc" eval --gold "$ewt/en_ewt-train.xpos" --pred "$dir/pred.txt" --metric v-measure | awk '{print $2}')
  last=$(tail -1 "$dir/trace.tsv")
  echo "seed $seed: many-to-one $m2o, one-to-one $o2o, V-measure $vm (log-likelihood $(echo "$last" | cut -f2), $(echo "$last" | cut -f1) iterations or evaluations, $(echo "$last" | cut -f3) s)"
  scores+=("$m2o $o2o $vm")
done
printf '%s\n' "${scores[@]}" | awk -v m="$model" -v a="$algorithm" '
  { for (i = 1; i <= 3; i++) { s[i] += $i; ss[i] += $i * $i } n++ }
  END {
    split("many-to-one one-to-one V-measure", names, " ")
    printf "%s %s over %d seeds:", m, a, n
    for (i = 1; i <= 3; i++) {
      mean = s[i] / n; sd = (n > 1) ? sqrt((ss[i] - n * mean * mean) / (n - 1)) : 0
      printf " %s mean %.4f sd %.4f;", names[i], mean, sd
    }
    printf "\n"
  }'
