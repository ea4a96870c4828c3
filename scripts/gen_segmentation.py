#!/usr/bin/env python3
"""Generates the word segmentation toy corpus of the zoo (`models/segmentation.txt` and
`models/segmentation.gold`): utterances of words drawn from a small made-up lexicon with
Zipf-like frequencies, written as characters separated by spaces (the model's input), and the
same utterances with their words separated (the gold segmentation).

    python3 scripts/gen_segmentation.py models/segmentation

Deterministic: the same seed writes the same files.
"""

import random
import sys

LEXICON = [
    "ba", "kiti", "do", "mapu", "lor", "ne", "sufa", "gi", "teko", "pal",
    "ruwe", "mo", "dani", "ho", "bela",
]
LINES = 400
SEED = 12


def main(prefix):
    rng = random.Random(SEED)
    weights = [1.0 / (rank + 1) for rank in range(len(LEXICON))]
    chars, gold = [], []
    for _ in range(LINES):
        n = rng.randint(1, 4)
        words = rng.choices(LEXICON, weights=weights, k=n)
        gold.append(" ".join(words))
        chars.append(" ".join("".join(words)))
    with open(prefix + ".txt", "w") as f:
        f.write("\n".join(chars) + "\n")
    with open(prefix + ".gold", "w") as f:
        f.write("\n".join(gold) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/segmentation")
