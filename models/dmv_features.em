# The DMV of `dmv.em` (Klein & Manning 2004; the same six split-head procedures) with its
# stop and attach families Logistic, featurised as in Berg-Kirkpatrick et al. (2010), section
# on grammar induction, as far as the paper's description is known here: each event's basic
# indicator, plus back-off copies that ignore the direction and/or the valence, and copies
# where the head's and/or the argument's tag is read through coarse classes. Two groupings:
# noun-like (NOUN PROPN PRON) and verb-like (VERB AUX), every other tag its own class; and one
# noun-or-verb class over all five. A coarse copy of an event fires with the basic one, so
# tags of one class share strength through its weights; the L2 penalty keeps the basic weights
# near 0 unless the counts say otherwise.
# Data: UD English EWT train, at most 10 tokens, punctuation removed (`dmv.txt`, gold heads
# `dmv.gold`). Start from the harmonic initialiser: `--init models/dmv.harmonic.json` gives the
# probabilities, and the weights are fitted to them before the first iteration. Train with
# `--algorithm em` (Algorithm 1) or `--algorithm direct` (Algorithm 2); see
# `scripts/dmv-induction.sh`.
# data: dmv.txt

domain Tag = vocabulary(tags)
domain Dir = {L, R}
domain Valence = {ADJ, NON}           # no dependent yet on this side / some already
domain Act = {STOP, GO}
data tags : [Tag]

param root   : Categorical(Tag)
# attach's conditions are (0) the direction, (1) the head's tag; its outcome the argument's.
param attach : Logistic(Tag | Dir, Tag) {
    features: [
        word,                                                           # basic
        by(1, word),                                                    # no direction
        by(0, coarse(1, "NOUN PROPN PRON", "VERB AUX"), word),          # coarse head
        coarse("NOUN PROPN PRON", "VERB AUX"),                          # coarse argument
        by(0, coarse(1, "NOUN PROPN PRON", "VERB AUX"), coarse("NOUN PROPN PRON", "VERB AUX")),
        by(coarse(1, "NOUN PROPN PRON", "VERB AUX"), coarse("NOUN PROPN PRON", "VERB AUX")),
        by(0, coarse(1, "NOUN PROPN PRON VERB AUX"), word),             # noun-or-verb head
        by(0, 1, coarse("NOUN PROPN PRON VERB AUX")),                   # noun-or-verb argument
        by(0, coarse(1, "NOUN PROPN PRON VERB AUX"), coarse("NOUN PROPN PRON VERB AUX"))
    ],
    l2: 1.0
}
# stop's conditions are (0) the direction, (1) the head's tag, (2) the valence.
param stop   : Logistic(Act | Dir, Tag, Valence) {
    features: [
        word,                                                           # basic
        by(1, 2, word),                                                 # no direction
        by(0, 1, word),                                                 # no valence
        by(1, word),                                                    # neither
        by(0, coarse(1, "NOUN PROPN PRON", "VERB AUX"), 2, word),       # coarse head
        by(coarse(1, "NOUN PROPN PRON", "VERB AUX"), 2, word),
        by(0, coarse(1, "NOUN PROPN PRON VERB AUX"), 2, word)           # noun-or-verb head
    ],
    l2: 1.0
}

train { iterations: 40, tolerance: 1e-9, init: uniform }

# h's right dependents over tags[h+1..=j], h still open: m is the last one so far.
proc right(h, j) {
    if j > h {
        for some m in h + 1 .. j + 1 {
            right_arc(h, m)
            right_sealed(m, j)
        }
    }
}

# h's right half over h..=j, stopped.
proc right_sealed(h, j) {
    right(h, j)
    if j == h { STOP ~ stop(R, tags[h], ADJ) } else { STOP ~ stop(R, tags[h], NON) }
}

# h's right dependents over tags[h+1..=j], and then h goes on.
proc right_on(h, j) {
    right(h, j)
    if j == h { GO ~ stop(R, tags[h], ADJ) } else { GO ~ stop(R, tags[h], NON) }
}

# h takes m as its next right dependent: what h has up to k, then m's left half.
proc right_arc(h, m) {
    tags[m] ~ attach(R, tags[h])
    output head[m] = h + 1            # decoding prints each token's head, 1-based
    for some k in h .. m {
        right_on(h, k)
        left_sealed(k + 1, m)
    }
}

# h's left dependents over tags[i..h], h still open: m is the last one so far.
proc left(i, h) {
    if i < h {
        for some m in i .. h {
            left_sealed(i, m)
            left_arc(m, h)
        }
    }
}

# h's left half over i..=h, stopped.
proc left_sealed(i, h) {
    left(i, h)
    if i == h { STOP ~ stop(L, tags[h], ADJ) } else { STOP ~ stop(L, tags[h], NON) }
}

# h's left dependents over tags[i..h], and then h goes on.
proc left_on(i, h) {
    left(i, h)
    if i == h { GO ~ stop(L, tags[h], ADJ) } else { GO ~ stop(L, tags[h], NON) }
}

# h takes m as its next left dependent: m's right half, then what h has from k + 1.
proc left_arc(m, h) {
    tags[m] ~ attach(L, tags[h])
    output head[m] = h + 1
    for some k in m .. h {
        right_sealed(m, k)
        left_on(k + 1, h)
    }
}

model {
    for some r in 0 .. len(tags) {
        tags[r] ~ root
        output head[r] = 0            # the root's head is 0
        left_sealed(0, r)
        right_sealed(r, len(tags) - 1)
    }
}
