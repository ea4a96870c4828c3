# The Dependency Model with Valence (Klein & Manning 2004) over part-of-speech tags, in the
# split-head (Eisner 1996) O(n^3) form that `scripts/bench/dmv_peer.py` documents. A head
# generates its dependents outwards on each side, independently: before each one it decides
# to go on, at the end to stop, both given the direction, its tag and whether it has a
# dependent on that side yet (valence); each dependent's tag is drawn given the head's tag
# and the direction. Each item below is a procedure over positions: a head's half-tree on
# one side, open (it may still take dependents), going on (it has decided to take another)
# or sealed (it has stopped), and an arc. The decision to go on is drawn once per half-tree
# (`right_on`), not inside the arc with each way to split it: the same model, with n^2
# draws of it instead of n^3.
# Data: UD English EWT train, sentences of at most 10 tokens, punctuation removed
# (`scripts/data/ewt_dmv.py`); gold heads in `dmv.gold`. Train from the harmonic
# initialiser with `--init models/dmv.harmonic.json` (`scripts/dmv_init.py`).

domain Tag = vocabulary(tags)
domain Dir = {L, R}
domain Valence = {ADJ, NON}           # no dependent yet on this side / some already
domain Act = {STOP, GO}
data tags : [Tag]

param root   : Categorical(Tag)
param attach : Categorical(Tag | Dir, Tag)
param stop   : Categorical(Act | Dir, Tag, Valence)

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
