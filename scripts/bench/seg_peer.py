#!/usr/bin/env python3
"""NumPy peer for unigram word segmentation trained by EM (the issue-12 benchmark).

  seg_peer.py --data CHARS.txt [--max-len 10] [--iterations 5] [--threads 1] [--lines N]
              [--stop-model story|boundary] [--decode FILE]

The model (the unigram model of Brent 1999 / Goldwater et al. 2009 without the
Dirichlet process, as trained by EM in Liang & Klein 2009 and Berg-Kirkpatrick
et al. 2010, here without a length penalty). An utterance is a string of
symbols c_1..c_m (one line of CHARS.txt, symbols separated by spaces, as
scripts/data/brent.py writes them). It is generated as words drawn until a
stop:

    P(w_1 .. w_n) = more(yes)^n * more(no) * prod_i word(w_i)

where each word w_i is a string of 1..L symbols (L = --max-len), and
P(c_1..c_m) sums this over every segmentation of the string into such words.
`more` is a Categorical over {yes, no} with no condition (one "yes" before each
word, one "no" at the end: the story `utterance(i)` of
../shared/design/structured.md); `word` is a Categorical over the lexicon, the
set of every substring of 1..L symbols that occurs in the data. An utterance
of m symbols thus has 2^(m-1) segmentations if m <= L.

--stop-model boundary gives instead the form of Goldwater et al. (2009) and
Brent (1999), where each word but the first is preceded by a "continue" and
the utterance ends with a boundary of probability p#:

    P(w_1 .. w_n) = more(yes)^(n-1) * more(no) * prod_i word(w_i)

(more(no) = p#). The two differ only in `more`: its M-step is
more(yes) = E[words] / (E[words] + utterances) for `story` (the default) and
(E[words] - utterances) / E[words] for `boundary`; word is the same.

Initialisation (deterministic, so emc can start equal): word uniform over the
lexicon, 1/|lexicon| each; more(yes) = more(no) = 1/2.

E-step: forward-backward over positions in log space. Utterances are sorted by
length (descending) and processed position-major, so position j is one
(utterances longer than j) x L block of arc scores: forward
alpha[j] = logsumexp_k alpha[j-k] + log more(yes) + log word(c[j-k..j]),
backward beta[i] = logsumexp_k log more(yes) + log word(c[i..i+k]) + beta[i+k]
with beta[m] = log more(no); log P(utterance) = alpha[m] + log more(no). Arc
posteriors exp(alpha[j-k] + arc + beta[j] - log P) are summed per word type
with one bincount. M-step: word(w) = E[count of w] / E[number of words];
more(yes) = E[number of words] / (E[number of words] + utterances). A word
type whose expected count is 0 gets probability 0 (log -inf) and no arc uses it.

Output: one line per iteration on stderr (t, log-likelihood, seconds), then
one JSON line on stdout:

  {"peer", "stop_model", "utterances", "symbols", "max_len", "lexicon", "iterations", "threads",
   "seconds_total", "seconds_per_iteration", "cpu_seconds_per_iteration",
   "final_ll_seconds", "load_seconds", "log_likelihoods", "final_more_yes",
   "final_params_sha256"}

log_likelihoods[t] is the total natural-log likelihood of the data under the
parameters after t M-steps, t = 0..T, as in peers.py: the E-step of iteration
t yields it for t < T; t = T comes from one extra forward pass, timed apart
(final_ll_seconds). Loading and building the lexicon are not timed.
--decode FILE writes the Viterbi segmentation under the final parameters (in
input order, ties to the shorter last word), for `emc eval --metric segmentation`.
"""
import argparse
import hashlib
import json
import os
import sys
import time


def set_threads(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)


def read_utterances(path, lines=None):
    """The utterances of a chars file as lists of symbols; an empty line is an error."""
    utterances = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if lines is not None and number > lines:
                break
            symbols = line.split()
            if not symbols:
                raise ValueError(f"{path}:{number}: empty utterance")
            utterances.append(symbols)
    if not utterances:
        raise ValueError(f"{path}: no utterances")
    return utterances


def logsumexp_rows(x):
    """logsumexp over axis 1, -inf for rows that are all -inf (no NaN)."""
    import numpy as np
    m = x.max(axis=1)
    shift = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(x - shift[:, None]).sum(axis=1)) + shift


