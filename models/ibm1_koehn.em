# IBM Model 1 on Koehn's "das Haus" example (Statistical Machine Translation, 2010, sec. 4.2):
# each English word picks a German position uniformly and is translated from that word.
# No NULL word; the translation table t(e|f) starts uniform.

data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e)

param t : Categorical(E | F)

train { init: uniform, iterations: 10, tolerance: 0 }

model {
    hidden a : [0..len(f); len(e)]
    for j in 0..len(e) {
        a[j] ~ uniform
        e[j] ~ t(f[a[j]])
    }
}
