#!/usr/bin/env python3
"""Checks the segmentation and DMV peers against brute-force enumeration.

  PY=$(scripts/bench/venv.sh | tail -n1); $PY scripts/bench/test_peers.py

On random parameters and short random inputs, every derivation is enumerated
(all segmentations into words of at most L symbols; all projective dependency
trees with one root) and the log-likelihood and expected counts (hence the
M-step) must agree with the peers' forward-backward / inside-outside to a
relative 1e-9. Also checks that EM never decreases the log-likelihood and
the harmonic initialiser's bookkeeping. Prints one line per check and
`test_peers: N passed, M failed`; exits 1 on a failure.
"""
import itertools
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import dmv_peer  # noqa: E402
import seg_peer  # noqa: E402

TOL = 1e-9
results = []


def close(a, b, tol=TOL):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b))))


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")


# ------------------------------------------------------------ segmentation

def segmentations(m, L):
    """Every split of range(m) into consecutive pieces of 1..L: lists of (start, end)."""
    if m == 0:
        yield []
        return
    for k in range(1, min(L, m) + 1):
        for rest in segmentations(m - k, L):
            yield [(0, k)] + [(a + k, b + k) for a, b in rest]


def yes_events(seg, words):
    """How many more(yes) events a segmentation into `words` words has."""
    return words if seg.stop_model == "story" else words - 1


def brute_segmentation(utterances, seg, log_word, log_yes, log_no):
    index = {key: n for n, key in enumerate(seg.lexicon)}
    ll, counts, yes = 0.0, np.zeros(seg.V), 0.0
    for u in utterances:
        probs, uses = [], []
        for s in segmentations(len(u), seg.max_len):
            ids = [index[tuple(u[a:b])] for a, b in s]
            probs.append(math.exp(yes_events(seg, len(ids)) * log_yes + log_no
                                  + sum(log_word[i] for i in ids)))
            uses.append(ids)
        Z = sum(probs)
        ll += math.log(Z)
        for p, ids in zip(probs, uses):
            yes += yes_events(seg, len(ids)) * p / Z
            for i in ids:
                counts[i] += p / Z
    return ll, counts / counts.sum(), yes / (yes + len(utterances))


def test_segmentation(rng, trials=30):
    for trial in range(trials):
        L = int(rng.integers(1, 5))
        alphabet = "abc"[: int(rng.integers(1, 4))]
        utterances = [list(rng.choice(list(alphabet), size=int(rng.integers(1, 9))))
                      for _ in range(int(rng.integers(1, 6)))]
        stop_model = ("story", "boundary")[trial % 2]
        seg = seg_peer.Segmenter(utterances, L, stop_model)
        log_word = np.log(rng.dirichlet(np.ones(seg.V)))
        yes = float(rng.uniform(0.1, 0.9))
        log_yes, log_no = math.log(yes), math.log(1 - yes)
        ll, new_word, new_yes, _ = seg.em_iteration(log_word, log_yes, log_no)
        b_ll, b_word, b_yes = brute_segmentation(utterances, seg, log_word, log_yes, log_no)
        ok = close(ll, b_ll) and close(np.exp(new_word), b_word) and close(math.exp(new_yes), b_yes)
        check(f"segmentation brute force #{trial} ({stop_model}, L={L}, {len(utterances)} utterances)", ok,
              f"ll {ll} vs {b_ll}")
        # Viterbi: the decoded segmentation scores the best of all segmentations.
        index = {key: n for n, key in enumerate(seg.lexicon)}
        decoded = seg.viterbi(log_word, log_yes)
        ok = True
        for u, line in zip(utterances, decoded):
            words = line.split()
            ok &= "".join(words) == "".join(u) and all(len(w) <= L for w in words)
            score = sum(log_word[index[tuple(w)]] for w in words) + yes_events(seg, len(words)) * log_yes
            best = max(sum(log_word[index[tuple(u[a:b])]] for a, b in s) + yes_events(seg, len(s)) * log_yes
                       for s in segmentations(len(u), L))
            ok &= close(score, best)
        check(f"segmentation Viterbi brute force #{trial}", ok)
    # A zero-probability word (after an M-step) must not produce NaN.
    seg = seg_peer.Segmenter([list("ab"), list("a")], 2)
    with np.errstate(divide="ignore"):
        # Lexicon a, ab, b: the word ab gets probability 0.
        log_word = np.log(np.array([0.5, 0.0, 0.5]))
        ll, new_word, _, _ = seg.em_iteration(log_word, math.log(0.5), math.log(0.5))
    check("segmentation with a zero-probability word", np.isfinite(ll) and not np.any(np.isnan(new_word)))


