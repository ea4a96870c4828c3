# A Gaussian family in a structured story: its densities are not hyperedge entries yet.
domain State = {A, B}
data x : [Real]
param trans : Categorical(State | State)
param g : Gaussian(Real | State)

proc walk(i, s : State) {
    if i < len(x) {
        x[i] ~ g(s)
        hidden t : State
        t ~ trans(s)
        walk(i + 1, t)
    }
}

model { walk(0, A) }
