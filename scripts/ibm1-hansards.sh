#!/usr/bin/env bash
# IBM Model 1 (models/ibm1_null.em) on the English-French Hansards: trains p(f|e) on the 50k
# tokenised training pairs plus the 447 test pairs (lowercased, training pairs of at most 60
# tokens a side), 5 EM iterations, then scores the Viterbi alignments of the test pairs with
# AER against the NAACL 2003 gold links. The reference figure is AER 0.349.
#
#   scripts/ibm1-hansards.sh [THREADS]
#
# The data comes from ../shared/data/hansards_en_fr (set HANSARDS_DIR to use another copy).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
src=${HANSARDS_DIR:-../shared/data/hansards_en_fr}
out=ibm1-hansards-out
mkdir -p "$out"
cargo build --release --quiet
lower() { tr '[:upper:]' '[:lower:]'; }
paste -d'\t' <(lower <"$src/hansard36.50k.tok.f") <(lower <"$src/hansard36.50k.tok.e") |
  awk -F'\t' 'split($1, a, " ") <= 60 && split($2, b, " ") <= 60 && NF == 2 && $1 != "" && $2 != "" { print $1 " ||| " $2 }' >"$out/train.txt"
paste -d'\t' <(lower <"$src/test.ascii.f") <(lower <"$src/test.ascii.e") | awk -F'\t' '{ print $1 " ||| " $2 }' >"$out/test.txt"
cat "$out/train.txt" "$out/test.txt" >"$out/all.txt"
/usr/bin/time -f "training: %e s wall, %M KB peak" ./target/release/emc run models/ibm1_null.em "$out/all.txt" \
  --out "$out/run" --threads "$threads" --quiet
./target/release/emc decode models/ibm1_null.em "$out/test.txt" --params "$out/run/params.json" >"$out/test.align"
./target/release/emc eval --gold "$src/test.wa.nonullalign" --pred "$out/test.align" --metric aer
