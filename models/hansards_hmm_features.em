# The Hansards HMM aligner (`hansards_hmm.em`) with a featurised translation table, as in
# Berg-Kirkpatrick et al. (2010, word alignment): t(f | e) is a Logistic family,
#     t(f | e) = exp(v . g(e, f)) / sum_f' exp(v . g(e, f')),
# over the French vocabulary, with the features (templates: README's Logistic section)
#   word               the pair's identity (one weight per (e, f): the basic model's table)
#   common_prefix(5)   how many characters f and e share from the start, 0..5, shared by all e
#   edit_distance(4)   their Levenshtein distance, 0..4 (0: the same word), shared by all e
#   prefix_pair(4)     the pair of their first 4 characters ("stems": gouv / gove)
# so that rare words and cognates share strength. The table is dense (|F| x |E| probabilities
# and as many identity weights), which bounds the corpus it can train on: see the README.
# Start it from IBM Model 1's probabilities (`scripts/data/hansards.py --logistic-init` turns its
# params.json into this family's kind); the first M-step fits the weights. Algorithm 1:
# `--algorithm em` (EM, L-BFGS M-step), Algorithm 2: `--algorithm direct`. l2 = 1.0, emc's
# default, the other tasks' value, not tuned here.
# data: hmm_aligner.txt

const MAXLEN = 30                     # the longest sentence of the prepared Hansards (both sides)
data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {NULL}
domain Pos  = 0..MAXLEN + 1           # English positions; 0: before the first word, or NULL
domain Jump = -MAXLEN..MAXLEN + 1   # jump widths
domain Gate = {word, empty}

param t    : Logistic(F | E) {
    features: [word, shared(common_prefix(5)), shared(edit_distance(4)), prefix_pair(4)],
    l2: 1.0
}
param gate : Categorical(Gate)
param jump : Categorical(Jump)

train { init: uniform, iterations: 10, tolerance: 0 }

proc align(j, prev : Pos) {           # f[j..], given the last English position taken
    if j < len(f) {
        let src = [NULL] ++ e
        for some k in 0 .. 2 {
            hidden a : Pos
            if k == 0 {
                empty ~ gate
                a ~ uniform within 0 .. 1                 # NULL: position 0
                f[j] ~ t(NULL)
                align(j + 1, prev)
            } else {
                word ~ gate
                a ~ jump from prev within 1 .. len(e) + 1  # a jump inside this sentence
                f[j] ~ t(src[a])
                align(j + 1, a)
            }
        }
    }
}

model { align(0, 0) }
