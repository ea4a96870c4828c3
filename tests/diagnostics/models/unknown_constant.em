# `KK` is a typo of the constant `K`.
const K = 3
domain State = 0..KK
domain Face = {H, T}
data tosses : [Face]
param start : Categorical(State)
param emit : Categorical(Face | State)

model {
    hidden z : State
    z ~ start
    for i in 0..len(tosses): tosses[i] ~ emit(z)
}
