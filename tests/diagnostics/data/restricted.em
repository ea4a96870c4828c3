# The HMM aligner of the zoo with room for sentences of 4 English words.

const MAXLEN = 4
data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {NULL}
domain Pos  = 0..MAXLEN + 1           # English positions; 0: before the first word, or NULL
domain Jump = 0 - MAXLEN..MAXLEN + 1  # jump widths
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
