#!/usr/bin/env bash
# Grammar induction with the DMV on UD English EWT (issue 17; Berg-Kirkpatrick et al. 2010,
# Table 1, WSJ10 directed accuracy: basic EM 47.8, featurised Algorithm 1 48.3, Algorithm 2
# 63.0). Trains each configuration on the train split's sentences of at most 10 tokens
# (punctuation removed), decodes the Viterbi trees of train, dev and test (at most 10 tokens
# each) with the trained parameters, and scores directed and undirected attachment accuracy
# with `emc eval --metric attachment`; then prints the left- and right-branching baselines.
#
#   scripts/dmv-induction.sh [CONFIGURATION...]
#
#   scripts/dmv-induction.sh                         # basic alg1 alg2 hard
#   scripts/dmv-induction.sh alg2 alg2-uniform       # some of them
#
# Configurations (models/dmv.em basic, models/dmv_features.em featurised, l2 1.0 fixed in the
# model before any run):
#   basic   EM, ITERATIONS (default 50) iterations from the harmonic initialiser
#   alg1    featurised, Algorithm 1 (--algorithm em), ITERATIONS iterations, same start
#   alg2    featurised, Algorithm 2 (--algorithm direct), LBFGS (default 200) L-BFGS
#           iterations, from the weights one Algorithm 1 iteration fits to the harmonic
#           start's counts (Algorithm 2 reads weights only: a file of probabilities alone
#           would start it from weights 0, the uniform model)
#   hard    hard (Viterbi) EM on the basic model, ITERATIONS iterations, harmonic start
#   basic-uniform, alg1-uniform, alg2-uniform: the same from the uniform model (no --init)
# Every run is deterministic (no random numbers: the starts are the harmonic initialiser or
# uniform), so one run per configuration is reported, with --tolerance 0.
#
# The treebank comes from ../shared/data/ud_english_ewt (EWT_DIR to use another copy);
# scripts/data/ewt_dmv.py prepares it. The train split's tags are models/dmv.txt, whose
# harmonic initialiser models/dmv.harmonic.json (models/dmv_features.harmonic.json for the
# featurised model) is committed. Outputs go to dmv-induction-out/. THREADS (default 1) is
# passed to emc; set EMC to use a given emc binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
configs=("$@")
if [[ ${#configs[@]} -eq 0 ]]; then configs=(basic alg1 alg2 hard); fi
ewt=${EWT_DIR:-../shared/data/ud_english_ewt}
threads=${THREADS:-1}
iterations=${ITERATIONS:-50}
lbfgs=${LBFGS:-200}
out=dmv-induction-out
emc=${EMC:-}
if [[ -z "$emc" ]]; then
  cargo build --release --quiet
  emc=./target/release/emc
fi
data="$out/data"
python3 scripts/data/ewt_dmv.py --source "$ewt" --out "$data" --max-length 10 >/dev/null
if ! cmp -s "$data/train/tags.txt" models/dmv.txt; then
  echo "warning: $data/train/tags.txt differs from models/dmv.txt, whose harmonic start is used" >&2
fi
run() { # DIR MODEL ALGORITHM ITERATIONS [emc run flags...]
  local dir=$1 model=$2 algorithm=$3 n=$4
  shift 4
  mkdir -p "$dir"
  "$emc" run "$model" "$data/train/tags.txt" --out "$dir" --algorithm "$algorithm" \
    --iterations "$n" --tolerance 0 --threads "$threads" --quiet "$@" >"$dir.log"
}
for config in "${configs[@]}"; do
  dir="$out/$config"
  start=$(date +%s.%N)
  case "$config" in
    basic) model=models/dmv.em
      run "$dir" $model em "$iterations" --init models/dmv.harmonic.json ;;
    alg1) model=models/dmv_features.em
      run "$dir" $model em "$iterations" --init models/dmv_features.harmonic.json ;;
    alg2) model=models/dmv_features.em
      run "$dir.start" $model em 1 --init models/dmv_features.harmonic.json
      run "$dir" $model direct "$lbfgs" --init "$dir.start/params.json" ;;
    hard) model=models/dmv.em
      run "$dir" $model hard "$iterations" --init models/dmv.harmonic.json ;;
    basic-uniform) model=models/dmv.em; run "$dir" $model em "$iterations" ;;
    alg1-uniform) model=models/dmv_features.em; run "$dir" $model em "$iterations" ;;
    alg2-uniform) model=models/dmv_features.em; run "$dir" $model direct "$lbfgs" ;;
    *) echo "unknown configuration '$config' (basic, alg1, alg2, hard, basic-uniform, alg1-uniform, alg2-uniform)" >&2
      exit 2 ;;
  esac
  trained=$(date +%s.%N)
  params="$dir/params.json"
  if [[ $config == hard ]]; then
    # Hard EM gives probability 0 to every event its Viterbi trees lack, and some dev and
    # test sentences then have no tree at all: decode with every row mixed with 1e-9 of the
    # uniform row, which changes no tree of positive probability (but for exact ties).
    params="$dir/params.mixed.json"
    python3 - "$dir/params.json" "$params" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for f in doc["families"]:
    f["values"] = [[(1 - 1e-9) * p + 1e-9 / len(row) for p in row] for row in f["values"]]
json.dump(doc, open(sys.argv[2], "w"))
PY
  fi
  line="$config:"
  for split in train dev test; do
    "$emc" decode "$model" "$data/$split/tags.txt" --params "$params" >"$dir/$split.pred"
    score=$("$emc" eval --gold "$data/$split/heads.txt" --pred "$dir/$split.pred" --metric attachment)
    line+=" $split $(echo "$score" | awk '{gsub(",", "", $6); print $3 " / " $6}')"
  done
  last=$(tail -1 "$dir/trace.tsv")
  printf '%s (directed / undirected; log-likelihood %s after %s iterations or evaluations; training %s s in trace.tsv, run %.1f s, decoding and scoring %.1f s)\n' \
    "$line" "$(echo "$last" | cut -f2)" "$(echo "$last" | cut -f1)" "$(echo "$last" | cut -f3)" \
    "$(echo "$trained - $start" | bc)" "$(echo "$(date +%s.%N) - $trained" | bc)"
done
for baseline in left right; do
  line="$baseline-branching:"
  for split in train dev test; do
    score=$("$emc" eval --gold "$data/$split/heads.txt" --pred "$data/$split/$baseline.txt" --metric attachment)
    line+=" $split $(echo "$score" | awk '{gsub(",", "", $6); print $3 " / " $6}')"
  done
  echo "$line"
done
