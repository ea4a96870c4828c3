# The second field is read from every line and then ignored.
domain Coin = {A, B}
domain Face = {H, T}
data tosses : [Face] ||| other : [Face]
param choice : Categorical(Coin)
param toss : Categorical(Face | Coin)

model {
    hidden coin : Coin
    coin ~ choice
    for i in 0..len(tosses): tosses[i] ~ toss(coin)
}
