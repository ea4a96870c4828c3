# An HMM with two observations per position: a 2-D real vector from a Gaussian per state and
# a symbol from a categorical per state (a mixed model). models/gaussian_hmm.txt was drawn with
#   emc sample models/gaussian_hmm.em --params models/gaussian_hmm.truth.json -n 60 --length 25 --seed 3
# Each line: the vectors as `x,y` tokens, `|||`, the symbols.

const K = 2
domain State = 0..K
domain Sym   = {a, b, c}
data obs : [Real[2]] ||| sym : [Sym]

param start    : Categorical(State)
param trans    : Categorical(State | State)
param emit_obs : Gaussian(Real[2] | State) { covariance: full }
param emit_sym : Categorical(Sym | State)

train { iterations: 50, tolerance: 1e-9, seed: 2 }

model {
    hidden z : [State; len(obs)]
    z[0] ~ start
    for i in 1..len(obs): z[i] ~ trans(z[i-1])
    for i in 0..len(obs) {
        obs[i] ~ emit_obs(z[i])
        sym[i] ~ emit_sym(z[i])
    }
}
