#!/usr/bin/env python3
"""NumPy peer for the DMV (Klein & Manning 2004) trained by EM (the issue-12 benchmark).

  dmv_peer.py --data TAGS.txt [--iterations 5] [--init harmonic|uniform] [--threads 1]
              [--lines N] [--max-length N] [--write-init FILE] [--decode FILE [--decode-data TAGS]]

Data: one sentence per line of space-separated tags (scripts/data/ewt_dmv.py
writes UPOS tags, punctuation removed, as tags.txt).

The model (Klein & Manning 2004, the Dependency Model with Valence). With
tags t_1..t_n, a projective dependency tree with exactly one root has

    P(tree) = root(t_r) * prod_{h} prod_{dir in {left, right}} P_h,dir

where for head h with dependents a_1, .., a_m in direction dir, taken from
the head outwards,

    P_h,dir = prod_{i=1..m} [ (1 - stop(dir, t_h, adj_i)) * attach(t_{a_i} | dir, t_h) ]
              * stop(dir, t_h, adj_{m+1}),      adj_i = (i == 1)

i.e. before each dependent the head decides to continue, and at the end to
stop, each decision conditioned on the direction, the head's tag and whether
the head has no dependent yet on that side ("adjacent" valence). Left and
right sides are independent given the head, so the order between them does
not matter. Families: `root` (Categorical over tags), `attach` (Categorical
over tags given direction and head tag), `stop` (Categorical over
{stop, continue} given direction, head tag and adjacency). P(sentence) sums
P(tree) over all projective trees.

E-step: inside-outside over split-head (Eisner 1996) items, O(n^3) per
sentence, in probability space (no rescaling: fine for the short sentences of
this benchmark; a sentence whose probability underflows to 0 is an error).
Items, with h the head: UR[h,j] the right half of h over h..j, not yet stopped
(UR[h,h] = 1); SR[h,j] = UR[h,j] * stop(right, t_h, adj = (j == h)); IR[h,j]
h's right dependent j together with j's left half and what lies between
(IR[h,j] = attach(t_j | right, t_h) * sum_k UR[h,k] SL[k+1,j] (1 - stop(right,
t_h, adj = (k == h)))); UR[h,j] = sum_m IR[h,m] SR[m,j]; mirror images UL,
SL, IL on the left; P(sentence) = sum_h root(t_h) SL[0,h] SR[h,n-1].
Sentences are grouped by length and each group is one batch: every item of a
span width is one fancy-indexed array operation over (sentences, heads,
split points). The outside pass runs the same rules backwards; expected counts
are item posteriors (inside * outside / P) summed per tag with bincount.

M-step: every row normalised; a row with no expected count (a condition never
seen) keeps its previous values, as emc's Categorical M-step does.

Initialisation. `harmonic` (Klein & Manning 2004, section 3): the first M-step
uses counts from a posterior in which, in a sentence of n tokens, each token d
is the root with probability 1/n and otherwise takes head h != d with
probability (1 - 1/n) * (1/|h-d|) / sum_{h' != d} 1/|h'-d|. From these arc
probabilities p(h -> d) (arcs treated as independent): root(t_d) += 1/n,
attach(t_d | dir(h,d), t_h) += p(h -> d); for each head h and direction with
E = sum of p(h -> d) over that side and P0 = prod (1 - p(h -> d)) the
probability of no dependent there: stop(adj) += P0, continue(adj) += 1 - P0,
stop(non-adj) += 1 - P0, continue(non-adj) += E - (1 - P0) (one stop per side,
E continues in all). Then normalise (one-token sentences contribute only to
root and adjacent stops). `uniform`: every row uniform. --write-init FILE
writes the initial parameters as JSON ({"tags", "root", "attach"
[dir][head][arg], "stop" [dir][head][adj? 0: adjacent, 1: not]} with
dir 0 = left, 1 = right; floats with repr, round-trip exact).

Output: one stderr line per iteration, then one JSON line on stdout:

  {"peer", "sentences", "tokens", "tags", "iterations", "threads", "init",
   "seconds_total", "seconds_per_iteration", "cpu_seconds_per_iteration",
   "final_ll_seconds", "load_seconds", "log_likelihoods", "final_params_sha256"}

log_likelihoods[t] is the total natural-log likelihood under the parameters
after t M-steps (t = 0 is the initialiser's parameters), t = 0..T, as in
peers.py (t = T from one extra inside pass, timed apart).

--decode FILE writes the Viterbi tree of each sentence under the final
parameters (same rules, max for sum, ties to the first split), one line of
1-based heads (0 = root) per sentence in input order, for
`emc eval --metric attachment` (ewt_dmv.py's heads.txt is the gold). With
--max-length, only the kept sentences are decoded. --decode-data TAGS decodes
another file (every sentence of it, e.g. dev or test) with the trained
parameters instead; a tag the training data lacks is an error.
"""
import argparse
import hashlib
import json
import os
import sys
import time

