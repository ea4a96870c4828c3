#!/usr/bin/env python3
"""Samples the hidden semi-Markov zoo corpus (`models/hsmm.txt`, `models/hsmm.gold`,
`models/hsmm.truth.json`) from known parameters.

    python3 scripts/gen_hsmm.py models/hsmm

Three states; a state lasts 1..6 steps (its own duration distribution), emits one of six
symbols per step, then moves to another state (never to itself). A line is a run of whole
segments, drawn until it has at least MIN_LEN symbols (no segment is cut at the end, as
`models/hsmm.em` assumes). PREFIX.txt holds the symbols, PREFIX.gold the state of every
position, PREFIX.truth.json the parameters in emc's params.json format for
`models/hsmm.em` (the symbol vocabulary in order of first appearance, as emc collects it).
Deterministic: the same seed writes the same files. Standard library only.
"""

import json
import random
import sys

START = [0.5, 0.3, 0.2]
TRANS = [[0.0, 0.7, 0.3], [0.4, 0.0, 0.6], [0.5, 0.5, 0.0]]
# P(duration = 1..6 | state): short, long, medium.
DUR = [
    [0.5, 0.3, 0.1, 0.05, 0.03, 0.02],
    [0.02, 0.05, 0.13, 0.3, 0.3, 0.2],
    [0.1, 0.3, 0.3, 0.2, 0.05, 0.05],
]
SYMBOLS = ["a", "b", "c", "d", "e", "f"]
# Each state has symbols of its own and shares a few with another: with more overlap, the
# sample no longer tells a long segment from two short ones and EM's durations drift.
EMIT = [
    [0.6, 0.3, 0.1, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.1, 0.6, 0.3, 0.0],
    [0.1, 0.0, 0.0, 0.0, 0.2, 0.7],
]
LINES = 300
MIN_LEN = 20
SEED = 5


def draw(rng, probs):
    return rng.choices(range(len(probs)), weights=probs)[0]


def main(prefix):
    rng = random.Random(SEED)
    lines, gold = [], []
    for _ in range(LINES):
        obs, states = [], []
        s = draw(rng, START)
        while True:
            d = draw(rng, DUR[s]) + 1
            for _ in range(d):
                obs.append(SYMBOLS[draw(rng, EMIT[s])])
                states.append(s)
            if len(obs) >= MIN_LEN:
                break
            s = draw(rng, TRANS[s])
        lines.append(obs)
        gold.append(states)
    vocabulary = []
    for obs in lines:
        for x in obs:
            if x not in vocabulary:
                vocabulary.append(x)
    emit = [[row[SYMBOLS.index(x)] for x in vocabulary] for row in EMIT]
    truth = {
        "format": "emc-params-1",
        "domains": [
            {"name": "State", "symbols": [str(k) for k in range(len(START))]},
            {"name": "Dur", "symbols": [str(d) for d in range(1, len(DUR[0]) + 1)]},
            {"name": "Sym", "symbols": vocabulary},
        ],
        "families": [
            {"name": "start", "kind": "Categorical", "outcome": "State", "conditions": [],
             "values": [START]},
            {"name": "trans", "kind": "Categorical", "outcome": "State",
             "conditions": ["State"], "values": TRANS},
            {"name": "dur", "kind": "Categorical", "outcome": "Dur", "conditions": ["State"],
             "values": DUR},
            {"name": "emit", "kind": "Categorical", "outcome": "Sym", "conditions": ["State"],
             "values": emit},
        ],
    }
    with open(prefix + ".txt", "w") as f:
        f.write("".join(" ".join(obs) + "\n" for obs in lines))
    with open(prefix + ".gold", "w") as f:
        f.write("".join(" ".join(map(str, s)) + "\n" for s in gold))
    with open(prefix + ".truth.json", "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/hsmm")