class Segmenter:
    """The data compiled once: lexicon ids of every arc, position-major."""

    def __init__(self, utterances, max_len, stop_model="story"):
        import numpy as np
        if stop_model not in ("story", "boundary"):
            raise ValueError(f"unknown stop model {stop_model!r}")
        self.stop_model = stop_model
        self.max_len = L = max_len
        lengths = np.array([len(u) for u in utterances])
        # Longest first, so the utterances alive at a position are a prefix.
        order = np.argsort(-lengths, kind="stable")
        utterances = [utterances[i] for i in order]
        self.order, self.utterances = order, utterances
        self.lengths = lengths[order]
        self.U, self.N = len(utterances), int(self.lengths[0])
        # Lexicon: every substring of 1..L symbols, ids in sorted order of the
        # symbol tuples so the numbering does not depend on the data order.
        keys = set()
        for u in utterances:
            for i in range(len(u)):
                for k in range(1, min(L, len(u) - i) + 1):
                    keys.add(tuple(u[i:i + k]))
        self.lexicon = sorted(keys)
        index = {key: n for n, key in enumerate(self.lexicon)}
        self.V = V = len(self.lexicon)
        # end_ids[j]: (alive_j, K_j) ids of c[j-k..j] for k = 1..K_j, K_j = min(L, j),
        # over the utterances of length >= j (all valid: every substring is in the lexicon).
        # start_ids[i]: (alive_i, L) ids of c[i..i+k] for k = 1..L over utterances
        # longer than i; V (a padding id with log-probability -inf) past the end.
        self.alive = [int((self.lengths >= j).sum()) for j in range(self.N + 1)]
        self.end_ids = [None]
        for j in range(1, self.N + 1):
            K = min(L, j)
            ids = np.empty((self.alive[j], K), dtype=np.int64)
            for r in range(self.alive[j]):
                u = utterances[r]
                for k in range(1, K + 1):
                    ids[r, k - 1] = index[tuple(u[j - k:j])]
            self.end_ids.append(ids)
        self.start_ids = []
        for i in range(self.N):
            rows = int((self.lengths > i).sum())
            ids = np.full((rows, L), V, dtype=np.int64)
            for r in range(rows):
                u = utterances[r]
                for k in range(1, min(L, len(u) - i) + 1):
                    ids[r, k - 1] = index[tuple(u[i:i + k])]
            self.start_ids.append(ids)
        self.flat_ids = np.concatenate([ids.ravel() for ids in self.end_ids[1:]])
        self.symbols = int(self.lengths.sum())

    def end_bias(self, j, K, log_yes):
        """The `more` factor of the words ending at j with lengths 1..K: log
        more(yes) each, except that under `boundary` the first word of the
        utterance (length j, starting at 0) has none."""
        import numpy as np
        bias = np.full(K, log_yes)
        if self.stop_model == "boundary" and K == j:
            bias[K - 1] = 0.0
        return bias

    def start_bias(self, i, log_yes):
        """The `more` factor of the words starting at i (see end_bias)."""
        return 0.0 if self.stop_model == "boundary" and i == 0 else log_yes

    def forward(self, log_word, log_yes):
        import numpy as np
        alpha = np.full((self.U, self.N + 1), -np.inf)
        alpha[:, 0] = 0.0
        for j in range(1, self.N + 1):
            ids = self.end_ids[j]
            a, K = ids.shape
            # Columns j-1, j-2, ..., j-K: the start of the word of length k = 1..K.
            previous = alpha[:a, j - K:j][:, ::-1]
            alpha[:a, j] = logsumexp_rows(previous + log_word[ids] + self.end_bias(j, K, log_yes))
        return alpha

    def viterbi(self, log_word, log_yes):
        """The most probable segmentation of each utterance, in input order, as
        lines of words (symbols joined without spaces) separated by spaces."""
        import numpy as np
        best = np.full((self.U, self.N + 1), -np.inf)
        best[:, 0] = 0.0
        back = np.zeros((self.U, self.N + 1), dtype=np.int64)
        for j in range(1, self.N + 1):
            ids = self.end_ids[j]
            a, K = ids.shape
            # more(yes) is paid once per word, so it favours fewer words: it stays in the score.
            scores = best[:a, j - K:j][:, ::-1] + log_word[ids] + self.end_bias(j, K, log_yes)
            k = scores.argmax(axis=1)  # the first maximum: the shortest word on ties
            best[:a, j] = scores[np.arange(a), k]
            back[:a, j] = k + 1
        lines = [None] * self.U
        for r, u in enumerate(self.utterances):
            words, j = [], len(u)
            while j > 0:
                k = int(back[r, j])
                words.append("".join(u[j - k:j]))
                j -= k
            lines[self.order[r]] = " ".join(reversed(words))
        return lines

    def log_likelihoods(self, alpha, log_no):
        import numpy as np
        return alpha[np.arange(self.U), self.lengths] + log_no

    def em_iteration(self, log_word, log_yes, log_no):
        """One E-step and M-step: (log P(data) before, new log_word, log_yes, log_no)."""
        import numpy as np
        L = self.max_len
        alpha = self.forward(log_word, log_yes)
        per_utterance = self.log_likelihoods(alpha, log_no)
        padded = np.append(log_word, -np.inf)
        beta = np.full((self.U, self.N + 1 + L), -np.inf)
        beta[np.arange(self.U), self.lengths] = log_no
        for i in range(self.N - 1, -1, -1):
            ids = self.start_ids[i]
            b = ids.shape[0]
            beta[:b, i] = logsumexp_rows(padded[ids] + self.start_bias(i, log_yes)
                                         + beta[:b, i + 1:i + 1 + L])
        # Arc posteriors, position-major in the order of flat_ids.
        posteriors = []
        for j in range(1, self.N + 1):
            ids = self.end_ids[j]
            a, K = ids.shape
            score = (alpha[:a, j - K:j][:, ::-1] + log_word[ids] + self.end_bias(j, K, log_yes)
                     + (beta[:a, j] - per_utterance[:a])[:, None])
            posteriors.append(np.exp(score).ravel())
        counts = np.bincount(self.flat_ids, weights=np.concatenate(posteriors), minlength=self.V)
        words = counts.sum()
        with np.errstate(divide="ignore"):
            new_log_word = np.log(counts / words)
        # Expected "yes" events: one per word (story) or per word but the first (boundary).
        yes = words if self.stop_model == "story" else words - self.U
        with np.errstate(divide="ignore"):
            new_log_yes = np.log(max(yes, 0.0) / (yes + self.U))
        new_log_no = np.log(self.U / (yes + self.U))
        return float(per_utterance.sum()), new_log_word, new_log_yes, new_log_no


