# A probabilistic context-free grammar in Chomsky normal form, learned by inside-outside
# (EM over each line's parse forest). A nonterminal over words[i..k] either rewrites as two
# nonterminals, chosen left then right, over a split point, or as the one word of its span.
# The nonterminals are unlabelled (0..K-1): EM finds them.
# Data: `scripts/gen_pcfg.py` samples sentences from a known grammar (its S, NP, VP, PP, P
# and V are `pcfg.truth.json` in this model's format); gold trees in `pcfg.gold`.
# `emc decode` prints each line's Viterbi tree, bracketed.

const K = 6
domain NT = 0..K
domain Word = vocabulary(words)
domain Kind = {BIN, LEX}
data words : [Word]

param root  : Categorical(NT)
param kind  : Categorical(Kind | NT)          # x -> y z, or x -> word
param left  : Categorical(NT | NT)            # y given x
param right : Categorical(NT | NT, NT)        # z given x and y
param emit  : Categorical(Word | NT)

# Seeds 2 and 3 reach the sample's best log-likelihood; 0, 1, 4, 5 stop in local optima.
train { iterations: 100, tolerance: 1e-7, seed: 2 }

# x over words[i..k].
proc span(x : NT, i, k) {
    output (x words[i..k])
    if k == i + 1 {
        LEX ~ kind(x)
        words[i] ~ emit(x)
    } else {
        BIN ~ kind(x)
        hidden y : NT
        hidden z : NT
        y ~ left(x)
        z ~ right(x, y)
        children(y, z, i, k)
    }
}

# y over words[i..j] and z over words[j..k], for some split j (shared by every x that
# rewrites as y z: the chart holds O(n^2 K^3 + n^3 K^2) hyperedges, not O(n^3 K^3)).
proc children(y : NT, z : NT, i, k) {
    for some j in i + 1 .. k {
        span(y, i, j)
        span(z, j, k)
    }
}

model {
    hidden s : NT
    s ~ root
    span(s, 0, len(words))
}
