#!/usr/bin/env bash
# Self-test of the benchmark peers: on small workloads, hmmlearn and the
# batched NumPy forward-backward must agree on the whole log-likelihood trace
# (relative difference < 1e-9) from the same init.json. Small and quick (~5 s).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py="$("$here/venv.sh" | tail -n1)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
run() {  # name, gen args...
    local name="$1"; shift
    "$py" "$here/gen_hmm.py" "$@" --out "$tmp/$name" >/dev/null
    # shellcheck disable=SC2086
    if "$py" "$here/peers.py" --check --workload "$tmp/$name" --iterations 10 --threads 1 ${PEER_ARGS:-} \
        >"$tmp/$name.json" 2>/dev/null; then
        echo "ok   $name $(cut -c1-120 "$tmp/$name.json")"
    else
        echo "FAIL $name $(cat "$tmp/$name.json")"; fail=$((fail + 1))
    fi
}
run k5-v50-n200-l20 --k 5 --vocab 50 --sentences 200 --mean-length 20 --seed 1
run k5-v50-n200-l2  --k 5 --vocab 50 --sentences 200 --mean-length 2  --seed 2   # many length-1 sentences
run k12-v300-n300-l8 --k 12 --vocab 300 --sentences 300 --mean-length 8 --seed 3 # some unseen word types
PEER_ARGS="--emission-counts reduceat" \
run k12-v300-n300-l8-reduceat --k 12 --vocab 300 --sentences 300 --mean-length 8 --seed 3
PEER_ARGS="--implementation log" \
run k5-v50-n200-l20-hmmlearn-log --k 5 --vocab 50 --sentences 200 --mean-length 20 --seed 1
echo "selftest: $((5 - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
