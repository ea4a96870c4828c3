# A byte-order mark in the middle of a line (one at the very start is dropped).
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): ﻿tosses[i] ~ toss(coin)
}
