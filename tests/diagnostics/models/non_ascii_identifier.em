# Names are ASCII: `cöin` is not a name.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden cöin : Coin
    cöin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(cöin)
}
