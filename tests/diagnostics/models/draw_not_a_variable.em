# The constant `K` and the loop index `i` are not variables.
const K = 3
domain State = 0..K
domain Face = {H, T}
data tosses : [Face]
param start : Categorical(State)
param emit : Categorical(Face | State)

model {
    hidden z : State
    z ~ start
    K ~ start
    for i in 0..len(tosses) {
        i ~ uniform
        tosses[i] ~ emit(z)
    }
}
