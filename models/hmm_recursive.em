# The first-order HMM of `hmm.em`, told recursively: `tag(i, prev)` generates the words from
# position i on, given the state before i. Each line becomes a chain-shaped hypergraph (one
# node per position and previous state), so EM by inside-outside gives the chain kernel's
# numbers.
# data: hmm.txt

const K = 10
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]

param start : Categorical(State)
param trans : Categorical(State | State)
param emit  : Categorical(Word | State)

train { iterations: 50, tolerance: 1e-5, seed: 0 }

proc tag(i, prev : State) {
    if i < len(words) {
        hidden z : State
        z ~ trans(prev)
        words[i] ~ emit(z)
        tag(i + 1, z)
    }
}

model {
    hidden z : State
    z ~ start
    words[0] ~ emit(z)
    tag(1, z)
}
