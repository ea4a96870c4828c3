# A second-order (trigram) HMM over words: each state depends on the two states before it,
#     z[0] ~ start,  z[1] ~ trans1(z[0]),  z[i] ~ trans(z[i-2], z[i-1]) for i >= 2,
# and each word on its own state. Two previous states make the unrolled graph more than a
# chain of single variables, so emc compiles it to a junction tree (cliques of three states,
# K^3 joint values per position). `--set K=20` changes the number of states.
# A line of one word has no z[1]: the loop over 1..min(2, len) is then empty.
# data: hmm.txt

const K = 4
domain State = 0..K
domain Word  = vocabulary(words)
data words : [Word]

param start  : Categorical(State)
param trans1 : Categorical(State | State)
param trans  : Categorical(State | State, State)
param emit   : Categorical(Word | State)

train { iterations: 10, tolerance: 0, seed: 0 }

model {
    hidden z : [State; len(words)]
    z[0] ~ start
    for i in 1..min(2, len(words)): z[i] ~ trans1(z[i-1])
    for i in 2..len(words): z[i] ~ trans(z[i-2], z[i-1])
    for i in 0..len(words): words[i] ~ emit(z[i])
}
