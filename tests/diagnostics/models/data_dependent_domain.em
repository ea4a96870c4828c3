# A domain's size cannot depend on the data.
domain Face = {H, T}
data tosses : [Face]
domain Pos = 0..len(tosses)
param start : Categorical(Pos)
param emit : Categorical(Face | Pos)

model {
    hidden p : Pos
    p ~ start
    for i in 0..len(tosses): tosses[i] ~ emit(p)
}
