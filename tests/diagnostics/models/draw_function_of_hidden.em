# The left of `~` is chosen by a hidden index, so the index itself gets no distribution.
domain W = {u, v}
data f : [W]
param t : Categorical(W)
model {
    hidden a : 0..len(f)
    f[a] ~ t
}
