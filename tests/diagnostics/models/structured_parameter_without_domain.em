# A procedure parameter without a domain is an integer (a position), not a symbol.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

proc flip(c) {
    for i in 0..len(tosses): tosses[i] ~ toss(c)
}

model {
    hidden coin : Coin
    coin ~ choice
    flip(coin)
}
