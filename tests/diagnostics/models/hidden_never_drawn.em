# `z[0]` is never drawn: the loop starts at 1.
domain State = {S1, S2}
domain Face = {H, T}
data tosses : [Face]
param start : Categorical(State)
param trans : Categorical(State | State)
param emit : Categorical(Face | State)

model {
    hidden z : [State; len(tosses)]
    for i in 1..len(tosses) {
        z[i] ~ start
        tosses[i] ~ emit(z[i])
    }
}
