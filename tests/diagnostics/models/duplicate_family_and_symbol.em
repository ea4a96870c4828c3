# The family `toss` is declared twice, and `Face` lists `H` twice.
domain Coin = {A, B}
domain Face = {H, T, H}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)
param toss : Categorical(Face)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
