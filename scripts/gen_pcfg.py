#!/usr/bin/env python3
"""Samples the PCFG zoo corpus (`models/pcfg.txt`, `models/pcfg.gold`, `models/pcfg.truth.json`)
from a small known grammar in Chomsky normal form.

    python3 scripts/gen_pcfg.py models/pcfg

The grammar (6 nonterminals, 13 words; S is the start symbol; a verb may take a sentence,
so trees nest):

    S  -> NP VP 1.0
    NP -> D N 0.5   | she 0.25   | john 0.25
    VP -> V NP 0.5  | V S 0.15   | sleeps 0.2 | runs 0.15
    D  -> the 0.6   | a 0.4
    N  -> dog 0.4   | cat 0.35   | fish 0.25
    V  -> sees 0.4  | eats 0.3   | thinks 0.15 | says 0.15

Writes one sentence per line: PREFIX.txt the words (the model's data), PREFIX.gold its tree
bracketed as `emc decode` prints `models/pcfg.em`'s (`(S (NP she) (VP sleeps))`; `models/pcfg.em` labels them 0..5), and
PREFIX.truth.json the grammar in emc's params.json format for `models/pcfg.em`
(nonterminal i of its `NT = 0..K` is the i-th of S, NP, VP, D, N, V; the word vocabulary
in order of first appearance, as emc collects it), so a test can score the sample under
the true grammar. Sentences longer than MAX_LEN words are resampled, which keeps the
hypergraphs small (the file is a sample of the grammar conditioned on the length).
Deterministic: the same seed writes the same files. Standard library only.
"""

import json
import random
import sys

NTS = ["S", "NP", "VP", "D", "N", "V"]
BINARY = {
    "S": [(("NP", "VP"), 1.0)],
    "NP": [(("D", "N"), 0.5)],
    "VP": [(("V", "NP"), 0.5), (("V", "S"), 0.15)],
    "D": [],
    "N": [],
    "V": [],
}
LEXICAL = {
    "S": [],
    "NP": [("she", 0.25), ("john", 0.25)],
    "VP": [("sleeps", 0.2), ("runs", 0.15)],
    "D": [("the", 0.6), ("a", 0.4)],
    "N": [("dog", 0.4), ("cat", 0.35), ("fish", 0.25)],
    "V": [("sees", 0.4), ("eats", 0.3), ("thinks", 0.15), ("says", 0.15)],
}
LINES = 300
MAX_LEN = 10
SEED = 7


def sample(rng, x):
    """A tree (label, children) or (label, word), drawn top-down with an explicit stack."""
    rules = [(r, p) for r, p in BINARY[x]] + [(w, p) for w, p in LEXICAL[x]]
    choice = rng.choices([r for r, _ in rules], weights=[p for _, p in rules])[0]
    if isinstance(choice, tuple):
        return (x, [sample(rng, y) for y in choice])
    return (x, choice)


def words(tree):
    label, body = tree
    return [body] if isinstance(body, str) else [w for c in body for w in words(c)]


def bracket(tree):
    label, body = tree
    if isinstance(body, str):
        return f"({label} {body})"
    return f"({label} " + " ".join(bracket(c) for c in body) + ")"


def truth(vocabulary):
    """The grammar as `models/pcfg.em`'s families: kind(Kind | NT), left(NT | NT),
    right(NT | NT, NT), emit(Word | NT), root(NT)."""
    k = len(NTS)
    idx = {x: i for i, x in enumerate(NTS)}
    kind, left, right, emit = [], [], [[0.0] * k for _ in range(k * k)], []
    for x in NTS:
        b = sum(p for _, p in BINARY[x])
        kind.append([b, 1 - b])
        row = [0.0] * k
        for (y, z), p in BINARY[x]:
            row[idx[y]] += p / b
            right[idx[x] * k + idx[y]][idx[z]] += p / sum(q for (y2, _), q in BINARY[x] if y2 == y)
        # A nonterminal with no binary rules never reaches left/right: any normalised row.
        left.append(row if b > 0 else [1 / k] * k)
        lex = dict(LEXICAL[x])
        total = sum(lex.values())
        emit.append([lex.get(w, 0.0) / total for w in vocabulary] if total > 0
                    else [1 / len(vocabulary)] * len(vocabulary))
    for r, row in enumerate(right):
        if sum(row) == 0:
            right[r] = [1 / k] * k
    families = [
        ("root", "NT", [], [[1.0 if x == "S" else 0.0 for x in NTS]]),
        ("kind", "Kind", ["NT"], kind),
        ("left", "NT", ["NT"], left),
        ("right", "NT", ["NT", "NT"], right),
        ("emit", "Word", ["NT"], emit),
    ]
    return {
        "format": "emc-params-1",
        "domains": [
            {"name": "NT", "symbols": [str(i) for i in range(k)]},
            {"name": "Word", "symbols": vocabulary},
            {"name": "Kind", "symbols": ["BIN", "LEX"]},
        ],
        "families": [
            {"name": n, "kind": "Categorical", "outcome": o, "conditions": c, "values": v}
            for n, o, c, v in families
        ],
    }


def main(prefix):
    rng = random.Random(SEED)
    trees = []
    while len(trees) < LINES:
        t = sample(rng, "S")
        if len(words(t)) <= MAX_LEN:
            trees.append(t)
    vocabulary = []
    for t in trees:
        for w in words(t):
            if w not in vocabulary:
                vocabulary.append(w)
    with open(prefix + ".txt", "w") as f:
        f.write("".join(" ".join(words(t)) + "\n" for t in trees))
    with open(prefix + ".gold", "w") as f:
        f.write("".join(bracket(t) + "\n" for t in trees))
    with open(prefix + ".truth.json", "w") as f:
        json.dump(truth(vocabulary), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/pcfg")
