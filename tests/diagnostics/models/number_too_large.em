# A loop bound that does not fit in 64 bits.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..99999999999999999999999: tosses[i] ~ toss(coin)
}
