# A real value drawn on one branch only: derivations through the other branch would not
# score it, and EM would fit a different likelihood than the file says.
domain State = {A, B}
data x : [Real]
param g : Gaussian(Real | State)
param pick : Categorical(State)
proc walk(i) {
    if i < len(x) {
        hidden s : State
        s ~ pick
        if s == A { x[i] ~ g(s) }
        walk(i + 1)
    }
}
model { walk(0) }
