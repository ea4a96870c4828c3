# IBM Model 2 (Brown et al. 1993): each French word f[j] picks an English position a (or NULL
# at 0) from an alignment table a(i | j, l) over the positions of this sentence pair, not over
# a fixed maximum length: `within 0 .. len(e) + 1` normalises each row over the l + 1 positions
# the sentence has, so the model is not deficient. Decoding prints `e-f` links. Like the HMM
# aligner it can start from IBM Model 1's t table (`--init`, see the README).
# data: hmm_aligner.txt

const MAXLEN = 15
data f : [F] ||| e : [E]
domain F = vocabulary(f)
domain E = vocabulary(e) + {NULL}
domain Pos = 0..MAXLEN + 1

param t     : Categorical(F | E)
param align : Categorical(Pos | Pos, Pos)   # a(i | j, l); Brown et al. also condition on m

train { init: uniform, iterations: 10, tolerance: 0 }

proc word(j) {
    if j < len(f) {
        let src = [NULL] ++ e
        hidden a : Pos
        a ~ align(j, len(e)) within 0 .. len(e) + 1
        f[j] ~ t(src[a])
        word(j + 1)
    }
}

model { word(0) }
