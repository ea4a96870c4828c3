# A family whose table cannot fit in memory is refused before anything is allocated.
const K = 100000
domain S = 0..K
data w : [S]
param p : Categorical(S | S, S)
model {
    for i in 2..len(w): w[i] ~ p(w[i-1], w[i-2])
}
