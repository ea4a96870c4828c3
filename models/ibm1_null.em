# IBM Model 1 with a NULL word: each French word f[j] is translated from one English word of
# the pair or from NULL, chosen uniformly (Brown et al. 1993). Decoding prints, per French word,
# the English position it aligns to (1-based; 0 is NULL), which `emc eval --metric aer` scores.
# (On the full Hansards the dense t(f|e) table has hundreds of millions of entries: that
# needs sparse tables, which emc does not have yet.)

data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {NULL}

param t : Categorical(F | E)

train { init: uniform, iterations: 5, tolerance: 0 }

model {
    let src = [NULL] ++ e
    hidden a : [0..len(src); len(f)]
    for j in 0..len(f) {
        a[j] ~ uniform
        f[j] ~ t(src[a[j]])
    }
}
