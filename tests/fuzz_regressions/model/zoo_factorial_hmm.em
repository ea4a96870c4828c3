# A factorial HMM: two independent hidden chains, and each word depends on both chains'
# states at its position. The chains couple through the words, so the unrolled graph has
# loops: emc compiles it to a junction tree (cliques of three variables).

const K = 3
domain A    = 0..K
domain B    = 0..K
domain Word = vocabulary(words)
data words : [Word]

param start_a : Categorical(A)
param start_b : Categorical(B)
param trans_a : Categorical(A | A)
param trans_b : Categorical(B | B)
param emit    : Categorical(Word | A, B) { smoothing: 0.01 }

train { iterations: 15, tolerance: 0, seed: 3 }

model {
    hidden a : [A; len(words)]
    hidden b : [B; len(words)]
    a[0] ~ start_a
    b[0] ~ start_b
    for i in 1..len(words) {
        a[i] ~ trans_a(a[i-1])
        b[i] ~ trans_b(b[i-1])
    }
    for i in 0..len(words): words[i] ~ emit(a[i], b[i])
}
