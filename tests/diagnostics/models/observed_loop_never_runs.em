# The loop never runs, so no toss is drawn (once: log-likelihood 0, converged).
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..0: tosses[i] ~ toss(coin)
}
