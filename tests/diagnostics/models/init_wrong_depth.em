# `toss` is conditioned on `Coin`: its init needs two levels of `[...]`.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin) { init: [0.6, 0.4] }

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