def test_segmentation_monotone(rng, stop_model):
    utterances = [list(rng.choice(list("abcd"), size=int(rng.integers(1, 12)))) for _ in range(40)]
    seg = seg_peer.Segmenter(utterances, 4, stop_model)
    log_word = np.full(seg.V, -math.log(seg.V))
    log_yes = log_no = math.log(0.5)
    trace = []
    for _ in range(15):
        ll, log_word, log_yes, log_no = seg.em_iteration(log_word, log_yes, log_no)
        trace.append(ll)
    check(f"segmentation EM never decreases ({stop_model})", all(b >= a - 1e-9 * abs(a) for a, b in zip(trace, trace[1:])),
          str(trace))


# ------------------------------------------------------------------ DMV

def projective_trees(n):
    """Head lists (1-based, 0 = root) of every projective tree with one root."""
    for heads in itertools.product(range(n + 1), repeat=n):
        if sum(h == 0 for h in heads) != 1 or any(h == d + 1 for d, h in enumerate(heads)):
            continue
        # Acyclic: every token reaches the root.
        ok = True
        for d in range(1, n + 1):
            seen, x = set(), d
            while x != 0 and x not in seen:
                seen.add(x)
                x = heads[x - 1]
            if x != 0:
                ok = False
                break
        if not ok:
            continue

        def dominated(h, x):
            while x != 0:
                if x == h:
                    return True
                x = heads[x - 1]
            return False

        if all(dominated(h, k) for d, h in enumerate(heads, start=1) if h != 0
               for k in range(min(h, d) + 1, max(h, d))):
            yield heads


def tree_events(tags, heads):
    """(probability factors as (family, index) keys) of one tree."""
    n = len(tags)
    events = []
    for d, h in enumerate(heads, start=1):
        if h == 0:
            events.append(("root", (tags[d - 1],)))
    for h in range(1, n + 1):
        for direction in (dmv_peer.LEFT, dmv_peer.RIGHT):
            deps = [d for d in range(1, n + 1) if heads[d - 1] == h
                    and ((d < h) if direction == dmv_peer.LEFT else (d > h))]
            deps.sort(key=lambda d: abs(d - h))
            for i, d in enumerate(deps):
                adj = dmv_peer.ADJ if i == 0 else dmv_peer.NON
                events.append(("cont", (direction, tags[h - 1], adj)))
                events.append(("attach", (direction, tags[h - 1], tags[d - 1])))
            adj = dmv_peer.ADJ if not deps else dmv_peer.NON
            events.append(("stop", (direction, tags[h - 1], adj)))
    return events


def event_prob(P, family, key):
    if family == "root":
        return P.root[key]
    if family == "attach":
        return P.attach[key]
    if family == "stop":
        return P.stop[key]
    return 1 - P.stop[key]


def brute_dmv(sentences, P, T):
    counts = dmv_peer.Counts(T)
    ll = 0.0
    for tags in sentences:
        trees = [tree_events(tags, heads) for heads in projective_trees(len(tags))]
        probs = [math.prod(event_prob(P, f, k) for f, k in ev) for ev in trees]
        Z = sum(probs)
        ll += math.log(Z)
        for p, ev in zip(probs, trees):
            for f, k in ev:
                getattr(counts, f)[k] += p / Z
    return ll, counts


def random_params(rng, T):
    return dmv_peer.Params(rng.dirichlet(np.ones(T)), rng.dirichlet(np.ones(T), size=(2, T)),
                           rng.uniform(0.05, 0.95, size=(2, T, 2)))


def test_tree_count():
    # Projective dependency trees with one root over n words: 1, 2, 7, 30, 143 (OEIS A001764).
    counts = [sum(1 for _ in projective_trees(n)) for n in range(1, 6)]
    check("projective tree counts 1, 2, 7, 30, 143", counts == [1, 2, 7, 30, 143], str(counts))


