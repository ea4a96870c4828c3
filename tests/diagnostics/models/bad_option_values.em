# A negative smoothing, an unknown family option and a bad training value.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin) { smoothing: -1 }
param toss : Categorical(Face | Coin) { smooth: 0.1 }

train { iterations: 10, restarts: 0, init: randomly }

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
