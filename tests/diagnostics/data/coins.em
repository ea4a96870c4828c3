# Ten tosses of one of two coins per line (a good model).
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin) { fixed, init: [0.5, 0.5] }
param toss : Categorical(Face | Coin) { init: [[0.6, 0.4], [0.5, 0.5]] }
train { iterations: 2 }

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
