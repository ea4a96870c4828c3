# `C` extends `B`, which extends `A`: `a` comes from two levels down.
domain A = {a, b}
domain B = A + {c}
domain C = B + {d, a}
data xs : [C]
param t : Categorical(C)

model {
    for i in 0..len(xs): xs[i] ~ t
}
