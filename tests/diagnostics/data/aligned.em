# A sentence and its translation, separated by `|||` (a good model).
domain F = vocabulary(f)
domain E = vocabulary(e)
data f : [F] ||| e : [E]
param t : Categorical(F | E)
train { iterations: 2 }

model {
    hidden a : [0..len(e); len(f)]
    for j in 0..len(f) {
        a[j] ~ uniform
        f[j] ~ t(e[a[j]])
    }
}
