#!/usr/bin/env bash
# Word alignment on the English-French Hansards (issue 17; Berg-Kirkpatrick et al. 2010, Table 1:
# HMM aligner AER 24.0 basic, 19.8 featurised Algorithm 1): IBM Model 1 (5 EM iterations) starts
# the HMM aligner (models/hansards_hmm.em, 10 EM iterations) and its featurised twin
# (models/hansards_hmm_features.em, a Logistic t(f | e)); each run decodes the Viterbi alignment
# of every pair, and the 447 test pairs (the last lines) are scored with
# `emc eval --metric aer` against test.wa.nonullalign. fast_align and eflomal run on the same
# prepared pairs for comparison. Prints each configuration's AER, precision, recall, final
# objective and wall time.
#
#   scripts/hansards-alignment.sh [CONFIGURATION...]
#
# Configurations (default: all but alg1 and alg2, which take long):
#   basic        IBM Model 1 then the basic HMM aligner on all 50,533 training pairs + the 447
#                test pairs (full.txt), t(f | e): each French word aligned to an English one
#   small        the same on small.txt: the first SMALL (default 2000) training pairs with at
#                most SMALL_MAX (default 10) tokens a side, + the 447 test pairs; also the other
#                direction (t(e | f)), the intersection and grow-diag-final-and of the two
#   reverse      the other direction of `basic` (t(e | f), on the swapped pairs), and the
#                intersection and grow-diag-final-and of the two directions' links; run `basic`
#                first
#   alg1         the featurised aligner on small.txt, Algorithm 1 (EM, L-BFGS M-step), started
#                from small's IBM Model 1; ALG1_ITERATIONS (default 3) EM iterations
#   alg2         the same, Algorithm 2 (--algorithm direct), ALG2_ITERATIONS (default 100)
#                L-BFGS iterations
#   alg1-rev     after `small` and `alg1`: Algorithm 1 in the other direction (t(e | f)) on the
#                swapped small pairs, and the intersection and grow-diag-final-and with alg1's
#   peers        fast_align (-d -o -v, both directions, intersection and grow-diag-final-and;
#                built from ../shared/peers/fast_align into target/) and eflomal (PyPI, in a
#                virtualenv under target/; default settings, both directions) on full.txt and
#                small.txt
#
# The featurised t is a dense |F| x |E| table with as many identity weights, which is why it
# trains on small.txt only (see the README). Every emc run is deterministic (IBM Model 1 starts
# uniform, the HMM aligners from its table, gate and jump uniform), so one run per
# configuration is the result; eflomal samples, so its figures vary from run to run.
# The corpus comes from ../shared/data/hansards_en_fr (HANSARDS_DIR to use another copy; never
# copied into the repository). Outputs go to hansards-alignment-out/. THREADS (default 2) is
# passed to emc; set EMC to use a given emc binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
configs=("$@")
if [[ ${#configs[@]} -eq 0 ]]; then configs=(basic small peers); fi
source_dir=${HANSARDS_DIR:-../shared/data/hansards_en_fr}
threads=${THREADS:-2}
out=hansards-alignment-out
gold="$source_dir/test.wa.nonullalign"
emc=${EMC:-}
if [[ -z "$emc" ]]; then
  cargo build --release --quiet
  emc=./target/release/emc
fi
data="$out/data"
python3 scripts/data/hansards.py --source "$source_dir" --out "$data" \
  --small "${SMALL:-2000}" --small-max "${SMALL_MAX:-10}"

# emc's decoding as `e-f` links (1-based; NULL dropped): IBM Model 1 prints each French word's
# English position (0: NULL), the HMM aligners print `e-f` links. With `swap`, the decoding of
# the reversed pairs (English words drawn from French ones), turned back into `e-f` links.
links() {
  awk -v swap="${2:-}" '{
    out = ""
    for (j = 1; j <= NF; j++) {
      if (index($j, "-")) { split($j, p, "-"); a = p[1]; b = p[2] } else { a = $j; b = j }
      if (a > 0) out = out (out == "" ? "" : " ") (swap ? b "-" a : a "-" b)
    }
    print out
  }' "$1"
}
# Pharaoh links (0-based i-j, English first) as 1-based e-f links.
pharaoh() {
  awk '{ out = ""; for (i = 1; i <= NF; i++) { split($i, p, "-"); out = out (i > 1 ? " " : "") (p[1] + 1) "-" (p[2] + 1) } print out }' "$1"
}
# The links two files share, line by line.
intersect() {
  awk 'NR == FNR { a[FNR] = $0; next } {
    n = split(a[FNR], x, " "); delete seen
    for (i = 1; i <= n; i++) seen[x[i]] = 1
    out = ""; for (i = 1; i <= NF; i++) if ($i in seen) out = out (out == "" ? "" : " ") $i
    print out
  }' "$1" "$2"
}
score() { # NAME LINKS-FILE [EXTRA]: the last 447 lines against the gold
  tail -n 447 "$2" >"$2.test"
  printf '%-44s %s %s\n' "$1" "$("$emc" eval --gold "$gold" --pred "$2.test" --metric aer)" "${3:-}"
}
# emc run with its wall time and peak memory; prints the final objective and the times.
run() { # DIR ARGS...
  local dir=$1; shift
  mkdir -p "$dir"
  /usr/bin/time -f "%e %M" -o "$dir/time" "$emc" run "$@" --out "$dir" --threads "$threads" \
    --decode >"$dir.log" 2>&1 || { cat "$dir.log" >&2; exit 1; }
  local last; last=$(tail -1 "$dir/trace.tsv")
  read -r wall kb <"$dir/time"
  echo "(objective $(echo "$last" | cut -f2) after $(echo "$last" | cut -f1) iterations; training $(echo "$last" | cut -f3) s, whole run $wall s, peak $((kb / 1024)) MiB)"
}
ibm1_then_hmm() { # NAME DATA
  local name=$1 corpus=$2 info
  info=$(run "$out/$name/ibm1" models/ibm1_null.em "$corpus")
  links "$out/$name/ibm1/decode.txt" >"$out/$name/ibm1/links"
  score "$name: IBM Model 1" "$out/$name/ibm1/links" "$info"
  info=$(run "$out/$name/hmm" models/hansards_hmm.em "$corpus" --init "$out/$name/ibm1/params.json" --no-params)
  links "$out/$name/hmm/decode.txt" >"$out/$name/hmm/links"
  score "$name: HMM aligner" "$out/$name/hmm/links" "$info"
}
# fast_align and its atools (symmetrisation), built from ../shared/peers/fast_align into target/.
fa=target/fast_align atools=target/atools
build_fast_align() {
  if [[ ! -x $fa || ! -x $atools ]]; then
    local peer=../shared/peers/fast_align
    g++ -O3 -march=native -std=c++11 -I "$peer" "$peer/src/fast_align.cc" \
      "$peer/src/ttables.cc" -o "$fa"
    g++ -O3 -std=c++11 -I "$peer" "$peer/src/atools.cc" "$peer/src/alignment_io.cc" -o "$atools"
  fi
}
# grow-diag-final-and of two e-f link files (atools reads 0-based English-French pairs).
grow() {
  build_fast_align
  local zero='{ out = ""; for (i = 1; i <= NF; i++) { split($i, p, "-"); out = out (i > 1 ? " " : "") (p[1] - 1) "-" (p[2] - 1) } print out }'
  awk "$zero" "$1" >"$1.0"
  awk "$zero" "$2" >"$2.0"
  "$atools" -i "$1.0" -j "$2.0" -c grow-diag-final-and | pharaoh /dev/stdin
}
reverse() { awk -F' \\|\\|\\| ' '{ print $2 " ||| " $1 }' "$1" >"$2"; }

# The HMM aligner of NAME trained the other way (t(e | f), on PAIRS.txt swapped into
# PAIRS.rev.txt, from its own IBM Model 1), then the two directions' intersection and
# grow-diag-final-and.
other_direction() {
  local name=$1 pairs=$2 info
  reverse "$pairs.txt" "$pairs.rev.txt"
  info=$(run "$out/$name-rev/ibm1" models/ibm1_null.em "$pairs.rev.txt")
  info=$(run "$out/$name-rev/hmm" models/hansards_hmm.em "$pairs.rev.txt" \
    --init "$out/$name-rev/ibm1/params.json" --no-params)
  links "$out/$name-rev/hmm/decode.txt" swap >"$out/$name-rev/hmm/links"
  score "$name: HMM aligner, t(e | f)" "$out/$name-rev/hmm/links" "$info"
  intersect "$out/$name/hmm/links" "$out/$name-rev/hmm/links" >"$out/$name/intersection"
  score "$name: HMM aligner, intersection" "$out/$name/intersection"
  grow "$out/$name/hmm/links" "$out/$name-rev/hmm/links" >"$out/$name/grow"
  score "$name: HMM aligner, grow-diag-final-and" "$out/$name/grow"
}

for config in "${configs[@]}"; do
  case "$config" in
    basic) ibm1_then_hmm basic "$data/full.txt" ;;
    small)
      ibm1_then_hmm small "$data/small.txt"
      other_direction small "$data/small"
      ;;
    reverse)
      if [[ ! -f "$out/basic/hmm/links" ]]; then
        echo "run the 'basic' configuration first: reverse intersects with its links" >&2
        exit 2
      fi
      other_direction basic "$data/full"
      ;;
    alg1 | alg2)
      if [[ ! -f "$out/small/ibm1/params.json" ]]; then
        echo "run the 'small' configuration first: $config starts from its IBM Model 1" >&2
        exit 2
      fi
      python3 scripts/data/hansards.py --logistic-init "$out/small/ibm1/params.json" \
        "$out/small/ibm1/logistic.json"
      if [[ $config == alg1 ]]; then
        flags=(--algorithm em --iterations "${ALG1_ITERATIONS:-3}")
      else
        flags=(--algorithm direct --iterations "${ALG2_ITERATIONS:-100}")
      fi
      info=$(run "$out/small/$config" models/hansards_hmm_features.em "$data/small.txt" \
        --init "$out/small/ibm1/logistic.json" --no-params "${flags[@]}")
      links "$out/small/$config/decode.txt" >"$out/small/$config/links"
      score "small: featurised HMM aligner, $config" "$out/small/$config/links" "$info"
      ;;
    alg1-rev)
      if [[ ! -f "$out/small-rev/ibm1/params.json" || ! -f "$out/small/alg1/links" ]]; then
        echo "run the 'small' and 'alg1' configurations first" >&2
        exit 2
      fi
      python3 scripts/data/hansards.py --logistic-init "$out/small-rev/ibm1/params.json" \
        "$out/small-rev/ibm1/logistic.json"
      info=$(run "$out/small-rev/alg1" models/hansards_hmm_features.em "$data/small.rev.txt" \
        --init "$out/small-rev/ibm1/logistic.json" --no-params --algorithm em \
        --iterations "${ALG1_ITERATIONS:-3}")
      links "$out/small-rev/alg1/decode.txt" swap >"$out/small-rev/alg1/links"
      score "small: featurised, alg1, t(e | f)" "$out/small-rev/alg1/links" "$info"
      intersect "$out/small/alg1/links" "$out/small-rev/alg1/links" >"$out/small/alg1.intersection"
      score "small: featurised, alg1, intersection" "$out/small/alg1.intersection"
      grow "$out/small/alg1/links" "$out/small-rev/alg1/links" >"$out/small/alg1.grow"
      score "small: featurised, alg1, grow-diag-final-and" "$out/small/alg1.grow"
      ;;
    peers)
      build_fast_align
      venv=target/eflomal-venv
      if [[ ! -x $venv/bin/eflomal-align ]]; then
        python3 -m venv "$venv" && "$venv/bin/pip" install -q eflomal || echo "eflomal did not install" >&2
      fi
      for corpus in full small; do
        dir="$out/peers/$corpus"
        mkdir -p "$dir"
        paste -d '\t' "$data/$corpus.en" "$data/$corpus.fr" | sed 's/\t/ ||| /' >"$dir/en-fr"
        start=$(date +%s.%N)
        "$fa" -i "$dir/en-fr" -d -o -v >"$dir/fa.fwd" 2>/dev/null
        "$fa" -i "$dir/en-fr" -d -o -v -r >"$dir/fa.rev" 2>/dev/null
        wall=$(echo "$(date +%s.%N) - $start" | bc)
        "$atools" -i "$dir/fa.fwd" -j "$dir/fa.rev" -c intersect >"$dir/fa.int"
        "$atools" -i "$dir/fa.fwd" -j "$dir/fa.rev" -c grow-diag-final-and >"$dir/fa.gdfa"
        for x in fwd rev int gdfa; do pharaoh "$dir/fa.$x" >"$dir/fa.$x.links"; done
        score "$corpus: fast_align -d -o -v, t(f | e)" "$dir/fa.fwd.links" "(both directions $wall s)"
        score "$corpus: fast_align -d -o -v -r, t(e | f)" "$dir/fa.rev.links"
        score "$corpus: fast_align, intersection" "$dir/fa.int.links"
        score "$corpus: fast_align, grow-diag-final-and" "$dir/fa.gdfa.links"
        if [[ -x $venv/bin/eflomal-align ]]; then
          start=$(date +%s.%N)
          "$venv/bin/eflomal-align" -s "$data/$corpus.en" -t "$data/$corpus.fr" \
            -f "$dir/ef.fwd" -r "$dir/ef.rev" --overwrite 2>/dev/null
          wall=$(echo "$(date +%s.%N) - $start" | bc)
          "$atools" -i "$dir/ef.fwd" -j "$dir/ef.rev" -c intersect >"$dir/ef.int"
          "$atools" -i "$dir/ef.fwd" -j "$dir/ef.rev" -c grow-diag-final-and >"$dir/ef.gdfa"
          for x in fwd rev int gdfa; do pharaoh "$dir/ef.$x" >"$dir/ef.$x.links"; done
          score "$corpus: eflomal, forward" "$dir/ef.fwd.links" "(both directions $wall s)"
          score "$corpus: eflomal, reverse" "$dir/ef.rev.links"
          score "$corpus: eflomal, intersection" "$dir/ef.int.links"
          score "$corpus: eflomal, grow-diag-final-and" "$dir/ef.gdfa.links"
        fi
      done
      ;;
    *) echo "unknown configuration '$config' (basic, reverse, small, alg1, alg2, alg1-rev, peers)" >&2; exit 2 ;;
  esac
done
