# A sparse table keeps the entries no data reaches at zero: it cannot take smoothing or given
# values, and storage is auto, dense or sparse.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin) { storage: sparse, init: [0.5, 0.5] }
param toss : Categorical(Face | Coin) { storage: sparce, smoothing: 1 }

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
