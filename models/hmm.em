# A first-order HMM over words: one sentence per line, K hidden states.
# `--set K=45` changes the number of states.

const K = 10
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]

param start : Categorical(State)
param trans : Categorical(State | State)
param emit  : Categorical(Word | State)

train { iterations: 50, tolerance: 1e-5, seed: 0 }

model {
    hidden z : [State; len(words)]
    z[0] ~ start
    for i in 1..len(words): z[i] ~ trans(z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}
