# `Face` has two symbols; the second row of `toss` has three numbers.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin) { init: [0.5, 0.5] }
param toss : Categorical(Face | Coin) {
    init: [[0.6, 0.4],
           [0.3, 0.3, 0.4]]
}

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
