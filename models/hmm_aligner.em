# Vogel, Ney & Tillmann's (1996) HMM word aligner, with NULL: each French word f[j] is
# translated from the English word at a hidden position a, and a moves by a jump whose
# distribution depends only on its width, normalised over the positions this sentence has:
#     p(a | prev, I) = jump(a - prev) / sum_{i = 1..I} jump(i - prev)
# so the model is not deficient. NULL is a gate (Och & Ney 2003): a French word comes from
# NULL with probability gate(empty), and the next jump starts from the last real position.
# Decoding prints, per French word, its English position (1-based; 0 is NULL), as IBM Model 1's
# decoding does, which `emc eval --metric aer` scores. Start it from IBM Model 1's t table:
#     emc run models/ibm1_null.em models/hmm_aligner.txt --out ibm1
#     emc run models/hmm_aligner.em models/hmm_aligner.txt --init ibm1/params.json --decode
# The data (`scripts/gen_aligner.py`) is a generated toy corpus with its gold links.

const MAXLEN = 15                     # the longest English sentence
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
