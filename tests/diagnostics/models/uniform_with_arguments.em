# `uniform` takes no arguments.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ uniform(Coin)
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
