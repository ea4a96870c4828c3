#!/usr/bin/env bash
# Word segmentation on the Brent corpus (Berg-Kirkpatrick et al. 2010, Table 1: basic 76.9,
# featurised Algorithm 1 84.5, Algorithm 2 88.0 token F1): trains each configuration once per
# seed from random initial parameters on all 9,790 utterances, decodes the Viterbi
# segmentations, scores them against the gold words (token, boundary and lexicon F1) and
# prints each seed, then the mean and standard deviation.
#
#   scripts/brent-segmentation.sh [SEEDS] [CONFIGURATION...]
#
#   scripts/brent-segmentation.sh 3                    # all three configurations, seeds 0..2
#   scripts/brent-segmentation.sh 5 basic alg2         # two of them, seeds 0..4
#
# Configurations: basic (models/brent_seg.em, EM), alg1 (models/brent_seg_features.em,
# --algorithm em), alg2 (the same, --algorithm direct). Every run stops at the models'
# tolerance (1e-7, relative) or after ITERATIONS (default 300; for alg2, L-BFGS iterations).
# A seed only draws the random initial parameters (ChaCha8 noise normalised per row); the data
# and everything else are fixed, so seeds differ by the local optimum EM or L-BFGS reaches.
#
# The corpus comes from ../shared/data/brent_br_phono (set BRENT_DIR to use another copy; it
# is never copied into the repository); scripts/data/brent.py prepares the unsegmented input.
# Outputs go to brent-segmentation-out/. THREADS (default 1) is passed to emc; set EMC to use
# a given emc binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-3}
shift || true
configs=("$@")
if [[ ${#configs[@]} -eq 0 ]]; then configs=(basic alg1 alg2); fi
brent=${BRENT_DIR:-../shared/data/brent_br_phono}
threads=${THREADS:-1}
iterations=${ITERATIONS:-300}
out=brent-segmentation-out
emc=${EMC:-}
if [[ -z "$emc" ]]; then
  cargo build --release --quiet
  emc=./target/release/emc
fi
python3 scripts/data/brent.py --source "$brent" --out "$out/data" >/dev/null
chars="$out/data/chars.txt"
gold="$out/data/gold.txt"
for config in "${configs[@]}"; do
  case "$config" in
    basic) model=models/brent_seg.em algorithm=em ;;
    alg1) model=models/brent_seg_features.em algorithm=em ;;
    alg2) model=models/brent_seg_features.em algorithm=direct ;;
    *) echo "unknown configuration '$config' (basic, alg1, alg2)" >&2; exit 2 ;;
  esac
  scores=()
  for ((seed = 0; seed < seeds; seed++)); do
    dir="$out/$config/seed$seed"
    mkdir -p "$dir"
    start=$(date +%s.%N)
    "$emc" run "$model" "$chars" --out "$dir" --algorithm "$algorithm" --seed "$seed" \
      --iterations "$iterations" --threads "$threads" --quiet >"$dir.log"
    "$emc" decode "$model" "$chars" --params "$dir/params.json" >"$dir/pred.txt"
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    report=$("$emc" eval --gold "$gold" --pred "$dir/pred.txt" --metric segmentation)
    f1() { echo "$report" | grep -o "$1 F1 [0-9.]*" | awk '{print $3}'; }
    token=$(f1 token) boundary=$(f1 boundary) lexicon=$(f1 lexicon)
    last=$(tail -1 "$dir/trace.tsv")
    printf '%s seed %d: token F1 %s, boundary F1 %s, lexicon F1 %s (objective %s after %s iterations or evaluations; training %.1f s, with decoding %.1f s)\n' \
      "$config" "$seed" "$token" "$boundary" "$lexicon" "$(echo "$last" | cut -f2)" \
      "$(echo "$last" | cut -f1)" "$(echo "$last" | cut -f3)" "$wall"
    scores+=("$token $boundary $lexicon")
  done
  printf '%s\n' "${scores[@]}" | awk -v c="$config" '
    { for (i = 1; i <= 3; i++) { s[i] += $i; ss[i] += $i * $i } n++ }
    END {
      split("token boundary lexicon", names, " ")
      printf "%s over %d seeds:", c, n
      for (i = 1; i <= 3; i++) {
        mean = s[i] / n; v = (n > 1) ? (ss[i] - n * mean * mean) / (n - 1) : 0
        printf " %s F1 %.4f ± %.4f;", names[i], mean, (v > 0) ? sqrt(v) : 0
      }
      printf "\n"
    }'
done
