# The HMM word aligner of `hmm_aligner.em` (Vogel, Ney & Tillmann 1996; jumps over widths
# normalised over the sentence's positions, NULL as Och & Ney's gate) sized for the English-French
# Hansards: English sentences of up to 30 words, the longest in the prepared corpus
# (`scripts/data/hansards.py`). Started from IBM Model 1's t table (`ibm1_null.em`, 5
# iterations), 10 EM iterations; `scripts/hansards-alignment.sh` runs it and scores AER on the
# 447 test pairs. Its featurised twin is `hansards_hmm_features.em`.
#     emc run models/ibm1_null.em DATA --out ibm1
#     emc run models/hansards_hmm.em DATA --init ibm1/params.json --decode
# data: hmm_aligner.txt

const MAXLEN = 30                     # the longest sentence of the prepared Hansards (both sides)
data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {NULL}
domain Pos  = 0..MAXLEN + 1           # English positions; 0: before the first word, or NULL
domain Jump = -MAXLEN..MAXLEN + 1   # jump widths
domain Gate = {word, empty}

param t    : Categorical(F | E)
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
