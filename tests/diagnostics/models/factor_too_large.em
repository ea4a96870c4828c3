# The brief's double loop: every word conditioned on every pair of states, with K = 5000.
const K = 5000
domain S = 0..K
domain W = {a, b}
data w : [W]
param start : Categorical(S)
param e : Categorical(W | S, S)

model {
    hidden z : [S; len(w)]
    for i in 0..len(w): z[i] ~ start
    for i in 0..len(w) {
        for j in 0..len(w) {
            w[i] ~ e(z[i], z[j])
        }
    }
}
