#!/usr/bin/env bash
# Create (or reuse) the benchmark virtualenv and print its python path as the
# last line of stdout. Idempotent: a venv whose installed requirements match
# requirements.txt (by hash stamp) is reused without touching the network.
#
#   BENCH_VENV   venv directory (default: target/bench-venv, relative to repo root)
#   BENCH_PYTHON interpreter used to create the venv (default: python3.11, else python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${BENCH_VENV:-target/bench-venv}"
case "$venv" in /*) ;; *) venv="$root/$venv" ;; esac
req="$here/requirements.txt"

if [ -n "${BENCH_PYTHON:-}" ]; then
    base_py="$BENCH_PYTHON"
elif command -v python3.11 >/dev/null 2>&1; then
    base_py=python3.11
else
    base_py=python3
fi

stamp="$venv/.bench-requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ]; then
    echo "venv.sh: creating $venv with $base_py" >&2
    "$base_py" -m venv "$venv" >&2
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "venv.sh: installing $req" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req" >&2
    echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