def params_digest(log_word, log_yes):
    import numpy as np
    h = hashlib.sha256()
    h.update(np.exp(log_word).astype("<f8").tobytes())
    h.update(np.array([np.exp(log_yes)], dtype="<f8").tobytes())
    return h.hexdigest()


def run(data, max_len, iterations, threads, lines=None, quiet=False, decode=None,
        stop_model="story"):
    set_threads(threads)
    import numpy as np
    t_load = time.perf_counter()
    seg = Segmenter(read_utterances(data, lines), max_len, stop_model)
    load_s = time.perf_counter() - t_load
    log_word = np.full(seg.V, -np.log(seg.V))
    log_yes = log_no = np.log(0.5)
    trace, seconds = [], []
    c0 = time.process_time()
    for t in range(iterations):
        t0 = time.perf_counter()
        ll, log_word, log_yes, log_no = seg.em_iteration(log_word, log_yes, log_no)
        seconds.append(time.perf_counter() - t0)
        trace.append(ll)
        if not quiet:
            print(f"seg_peer: t={t} log-likelihood {ll!r} ({seconds[-1]:.3f} s)", file=sys.stderr)
    cpu = time.process_time() - c0
    t1 = time.perf_counter()
    trace.append(float(seg.log_likelihoods(seg.forward(log_word, log_yes), log_no).sum()))
    final_s = time.perf_counter() - t1
    if not quiet:
        print(f"seg_peer: t={iterations} log-likelihood {trace[-1]!r}", file=sys.stderr)
    if decode:
        with open(decode, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in seg.viterbi(log_word, log_yes))
    total = sum(seconds)
    return {
        "peer": "numpy-seg", "stop_model": stop_model, "utterances": seg.U, "symbols": seg.symbols, "max_len": max_len,
        "lexicon": seg.V, "iterations": iterations, "threads": threads,
        "seconds_total": total,
        "seconds_per_iteration": total / iterations if iterations else None,
        "cpu_seconds_per_iteration": cpu / iterations if iterations else None,
        "final_ll_seconds": final_s, "load_seconds": load_s,
        "log_likelihoods": trace, "final_more_yes": float(np.exp(log_yes)),
        "final_params_sha256": params_digest(log_word, log_yes),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="chars.txt: symbols space-separated, one utterance per line")
    ap.add_argument("--max-len", type=int, default=10, help="longest word, in symbols (default 10)")
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lines", type=int, default=None, help="use only the first N utterances")
    ap.add_argument("--stop-model", choices=("story", "boundary"), default="story",
                    help="more(yes)^n more(no) (story, default) or more(yes)^(n-1) more(no)")
    ap.add_argument("--decode", default=None,
                    help="write the Viterbi segmentation under the final parameters to this file")
    a = ap.parse_args(argv)
    if a.max_len < 1 or a.iterations < 0 or a.threads < 1:
        ap.error("--max-len and --threads must be >= 1, --iterations >= 0")
    try:
        print(json.dumps(run(a.data, a.max_len, a.iterations, a.threads, a.lines,
                             decode=a.decode, stop_model=a.stop_model)))
    except (OSError, ValueError) as error:
        sys.exit(f"seg_peer.py: {error}")


if __name__ == "__main__":
    main()
