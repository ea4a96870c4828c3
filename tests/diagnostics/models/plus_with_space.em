# Regression: `a + b` with spaces once parsed as `a * b`. Here the loop runs one past the end
# of `tosses`, which must be refused.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses) + 1: tosses[i] ~ toss(coin)
}
