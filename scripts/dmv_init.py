#!/usr/bin/env python3
"""Write the DMV's Klein-Manning harmonic initial parameters in emc's params.json format.

  python3 scripts/dmv_init.py --data models/dmv.txt --out models/dmv.harmonic.json
  python3 scripts/dmv_init.py --data models/dmv.txt --out models/dmv_features.harmonic.json --logistic

The parameters are exactly the ones `scripts/bench/dmv_peer.py --init harmonic` starts
from (its docstring states the initialiser: the first M-step's counts come from a
posterior where a token is the root with probability 1/n and otherwise takes each other
token as its head with weight 1/distance); this script computes them with the peer's code
and lays them out for `models/dmv.em`'s families:

  root   : Categorical(Tag)                        root[tag]
  attach : Categorical(Tag | Dir, Tag)             attach[dir][head][arg], Dir = {L, R}
  stop   : Categorical(Act | Dir, Tag, Valence)    [stop, 1 - stop][dir][head][valence],
                                                   Act = {STOP, GO}, Valence = {ADJ, NON}

The Tag domain is the peer's (the sorted tags of the data), and `emc run --init` takes a
file's domains as they are, so emc and the peer index the same tables. With `--logistic` the attach and stop families are
written as `Logistic` (`models/dmv_features.em`'s kinds), with the same probabilities and no
weights: the first E-step reads the probabilities and the first M-step fits the weights. Floats are written
with repr, which round-trips exactly. Needs numpy (the benchmark virtualenv,
`scripts/bench/venv.sh`). Deterministic.
"""
import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "bench"))
import dmv_peer  # noqa: E402


def emc_params(tags, P, kind="Categorical"):
    """The peer's Params as an emc params.json document; `kind` is attach's and stop's."""
    stop = P.stop.tolist()  # [dir][head][valence] = P(stop)
    return {
        "format": "emc-params-1",
        "domains": [
            {"name": "Tag", "symbols": list(tags)},
            {"name": "Dir", "symbols": ["L", "R"]},
            {"name": "Valence", "symbols": ["ADJ", "NON"]},
            {"name": "Act", "symbols": ["STOP", "GO"]},
        ],
        "families": [
            {"name": "root", "kind": "Categorical", "outcome": "Tag", "conditions": [],
             "values": [P.root.tolist()]},
            {"name": "attach", "kind": kind, "outcome": "Tag",
             "conditions": ["Dir", "Tag"],
             "values": [row for d in P.attach.tolist() for row in d]},
            {"name": "stop", "kind": kind, "outcome": "Act",
             "conditions": ["Dir", "Tag", "Valence"],
             # 1 - s, not the peer's own continue row: the peer keeps only P(stop).
             "values": [[s, 1 - s] for d in stop for h in d for s in h]},
        ],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="tags: one sentence per line")
    ap.add_argument("--out", required=True, help="the params.json to write")
    ap.add_argument("--init", choices=("harmonic", "uniform"), default="harmonic")
    ap.add_argument("--logistic", action="store_true",
                    help="attach and stop as Logistic families (models/dmv_features.em)")
    a = ap.parse_args(argv)
    try:
        corpus = dmv_peer.Corpus(dmv_peer.read_sentences(a.data))
    except (OSError, ValueError) as error:
        sys.exit(f"dmv_init.py: {error}")
    doc = emc_params(corpus.tags, corpus.initial(a.init),
                     "Logistic" if a.logistic else "Categorical")
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
