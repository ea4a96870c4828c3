#!/usr/bin/env python3
"""Writes the planted-cluster data of the latent-class zoo model (models/latent_class.*).

Three clusters of "documents" (bags of 15 words over a 12-word vocabulary). Each cluster puts
80% of its mass on its own four words and spreads the rest evenly. The planted cluster of each
line goes to latent_class.gold, so a test can score how well EM recovers it.
Deterministic: a fixed seed and Python's own Mersenne Twister.
"""
import random

rng = random.Random(2026)
vocab = [f"w{i:02d}" for i in range(12)]
clusters = 3
docs, length = 240, 15
weights = []
for c in range(clusters):
    own = set(range(4 * c, 4 * c + 4))
    weights.append([0.8 / 4 if i in own else 0.2 / 8 for i in range(len(vocab))])
mix = [0.5, 0.3, 0.2]
with open("models/latent_class.txt", "w") as data, open("models/latent_class.gold", "w") as gold:
    for _ in range(docs):
        c = rng.choices(range(clusters), weights=mix)[0]
        words = rng.choices(vocab, weights=weights[c], k=length)
        data.write(" ".join(words) + "\n")
        gold.write(f"c{c}\n")
