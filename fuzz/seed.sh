#!/usr/bin/env bash
# Fills fuzz/corpus/{model,data} (ignored by git), or DIR/{model,data} with `fuzz/seed.sh DIR`,
# with seed inputs: the zoo's model files and data heads, and the diagnostics catalogue's bad
# models and bad data. The `grammar` and `cli` targets start from nothing (their inputs are
# choices, not text). Run from anywhere.
set -eu
cd "$(dirname "$0")/.."
corpus=${1:-fuzz/corpus}

# The models of the `data` target, in the order of `MODELS` in fuzz/src/pipeline.rs: a data
# input's first byte picks one.
models=(two_coins abo ibm1_koehn icecream factorial_hmm latent_class segmentation hmm_recursive)

mkdir -p "$corpus/model" "$corpus/data"

# A file's first lines, at most 4000 bytes (the targets ignore inputs over 4 KiB).
head_of() { head -n 60 "$1" | head -c 4000; }
# The byte that selects model number $1.
selector() { printf "\\x$(printf %02x "$1")"; }
name_of() { echo "$1" | tr / _; }
# A zoo model's data: models/NAME.txt, or the file its `# data:` line names.
data_of() {
    if [ -f "models/$1.txt" ]; then echo "models/$1.txt"
    else echo "models/$(sed -n 's/^# data: //p' "models/$1.em" | head -n 1)"; fi
}

for f in models/*.em tests/diagnostics/models/*.em tests/diagnostics/data/*.em; do
    [ "$(stat -c %s "$f")" -le 65536 ] || continue
    cp "$f" "$corpus/model/$(name_of "$f")"
done

for i in "${!models[@]}"; do
    m=${models[$i]}
    { selector "$i"; head_of "$(data_of "$m")"; } > "$corpus/data/$m.txt"
    for f in models/*.txt tests/diagnostics/data/*.txt tests/diagnostics/data/*.train; do
        case "$f" in models/LICENSE*) continue ;; esac
        { selector "$i"; head_of "$f"; } > "$corpus/data/${m}__$(name_of "$f")"
    done
done
echo "seeded: $(ls "$corpus/model" | wc -l) model inputs, $(ls "$corpus/data" | wc -l) data inputs"
