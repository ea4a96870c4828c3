# The brief's double loop: every word conditioned on every pair of states, with K = 5000.
const K = 2500
domain S = 1..K
domain W = {a, b}
data w : [W]
param start : Categorical(S)
param e : Categorical(W | S, S)

model {
    hidden z : [S; len(w)]
    for i in 0..len(w): z[i] ~ start
    for i in 0..len(w) {
        for j in 1..len(w) {
            w[i] ~ e(z[i], z[j])
        }
    }
}
