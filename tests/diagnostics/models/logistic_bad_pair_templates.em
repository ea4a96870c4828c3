# The pair templates compare the outcome with the first condition: refused in a family without
# conditions, and `prefix_pair` is conjoined with that condition's prefix only.
data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {NULL}
param uni : Logistic(F) { features: [word, common_prefix(3)] }
param t   : Logistic(F | E) {
    features: [word, shared(prefix_pair(3)), edit_distance(0), shared(edit_distance(2))]
}
model {
    let src = [NULL] ++ e
    hidden a : [0..len(src); len(f)]
    for j in 0..len(f) {
        a[j] ~ uniform
        f[j] ~ t(src[a[j]])
    }
}
