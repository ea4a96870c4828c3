# KNOWN BUG: a domain bound that overflows is silently replaced (`const_expr` returns `None`
# from `checked_mul` without an error, and `domains` falls back to `lo + 1`): `S` gets size 1.
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
