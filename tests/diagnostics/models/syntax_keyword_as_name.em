# `model` is a keyword and cannot name a domain.
domain model = {A, B}
domain Face = {H, T}
data tosses : [Face]
param toss : Categorical(Face)

model {
    for i in 0..len(tosses): tosses[i] ~ toss
}
