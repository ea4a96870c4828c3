# The mixed HMM of `gaussian_hmm.em` (a 2-D real vector from a Gaussian per state and a
# symbol from a categorical per state at each position) told as a recursive story: each call
# `from(i, s)` emits position i from state s and hands over to the next state. It trains on
# the same data to the same numbers as the chain kernel (`tests/structured_gaussian.rs`).
# data: gaussian_hmm.txt

const K = 2
domain State = 0..K
domain Sym   = {a, b, c}
data obs : [Real[2]] ||| sym : [Sym]

param start    : Categorical(State)
param trans    : Categorical(State | State)
param emit_obs : Gaussian(Real[2] | State) { covariance: full }
param emit_sym : Categorical(Sym | State)

train { iterations: 50, tolerance: 1e-9, seed: 2 }

proc from(i, s : State) {
    obs[i] ~ emit_obs(s)
    sym[i] ~ emit_sym(s)
    if i + 1 < len(obs) {
        hidden next : State
        next ~ trans(s)
        from(i + 1, next)
    }
}

model {
    hidden s : State
    s ~ start
    from(0, s)
}
