# `smoothing` given twice in one family's options: the second would silently win.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin) { smoothing: 1, init: [0.5, 0.5], smoothing: 0 }
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
