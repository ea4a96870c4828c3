# A slice of a sequence outside a span draw.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    let first = tosses[0..3]
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
