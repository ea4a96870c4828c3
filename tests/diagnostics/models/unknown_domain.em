# `Coins` is not declared; `Coin` is.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coins)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
