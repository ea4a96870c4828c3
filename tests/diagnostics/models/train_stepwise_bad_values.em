# Stepwise EM with a step size that shrinks too slowly to converge.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)
train { algorithm: stepwise, alpha: 0.4, batch: 0 }
model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
