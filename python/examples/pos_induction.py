"""Part-of-speech induction with the featurised HMM (models/pos_fhmm.em, Berg-Kirkpatrick
et al. 2010) on UD English EWT train, from Python: train, decode, and score the states
against the gold tags by many-to-one accuracy. Needs the corpus beside the repository
(../shared/data/ud_english_ewt, or EWT_DIR).

    python python/examples/pos_induction.py [ITERATIONS] [THREADS]
"""

import collections
import os
import sys
import time

import emc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def many_to_one(gold_lines, pred_lines):
    """Each state mapped to the gold tag it meets most often; the accuracy of that map."""
    pairs = collections.Counter()
    for gold, pred in zip(gold_lines, pred_lines):
        pairs.update(zip(pred.split(), gold.split()))
    best = {}
    for (state, tag), n in pairs.items():
        if n > best.get(state, (None, 0))[1]:
            best[state] = (tag, n)
    return sum(n for _, n in best.values()) / sum(pairs.values())


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    ewt = os.environ.get("EWT_DIR", os.path.join(ROOT, "..", "shared", "data", "ud_english_ewt"))
    words = os.path.join(ewt, "en_ewt-train.words")
    if not os.path.exists(words):
        print("no %s: this example needs UD English EWT (set EWT_DIR)" % words)
        return
    model = emc.Model(os.path.join(ROOT, "models", "pos_fhmm.em"))
    start = time.perf_counter()
    model.fit(words, iterations=iterations, tolerance=0, threads=threads, progress=True)
    print("trained %d iterations in %.1f s: log-likelihood %.2f"
          % (len(model.trace_) - 1, time.perf_counter() - start, model.trace_[-1]))
    pred = model.decode(words)
    with open(os.path.join(ewt, "en_ewt-train.xpos"), encoding="utf-8") as f:
        gold = f.read().splitlines()
    print("many-to-one accuracy %.4f" % many_to_one(gold, pred))


if __name__ == "__main__":
    main()
