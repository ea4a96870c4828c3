# Regression: an overflowing domain bound was once ignored; it is a located error.
const K = 4611686018427387904
domain S = 0..K*4
domain Face = {H, T}
data tosses : [Face]
param p : Categorical(Face | S)

model {
    hidden s : S
    s ~ uniform
    for i in 0..len(tosses): tosses[i] ~ p(s)
}
