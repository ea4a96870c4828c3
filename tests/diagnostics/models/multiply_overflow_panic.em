# Regression: integer overflow in the story once panicked; it is a located error.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..9223372036854775807*2: tosses[i] ~ toss(coin)
}
