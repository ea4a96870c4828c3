# `Tag` values cannot stand for `Slot` values: `Slot` does not extend `Tag`.
domain Tag = {N, V}
domain Slot = {N, V, NULL}
domain Face = {H, T}
data tosses : [Face]
param start : Categorical(Tag)
param emit : Categorical(Face | Slot)

model {
    hidden t : Tag
    t ~ start
    for i in 0..len(tosses): tosses[i] ~ emit(t)
}