LEFT, RIGHT = 0, 1
ADJ, NON = 0, 1


def set_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)


def read_sentences(path, lines=None, max_length=None):
    """Tag sequences of a tags file; an empty line is an error naming it."""
    sentences = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if lines is not None and number > lines:
                break
            tags = line.split()
            if not tags:
                raise ValueError(f"{path}:{number}: empty sentence")
            if max_length is None or len(tags) <= max_length:
                sentences.append(tags)
    if not sentences:
        raise ValueError(f"{path}: no sentences")
    return sentences


class Params:
    """root[T], attach[dir, head, arg], stop[dir, head, adj] (probability of stopping)."""

    def __init__(self, root, attach, stop):
        self.root, self.attach, self.stop = root, attach, stop

    @classmethod
    def from_counts(cls, counts, previous):
        import numpy as np

        def normalise(c, old):
            total = c.sum(axis=-1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                new = c / total
            return np.where(total > 0, new, old)

        root = normalise(counts.root, previous.root)
        attach = normalise(counts.attach, previous.attach)
        stop_rows = normalise(np.stack([counts.stop, counts.cont], axis=-1),
                              np.stack([previous.stop, 1 - previous.stop], axis=-1))
        return cls(root, attach, stop_rows[..., 0])

    @classmethod
    def uniform(cls, T):
        import numpy as np
        return cls(np.full(T, 1 / T), np.full((2, T, T), 1 / T), np.full((2, T, 2), 0.5))

    def to_json(self, tags):
        return {"tags": tags, "root": self.root.tolist(), "attach": self.attach.tolist(),
                "stop": self.stop.tolist()}

    def digest(self):
        h = hashlib.sha256()
        for a in (self.root, self.attach, self.stop):
            h.update(a.astype("<f8").tobytes())
        return h.hexdigest()


class Counts:
    def __init__(self, T):
        import numpy as np
        self.root = np.zeros(T)
        self.attach = np.zeros((2, T, T))
        self.stop = np.zeros((2, T, 2))
        self.cont = np.zeros((2, T, 2))


def harmonic_counts(batches, T):
    """The harmonic initialiser's counts (see the module docstring)."""
    import numpy as np
    counts = Counts(T)
    for tg in batches:
        B, n = tg.shape
        pos = np.arange(n)
        dist = np.abs(pos[:, None] - pos[None, :]).astype(float)  # [h, d]
        with np.errstate(divide="ignore"):
            w = np.where(dist > 0, 1.0 / dist, 0.0)
        if n > 1:
            p = (1 - 1 / n) * w / w.sum(axis=0, keepdims=True)  # p[h, d], columns sum to 1 - 1/n
        else:
            p = np.zeros((1, 1))
        np.add.at(counts.root, tg.ravel(), 1.0 / n)
        for direction, side in ((LEFT, pos[None, :] < pos[:, None]), (RIGHT, pos[None, :] > pos[:, None])):
            ps = np.where(side, p, 0.0)  # [h, d] restricted to d on this side of h
            head = np.broadcast_to(tg[:, :, None], (B, n, n))
            arg = np.broadcast_to(tg[:, None, :], (B, n, n))
            weight = np.broadcast_to(ps, (B, n, n))
            np.add.at(counts.attach[direction], (head.ravel(), arg.ravel()), weight.ravel())
            expected = ps.sum(axis=1)  # per head
            none = np.prod(1 - ps, axis=1)
            for v, s, c in ((ADJ, none, 1 - none), (NON, 1 - none, expected - (1 - none))):
                np.add.at(counts.stop[direction, :, v], tg.ravel(), np.tile(s, B))
                np.add.at(counts.cont[direction, :, v], tg.ravel(), np.tile(c, B))
    return counts


class Batch:
    """Sentences of one length n: tags (B, n) and the index arrays of each width."""

    def __init__(self, tags):
        import numpy as np
        self.tags = tags
        self.B, self.n = tags.shape
        self.widths = []
        for w in range(1, self.n):
            H = np.arange(self.n - w)  # left end of each span of width w
            S = np.arange(w)
            self.widths.append((w, H, H + w, H[:, None] + S[None, :]))

    def inside_outside(self, P, counts=None):
        """log P of each sentence; with `counts`, adds the expected counts to it.

        Arrays are [position, position, sentence]: the batch axis is last, so
        each gathered cell is a contiguous vector over the batch."""
        import numpy as np
        B, n = self.B, self.n
        tg = self.tags.T  # [position, sentence]
        rootp = P.root[tg]
        att = [P.attach[d][tg[:, None, :], tg[None, :, :]] for d in (LEFT, RIGHT)]  # [head, arg, b]
        stop = [[P.stop[d, :, v][tg] for v in (ADJ, NON)] for d in (LEFT, RIGHT)]  # [head, b]
        cont = [[1 - s for s in pair] for pair in stop]
        UR, SR, UL, SL, IR, IL = (np.zeros((n, n, B)) for _ in range(6))
        diag = np.arange(n)
        UR[diag, diag] = 1.0
        UL[diag, diag] = 1.0
        SR[diag, diag] = stop[RIGHT][ADJ]
        SL[diag, diag] = stop[LEFT][ADJ]
        for w, H, J, K in self.widths:
            Hc, Jc = H[:, None], J[:, None]
            # IR[h, j]: split k = h..j-1; k == h is the adjacent continue.
            prod = UR[Hc, K] * SL[K + 1, Jc]  # [span, split, b]
            IR[H, J] = att[RIGHT][H, J] * (cont[RIGHT][ADJ][H] * prod[:, 0]
                                           + cont[RIGHT][NON][H] * prod[:, 1:].sum(1))
            # IL[i, h] (i = H, h = J): split k = i..h-1; k + 1 == h is adjacent.
            prod = SR[Hc, K] * UL[K + 1, Jc]
            IL[H, J] = att[LEFT][J, H] * (cont[LEFT][ADJ][J] * prod[:, -1]
                                          + cont[LEFT][NON][J] * prod[:, :-1].sum(1))
            # UR[h, j] = sum_{m=h+1..j} IR[h, m] SR[m, j]; UL[i, h] = sum_{m=i..h-1} SL[i, m] IL[m, h].
            UR[H, J] = (IR[Hc, K + 1] * SR[K + 1, Jc]).sum(1)
            UL[H, J] = (SL[Hc, K] * IL[K, Jc]).sum(1)
            SR[H, J] = UR[H, J] * stop[RIGHT][NON][H]
            SL[H, J] = UL[H, J] * stop[LEFT][NON][J]
        whole = rootp * SL[0] * SR[:, n - 1]  # [root, b]
        Z = whole.sum(axis=0)
        if not np.all(Z > 0) or not np.all(np.isfinite(Z)):
            raise ValueError(f"a sentence of length {n} has probability 0 or underflows")
        if counts is None:
            return np.log(Z)
        OUR, OSR, OUL, OSL, OIR, OIL = (np.zeros((n, n, B)) for _ in range(6))
        OSL[0] += rootp * SR[:, n - 1]
        OSR[:, n - 1] += rootp * SL[0]
        inv = 1.0 / Z  # broadcasts over the last (batch) axis
        cont_r = np.zeros((2, n, B))  # expected continues of each head, [adj, head, b]
        cont_l = np.zeros((2, n, B))
        for w, H, J, K in reversed(self.widths):
            Hc, Jc = H[:, None], J[:, None]
            # Seal rules (non-adjacent at width >= 1).
            OUR[H, J] += OSR[H, J] * stop[RIGHT][NON][H]
            OUL[H, J] += OSL[H, J] * stop[LEFT][NON][J]
            # UR[h, j] = sum_m IR[h, m] SR[m, j], m = K + 1. Within one
            # statement the (row, column) pairs are distinct, so += is exact.
            g = OUR[H, J][:, None]
            OIR[Hc, K + 1] += g * SR[K + 1, Jc]
            OSR[K + 1, Jc] += g * IR[Hc, K + 1]
            # UL[i, h] = sum_m SL[i, m] IL[m, h], m = K.
            g = OUL[H, J][:, None]
            OSL[Hc, K] += g * IL[K, Jc]
            OIL[K, Jc] += g * SL[Hc, K]
            # IR[h, j] = att * sum_k c_k UR[h, k] SL[k+1, j].
            g = OIR[H, J] * att[RIGHT][H, J]
            c = np.concatenate([cont[RIGHT][ADJ][H][:, None],
                                np.repeat(cont[RIGHT][NON][H][:, None], w - 1, axis=1)], axis=1)
            gc = g[:, None] * c
            OUR[Hc, K] += gc * SL[K + 1, Jc]
            OSL[K + 1, Jc] += gc * UR[Hc, K]
            share = gc * UR[Hc, K] * SL[K + 1, Jc] * inv  # posterior of each split
            cont_r[ADJ, H] += share[:, 0]
            cont_r[NON, H] += share[:, 1:].sum(1)
            # IL[i, h] = att * sum_k c'_k SR[i, k] UL[k+1, h], adjacent when k + 1 == h.
            g = OIL[H, J] * att[LEFT][J, H]
            c = np.concatenate([np.repeat(cont[LEFT][NON][J][:, None], w - 1, axis=1),
                                cont[LEFT][ADJ][J][:, None]], axis=1)
            gc = g[:, None] * c
            OSR[Hc, K] += gc * UL[K + 1, Jc]
            OUL[K + 1, Jc] += gc * SR[Hc, K]
            share = gc * SR[Hc, K] * UL[K + 1, Jc] * inv
            cont_l[ADJ, J] += share[:, -1]
            cont_l[NON, J] += share[:, :-1].sum(1)
        # Expected counts: item posteriors summed per tag.
        T = P.root.shape[0]
        flat = tg.ravel()

        def per_tag(values):
            """Sums [position, b] values per tag."""
            return np.bincount(flat, weights=values.ravel(), minlength=T)

        def per_pair(heads, args, values):
            """Sums [head, arg, b] values per (head tag, arg tag)."""
            keys = (heads * T + args).ravel()
            return np.bincount(keys, weights=values.ravel(), minlength=T * T).reshape(T, T)

        counts.root += per_tag(whole * inv)
        heads = np.broadcast_to(tg[:, None, :], (n, n, B))
        args = np.broadcast_to(tg[None, :, :], (n, n, B))
        counts.attach[RIGHT] += per_pair(heads, args, IR * OIR * inv)
        # IL[i, h]: the head is h (the column), the argument i (the row).
        counts.attach[LEFT] += per_pair(args, heads, IL * OIL * inv)
        sr = SR * OSR * inv  # [h, j, b]
        sl = SL * OSL * inv  # [i, h, b]
        adj_r, adj_l = sr[diag, diag], sl[diag, diag]
        counts.stop[RIGHT, :, ADJ] += per_tag(adj_r)
        counts.stop[RIGHT, :, NON] += per_tag(sr.sum(axis=1) - adj_r)
        counts.stop[LEFT, :, ADJ] += per_tag(adj_l)
        counts.stop[LEFT, :, NON] += per_tag(sl.sum(axis=0) - adj_l)
        for d, cc in ((RIGHT, cont_r), (LEFT, cont_l)):
            for v in (ADJ, NON):
                counts.cont[d, :, v] += per_tag(cc[v])
        return np.log(Z)


    def viterbi(self, P):
        """The most probable projective tree of each sentence: heads [b][d]
        (1-based, 0 = root), by the inside rules with max for sum and a
        back-pointer per item; ties go to the first split in index order."""
        import numpy as np
        B, n = self.B, self.n
        tg = self.tags.T
        rootp = P.root[tg]
        att = [P.attach[d][tg[:, None, :], tg[None, :, :]] for d in (LEFT, RIGHT)]
        stop = [[P.stop[d, :, v][tg] for v in (ADJ, NON)] for d in (LEFT, RIGHT)]
        cont = [[1 - s for s in pair] for pair in stop]
        UR, SR, UL, SL, IR, IL = (np.zeros((n, n, B)) for _ in range(6))
        bUR, bUL, bIR, bIL = (np.zeros((n, n, B), dtype=np.int64) for _ in range(4))
        diag = np.arange(n)
        UR[diag, diag] = 1.0
        UL[diag, diag] = 1.0
        SR[diag, diag] = stop[RIGHT][ADJ]
        SL[diag, diag] = stop[LEFT][ADJ]

        def best(values, offset, H, J, target, pointer):
            """target[H, J] = max over splits; pointer[H, J] = the split's position."""
            k = values.argmax(axis=1)  # [span, b]
            target[H, J] = np.take_along_axis(values, k[:, None], axis=1)[:, 0]
            pointer[H, J] = offset[:, None] + k

        for w, H, J, K in self.widths:
            Hc, Jc = H[:, None], J[:, None]
            c = np.concatenate([cont[RIGHT][ADJ][H][:, None],
                                np.repeat(cont[RIGHT][NON][H][:, None], w - 1, axis=1)], axis=1)
            best(att[RIGHT][H, J][:, None] * c * UR[Hc, K] * SL[K + 1, Jc], H, H, J, IR, bIR)
            c = np.concatenate([np.repeat(cont[LEFT][NON][J][:, None], w - 1, axis=1),
                                cont[LEFT][ADJ][J][:, None]], axis=1)
            best(att[LEFT][J, H][:, None] * c * SR[Hc, K] * UL[K + 1, Jc], H, H, J, IL, bIL)
            best(IR[Hc, K + 1] * SR[K + 1, Jc], H + 1, H, J, UR, bUR)
            best(SL[Hc, K] * IL[K, Jc], H, H, J, UL, bUL)
            SR[H, J] = UR[H, J] * stop[RIGHT][NON][H]
            SL[H, J] = UL[H, J] * stop[LEFT][NON][J]
        root = (rootp * SL[0] * SR[:, n - 1]).argmax(axis=0)  # [b]
        trees = []
        for b in range(B):
            heads = [0] * n
            # Follow the back-pointers with a stack of (item, left, right). A
            # sealed half and its unsealed half share the pointer: R is the right
            # half h..j of head h, L the left half i..h of head h = j.
            stack = [("L", 0, int(root[b])), ("R", int(root[b]), n - 1)]
            while stack:
                item, i, j = stack.pop()
                if item == "R" and j > i:
                    m = int(bUR[i, j, b])  # h = i's outermost right dependent
                    heads[m] = i + 1
                    stack += [("IR", i, m), ("R", m, j)]
                elif item == "L" and j > i:
                    m = int(bUL[i, j, b])  # h = j's outermost left dependent
                    heads[m] = j + 1
                    stack += [("L", i, m), ("IL", m, j)]
                elif item in ("IR", "IL"):
                    k = int((bIR if item == "IR" else bIL)[i, j, b])
                    stack += [("R", i, k), ("L", k + 1, j)]
            trees.append(heads)
        return trees

class Corpus:
    def __init__(self, sentences, tags=None):
        """Batches of tag ids; `tags` (the training corpus's) fixes the ids, else
        they are the sorted tags of `sentences`."""
        import numpy as np
        self.tags = tags if tags is not None else sorted({t for s in sentences for t in s})
        index = {t: i for i, t in enumerate(self.tags)}
        for number, s in enumerate(sentences, start=1):
            unknown = [t for t in s if t not in index]
            if unknown:
                raise ValueError(f"sentence {number} has tag {unknown[0]!r}, not in the training data")
        by_length, rows = {}, {}
        for number, s in enumerate(sentences):
            by_length.setdefault(len(s), []).append([index[t] for t in s])
            rows.setdefault(len(s), []).append(number)
        self.batches = [Batch(np.array(by_length[n], dtype=np.int64)) for n in sorted(by_length)]
        # rows[i]: the input positions of batch i's sentences, to decode in input order.
        self.rows = [rows[n] for n in sorted(by_length)]
        self.sentences = len(sentences)
        self.tokens = sum(len(s) for s in sentences)

    def em_iteration(self, P):
        counts = Counts(len(self.tags))
        ll = sum(float(b.inside_outside(P, counts).sum()) for b in self.batches)
        return ll, Params.from_counts(counts, P)

    def log_likelihood(self, P):
        return sum(float(b.inside_outside(P).sum()) for b in self.batches)

    def viterbi(self, P):
        """Viterbi heads of every sentence, in input order."""
        trees = [None] * self.sentences
        for batch, rows in zip(self.batches, self.rows):
            for row, heads in zip(rows, batch.viterbi(P)):
                trees[row] = heads
        return trees

    def initial(self, init):
        T = len(self.tags)
        if init == "uniform":
            return Params.uniform(T)
        return Params.from_counts(harmonic_counts([b.tags for b in self.batches], T), Params.uniform(T))


def run(data, iterations, threads, init="harmonic", lines=None, max_length=None,
        write_init=None, quiet=False, decode=None, decode_data=None):
    set_threads(threads)
    t_load = time.perf_counter()
    corpus = Corpus(read_sentences(data, lines, max_length))
    P = corpus.initial(init)
    load_s = time.perf_counter() - t_load
    if write_init:
        with open(write_init, "w") as f:
            json.dump(P.to_json(corpus.tags), f)
    trace, seconds = [], []
    c0 = time.process_time()
    for t in range(iterations):
        t0 = time.perf_counter()
        ll, P = corpus.em_iteration(P)
        seconds.append(time.perf_counter() - t0)
        trace.append(ll)
        if not quiet:
            print(f"dmv_peer: t={t} log-likelihood {ll!r} ({seconds[-1]:.3f} s)", file=sys.stderr)
    cpu = time.process_time() - c0
    t1 = time.perf_counter()
    trace.append(corpus.log_likelihood(P))
    final_s = time.perf_counter() - t1
    if not quiet:
        print(f"dmv_peer: t={iterations} log-likelihood {trace[-1]!r}", file=sys.stderr)
    if decode:
        target = corpus
        if decode_data is not None:
            try:
                target = Corpus(read_sentences(decode_data), corpus.tags)
            except ValueError as error:
                raise ValueError(f"{decode_data}: {error}") from None
        with open(decode, "w") as f:
            f.writelines(" ".join(map(str, heads)) + "\n" for heads in target.viterbi(P))
    total = sum(seconds)
    return {
        "peer": "numpy-dmv", "sentences": corpus.sentences, "tokens": corpus.tokens,
        "tags": len(corpus.tags), "iterations": iterations, "threads": threads, "init": init,
        "seconds_total": total,
        "seconds_per_iteration": total / iterations if iterations else None,
        "cpu_seconds_per_iteration": cpu / iterations if iterations else None,
        "final_ll_seconds": final_s, "load_seconds": load_s,
        "log_likelihoods": trace, "final_params_sha256": P.digest(),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="tags.txt: one sentence of tags per line")
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--init", choices=("harmonic", "uniform"), default="harmonic")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lines", type=int, default=None, help="read only the first N lines")
    ap.add_argument("--max-length", type=int, default=None, help="skip longer sentences")
    ap.add_argument("--write-init", default=None, help="write the initial parameters as JSON")
    ap.add_argument("--decode", default=None,
                    help="write the Viterbi heads under the final parameters to this file")
    ap.add_argument("--decode-data", default=None,
                    help="decode this tags file (e.g. dev) instead of the training data")
    a = ap.parse_args(argv)
    if a.iterations < 0 or a.threads < 1:
        ap.error("--iterations must be >= 0 and --threads >= 1")
    try:
        print(json.dumps(run(a.data, a.iterations, a.threads, a.init, a.lines, a.max_length,
                             a.write_init, decode=a.decode, decode_data=a.decode_data)))
    except (OSError, ValueError) as error:
        sys.exit(f"dmv_peer.py: {error}")


if __name__ == "__main__":
    main()
