# IBM Model 1 with a NULL source word added to the vocabulary (a good model).
domain F = vocabulary(f)
domain E = vocabulary(e) + {NULL}
data f : [F] ||| e : [E]
param t : Categorical(F | E)
train { iterations: 2 }

model {
    let src = [NULL] ++ e
    hidden a : [0..len(src); len(f)]
    for j in 0..len(f) {
        a[j] ~ uniform
        f[j] ~ t(src[a[j]])
    }
}
