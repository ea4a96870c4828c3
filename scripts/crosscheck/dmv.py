#!/usr/bin/env python3
"""Cross-check `models/dmv.em` against the NumPy DMV peer (`scripts/bench/dmv_peer.py`).

  dmv.py --emc EMC [--iterations 10] [--keep DIR]

1. The committed harmonic initialiser `models/dmv.harmonic.json` is what
   `scripts/dmv_init.py` computes from `models/dmv.txt` now (the peer's initialiser in
   emc's format): equal as JSON, floats exactly.
2. From it, `emc run --iterations T --tolerance 0 --decode` gives the peer's
   log-likelihood trace t = 0..T to 1e-9 relative.
3. Its Viterbi heads score the peer's directed and undirected attachment accuracy against
   `models/dmv.gold` to 0.002 (the two break exact ties between trees differently).

Exit status 0 only if every check passed. Needs numpy (run.sh's virtualenv).
"""
import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))
import dmv_init  # noqa: E402
import dmv_peer  # noqa: E402

DATA = ROOT / "models" / "dmv.txt"
GOLD = ROOT / "models" / "dmv.gold"


def accuracy(emc, pred):
    """(directed, undirected) from `emc eval --metric attachment`."""
    out = subprocess.run([emc, "eval", "--gold", str(GOLD), "--pred", str(pred), "--metric",
                          "attachment"], check=True, capture_output=True, text=True).stdout
    # "directed accuracy 0.2604 (undirected accuracy 0.4639, tokens 27958)"
    words = out.replace("(", " ").replace(",", " ").split()
    return float(words[2]), float(words[5])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emc", required=True, help="path to the emc binary")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--keep", metavar="DIR", help="keep emc's output and the peer's decode here")
    a = ap.parse_args(argv)
    work = pathlib.Path(a.keep) if a.keep else pathlib.Path(tempfile.mkdtemp(prefix="dmv-cc-"))
    work.mkdir(parents=True, exist_ok=True)
    failures = []

    corpus = dmv_peer.Corpus(dmv_peer.read_sentences(DATA))
    init = corpus.initial("harmonic")
    committed = json.loads((ROOT / "models" / "dmv.harmonic.json").read_text())
    if dmv_init.emc_params(corpus.tags, init) != committed:
        failures.append("models/dmv.harmonic.json differs from scripts/dmv_init.py's output")

    peer_decode = work / "peer.heads"
    peer = dmv_peer.run(str(DATA), a.iterations, 1, "harmonic", quiet=True,
                        decode=str(peer_decode))
    out = work / "emc-out"
    subprocess.run([a.emc, "run", str(ROOT / "models" / "dmv.em"), str(DATA), "--init",
                    str(ROOT / "models" / "dmv.harmonic.json"), "--iterations",
                    str(a.iterations), "--tolerance", "0", "--decode", "--quiet", "--out",
                    str(out)], check=True)
    rows = (out / "trace.tsv").read_text().split("\n")[1:]
    trace = [float(r.split("\t")[1]) for r in rows if r]
    if len(trace) != len(peer["log_likelihoods"]):
        failures.append(f"emc's trace has {len(trace)} rows, the peer's "
                        f"{len(peer['log_likelihoods'])}")
    worst = 0.0
    for t, (x, y) in enumerate(zip(trace, peer["log_likelihoods"])):
        rel = abs(x - y) / abs(y)
        worst = max(worst, rel)
        if rel > 1e-9:
            failures.append(f"log-likelihood at t={t}: emc {x!r}, peer {y!r}")
    ours, theirs = accuracy(a.emc, out / "decode.txt"), accuracy(a.emc, peer_decode)
    for what, x, y in zip(("directed", "undirected"), ours, theirs):
        if abs(x - y) > 0.002:
            failures.append(f"{what} accuracy: emc {x}, peer {y}")
    print(f"dmv: {len(trace)} log-likelihoods, largest relative difference {worst:.2e}; "
          f"attachment emc {ours}, peer {theirs}")
    for f in failures:
        print(f"dmv: FAIL {f}", file=sys.stderr)
    print("dmv: " + ("all checks passed" if not failures else f"{len(failures)} failed"))
    if not a.keep:
        shutil.rmtree(work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
