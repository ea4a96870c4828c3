# Every word depends on all four states of the probe instance at once: with K = 50
# that is a clique of 50^4 = 6250000 joint values, over the limit of 2^22.
const K = 50
domain S = 0..K
domain W = {a, b}
data w : [W]
param start : Categorical(S)
param emit : Categorical(W | S, S, S, S)

model {
    hidden z : [S; len(w)]
    for i in 0..len(w): z[i] ~ start
    for i in 0..len(w): w[i] ~ emit(z[0], z[1], z[2], z[3])
}
