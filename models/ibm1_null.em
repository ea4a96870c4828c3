# IBM Model 1 with a NULL word: each French word f[j] is translated from one English word of
# the pair or from NULL, chosen uniformly (Brown et al. 1993). Decoding prints, per French word,
# the English position it aligns to (1-based; 0 is NULL), which `emc eval --metric aer` scores.
# On a real corpus t(f|e) is stored sparse by itself (storage: auto): the Hansards' dense
# table would have 238M entries, of which the corpus reaches 1.14M (see BENCHMARKS.md, W4).

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
