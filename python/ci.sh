#!/usr/bin/env bash
# Builds the Python package (python/) into a virtualenv and runs its tests: what `.ci/run`
# calls last. Needs only Rust and Python 3.9 or newer: the virtualenv (target/python-venv,
# or $EMC_PYTHON_VENV) gets maturin, pytest, numpy, scikit-learn, hmmlearn and tqdm at the
# versions python/requirements.txt pins (reused while that file is unchanged), then the
# package is built from source and installed as `pip install ./python` does (maturin as the
# build backend, the venv's own copy), and pytest runs python/tests: the estimators against
# hmmlearn and scikit-learn from the same initial parameters, errors, pickling, numpy input,
# Ctrl-C. About five minutes on a fresh clone, most of it compiling emc.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

venv="${EMC_PYTHON_VENV:-target/python-venv}"
case "$venv" in /*) ;; *) venv="$root/$venv" ;; esac
if [ -n "${EMC_PYTHON:-}" ]; then
    base_py="$EMC_PYTHON"
elif command -v python3.11 >/dev/null 2>&1; then
    base_py=python3.11
else
    base_py=python3
fi
if ! command -v "$base_py" >/dev/null 2>&1; then
    echo "python/ci.sh: no Python 3 ($base_py): the Python package needs one" >&2
    exit 1
fi

req="$here/requirements.txt"
stamp="$venv/.emc-requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
    echo "python/ci.sh: creating $venv with $base_py" >&2
    "$base_py" -m venv "$venv"
fi
py="$venv/bin/python"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "python/ci.sh: installing $req" >&2
    "$py" -m pip install --disable-pip-version-check -q -r "$req"
    echo "$want" > "$stamp"
fi

echo "python/ci.sh: building and installing the emc wheel (pip install ./python)" >&2
# The root package's target directory: the emc library and its dependencies, built there by
# `cargo build --release` with the same profile, are not compiled a second time.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# maturin's build backend runs the `maturin` of the venv, which must be on PATH.
export PATH="$venv/bin:$PATH"
"$py" -m pip install --disable-pip-version-check -q --no-build-isolation --no-deps \
    --force-reinstall ./python

# BLAS threads pinned, as scripts/crosscheck does; the tests run from the repository root so
# that the installed package, not python/emc, is imported.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
"$py" -m pytest -q -p no:cacheprovider python/tests