def test_dmv(rng, trials=30):
    for trial in range(trials):
        T = int(rng.integers(1, 4))
        n = int(rng.integers(1, 6))
        sentences = [list(rng.integers(0, T, size=n)) for _ in range(int(rng.integers(1, 4)))]
        P = random_params(rng, T)
        counts = dmv_peer.Counts(T)
        ll = float(dmv_peer.Batch(np.array(sentences, dtype=np.int64)).inside_outside(P, counts).sum())
        b_ll, b_counts = brute_dmv(sentences, P, T)
        ok = close(ll, b_ll) and all(close(getattr(counts, f), getattr(b_counts, f))
                                     for f in ("root", "attach", "stop", "cont"))
        check(f"DMV brute force #{trial} (n={n}, T={T}, {len(sentences)} sentences)", ok,
              f"ll {ll} vs {b_ll}")
        # Viterbi: the decoded tree is projective with one root and scores the best of all trees.
        decoded = dmv_peer.Batch(np.array(sentences, dtype=np.int64)).viterbi(P)
        trees = list(projective_trees(n))
        ok = True
        for tags, heads in zip(sentences, decoded):
            def score(h):
                return math.prod(event_prob(P, f, k) for f, k in tree_events(tags, h))
            ok &= tuple(heads) in trees and close(score(tuple(heads)), max(map(score, trees)))
        check(f"DMV Viterbi brute force #{trial}", ok, str(decoded))


def test_dmv_corpus(rng):
    """Several lengths at once through Corpus, and EM monotone from the harmonic start."""
    tags = ["DET", "NOUN", "VERB", "ADJ"]
    sentences = [list(rng.choice(tags, size=int(rng.integers(1, 7)))) for _ in range(60)]
    corpus = dmv_peer.Corpus(sentences)
    P = corpus.initial("harmonic")
    check("harmonic initial rows normalised",
          close(P.root.sum(), 1) and close(P.attach.sum(axis=-1), 1) and np.all((P.stop > 0) & (P.stop < 1)))
    trace = []
    for _ in range(15):
        ll, P = corpus.em_iteration(P)
        trace.append(ll)
    check("DMV EM never decreases", all(b >= a - 1e-9 * abs(a) for a, b in zip(trace, trace[1:])), str(trace))
    small = [s for s in sentences if len(s) <= 5][:10]
    corpus = dmv_peer.Corpus(small)
    P = random_params(rng, len(corpus.tags))
    index = {t: i for i, t in enumerate(corpus.tags)}
    b_ll, _ = brute_dmv([[index[t] for t in s] for s in small], P, len(corpus.tags))
    check("DMV corpus of mixed lengths against brute force", close(corpus.log_likelihood(P), b_ll))
    decoded = corpus.viterbi(P)
    check("DMV corpus decodes in input order", [len(h) for h in decoded] == [len(s) for s in small])


def test_harmonic_counts():
    # One sentence of 3 tokens, all tag 0: per side the stop count is 1 per head,
    # continues equal the expected number of dependents, root sums to 1.
    c = dmv_peer.harmonic_counts([np.zeros((1, 3), dtype=np.int64)], 1)
    stops = c.stop.sum(axis=-1)
    arcs = c.attach.sum(axis=(1, 2))
    ok = (close(c.root, [1.0]) and close(stops, [[3.0], [3.0]])
          and close(c.cont.sum(axis=-1)[:, 0], arcs) and close(arcs.sum(), 2.0))
    check("harmonic counts: one stop per side, 2 arcs in 3 tokens", ok)


def main():
    rng = np.random.default_rng(12)
    test_segmentation(rng)
    test_segmentation_monotone(rng, "story")
    test_segmentation_monotone(rng, "boundary")
    # One-word utterances only: under `boundary` more(yes) becomes 0, with no NaN.
    seg = seg_peer.Segmenter([list("a"), list("b")], 2, "boundary")
    with np.errstate(divide="ignore"):
        ll, _, log_yes, _ = seg.em_iteration(np.log(np.full(seg.V, 0.5)), math.log(0.5), math.log(0.5))
        ll2, _, _, _ = seg.em_iteration(np.log(np.full(seg.V, 0.5)), log_yes, 0.0)
    check("boundary model with more(yes) = 0", log_yes == -np.inf and close(ll2, 2 * math.log(0.5)))
    test_tree_count()
    test_dmv(rng)
    test_dmv_corpus(rng)
    test_harmonic_counts()
    failed = results.count(False)
    print(f"test_peers: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
