# `within` in a story without procedures: the normaliser belongs to a line's hypergraph.
domain Pos = 0..10
data e : [Pos] ||| f : [Pos]
param jump : Categorical(Pos | Pos)

model {
    for j in 1..len(f): f[j] ~ jump(f[j - 1]) within 0 .. len(e)
}
