# An explicit-duration hidden semi-Markov model: a state holds for a duration drawn from its
# own Categorical over 1..D, emitting one symbol per step, then hands over to the next state.
# A line is a sequence of whole segments (the last one ends at the line's end). Each call
# `segments(s, i)` sums over the length of the segment of state s that starts at i.
# Data: `scripts/gen_hsmm.py` samples it from known parameters (`hsmm.truth.json`); the
# true state of every position is in `hsmm.gold`.

const K = 3
const D = 6
domain State = 0..K
domain Dur = 1..D + 1
domain Sym = vocabulary(obs)
data obs : [Sym]

param start : Categorical(State)
# No state follows itself (a segment's length is its duration's business): EM keeps the
# zeros it starts from, and without them it learns one-step segments that repeat.
param trans : Categorical(State | State) { init: [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]] }
param dur   : Categorical(Dur | State)
param emit  : Categorical(Sym | State)

train { iterations: 200, tolerance: 1e-8, seed: 0 }

# A segment of state s covers obs[i..j], then the next state's segments cover the rest.
proc segments(s : State, i) {
    for some j in i + 1 .. min(i + D, len(obs)) + 1 {
        j - i ~ dur(s)
        for t in i .. j {
            obs[t] ~ emit(s)
            output state[t] = s           # decoding prints the state of every position
        }
        if j < len(obs) {
            hidden next : State
            next ~ trans(s)
            segments(next, j)
        }
    }
}

model {
    hidden s : State
    s ~ start
    segments(s, 0)
}
