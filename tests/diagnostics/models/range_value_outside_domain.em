# `S = 1..K` starts at 1; position 0 of the loop is not one of its values.
const K = 3
domain S = 1..K
domain Face = {H, T}
data tosses : [Face]
param p : Categorical(Face | S)

model {
    for i in 0..len(tosses): tosses[i] ~ p(i)
}
